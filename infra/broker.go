package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/mq"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// brokerTimeout bounds each create, update and delete of the broker.
const brokerTimeout = "90m"

// Ports the broker serves. Amazon MQ for RabbitMQ accepts AMQP only over TLS.
const (
	AMQPSPort = 5671
	HTTPSPort = 443
)

// BrokerArgs configure the Broker component.
type BrokerArgs struct {
	// BrokerName is Amazon MQ's name of the broker, unique in the account and region: 1-50
	// letters, digits, '-' or '_'. Required.
	BrokerName string
	// EngineVersion is the RabbitMQ version, major.minor, 3.13 or later (Amazon MQ upgrades
	// the patch version itself). Required.
	EngineVersion string
	// InstanceType is the broker's instance type: mq.t3.micro runs SINGLE_INSTANCE only, and
	// RabbitMQ 4 runs on mq.m7g only. Required.
	InstanceType string
	// DeploymentMode is SINGLE_INSTANCE or CLUSTER_MULTI_AZ. Required.
	DeploymentMode DeploymentMode
	// AdminUsername is the broker's one user, whose generated password the component keeps
	// with it in a Secrets Manager secret (the mapping's BASIC_AUTH). Required.
	AdminUsername string
	// MappingUsername is the broker user the event source mapping logs in as, DeadLetterUsername
	// the one the listener dead-letters as: the component generates their passwords and keeps
	// each in a Secrets Manager secret of its own, {"username","password"}; the Provisioner
	// creates the users (docs/broker-users.md). Required: 2-94 characters, as AdminUsername,
	// and no two rotation pairs (<name>, <name>-clone) share a name.
	MappingUsername, DeadLetterUsername string
	// MonitorUsername is the broker user the monitor reads the queue's figures as, in a secret
	// of its own like the two above. Required, with the same rules.
	MonitorUsername string
	// PubliclyAccessible makes a public broker: Amazon MQ keeps all its networking, and it
	// takes no VPC, subnets or security groups. Default: false, a private broker.
	PubliclyAccessible bool
	// VpcID places a private broker in a VPC, in a security group of its own that the component
	// creates. Default: none, and then Amazon MQ places the private broker in the account's
	// default VPC, in a default subnet and the default security group (DefaultSecurityGroupID).
	VpcID pulumi.StringInput
	// SubnetIDs of the broker's endpoints, one per zone: a SINGLE_INSTANCE broker takes the
	// first, a cluster all. In VpcID (required with it), or in the default VPC with
	// DefaultSecurityGroupID. Default: none, and a private broker without VpcID is placed by
	// Amazon MQ in a default subnet of its choice.
	SubnetIDs pulumi.StringArrayInput
	// ServiceRoute is how the mapping's interfaces, which carry the broker's group, reach STS,
	// Secrets Manager and Lambda. With RouteNAT or RouteCustomEgress the broker's own group lets
	// them out on 443 to any address; with interface endpoints the Endpoints component adds a narrower
	// egress. Default: none (no HTTPS egress).
	ServiceRoute ServiceRoute
	// DefaultSecurityGroupID is the default VPC's default security group, which Amazon MQ
	// attaches to a private broker given no VPC. Required for a private broker without VpcID;
	// default: none.
	DefaultSecurityGroupID string
	// AdminAccessCIDRs may reach the console (443) and AMQPS (5671) of a broker with a group of
	// its own (VpcID): a bastion's or VPN's blocks. Default: none.
	AdminAccessCIDRs []string
	// GroupDeleteHook runs before the broker's own security group is deleted, until no
	// interface Lambda made carries it. Default: none.
	GroupDeleteHook *pulumi.ResourceHook
	// Tags for every taggable child. Default: none.
	Tags pulumi.StringMap
}

