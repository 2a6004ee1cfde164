package infra

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
	"github.com/rabbitmq-esm/rabbitmq-esm/infra/eniwait"
)

// ProjectName is the Pulumi project name; it namespaces every setting ("rabbitmq-esm:batchSize").
const ProjectName = "rabbitmq-esm"

// DeploymentMode is Amazon MQ's deployment mode.
type DeploymentMode string

const (
	// SingleInstance is one broker node in one zone.
	SingleInstance DeploymentMode = "SINGLE_INSTANCE"
	// ClusterMultiAZ is a three-node cluster across zones.
	ClusterMultiAZ DeploymentMode = "CLUSTER_MULTI_AZ"
)

// NATStrategy says how many NAT gateways the nat option builds (awsx's NatGatewayStrategy).
type NATStrategy string

const (
	// NATSingle means one NAT gateway for the whole VPC; cheapest, but a zone outage cuts every
	// subnet's path to AWS services.
	NATSingle NATStrategy = "Single"
	// NATOnePerAZ means one NAT gateway per availability zone; zone-independent, billed per gateway.
	NATOnePerAZ NATStrategy = "OnePerAz"
)

// EndpointPolicy says whether the defaultvpc option creates its interface endpoints.
type EndpointPolicy string

const (
	// EndpointsCreate means the program creates the sts, secretsmanager and lambda endpoints.
	EndpointsCreate EndpointPolicy = "create"
	// EndpointsExisting means the default VPC already has them (an interface endpoint with private
	// DNS is one per service per VPC, so a second one would fail); the program looks them up
	// and fails if one is missing, instead of creating them.
	EndpointsExisting EndpointPolicy = "existing"
)

// ServiceRouteSetting is existingvpc's serviceRoute: how the mapping's interfaces, in the
// user's subnets, reach STS, Secrets Manager and Lambda. The user knows their VPC; the program
// checks the claim against the looked-up routes and endpoints before it creates anything.
type ServiceRouteSetting string

const (
	// ServiceRouteNAT means the subnets already route 0.0.0.0/0 to a NAT gateway; the program
	// creates nothing for the path.
	ServiceRouteNAT ServiceRouteSetting = "nat"
	// ServiceRouteEndpoints means the program creates the sts, secretsmanager and lambda interface
	// endpoints, with private DNS, in the given subnets.
	ServiceRouteEndpoints ServiceRouteSetting = "endpoints"
	// ServiceRouteExistingEndpoints means the VPC has the three endpoints already; the program looks
	// them up and uses them.
	ServiceRouteExistingEndpoints ServiceRouteSetting = "existing-endpoints"
	// ServiceRouteCustomEgress means the subnets route 0.0.0.0/0 to something the program cannot
	// follow (a transit gateway, a firewall endpoint, a NAT instance) that the user states
	// reaches the internet; the program checks the route exists and is no internet gateway.
	ServiceRouteCustomEgress ServiceRouteSetting = "custom-egress"
)

// Config is the validated configuration of one stack. Zero values never reach components:
// ParseConfig fills every default.
type Config struct {
	Stack                    string
	NetworkMode              NetworkMode
	DeploymentMode           DeploymentMode
	InstanceType             string
	EngineVersion            string
	BrokerName               string
	AdminUsername            string
	QueueName                string
	VirtualHost              string
	BatchSize                int
	MaxBatchingWindowSeconds *int // nil (the setting's 0): the AWS default, 500 ms for Amazon MQ
	VPCCidr                  string
	AvailabilityZones        int
	NATGateways              NATStrategy
	DefaultVPCEndpoints      EndpointPolicy
	// VPCID, SubnetIDs and ServiceRoute place an existingvpc stack: the user's VPC, the subnets
	// of the broker's endpoints and the mapping's interfaces (one per zone), and what carries
	// the mapping's AWS calls.
	VPCID        string
	SubnetIDs    []string
	ServiceRoute ServiceRouteSetting
	// EndpointSubnetIDs are more subnets of the VPC, one per zone in zones SubnetIDs do not
	// cover, for the interface endpoints serviceRoute endpoints creates: they answer for the
	// whole VPC, and a single instance's one subnet would leave them in one zone.
	EndpointSubnetIDs []string
	DeliveryLimit     int
	LogRetentionDays  int
	LogMessageBodies  bool
	Tags              map[string]string
	// AdminAccessCIDRs may reach the broker's console (443) and AMQPS (5671): a bastion's or
	// VPN's blocks. Empty: nothing but the ESM's interfaces and the provisioner.
	AdminAccessCIDRs      []string
	ENIWaitTimeoutMinutes int
	// AWSRegion and AWSProfile are the aws provider's settings (aws:region, aws:profile),
	// which the deletion hooks use to call EC2 as the stack's resources were managed.
	AWSRegion, AWSProfile string

	// given holds the settings whose value differs from the schema default, with their raw
	// values: those a user typed (a typed default is indistinguishable, and harmless).
	given map[string]string
}

