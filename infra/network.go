package infra

import (
	"cmp"
	"fmt"

	awsxec2 "github.com/pulumi/pulumi-awsx/sdk/v2/go/awsx/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// members lists the resources a dependent of a component must wait for. Components list them
// explicitly because the Go SDK learns a component's children asynchronously: depending on
// the component itself can miss the children registered last.
type members struct{ resources []pulumi.Resource }

// Members are the resources to depend on to depend on the component.
func (m *members) Members() []pulumi.Resource { return m.resources }

func (m *members) track(resources ...pulumi.Resource) {
	m.resources = append(m.resources, resources...)
}

// typeToken names a component of this project, e.g. "rabbitmq-esm:infra:Broker".
func typeToken(component string) string { return ProjectName + ":infra:" + component }

// NetworkArgs configure the Network component.
type NetworkArgs struct {
	// Option is the networking option's table row; it decides the VPC, its tiers and NAT. Required.
	Option Option
	// CidrBlock of a new VPC. Default: none (required for VPCNew).
	CidrBlock string
	// Zones a new VPC spans, one subnet per tier in each. Default: none (required for VPCNew).
	Zones []string
	// Layout gives a new VPC's subnet blocks, per tier in the zones' order (layOutSubnets).
	// Default: none (required for VPCNew).
	Layout SubnetLayout
	// NATStrategy of a new VPC with NAT gateways. Default: Single.
	NATStrategy NATStrategy
	// DefaultVPC is the looked-up default VPC. Required for VPCDefault; default: none.
	DefaultVPC *DefaultVPC
	// ExistingVPC is the looked-up user's VPC and its given subnets. Required for VPCExisting;
	// default: none.
	ExistingVPC *ExistingVPC
	// Tags for every taggable child. Default: none.
	Tags pulumi.StringMap
}

// Network is the VPC the broker and the ESM's interfaces live in: a new awsx VPC, or the
// account's default VPC or the user's own as looked up (then the component only records it:
// nothing of a VPC the program did not build is changed).
type Network struct {
	pulumi.ResourceState

	// VpcID is the VPC's id.
	VpcID pulumi.StringOutput `pulumi:"vpcId"`
	// TierSubnetIDs are the subnets of the option's broker tier, one per zone: where the
	// broker's endpoints, the ESM's interfaces and the interface endpoints go.
	TierSubnetIDs pulumi.StringArrayOutput `pulumi:"tierSubnetIds"`

	// members: the awsx VPC, whose registration completes after its NAT gateways and routes.
	members
}

// NewNetwork builds or records the option's VPC.
func NewNetwork(ctx *pulumi.Context, name string, args *NetworkArgs, opts ...pulumi.ResourceOption) (*Network, error) {
	n := &Network{}
	if err := ctx.RegisterComponentResource(typeToken("Network"), name, n, opts...); err != nil {
		return nil, err
	}
	switch args.Option.VPC {
	case VPCNew:
		if err := n.buildVPC(ctx, name, args); err != nil {
			return nil, err
		}
	case VPCDefault:
		n.VpcID = pulumi.String(args.DefaultVPC.ID).ToStringOutput()
		n.TierSubnetIDs = pulumi.ToStringArray(args.DefaultVPC.SubnetIDs).ToStringArrayOutput()
	case VPCExisting:
		n.VpcID = pulumi.String(args.ExistingVPC.ID).ToStringOutput()
		n.TierSubnetIDs = pulumi.ToStringArray(args.ExistingVPC.SubnetIDs()).ToStringArrayOutput()
	default:
		return nil, fmt.Errorf("network %s: option %s has no VPC", name, args.Option.Mode)
	}
	return n, ctx.RegisterResourceOutputs(n, pulumi.Map{
		"vpcId":         n.VpcID,
		"tierSubnetIds": n.TierSubnetIDs,
	})
}

func (n *Network) buildVPC(ctx *pulumi.Context, name string, args *NetworkArgs) error {
	specs := make([]awsxec2.SubnetSpecArgs, 0, len(args.Option.SubnetTiers))
	for _, tier := range args.Option.SubnetTiers {
		if len(args.Layout[tier]) != len(args.Zones) {
			// awsx takes explicit blocks only for every zone of every spec.
			return fmt.Errorf("network %s: the layout gives %d blocks for the %s subnets of %d zones", name, len(args.Layout[tier]), tier, len(args.Zones))
		}
		specs = append(specs, awsxec2.SubnetSpecArgs{Type: awsxec2.SubnetType(tier), CidrBlocks: args.Layout[tier], Tags: args.Tags})
	}
	nat := awsxec2.NatGatewayStrategyNone
	if args.Option.NATGateways {
		nat = awsxec2.NatGatewayStrategy(cmp.Or(args.NATStrategy, NATSingle))
	}
	// Every spec gives its blocks, so awsx places them as given (its explicit allocator) instead of
	// deriving them from the number of zones and specs, which would move them on a change.
	subnetStrategy := awsxec2.SubnetAllocationStrategyAuto
	vpc, err := awsxec2.NewVpc(ctx, name, &awsxec2.VpcArgs{
		CidrBlock:             pulumi.StringRef(args.CidrBlock),
		AvailabilityZoneNames: args.Zones,
		SubnetStrategy:        &subnetStrategy,
		SubnetSpecs:           specs,
		NatGateways:           &awsxec2.NatGatewayConfigurationArgs{Strategy: nat},
		// Private DNS of interface endpoints works only with both on; the ESM resolves the
		// services' public names to the endpoints' private addresses through it.
		EnableDnsSupport:   pulumi.Bool(true),
		EnableDnsHostnames: pulumi.Bool(true),
		Tags:               args.Tags,
	}, pulumi.Parent(n))
	if err != nil {
		return err
	}
	n.VpcID = vpc.VpcId
	n.track(vpc)
	switch args.Option.BrokerTier {
	case TierPublic:
		n.TierSubnetIDs = vpc.PublicSubnetIds
	case TierPrivate:
		n.TierSubnetIDs = vpc.PrivateSubnetIds
	case TierIsolated:
		n.TierSubnetIDs = vpc.IsolatedSubnetIds
	default:
		return fmt.Errorf("network %s: tier %q is not a tier of a new VPC", name, args.Option.BrokerTier)
	}
	return nil
}