// checkBrokerArgs holds the arguments to Amazon MQ's rules for RabbitMQ brokers.
func checkBrokerArgs(c *argCheck, a *BrokerArgs) {
	c.bad("BrokerName", a.BrokerName, brokerNameProblem(a.BrokerName))
	c.bad("EngineVersion", a.EngineVersion, engineVersionProblem(a.EngineVersion))
	c.bad("DeploymentMode", string(a.DeploymentMode), deploymentModeProblem(a.DeploymentMode))
	c.bad("InstanceType", a.InstanceType, instanceTypeProblem(a.InstanceType, a.DeploymentMode, a.EngineVersion))
	userPairProblems([]brokerUser{
		{key: "AdminUsername", name: a.AdminUsername, role: "administrator"},
		{key: "MappingUsername", name: a.MappingUsername, role: "mapping's user"},
		{key: "DeadLetterUsername", name: a.DeadLetterUsername, role: "dead-letter user"},
		{key: "MonitorUsername", name: a.MonitorUsername, role: "monitor's user"},
	}, c.bad)
	if a.ServiceRoute != "" {
		c.bad("ServiceRoute", string(a.ServiceRoute), serviceRouteProblem(a.ServiceRoute, !a.PubliclyAccessible))
	}
	ownGroup, subnets := given(a.VpcID), givenArray(a.SubnetIDs)
	switch {
	case a.PubliclyAccessible && (ownGroup || subnets || a.DefaultSecurityGroupID != ""):
		c.bad("PubliclyAccessible", "true", "a public broker takes no VpcID, SubnetIDs or DefaultSecurityGroupID: Amazon MQ keeps its networking")
	case ownGroup && !subnets:
		c.bad("SubnetIDs", "", "is required with VpcID: the subnets of the broker's endpoints, one per zone")
	case !ownGroup && subnets && a.DefaultSecurityGroupID == "":
		c.bad("VpcID", "", "is required with SubnetIDs (or DefaultSecurityGroupID, in the default VPC): the VPC of the broker's security group")
	case !a.PubliclyAccessible && !ownGroup && a.DefaultSecurityGroupID == "":
		c.bad("DefaultSecurityGroupID", "", "is required for a private broker without VpcID, which Amazon MQ places in the default VPC's default group")
	case !a.PubliclyAccessible && !subnets && a.DeploymentMode == ClusterMultiAZ:
		c.bad("DeploymentMode", string(a.DeploymentMode), "needs subnets for a private cluster: give SubnetIDs")
	}
	for _, cidr := range a.AdminAccessCIDRs {
		if !ownGroup {
			c.bad("AdminAccessCIDRs", cidr, "needs a broker with a group of its own (VpcID) to admit operators")
			continue
		}
		c.bad("AdminAccessCIDRs", cidr, adminCIDRProblem(cidr))
	}
}

// Broker is the Amazon MQ for RabbitMQ broker and its admin credentials. It is the broker as
// deployed; Connection is the broker as reached, all its clients need.
type Broker struct {
	pulumi.ResourceState

	// ID is the broker id (b-…).
	ID pulumi.StringOutput `pulumi:"brokerId"`
	// Arn is the broker ARN, the ESM's event source.
	Arn pulumi.StringOutput `pulumi:"brokerArn"`
	// Endpoint is the AMQPS endpoint, amqps://b-….mq.<region>.amazonaws.com:5671.
	Endpoint pulumi.StringOutput `pulumi:"amqpsEndpoint"`
	// ConsoleURL is the RabbitMQ management console.
	ConsoleURL pulumi.StringOutput `pulumi:"consoleUrl"`
	// SecretArn is the Secrets Manager secret holding {"username","password"} of the admin
	// user, which only the provisioner and the rotator read.
	SecretArn pulumi.StringOutput `pulumi:"credentialsSecretArn"`
	// MappingSecretArn is the secret of the mapping's user, the ESM's BASIC_AUTH.
	MappingSecretArn pulumi.StringOutput `pulumi:"mappingSecretArn"`
	// DeadLetterSecretArn is the secret of the listener's dead-letter user.
	DeadLetterSecretArn pulumi.StringOutput `pulumi:"deadLetterSecretArn"`
	// MonitorSecretArn is the secret of the monitor's user.
	MonitorSecretArn pulumi.StringOutput `pulumi:"monitorSecretArn"`
	// SecurityGroupID is the group the broker's endpoints and the ESM's interfaces carry: the
	// dedicated group in a new VPC, the default group in the default VPC, empty when public.
	SecurityGroupID pulumi.StringOutput `pulumi:"securityGroupId"`
	// CredentialsVersion is the id of the secret version holding the credentials: it changes
	// whenever they do (and the broker is replaced with them).
	CredentialsVersion pulumi.StringOutput `pulumi:"credentialsVersion"`
	// SubnetIDs are the subnets of the broker's endpoints, where the ESM places its interfaces:
	// the ones given, or the default subnet Amazon MQ chose in the default VPC.
	SubnetIDs pulumi.StringArrayOutput `pulumi:"subnetIds"`
	// GeneralLogGroupName is the log group Amazon MQ itself creates for the broker's general
	// logs, /aws/amazonmq/broker/<id>/general ("Configuring RabbitMQ logs", Amazon MQ developer
	// guide): it has no retention, and deleting the broker leaves it.
	GeneralLogGroupName pulumi.StringOutput `pulumi:"generalLogGroupName"`

	// members: the broker, its credentials and the rules its security group needs.
	members
	// placement is a private broker's; nil for a public one.
	placement *BrokerPlacement
	// usersVersion changes whenever a user's secret version is replaced (a new name).
	usersVersion pulumi.StringOutput
}