// Option is the table row of the configured network mode, with the parts the settings choose
// resolved: existingvpc's service route, and whether the VPC's endpoints exist already.
func (c Config) Option() Option {
	o := Options[c.NetworkMode]
	switch o.VPC {
	case VPCDefault:
		o.EndpointsFound = c.DefaultVPCEndpoints == EndpointsExisting
	case VPCExisting:
		switch c.ServiceRoute {
		case ServiceRouteNAT:
			o.ServiceRoute = RouteNATGateway
		case ServiceRouteCustomEgress:
			o.ServiceRoute = RouteCustomEgress
		default:
			o.ServiceRoute = RouteInterfaceEndpoints
		}
		o.EndpointsFound = c.ServiceRoute == ServiceRouteExistingEndpoints
	}
	return o
}

// setting is one configuration key: how to parse it, its schema default, and which options it
// applies to. The table is the single source for parsing, defaults, applicability and the
// consistency test against Pulumi.yaml.
type setting struct {
	key string
	// schemaType is the Pulumi.yaml type: string, integer, boolean or object.
	schemaType string
	// schemaDefault is the default Pulumi.yaml declares, as the program receives it. The Pulumi
	// CLI treats a key with no default as required and injects the default into every stack
	// that leaves the key unset, so every key but networkMode has one. Where the real default
	// depends on other settings, the schema default is an "automatic" value (an empty string,
	// or 0) that applyDefaults resolves.
	schemaDefault string
	// required is true for networkMode alone: the CLI refuses a stack without it.
	required bool
	// appliesTo is nil for settings of every option.
	appliesTo func(Option) bool
	// appliesText names the options a restricted setting is for, for error messages.
	appliesText string
	parse       func(c *Config, raw string) error
}

var (
	newVPCOnly     = func(o Option) bool { return o.VPC == VPCNew }
	natOnly        = func(o Option) bool { return o.NATGateways }
	defaultVPCOnly = func(o Option) bool { return o.VPC == VPCDefault }
	ownGroupOnly   = func(o Option) bool { return o.OwnBrokerGroup() }
	existingOnly   = func(o Option) bool { return o.VPC == VPCExisting }
)

