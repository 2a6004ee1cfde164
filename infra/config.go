package infra

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

// Config is the validated configuration of one stack. Zero values never reach components:
// ParseConfig fills every default.
type Config struct {
	Stack          string
	NetworkMode    NetworkMode
	DeploymentMode DeploymentMode
	InstanceType   string
	EngineVersion  string
	BrokerName     string
	AdminUsername  string
	// MappingUsername and DeadLetterUsername are the broker users the mapping and the
	// listener's dead-lettering log in as, each with its own secret (docs/broker-users.md);
	// rotation pairs each with <name>-clone.
	MappingUsername, DeadLetterUsername string
	// MonitorUsername is the broker user the monitor reads the queue's figures as (the
	// monitoring tag and no permission), with its own secret; rotation pairs it too.
	MonitorUsername string
	// Alarms are where the alarms notify and their thresholds.
	Alarms AlarmSettings
	// CredentialRotation is the Secrets Manager schedule of the four users' secrets' rotation, a
	// rate() or cron() expression, or RotationOff.
	CredentialRotation       string
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
	// the mapping's AWS calls (any route but aws-side). ServiceRoute is the user's claim about
	// their VPC: the program checks it against the looked-up routes and endpoints before it
	// creates anything. Only an existingvpc stack's counts; read Option().ServiceRoute.
	VPCID        string
	SubnetIDs    []string
	ServiceRoute ServiceRoute
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

// RotationOff is the credentialRotation that configures no rotation.
const RotationOff = "off"

// Option is the table row of the configured network mode, with the service route the
// settings choose resolved.
func (c Config) Option() Option {
	o := Options[c.NetworkMode]
	switch o.VPC {
	case VPCDefault:
		if c.DefaultVPCEndpoints == EndpointsExisting {
			o.ServiceRoute = RouteExistingEndpoints
		}
	case VPCExisting:
		o.ServiceRoute = c.ServiceRoute
	}
	return o
}