// Connection is the broker as the EventSource and the Provisioner reach it.
func (b *Broker) Connection() BrokerConnection {
	return BrokerConnection{Arn: b.Arn, Endpoint: b.Endpoint, SecretArn: b.SecretArn, CredentialsVersion: b.CredentialsVersion,
		Private: b.placement, DependsOn: b.Members(), Users: &BrokerUsers{
			ManagementURL: b.ConsoleURL, MappingSecretArn: b.MappingSecretArn, DeadLetterSecretArn: b.DeadLetterSecretArn,
			MonitorSecretArn: b.MonitorSecretArn, Versions: b.usersVersion,
		}}
}

// NewBroker creates the credentials, the security group a private broker needs and the broker.
func NewBroker(ctx *pulumi.Context, name string, args *BrokerArgs, opts ...pulumi.ResourceOption) (*Broker, error) {
	if err := checkArgs("Broker", name, args, checkBrokerArgs); err != nil {
		return nil, err
	}
	b := &Broker{}
	if err := ctx.RegisterComponentResource(typeToken("Broker"), name, b, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(b)

	// A new admin password or user means a new broker (the ReplacementTrigger below), which
	// takes the new version's value: there, putting the secret back is right, so the admin's
	// version alone keeps its secretString diff.
	admin, err := newCredentials(ctx, name+"-admin-password", name+"-credentials", args.AdminUsername,
		pulumi.Sprintf("Admin credentials of the Amazon MQ broker %s, read by the provisioner and the rotator", args.BrokerName), false, args.Tags, parent)
	if err != nil {
		return nil, err
	}
	secret, secretVersion, password := admin.secret, admin.version, admin.password
	mapping, err := newCredentials(ctx, name+"-mapping-password", name+"-mapping-credentials", args.MappingUsername,
		pulumi.Sprintf("Credentials of the event source mapping's user of the Amazon MQ broker %s (BASIC_AUTH): read on the queue only", args.BrokerName), true, args.Tags, parent)
	if err != nil {
		return nil, err
	}
	deadLetter, err := newCredentials(ctx, name+"-dead-letter-password", name+"-dead-letter-credentials", args.DeadLetterUsername,
		pulumi.Sprintf("Credentials of the listener's dead-letter user of the Amazon MQ broker %s: write on the dead-letter exchange only", args.BrokerName), true, args.Tags, parent)
	if err != nil {
		return nil, err
	}
	monitor, err := newCredentials(ctx, name+"-monitor-password", name+"-monitor-credentials", args.MonitorUsername,
		pulumi.Sprintf("Credentials of the monitor's user of the Amazon MQ broker %s: the monitoring tag, no permission", args.BrokerName), true, args.Tags, parent)
	if err != nil {
		return nil, err
	}

	brokerArgs := &mq.BrokerArgs{
		BrokerName:              pulumi.String(args.BrokerName),
		EngineType:              pulumi.String("RabbitMQ"),
		EngineVersion:           pulumi.String(args.EngineVersion),
		HostInstanceType:        pulumi.String(args.InstanceType),
		DeploymentMode:          pulumi.String(string(args.DeploymentMode)),
		PubliclyAccessible:      pulumi.Bool(args.PubliclyAccessible),
		AutoMinorVersionUpgrade: pulumi.Bool(true), // required for RabbitMQ 3.13 and later
		// Without it, a change of engine version, instance type or logs waits for the
		// maintenance window, while the state records it as made (the provider reads nothing
		// back after an update; only a refresh would show the old values). With it the broker
		// restarts to apply the change.
		ApplyImmediately: pulumi.Bool(true),
		Logs:             &mq.BrokerLogsArgs{General: pulumi.Bool(true)},
		Users: mq.BrokerUserArray{&mq.BrokerUserArgs{
			Username: pulumi.String(args.AdminUsername),
			Password: password.Result,
		}},
		Tags: args.Tags,
	}
	brokerOpts := []pulumi.ResourceOption{parent,
		// The secret version is a dependency so that the broker never exists with credentials
		// the ESM cannot read yet.
		pulumi.DependsOn([]pulumi.Resource{secretVersion}),
		// Amazon MQ returns no RabbitMQ users and the provider ignores changes to them, so new
		// credentials (a new secret version) reach only a new broker: replace it with them.
		pulumi.ReplacementTrigger(secretVersion.ID()),
		// The broker's name is fixed and unique in the account: a replacement can only be
		// created once the old broker is gone.
		pulumi.DeleteBeforeReplace(true),
		// Creating, updating or deleting a RabbitMQ broker can outlast the provider's default
		// 30 minutes in some regions (hashicorp/terraform-provider-aws#27035).
		pulumi.Timeouts(&pulumi.CustomTimeouts{Create: brokerTimeout, Update: brokerTimeout, Delete: brokerTimeout}),
	}
	b.SecurityGroupID = pulumi.String("").ToStringOutput()
	switch {
	case given(args.VpcID):
		sg, err := b.newSecurityGroup(ctx, name, args, parent)
		if err != nil {
			return nil, err
		}
		b.SecurityGroupID = sg.ID().ToStringOutput()
		brokerArgs.SecurityGroups = pulumi.StringArray{sg.ID()}
		brokerArgs.SubnetIds = brokerSubnets(args.SubnetIDs, args.DeploymentMode)
		// RabbitMQ brokers refuse a security-group update ("Changing security groups is not
		// supported for RabbitMQ brokers", hashicorp/terraform-provider-aws#33514): replace.
		brokerOpts = append(brokerOpts, pulumi.ReplaceOnChanges([]string{"securityGroups"}))
	case !args.PubliclyAccessible && givenArray(args.SubnetIDs):
		// The default VPC's subnet and group the caller chose and checked, given explicitly:
		// left to itself, Amazon MQ picks a default subnet, maybe in a zone nobody checked.
		b.SecurityGroupID = pulumi.String(args.DefaultSecurityGroupID).ToStringOutput()
		brokerArgs.SecurityGroups = pulumi.StringArray{b.SecurityGroupID}
		brokerArgs.SubnetIds = brokerSubnets(args.SubnetIDs, args.DeploymentMode)
		brokerOpts = append(brokerOpts, pulumi.ReplaceOnChanges([]string{"securityGroups"}))
	case !args.PubliclyAccessible:
		// Given no subnets and no security groups, Amazon MQ places a private broker in the
		// default VPC with its default security group, which admits all traffic from itself.
		b.SecurityGroupID = pulumi.String(args.DefaultSecurityGroupID).ToStringOutput()
		// Amazon MQ then reports that group, and the provider does not treat securityGroups as
		// computed: without this, every later plan would try to remove it, an update RabbitMQ
		// brokers refuse ("Changing security groups is not supported for RabbitMQ brokers").
		brokerOpts = append(brokerOpts, pulumi.IgnoreChanges([]string{"securityGroups"}))
	}
	broker, err := mq.NewBroker(ctx, name, brokerArgs, brokerOpts...)
	if err != nil {
		return nil, err
	}
	b.track(broker, secretVersion, mapping.version, deadLetter.version, monitor.version)
	b.ID = broker.ID().ToStringOutput()
	b.Arn = broker.Arn
	b.SecretArn = secret.Arn
	b.CredentialsVersion = secretVersion.ID().ToStringOutput()
	b.MappingSecretArn, b.DeadLetterSecretArn, b.MonitorSecretArn = mapping.secret.Arn, deadLetter.secret.Arn, monitor.secret.Arn
	b.usersVersion = pulumi.Sprintf("%s,%s,%s", mapping.version.ID(), deadLetter.version.ID(), monitor.version.ID())
	b.SubnetIDs = broker.SubnetIds
	b.GeneralLogGroupName = pulumi.Sprintf("/aws/amazonmq/broker/%s/general", b.ID)
	if !args.PubliclyAccessible {
		b.placement = &BrokerPlacement{SubnetIDs: b.SubnetIDs, SecurityGroupIDs: pulumi.StringArray{b.SecurityGroupID}}
	}
	instance := broker.Instances.Index(pulumi.Int(0))
	b.Endpoint = instance.Endpoints().Index(pulumi.Int(0))
	b.ConsoleURL = instance.ConsoleUrl().Elem()

	return b, ctx.RegisterResourceOutputs(b, pulumi.Map{
		"brokerId":             b.ID,
		"brokerArn":            b.Arn,
		"amqpsEndpoint":        b.Endpoint,
		"consoleUrl":           b.ConsoleURL,
		"credentialsSecretArn": b.SecretArn,
		"credentialsVersion":   b.CredentialsVersion,
		"mappingSecretArn":     b.MappingSecretArn,
		"deadLetterSecretArn":  b.DeadLetterSecretArn,
		"monitorSecretArn":     b.MonitorSecretArn,
		"securityGroupId":      b.SecurityGroupID,
		"subnetIds":            b.SubnetIDs,
		"generalLogGroupName":  b.GeneralLogGroupName,
	})
}

// brokerSubnets gives Amazon MQ the subnets its deployment mode takes: exactly one for a
// single instance, one per zone for a cluster.
func brokerSubnets(tier pulumi.StringArrayInput, mode DeploymentMode) pulumi.StringArrayInput {
	if mode == SingleInstance {
		return pulumi.StringArray{tier.ToStringArrayOutput().Index(pulumi.Int(0))}
	}
	return tier
}

// brokerSubnetCount is how many of zones' subnets a broker of the mode takes.
func brokerSubnetCount(mode DeploymentMode, zones int) int {
	if mode == SingleInstance {
		return 1
	}
	return zones
}

// newSecurityGroup creates the group of a broker in a new VPC. The ESM attaches the same
// group to its interfaces, so the group must both admit AMQPS from itself and let its members
// out: to the broker on 5671 and to STS, Secrets Manager and Lambda on 443. A group declared
// without egress rules has none, and the mapping would stall.
func (b *Broker) newSecurityGroup(ctx *pulumi.Context, name string, args *BrokerArgs, parent pulumi.ResourceOption) (*ec2.SecurityGroup, error) {
	sgOpts := []pulumi.ResourceOption{parent}
	if args.GroupDeleteHook != nil {
		sgOpts = append(sgOpts, pulumi.ResourceHooks(&pulumi.ResourceHookBinding{BeforeDelete: []*pulumi.ResourceHook{args.GroupDeleteHook}}))
	}
	sg, err := ec2.NewSecurityGroup(ctx, name+"-sg", &ec2.SecurityGroupArgs{
		VpcId:       args.VpcID,
		Description: pulumi.String("Amazon MQ broker endpoints and the Lambda ESM's network interfaces"),
		Tags:        args.Tags,
	}, sgOpts...)
	if err != nil {
		return nil, err
	}
	rules := []rule{
		{name: name + "-amqps-from-self", group: sg.ID(), ingress: true, port: AMQPSPort, peerGroup: sg.ID(),
			description: "AMQPS from the ESM's interfaces (they carry this group)"},
		{name: name + "-amqps-to-self", group: sg.ID(), port: AMQPSPort, peerGroup: sg.ID(),
			description: "AMQPS from the ESM's interfaces to the broker endpoints"},
		// The provisioner, the rotator and the monitor, which carry this group too, reach the
		// broker's management API, served on 443 of the broker's endpoint.
		{name: name + "-https-from-self", group: sg.ID(), ingress: true, port: HTTPSPort, peerGroup: sg.ID(),
			description: "Management API from the provisioner and the rotator (they carry this group)"},
		{name: name + "-https-to-self", group: sg.ID(), port: HTTPSPort, peerGroup: sg.ID(),
			description: "Management API from the provisioner and the rotator to the broker endpoints"},
	}
	if args.ServiceRoute.ToPublicEndpoints() {
		// Through NAT, STS, Secrets Manager and Lambda are reached at their public addresses.
		// With interface endpoints, the Endpoints component adds a narrower egress instead.
		rules = append(rules, rule{name: name + "-https-to-aws", group: sg.ID(), port: HTTPSPort, peerCIDR: "0.0.0.0/0",
			description: "HTTPS from the ESM's interfaces to STS, Secrets Manager and Lambda through the NAT gateway"})
	}
	for i, cidr := range args.AdminAccessCIDRs {
		for _, port := range []int{HTTPSPort, AMQPSPort} {
			rules = append(rules, rule{name: fmt.Sprintf("%s-admin-%d-from-%d", name, port, i+1), group: sg.ID(), ingress: true, port: port, peerCIDR: cidr,
				description: "Console and AMQPS for operators (adminAccessCidrs)"})
		}
	}
	for _, r := range rules {
		created, err := r.create(ctx, args.Tags, parent)
		if err != nil {
			return nil, err
		}
		b.track(created)
	}
	return sg, nil
}

// credentials are one broker user's generated password and the secret that holds it.
type credentials struct {
	password *random.RandomPassword
	secret   *secretsmanager.Secret
	version  *secretsmanager.SecretVersion
}

// newCredentials generates a password for username and keeps both in a secret of their own,
// {"username","password"}, encrypted with the account's AWS managed key (aws/secretsmanager).
// Once rotation runs, the secret's AWSCURRENT is the rotator's: rotated, a job user's version
// keeps its first value, which must never come back. Its secretString and versionStages
// changes are ignored (the provider's secret_string forces a new version, whose
// PutSecretValue would make it AWSCURRENT; version_stages moves AWSCURRENT back onto it;
// terraform-provider-aws, internal/service/secretsmanager/secret_version.go); a new name
// alone makes a new version (ReplacementTrigger), which the provisioner's users action
// then creates with the password it carries.
func newCredentials(ctx *pulumi.Context, passwordName, secretName, username string, description pulumi.StringInput, rotatedUser bool,
	tags pulumi.StringMap, parent pulumi.ResourceOption) (*credentials, error) {
	// Amazon MQ's rules: at least 12 characters and 4 distinct ones, none of , : =. The
	// minimums guarantee 4 distinct characters; the special set leaves out those three.
	password, err := random.NewRandomPassword(ctx, passwordName, &random.RandomPasswordArgs{
		Length:          pulumi.Int(32),
		Special:         pulumi.Bool(true),
		OverrideSpecial: pulumi.String("!#%*+-._~^"),
		MinLower:        pulumi.Int(1),
		MinUpper:        pulumi.Int(1),
		MinNumeric:      pulumi.Int(1),
		MinSpecial:      pulumi.Int(1),
	}, parent)
	if err != nil {
		return nil, err
	}
	secret, err := secretsmanager.NewSecret(ctx, secretName, &secretsmanager.SecretArgs{
		Description: description,
		Tags:        tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	versionOpts := []pulumi.ResourceOption{parent}
	if rotatedUser {
		versionOpts = append(versionOpts, pulumi.IgnoreChanges([]string{"secretString", "versionStages"}),
			pulumi.ReplacementTrigger(pulumi.String(username)))
	} else {
		versionOpts = append(versionOpts, pulumi.IgnoreChanges([]string{"versionStages"}))
	}
	version, err := secretsmanager.NewSecretVersion(ctx, secretName, &secretsmanager.SecretVersionArgs{
		SecretId: secret.ID(),
		SecretString: pulumi.JSONMarshal(pulumi.Map{
			"username": pulumi.String(username),
			"password": password.Result,
		}),
	}, versionOpts...)
	if err != nil {
		return nil, err
	}
	return &credentials{password: password, secret: secret, version: version}, nil
}