func settings() []setting {
	return []setting{
		{key: "networkMode", schemaType: "string", required: true, parse: func(c *Config, raw string) error {
			c.NetworkMode = NetworkMode(raw)
			return nil
		}},
		{key: "deploymentMode", schemaType: "string", schemaDefault: string(SingleInstance), parse: func(c *Config, raw string) error {
			c.DeploymentMode = DeploymentMode(raw)
			return nil
		}},
		{key: "instanceType", schemaType: "string", schemaDefault: automaticString, parse: func(c *Config, raw string) error {
			c.InstanceType = raw
			return nil
		}},
		{key: "engineVersion", schemaType: "string", schemaDefault: "3.13", parse: func(c *Config, raw string) error {
			c.EngineVersion = raw
			return nil
		}},
		{key: "brokerName", schemaType: "string", schemaDefault: automaticString, parse: func(c *Config, raw string) error {
			c.BrokerName = raw
			return nil
		}},
		{key: "adminUsername", schemaType: "string", schemaDefault: "esmadmin", parse: func(c *Config, raw string) error {
			c.AdminUsername = raw
			return nil
		}},
		{key: "queueName", schemaType: "string", schemaDefault: "events", parse: func(c *Config, raw string) error {
			c.QueueName = raw
			return nil
		}},
		{key: "virtualHost", schemaType: "string", schemaDefault: "/", parse: func(c *Config, raw string) error {
			c.VirtualHost = raw
			return nil
		}},
		{key: "batchSize", schemaType: "integer", schemaDefault: "100", parse: func(c *Config, raw string) error {
			return parseInt(raw, &c.BatchSize)
		}},
		{key: "maxBatchingWindowSeconds", schemaType: "integer", schemaDefault: automaticInteger, parse: func(c *Config, raw string) error {
			var v int
			if err := parseInt(raw, &v); err != nil {
				return err
			}
			c.MaxBatchingWindowSeconds = &v
			return nil
		}},
		{key: "vpcCidr", schemaType: "string", schemaDefault: "10.0.0.0/16", appliesTo: newVPCOnly, appliesText: "nat, isolated and publicsubnet", parse: func(c *Config, raw string) error {
			c.VPCCidr = raw
			return nil
		}},
		{key: "availabilityZones", schemaType: "integer", schemaDefault: "2", appliesTo: newVPCOnly, appliesText: "nat, isolated and publicsubnet", parse: func(c *Config, raw string) error {
			return parseInt(raw, &c.AvailabilityZones)
		}},
		{key: "natGateways", schemaType: "string", schemaDefault: string(NATSingle), appliesTo: natOnly, appliesText: "nat", parse: func(c *Config, raw string) error {
			c.NATGateways = NATStrategy(raw)
			return nil
		}},
		{key: "defaultVpcEndpoints", schemaType: "string", schemaDefault: string(EndpointsCreate), appliesTo: defaultVPCOnly, appliesText: "defaultvpc", parse: func(c *Config, raw string) error {
			c.DefaultVPCEndpoints = EndpointPolicy(raw)
			return nil
		}},
		{key: "deliveryLimit", schemaType: "integer", schemaDefault: "5", parse: func(c *Config, raw string) error {
			return parseInt(raw, &c.DeliveryLimit)
		}},
		{key: "logRetentionDays", schemaType: "integer", schemaDefault: "14", parse: func(c *Config, raw string) error {
			return parseInt(raw, &c.LogRetentionDays)
		}},
		{key: "logMessageBodies", schemaType: "boolean", schemaDefault: "false", parse: func(c *Config, raw string) error {
			v, err := strconv.ParseBool(raw)
			if err != nil {
				return errors.New("must be true or false")
			}
			c.LogMessageBodies = v
			return nil
		}},
		{key: "eniWaitTimeoutMinutes", schemaType: "integer", schemaDefault: "45", parse: func(c *Config, raw string) error {
			return parseInt(raw, &c.ENIWaitTimeoutMinutes)
		}},
		{key: "vpcId", schemaType: "string", schemaDefault: automaticString, appliesTo: existingOnly, appliesText: "existingvpc", parse: func(c *Config, raw string) error {
			c.VPCID = raw
			return nil
		}},
		{key: "subnetIds", schemaType: "array", schemaDefault: "[]", appliesTo: existingOnly, appliesText: "existingvpc", parse: func(c *Config, raw string) error {
			if err := json.Unmarshal([]byte(raw), &c.SubnetIDs); err != nil {
				return errors.New(`must be a list of subnet ids, e.g. ["subnet-0123456789abcdef1"]`)
			}
			return nil
		}},
		{key: "serviceRoute", schemaType: "string", schemaDefault: string(ServiceRouteEndpoints), appliesTo: existingOnly, appliesText: "existingvpc", parse: func(c *Config, raw string) error {
			c.ServiceRoute = ServiceRouteSetting(raw)
			return nil
		}},
		{key: "endpointSubnetIds", schemaType: "array", schemaDefault: "[]", appliesTo: existingOnly, appliesText: "existingvpc", parse: func(c *Config, raw string) error {
			if err := json.Unmarshal([]byte(raw), &c.EndpointSubnetIDs); err != nil {
				return errors.New(`must be a list of subnet ids, e.g. ["subnet-0123456789abcdef2"]`)
			}
			return nil
		}},
		{key: "adminAccessCidrs", schemaType: "array", schemaDefault: "[]", appliesTo: ownGroupOnly, appliesText: "nat, isolated, publicsubnet and existingvpc",
			parse: func(c *Config, raw string) error {
				if err := json.Unmarshal([]byte(raw), &c.AdminAccessCIDRs); err != nil {
					return errors.New(`must be a list of IPv4 CIDR blocks, e.g. ["10.20.0.0/16"]`)
				}
				return nil
			}},
		{key: "tags", schemaType: "object", schemaDefault: "{}", parse: func(c *Config, raw string) error {
			var tags map[string]string
			if err := json.Unmarshal([]byte(raw), &tags); err != nil {
				return errors.New(`must be an object of string keys and string values, e.g. {"team": "payments"}`)
			}
			c.Tags = tags
			return nil
		}},
	}
}

