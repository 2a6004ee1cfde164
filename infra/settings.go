package infra

import (
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"
)

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
		{key: "mappingUsername", schemaType: "string", schemaDefault: "esm-mapping", parse: func(c *Config, raw string) error {
			c.MappingUsername = raw
			return nil
		}},
		{key: "deadLetterUsername", schemaType: "string", schemaDefault: "esm-dead-letter", parse: func(c *Config, raw string) error {
			c.DeadLetterUsername = raw
			return nil
		}},
		{key: "monitorUsername", schemaType: "string", schemaDefault: "esm-monitor", parse: func(c *Config, raw string) error {
			c.MonitorUsername = raw
			return nil
		}},
		{key: "credentialRotation", schemaType: "string", schemaDefault: "rate(30 days)", parse: func(c *Config, raw string) error {
			c.CredentialRotation = raw
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
		{key: "alarmTopicArn", schemaType: "string", schemaDefault: automaticString, parse: func(c *Config, raw string) error {
			c.Alarms.TopicArn = raw
			return nil
		}},
		{key: "alarmEmail", schemaType: "string", schemaDefault: "", parse: func(c *Config, raw string) error {
			c.Alarms.Email = raw
			return nil
		}},
		{key: "alarmStalledMinutes", schemaType: "integer", schemaDefault: "5", parse: func(c *Config, raw string) error {
			return parseInt(raw, &c.Alarms.Thresholds.StalledMinutes)
		}},
		{key: "alarmBacklogMessages", schemaType: "integer", schemaDefault: "1000", parse: func(c *Config, raw string) error {
			return parseInt(raw, &c.Alarms.Thresholds.BacklogMessages)
		}},
		{key: "alarmBrokerMemoryPercent", schemaType: "integer", schemaDefault: "80", parse: func(c *Config, raw string) error {
			return parseInt(raw, &c.Alarms.Thresholds.BrokerMemoryPercent)
		}},
		{key: "alarmBrokerDiskFreeMultiple", schemaType: "integer", schemaDefault: "2", parse: func(c *Config, raw string) error {
			return parseInt(raw, &c.Alarms.Thresholds.BrokerDiskFreeMultiple)
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
		{key: "serviceRoute", schemaType: "string", schemaDefault: string(RouteEndpoints), appliesTo: existingOnly, appliesText: "existingvpc", parse: func(c *Config, raw string) error {
			c.ServiceRoute = ServiceRoute(raw)
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

// ParseConfig turns a stack's raw configuration (fully qualified keys to the strings Pulumi
// passes a program, objects as JSON) into a Config with every default applied, and validates
// it. Unknown keys of this project are errors: a typo would otherwise be ignored.
//
// The CLI mixes the schema defaults of unset keys with the values the stack sets, and nothing
// tells them apart; so a setting of another option is refused only when it differs from its
// schema default, which is what the option does anyway.
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

func parseInt(raw string, into *int) error {
	v, err := strconv.Atoi(strings.TrimSpace(raw))
	if err != nil {
		return errors.New("must be a whole number")
	}
	*into = v
	return nil
}
