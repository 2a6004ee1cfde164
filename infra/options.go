package infra

import "github.com/rabbitmq-esm/rabbitmq-esm/contract"

// NetworkMode names one of the six networking options; it is the stack's `networkMode`
// setting and, by convention, the stack's name.
type NetworkMode string

// The six networking options. Their meaning is the Options table below.
const (
	ModePublic       NetworkMode = "public"
	ModeDefaultVPC   NetworkMode = "defaultvpc"
	ModeNAT          NetworkMode = "nat"
	ModeIsolated     NetworkMode = "isolated"
	ModePublicSubnet NetworkMode = "publicsubnet"
	ModeExistingVPC  NetworkMode = "existingvpc"
)

// VPCSource says where an option's VPC comes from.
type VPCSource string

const (
	// VPCNone means the broker is public and Amazon MQ keeps all its networking in the service's
	// own account; nothing is created in a customer VPC.
	VPCNone VPCSource = "none"
	// VPCDefault means the account's default VPC, looked up, never created or changed.
	VPCDefault VPCSource = "default"
	// VPCNew means a new VPC built with awsx.ec2.Vpc.
	VPCNew VPCSource = "new"
	// VPCExisting means the user's own VPC (vpcId), looked up: the program adds its security
	// groups (and, where asked, the interface endpoints) and changes nothing else of it.
	VPCExisting VPCSource = "existing"
)

// SubnetTier is a kind of subnet, named as awsx names them. A tier decides the subnet's
// routes: Public routes to an internet gateway, Private to a NAT gateway, Isolated nowhere.
type SubnetTier string

const (
	// TierPublic subnets route to an internet gateway.
	TierPublic SubnetTier = "Public"
	// TierPrivate subnets route to a NAT gateway.
	TierPrivate SubnetTier = "Private"
	// TierIsolated subnets have no route out of the VPC.
	TierIsolated SubnetTier = "Isolated"
	// TierDefault is the default VPC's default subnets: public, one per availability zone.
	TierDefault SubnetTier = "Default"
	// TierGiven is the subnets of the user's VPC the stack names (subnetIds), one per zone;
	// their routes are the user's, looked up.
	TierGiven SubnetTier = "Given"
)

// ServiceRoute is how the ESM's network interfaces reach STS, Secrets Manager and Lambda. Those
// interfaces have private addresses only, so an internet gateway alone never suffices. The
// contract defines it, so that the serviceRoute setting, the option table, the components'
// arguments and the provisioner's diagnosis share one set of values.
type ServiceRoute = contract.ServiceRoute

// The service routes, as the contract defines them.
const (
	RouteAWSSide           = contract.RouteAWSSide
	RouteNAT               = contract.RouteNAT
	RouteEndpoints         = contract.RouteEndpoints
	RouteExistingEndpoints = contract.RouteExistingEndpoints
	RouteCustomEgress      = contract.RouteCustomEgress
)

// Option is one row of the networking table (docs/options.md). The program
// translates it into each component's typed arguments (the Network reads it whole); nothing
// else in the program branches on the mode's name. Where the user chooses the service route
// (existingvpc's serviceRoute, defaultvpc's defaultVpcEndpoints), Config.Option resolves it
// from the settings, once.
type Option struct {
	Mode NetworkMode
	// Summary is one line for humans (errors, docs, plan output).
	Summary string
	VPC     VPCSource
	// SubnetTiers are the tiers a new VPC is built with (VPCNew only), one subnet per tier per AZ.
	SubnetTiers []SubnetTier
	// NATGateways: the new VPC has NAT gateways in its public subnets.
	NATGateways bool
	// PublicBroker: the broker is publicly accessible (then it takes no subnets or security groups).
	PublicBroker bool
	// BrokerTier holds the broker's endpoints and, with them, the ESM's network interfaces.
	// Empty for a public broker.
	BrokerTier SubnetTier
	// ServiceRoute carries the ESM's calls to STS, Secrets Manager and Lambda. Empty in the
	// table where a setting chooses it (existingvpc: serviceRoute), and endpoints where a
	// setting may say they exist already (defaultvpc: defaultVpcEndpoints existing).
	ServiceRoute ServiceRoute
}