// The "automatic" schema defaults: the setting's value is derived from others (instanceType,
// brokerName) or left to AWS (maxBatchingWindowSeconds).
const (
	automaticString  = ""
	automaticInteger = "0"
)

// SettingError is one invalid setting: the key as the user writes it, the value given, and
// what is allowed.
type SettingError struct {
	// Namespace of the key; empty for this project's own.
	Namespace string
	Key       string
	Value     string
	Allowed   string
}

func (e *SettingError) Error() string {
	return fmt.Sprintf("%s:%s = %q: %s", cmp.Or(e.Namespace, ProjectName), e.Key, e.Value, e.Allowed)
}

// ConfigError lists every invalid setting of a stack at once, so a user fixes them in one go.
type ConfigError struct {
	Stack    string
	Problems []*SettingError
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid configuration for stack %q (nothing was created or changed):", e.Stack)
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p.Error())
	}
	b.WriteString("\nFix the stack's Pulumi.<stack>.yaml or run `pulumi config set <key> <value>`; every key is described in README.md.")
	return b.String()
}

// ParseConfig turns a stack's raw configuration — fully qualified keys ("rabbitmq-esm:batchSize",
// "aws:region") to the string values Pulumi passes a program, objects as JSON — into a Config
// with every default applied, and validates it. Keys of other namespaces are left to their
// owners; unknown keys of this project are errors, since a typo would otherwise be ignored.
//
// The CLI hands the program the schema defaults of the keys a stack leaves unset, mixed with
// the values the stack sets, and nothing tells them apart. So a setting that does not apply to
// the stack's option is refused only when its value differs from the schema default: a value
// the user did not type is never reported, and the default is what the option does anyway.
func ParseConfig(stack string, raw map[string]string) (Config, error) {
	c := Config{Stack: stack, given: map[string]string{}}
	var problems []*SettingError
	known := map[string]setting{}
	for _, s := range settings() {
		known[s.key] = s
	}

	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, full := range keys {
		key, ok := strings.CutPrefix(full, ProjectName+":")
		if !ok {
			continue
		}
		s, ok := known[key]
		if !ok {
			problems = append(problems, &SettingError{Key: key, Value: raw[full], Allowed: unknownKeyHint(key, known)})
			continue
		}
		if raw[full] != s.schemaDefault || s.required {
			c.given[key] = raw[full]
		}
		if err := s.parse(&c, raw[full]); err != nil {
			problems = append(problems, &SettingError{Key: key, Value: raw[full], Allowed: err.Error()})
		}
	}
	c.AWSRegion, c.AWSProfile = raw["aws:region"], raw["aws:profile"]
	problems = append(problems, hookIdentityProblems(raw)...)
	c.applyDefaults()
	problems = append(problems, c.validate()...)
	if len(problems) > 0 {
		return Config{}, &ConfigError{Stack: stack, Problems: problems}
	}
	return c, nil
}

// hookIdentityKeys are the aws provider's settings that give it an identity the deletion
// hooks, which call EC2 with aws-sdk-go-v2's default chain plus aws:region and aws:profile,
// would not share: they would query another identity, and be refused or, worse, see no
// interfaces and end the wait at once.
var hookIdentityKeys = []string{"accessKey", "secretKey", "token", "assumeRole", "assumeRoles",
	"assumeRoleWithWebIdentity", "sharedCredentialsFiles", "sharedConfigFiles"}

func hookIdentityProblems(raw map[string]string) []*SettingError {
	var p []*SettingError
	for _, key := range hookIdentityKeys {
		if value, set := raw["aws:"+key]; set {
			if key == "secretKey" || key == "token" {
				value = "[secret]"
			}
			p = append(p, &SettingError{Namespace: "aws", Key: key, Value: value,
				Allowed: "is not supported: the deletion hooks that wait out Lambda's network interfaces call EC2 with the " +
					"environment's credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID, AWS_ROLE_ARN, SSO, ...) and aws:profile, " +
					"and would act as another identity than the provider; set the identity there instead, where both use it"})
		}
	}
	return p
}

// applyDefaults gives every key the stack did not set its schema default (as the CLI does),
// then resolves the automatic ones from the settings they depend on.
func (c *Config) applyDefaults() {
	for _, s := range settings() {
		if _, set := c.given[s.key]; !set && !s.required {
			_ = s.parse(c, s.schemaDefault)
		}
	}
	if c.InstanceType == automaticString {
		c.InstanceType = defaultInstanceType(c.DeploymentMode, c.EngineVersion)
	}
	if c.BrokerName == automaticString {
		c.BrokerName = truncate(ProjectName+"-"+c.Stack, maxBrokerName)
	}
	if w := c.MaxBatchingWindowSeconds; w != nil && *w == 0 {
		c.MaxBatchingWindowSeconds = nil
	}
}

// defaultInstanceType is the cheapest type Amazon MQ runs the engine and deployment mode on:
// RabbitMQ 4 runs only on mq.m7g (mq.m7g.medium is for testing, like mq.t3.micro for 3.13),
// and mq.t3.micro runs SINGLE_INSTANCE only.
func defaultInstanceType(mode DeploymentMode, engineVersion string) string {
	switch {
	case engineMajor(engineVersion) >= 4 && mode == ClusterMultiAZ:
		return "mq.m7g.large"
	case engineMajor(engineVersion) >= 4:
		return "mq.m7g.medium"
	case mode == ClusterMultiAZ:
		return "mq.m5.large"
	}
	return "mq.t3.micro"
}

// engineMajor is the major version of a valid engine version, 0 for an invalid one.
func engineMajor(version string) int {
	m := engineVersionRE.FindStringSubmatch(version)
	if len(m) != 3 {
		return 0
	}
	major, _ := strconv.Atoi(m[1])
	return major
}

const (
	maxBrokerName = 50
	maxUserTags   = 40 // AWS allows 50 per resource; the program adds its own and awsx adds Name
)