// Options is the table of the six networking options.
var Options = map[NetworkMode]Option{
	ModePublic: {
		Mode:         ModePublic,
		Summary:      "public broker; nothing in a VPC; the mapping polls from AWS's side",
		VPC:          VPCNone,
		PublicBroker: true,
		ServiceRoute: RouteAWSSide,
	},
	ModeDefaultVPC: {
		Mode:         ModeDefaultVPC,
		Summary:      "private broker in the account's default VPC, in a checked default subnet with the default security group (its rules read, not assumed); interface endpoints",
		VPC:          VPCDefault,
		BrokerTier:   TierDefault,
		ServiceRoute: RouteEndpoints,
	},
	ModeNAT: {
		Mode:         ModeNAT,
		Summary:      "private broker in the private subnets of a new VPC; NAT gateways carry the mapping's AWS calls",
		VPC:          VPCNew,
		SubnetTiers:  []SubnetTier{TierPublic, TierPrivate},
		NATGateways:  true,
		BrokerTier:   TierPrivate,
		ServiceRoute: RouteNAT,
	},
	ModeIsolated: {
		Mode: ModeIsolated,
		// awsx attaches an internet gateway to every VPC it builds ("We unconditionally create the
		// IGW", awsx/ec2/vpc.ts); no isolated subnet routes to it.
		Summary:      "private broker in a new VPC of isolated subnets (no route out of the VPC: no NAT, and no subnet routes to the internet gateway awsx attaches to every VPC); interface endpoints",
		VPC:          VPCNew,
		SubnetTiers:  []SubnetTier{TierIsolated},
		BrokerTier:   TierIsolated,
		ServiceRoute: RouteEndpoints,
	},
	ModePublicSubnet: {
		Mode:         ModePublicSubnet,
		Summary:      "private broker in the public subnets of a new VPC; interface endpoints (the internet gateway does not help the mapping)",
		VPC:          VPCNew,
		SubnetTiers:  []SubnetTier{TierPublic},
		BrokerTier:   TierPublic,
		ServiceRoute: RouteEndpoints,
	},
	ModeExistingVPC: {
		Mode:       ModeExistingVPC,
		Summary:    "private broker in subnets of your own VPC; a NAT gateway or interface endpoints (created or yours) carry the mapping's AWS calls, as serviceRoute says",
		VPC:        VPCExisting,
		BrokerTier: TierGiven,
		// ServiceRoute: from the serviceRoute setting (Config.Option).
	},
}

// ModeNames lists the networking options in the order the docs present them.
func ModeNames() []NetworkMode {
	return []NetworkMode{ModePublic, ModeDefaultVPC, ModeNAT, ModeIsolated, ModePublicSubnet, ModeExistingVPC}
}

// ESMHasENIs says whether the mapping places network interfaces in the customer's VPC: it
// does for every private broker, in the broker's subnets and with the broker's security groups.
func (o Option) ESMHasENIs() bool { return !o.PublicBroker }

// OwnBrokerGroup says whether the program gives the broker (and so the ESM's interfaces) a
// security group of its own: in a new VPC and in the user's. In the default VPC Amazon MQ uses
// the default group.
func (o Option) OwnBrokerGroup() bool { return o.VPC == VPCNew || o.VPC == VPCExisting }

// NeedsInterfaceEndpoints says whether the ESM reaches AWS services through interface endpoints.
func (o Option) NeedsInterfaceEndpoints() bool { return o.ServiceRoute.ViaEndpoints() }

// CreatesEndpoints says whether the program creates the interface endpoints the ESM needs.
func (o Option) CreatesEndpoints() bool { return o.ServiceRoute == RouteEndpoints }

// EndpointsFound says whether the VPC has the interface endpoints already: the program looks
// them up and uses them instead of creating them.
func (o Option) EndpointsFound() bool { return o.ServiceRoute == RouteExistingEndpoints }