// validate checks a parsed Config against AWS's and RabbitMQ's rules. It is pure: no I/O.
func (c Config) validate() []*SettingError {
	var p []*SettingError
	// bad records a problem; an empty one (a rule's "") is none.
	bad := func(key, value, allowed string) {
		if allowed != "" {
			p = append(p, &SettingError{Key: key, Value: value, Allowed: allowed})
		}
	}

	opt, known := Options[c.NetworkMode]
	switch {
	case c.NetworkMode == "":
		bad("networkMode", "", "is required: one of "+modeList()+" (each stack file sets it to the stack's name)")
	case !known:
		bad("networkMode", string(c.NetworkMode), "must be one of "+modeList())
	}
	if known {
		for _, s := range settings() {
			if value, set := c.given[s.key]; set && s.appliesTo != nil && !s.appliesTo(opt) {
				bad(s.key, value, fmt.Sprintf("applies only to networkMode %s, not to %s; remove it from this stack", s.appliesText, c.NetworkMode))
			}
		}
	}

	switch msg := deploymentModeProblem(c.DeploymentMode); {
	case msg != "":
		bad("deploymentMode", string(c.DeploymentMode), msg)
	case known && c.DeploymentMode == ClusterMultiAZ && opt.VPC == VPCDefault:
		// CreateBroker requires subnets for a private cluster, and this option gives none.
		bad("deploymentMode", string(c.DeploymentMode), "is not available with networkMode defaultvpc: it places the broker in one default "+
			"subnet with the default security group, and a cluster spans three zones; use SINGLE_INSTANCE, or networkMode isolated or nat for a cluster")
	}
	if msg := instanceTypeProblem(c.InstanceType, c.DeploymentMode, c.EngineVersion); msg != "" {
		bad("instanceType", c.InstanceType, msg+" (or leave instanceType unset: the program picks the cheapest type that fits)")
	}
	bad("engineVersion", c.EngineVersion, engineVersionProblem(c.EngineVersion))
	bad("brokerName", c.BrokerName, brokerNameProblem(c.BrokerName))
	bad("adminUsername", c.AdminUsername, usernameProblem(c.AdminUsername))
	bad("queueName", c.QueueName, contract.QueueNameProblem(c.QueueName))
	bad("virtualHost", c.VirtualHost, virtualHostProblem(c.VirtualHost))
	bad("batchSize", strconv.Itoa(c.BatchSize), batchSizeProblem(c.BatchSize))
	if w := c.MaxBatchingWindowSeconds; w != nil {
		bad("maxBatchingWindowSeconds", strconv.Itoa(*w), batchingWindowProblem(*w))
	}
	bad("vpcCidr", c.VPCCidr, vpcCidrProblem(c.VPCCidr))
	if c.AvailabilityZones < 1 || c.AvailabilityZones > 6 {
		bad("availabilityZones", strconv.Itoa(c.AvailabilityZones), "must be a whole number from 1 to 6")
	}
	if c.NATGateways != NATSingle && c.NATGateways != NATOnePerAZ {
		bad("natGateways", string(c.NATGateways), "must be Single (one NAT gateway) or OnePerAz (one per availability zone)")
	}
	if c.DefaultVPCEndpoints != EndpointsCreate && c.DefaultVPCEndpoints != EndpointsExisting {
		bad("defaultVpcEndpoints", string(c.DefaultVPCEndpoints), "must be create (the program creates the sts, secretsmanager and lambda "+
			"interface endpoints) or existing (the default VPC already has them; the program checks they exist)")
	}
	if !slices.Contains([]ServiceRouteSetting{ServiceRouteNAT, ServiceRouteEndpoints, ServiceRouteExistingEndpoints, ServiceRouteCustomEgress}, c.ServiceRoute) {
		bad("serviceRoute", string(c.ServiceRoute), "must be nat (the subnets already route 0.0.0.0/0 to a NAT gateway; nothing is created for the path), "+
			"endpoints (the program creates the sts, secretsmanager and lambda interface endpoints), existing-endpoints (the VPC has them; the program "+
			"checks and uses them) or custom-egress (the subnets route 0.0.0.0/0 to a transit gateway, firewall or instance that reaches the internet)")
	}
	if known && opt.VPC == VPCExisting {
		p = append(p, existingVPCProblems(c)...)
	}
	bad("deliveryLimit", strconv.Itoa(c.DeliveryLimit), deliveryLimitProblem(c.DeliveryLimit))
	bad("logRetentionDays", strconv.Itoa(c.LogRetentionDays), logRetentionProblem(c.LogRetentionDays))
	if c.ENIWaitTimeoutMinutes < 1 || c.ENIWaitTimeoutMinutes > 120 {
		bad("eniWaitTimeoutMinutes", strconv.Itoa(c.ENIWaitTimeoutMinutes), "must be a whole number of minutes from 1 to 120")
	}
	p = append(p, tagProblems(c.Tags)...)
	for _, cidr := range c.AdminAccessCIDRs {
		bad("adminAccessCidrs", cidr, adminCIDRProblem(cidr))
	}
	return p
}

var (
	vpcIDPattern    = regexp.MustCompile(`^vpc-([0-9a-f]{8}|[0-9a-f]{17})$`)
	subnetIDPattern = regexp.MustCompile(`^subnet-([0-9a-f]{8}|[0-9a-f]{17})$`)
)

// existingVPCProblems checks what can be checked of existingvpc's placement without AWS: the
// ids' syntax, each subnet once, and as many subnets as the deployment mode places the broker
// in. What the ids name (the VPC, the subnets' zones and routes) is looked up and checked later,
// still before anything is created.
//
// SINGLE_INSTANCE takes exactly one subnet, as Amazon MQ does: what the stack lists is where
// the broker's endpoint, the mapping's interfaces and the functions beside them go, and every
// subnet listed is checked. CLUSTER_MULTI_AZ takes one subnet per zone, at least two: Amazon MQ
// accepts one, but the cluster spreads its three nodes across zones and its endpoints (and the
// mapping's interfaces) should not all sit in one.
func existingVPCProblems(c Config) []*SettingError {
	var p []*SettingError
	bad := func(key, value, allowed string) {
		p = append(p, &SettingError{Key: key, Value: value, Allowed: allowed})
	}
	switch {
	case c.VPCID == "":
		bad("vpcId", "", "is required with networkMode existingvpc: the id of your VPC (vpc-…), as "+
			"`aws ec2 describe-vpcs --query 'Vpcs[].[VpcId,CidrBlock,IsDefault]' --output table` lists them")
	case !vpcIDPattern.MatchString(c.VPCID):
		bad("vpcId", c.VPCID, "must be a VPC id: vpc- and 8 or 17 lowercase hexadecimal digits, e.g. vpc-0123456789abcdef0")
	}
	if len(c.SubnetIDs) == 0 {
		bad("subnetIds", "[]", "is required with networkMode existingvpc: the subnets of your VPC that hold the broker's endpoint and the mapping's "+
			"interfaces, one per zone (one for SINGLE_INSTANCE), e.g. [\"subnet-0123456789abcdef1\"]; "+
			"`aws ec2 describe-subnets --filters Name=vpc-id,Values=<vpcId> --query 'Subnets[].[SubnetId,AvailabilityZone,CidrBlock]' --output table` lists them")
		return p
	}
	seen := map[string]bool{}
	for _, id := range c.SubnetIDs {
		switch {
		case !subnetIDPattern.MatchString(id):
			bad("subnetIds", id, "must be a subnet id: subnet- and 8 or 17 lowercase hexadecimal digits, e.g. subnet-0123456789abcdef1")
		case seen[id]:
			bad("subnetIds", id, "is listed twice; list each subnet once, one per zone")
		}
		seen[id] = true
	}
	p = append(p, endpointSubnetProblems(c)...)
	list := "[" + strings.Join(c.SubnetIDs, ", ") + "]"
	switch {
	case c.DeploymentMode == SingleInstance && len(c.SubnetIDs) != 1:
		bad("subnetIds", list, fmt.Sprintf("lists %d subnets, but SINGLE_INSTANCE places the broker, and with it the mapping's interfaces, in exactly one: "+
			"list one (or set deploymentMode to CLUSTER_MULTI_AZ, which takes one per zone)", len(c.SubnetIDs)))
	case c.DeploymentMode == ClusterMultiAZ && len(c.SubnetIDs) < 2:
		bad("subnetIds", list, "lists one subnet, but CLUSTER_MULTI_AZ spreads the broker across zones: list one subnet per zone, "+
			"at least two (or set deploymentMode to SINGLE_INSTANCE)")
	}
	return p
}

// endpointSubnetProblems checks endpointSubnetIds without AWS: only with serviceRoute endpoints
// (nothing else creates endpoints), subnet ids, each once, none of subnetIds (whose subnets hold
// the endpoints already). Their VPC and zones are looked up later, still before anything is
// created.
func endpointSubnetProblems(c Config) []*SettingError {
	var p []*SettingError
	if len(c.EndpointSubnetIDs) > 0 && c.ServiceRoute != ServiceRouteEndpoints {
		p = append(p, &SettingError{Key: "endpointSubnetIds", Value: "[" + strings.Join(c.EndpointSubnetIDs, ", ") + "]",
			Allowed: fmt.Sprintf("applies only with serviceRoute endpoints, which creates the interface endpoints; serviceRoute is %s: "+
				"remove endpointSubnetIds", c.ServiceRoute)})
	}
	seen := map[string]bool{}
	for _, id := range c.EndpointSubnetIDs {
		switch {
		case !subnetIDPattern.MatchString(id):
			p = append(p, &SettingError{Key: "endpointSubnetIds", Value: id, Allowed: "must be a subnet id: subnet- and 8 or 17 lowercase hexadecimal digits"})
		case seen[id]:
			p = append(p, &SettingError{Key: "endpointSubnetIds", Value: id, Allowed: "is listed twice; list each subnet once, one per zone"})
		case slices.Contains(c.SubnetIDs, id):
			p = append(p, &SettingError{Key: "endpointSubnetIds", Value: id, Allowed: "is in subnetIds, whose subnets hold the endpoints already; " +
				"list subnets of the other zones only"})
		}
		seen[id] = true
	}
	return p
}

// The keys of the tags the program puts on every resource (stackTags), which user tags may
// not replace; nor the mapping's own (eniwait.GuardTags).
const (
	tagProject     = "project"
	tagStack       = "stack"
	tagNetworkMode = "networkMode"
)

var reservedTagKeys = []string{tagProject, tagStack, tagNetworkMode, eniwait.GuardGroupsTag, eniwait.GuardFunctionsTag}

var privateRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("100.64.0.0/10"),
}

func vpcCidrProblem(cidr string) string {
	prefix, err := netip.ParsePrefix(cidr)
	if err != nil || !prefix.Addr().Is4() {
		return "must be an IPv4 CIDR block such as 10.0.0.0/16"
	}
	if prefix.Masked() != prefix {
		return fmt.Sprintf("has host bits set; did you mean %s?", prefix.Masked())
	}
	if prefix.Bits() < 16 || prefix.Bits() > widestLayoutVPC {
		return fmt.Sprintf("must have a prefix length from /16 (AWS's largest VPC) to /%d (the subnet layout cuts it into %d slots, "+
			"and AWS's smallest subnet is a /%d)", widestLayoutVPC, 1<<slotBits, smallestSubnet)
	}
	for _, r := range privateRanges {
		if r.Contains(prefix.Addr()) && prefix.Bits() >= r.Bits() {
			return ""
		}
	}
	return "must lie in a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10)"
}

func adminCIDRProblem(cidr string) string {
	prefix, err := netip.ParsePrefix(cidr)
	switch {
	case err != nil || !prefix.Addr().Is4():
		return "must be an IPv4 CIDR block such as 10.20.0.0/16 (a bastion's or VPN's)"
	case prefix.Masked() != prefix:
		return fmt.Sprintf("has host bits set; did you mean %s?", prefix.Masked())
	case prefix.Bits() < 8:
		return "opens the private broker far too wide; name your bastion's or VPN's block (networkMode public is the option for a broker open to the internet)"
	}
	return ""
}

func tagProblems(tags map[string]string) []*SettingError {
	var p []*SettingError
	if len(tags) > maxUserTags {
		p = append(p, &SettingError{Key: "tags", Value: fmt.Sprintf("%d tags", len(tags)), Allowed: fmt.Sprintf("at most %d tags (AWS allows 50 per resource and the program adds its own)", maxUserTags)})
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case k == "" || len(k) > 128:
			p = append(p, &SettingError{Key: "tags", Value: k, Allowed: "tag keys must be 1-128 characters"})
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			p = append(p, &SettingError{Key: "tags", Value: k, Allowed: "tag keys must not start with aws: (reserved by AWS)"})
		case slices.Contains(reservedTagKeys, k):
			p = append(p, &SettingError{Key: "tags", Value: k, Allowed: "is a tag the program sets itself (" + strings.Join(reservedTagKeys, ", ") +
				"): the deletion hooks find this stack's security groups and interfaces by them"})
		case len(tags[k]) > 256:
			p = append(p, &SettingError{Key: "tags", Value: k, Allowed: "tag values must be at most 256 characters"})
		}
	}
	return p
}

func unknownKeyHint(key string, known map[string]setting) string {
	best, bestDistance := "", 4
	for k := range known {
		if d := editDistance(strings.ToLower(key), strings.ToLower(k)); d < bestDistance {
			best, bestDistance = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf("is not a setting of this project; did you mean %s?", best)
	}
	return "is not a setting of this project; the settings are listed in README.md"
}

// editDistance is the Levenshtein distance, for "did you mean" hints on mistyped keys.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func parseInt(raw string, into *int) error {
	v, err := strconv.Atoi(strings.TrimSpace(raw))
	if err != nil {
		return errors.New("must be a whole number")
	}
	*into = v
	return nil
}

func atLeast(major, minor string, wantMajor, wantMinor int) bool {
	ma, _ := strconv.Atoi(major)
	mi, _ := strconv.Atoi(minor)
	return ma > wantMajor || (ma == wantMajor && mi >= wantMinor)
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func modeList() string {
	names := make([]string, 0, len(Options))
	for _, m := range ModeNames() {
		names = append(names, string(m))
	}
	return strings.Join(names, ", ")
}

func intList(values []int) string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, ", ")
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
