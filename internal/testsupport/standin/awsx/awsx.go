// Package awsx is the stand-in of the awsx provider (pulumi-awsx v2.22.0): Construct for
// awsx:ec2:Vpc registers, through the engine, the children awsx v2.22.0 creates, with its
// names, parents and tags — the VPC, the internet gateway (in every VPC), a subnet per spec
// and zone laid out as awsx lays it out (layout.go), each with its route table and
// association, the public subnets' routes to the gateway, EIPs and NAT gateways per strategy
// and the private subnets' routes to them — so the aws stand-in holds the network the
// program's diagnosis and deletions depend on.
//
// Source of everything here: pulumi/pulumi-awsx awsx/ec2/vpc.ts (Vpc.initialize, stored
// version 01c654f2, the v2 line of v2.22.0; see internal/testsupport/standin/BEHAVIOURS.md).
package awsx

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin"
	awsstandin "github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin/aws"
)

// Version is the pulumi-awsx version the program pins (go.mod).
const Version = "2.22.0"

// Main runs the plugin.
func Main() error {
	return provider.MainWithOptions(provider.Options{Name: "awsx", Version: Version, Construct: construct})
}

func construct(ctx *pulumi.Context, typ, name string, inputs provider.ConstructInputs, opts pulumi.ResourceOption) (*provider.ConstructResult, error) {
	if typ != "awsx:ec2:Vpc" {
		return nil, fmt.Errorf("stand-in awsx %s: component %s is not modelled; model it in internal/testsupport/standin before the program uses it", Version, typ)
	}
	given, err := inputs.Map()
	if err != nil {
		return nil, err
	}
	if err := refuseUnmodelled(vpcArgs{}, keysOf(given), "awsx:ec2:Vpc "+name); err != nil {
		return nil, err
	}
	// Nested inputs: the keys of natGateways and of each subnet spec.
	var raw rawArgs
	if err := inputs.CopyTo(&raw); err != nil {
		return nil, fmt.Errorf("awsx:ec2:Vpc %s: reading its inputs: %w", name, err)
	}
	if err := refuseUnmodelled(natConfig{}, raw.NatGateways, "awsx:ec2:Vpc "+name+" natGateways"); err != nil {
		return nil, err
	}
	for i, s := range raw.SubnetSpecs {
		if err := refuseUnmodelled(SubnetSpec{}, s, fmt.Sprintf("awsx:ec2:Vpc %s subnetSpecs[%d]", name, i)); err != nil {
			return nil, err
		}
	}
	var args vpcArgs
	if err := inputs.CopyTo(&args); err != nil {
		return nil, fmt.Errorf("awsx:ec2:Vpc %s: reading its inputs: %w", name, err)
	}
	v, err := newVpc(ctx, name, args, opts)
	if err != nil {
		return nil, err
	}
	return provider.NewConstructResult(v)
}

func keysOf[M ~map[string]V, V any](m M) map[string]any {
	out := map[string]any{}
	for k := range m {
		out[k] = nil
	}
	return out
}

// refuseUnmodelled fails for an input key the stand-in's type for it does not name.
func refuseUnmodelled(typ any, given map[string]any, what string) error {
	known := standin.InputKeys(typ)
	for key := range given {
		if !known[resource.PropertyKey(key)] {
			return fmt.Errorf("%s: the stand-in does not model the input %q", what, key)
		}
	}
	return nil
}

type rawArgs struct {
	NatGateways map[string]any   `pulumi:"natGateways"`
	SubnetSpecs []map[string]any `pulumi:"subnetSpecs"`
}

type natConfig struct {
	Strategy string `pulumi:"strategy"`
}

// vpcArgs are the inputs of awsx:ec2:Vpc the stand-in models; Construct refuses the others
// (numberOfAvailabilityZones, IPAM, IPv6, vpcEndpointSpecs, elasticIpAllocationIds, …).
type vpcArgs struct {
	CidrBlock                *string           `pulumi:"cidrBlock"`
	AvailabilityZoneNames    []string          `pulumi:"availabilityZoneNames"`
	AvailabilityZoneCidrMask *int              `pulumi:"availabilityZoneCidrMask"`
	SubnetStrategy           *string           `pulumi:"subnetStrategy"`
	SubnetSpecs              []SubnetSpec      `pulumi:"subnetSpecs"`
	NatGateways              *natConfig        `pulumi:"natGateways"`
	EnableDNSSupport         *bool             `pulumi:"enableDnsSupport"`
	EnableDNSHostnames       *bool             `pulumi:"enableDnsHostnames"`
	Tags                     map[string]string `pulumi:"tags"`
}

type vpc struct {
	pulumi.ResourceState

	VpcID             pulumi.StringOutput      `pulumi:"vpcId"`
	PublicSubnetIDs   pulumi.StringArrayOutput `pulumi:"publicSubnetIds"`
	PrivateSubnetIDs  pulumi.StringArrayOutput `pulumi:"privateSubnetIds"`
	IsolatedSubnetIDs pulumi.StringArrayOutput `pulumi:"isolatedSubnetIds"`
}

type awsResource struct {
	pulumi.CustomResourceState
}

// layoutArgs turns the component's inputs into the layout's.
func layoutArgs(args vpcArgs) LayoutArgs {
	a := LayoutArgs{Zones: args.AvailabilityZoneNames, Specs: args.SubnetSpecs, AZCidrMask: args.AvailabilityZoneCidrMask}
	if args.CidrBlock != nil {
		a.CidrBlock = *args.CidrBlock
	}
	if args.SubnetStrategy != nil {
		a.Strategy = *args.SubnetStrategy
	}
	if args.NatGateways != nil {
		a.NAT = args.NatGateways.Strategy
	}
	return a
}

// merge is a JavaScript object spread: later maps win.
func merge(maps ...map[string]string) pulumi.StringMap {
	out := pulumi.StringMap{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = pulumi.String(v)
		}
	}
	return out
}

func newVpc(ctx *pulumi.Context, name string, args vpcArgs, opts pulumi.ResourceOption) (*vpc, error) {
	la := layoutArgs(args)
	// vpc.ts validates the whole layout before it creates anything (the cidrBlock is known).
	subnets, err := Layout(name, la)
	if err != nil {
		return nil, fmt.Errorf("awsx:ec2:Vpc %s: %w", name, err)
	}
	nat := la.NAT
	if nat == "" {
		nat = DefaultNATStrategy
	}
	nat = strings.ToLower(nat) // vpc.ts compares the strategy lower-cased
	cidr := la.CidrBlock
	if cidr == "" {
		cidr = DefaultCidrBlock
	}

	v := &vpc{}
	if err := ctx.RegisterComponentResource("awsx:ec2:Vpc", name, v, opts); err != nil {
		return nil, err
	}
	aws := pulumi.Version(awsstandin.Version)
	register := func(typ, name string, props pulumi.Map, parent pulumi.Resource, deps ...pulumi.Resource) (*awsResource, error) {
		r := &awsResource{}
		err := ctx.RegisterResource(typ, name, props, r, pulumi.Parent(parent), aws, pulumi.DependsOn(deps))
		return r, err
	}
	// sharedTags = { Name: name, ...args.tags }: the user's own Name tag wins.
	shared := merge(map[string]string{"Name": name}, args.Tags)
	sharedPlain := map[string]string{"Name": name}
	for k, val := range args.Tags {
		sharedPlain[k] = val
	}

	// new aws.ec2.Vpc(name, {...args, cidrBlock, tags: sharedTags}, {parent: this}): the DNS
	// flags pass through as given (absent ones take the aws provider's defaults).
	vpcProps := pulumi.Map{"cidrBlock": pulumi.String(cidr), "tags": shared}
	if args.EnableDNSSupport != nil {
		vpcProps["enableDnsSupport"] = pulumi.Bool(*args.EnableDNSSupport)
	}
	if args.EnableDNSHostnames != nil {
		vpcProps["enableDnsHostnames"] = pulumi.Bool(*args.EnableDNSHostnames)
	}
	awsVpc, err := register("aws:ec2/vpc:Vpc", name, vpcProps, v)
	if err != nil {
		return nil, err
	}
	vpcID := awsVpc.ID().ToStringOutput()

	// "We unconditionally create the IGW (even if it's not needed because we only have
	// isolated subnets)": named after the component, child of the aws Vpc, sharedTags.
	igw, err := register("aws:ec2/internetGateway:InternetGateway", name, pulumi.Map{"vpcId": vpcID, "tags": shared}, awsVpc, awsVpc)
	if err != nil {
		return nil, err
	}

	ids := map[string]pulumi.StringArray{}
	var nats []*awsResource
	for _, spec := range CreationOrder(subnets, len(la.Zones)) {
		i := spec.ZoneIndex
		// Subnet: child of the aws Vpc, tags {...sharedTags, ...spec.tags, Name, SubnetType}.
		subnetTags := merge(sharedPlain, spec.Tags, map[string]string{"Name": spec.Name, "SubnetType": spec.Type})
		subnet, err := register("aws:ec2/subnet:Subnet", spec.Name, pulumi.Map{
			"vpcId": vpcID, "availabilityZone": pulumi.String(spec.Zone), "cidrBlock": pulumi.String(spec.CidrBlock),
			"mapPublicIpOnLaunch": pulumi.Bool(spec.Type == "Public"), "tags": subnetTags,
		}, awsVpc, awsVpc)
		if err != nil {
			return nil, err
		}
		ids[spec.Type] = append(ids[spec.Type], subnet.ID().ToStringOutput())
		// Route table: child of the subnet, named after it, tags {...sharedTags, Name,
		// SubnetType} (not the spec's tags).
		table, err := register("aws:ec2/routeTable:RouteTable", spec.Name, pulumi.Map{
			"vpcId": vpcID, "tags": merge(sharedPlain, map[string]string{"Name": spec.Name, "SubnetType": spec.Type}),
		}, subnet, subnet)
		if err != nil {
			return nil, err
		}
		if _, err := register("aws:ec2/routeTableAssociation:RouteTableAssociation", spec.Name, pulumi.Map{
			"routeTableId": table.ID(), "subnetId": subnet.ID(),
		}, table, table); err != nil {
			return nil, err
		}
		// shouldCreateNatGateway: Single, one in the first public subnet of the first zone;
		// OnePerAz, one in the first public subnet of each zone. EIP and NAT gateway are
		// named <vpc>-<zone number>, children of the subnet, tags {...args.tags, Name}.
		if spec.Type == "Public" && shouldCreateNAT(nat, len(nats), i) {
			natName := fmt.Sprintf("%s-%d", name, i+1)
			natTags := merge(args.Tags, map[string]string{"Name": natName})
			eip, err := register("aws:ec2/eip:Eip", natName, pulumi.Map{"tags": natTags}, subnet, subnet)
			if err != nil {
				return nil, err
			}
			gw, err := register("aws:ec2/natGateway:NatGateway", natName, pulumi.Map{
				"subnetId": subnet.ID(), "allocationId": eip.ID(), "tags": natTags,
			}, subnet, subnet)
			if err != nil {
				return nil, err
			}
			nats = append(nats, gw)
		}
		// Routes, named after the subnet, children of its table: public to the IGW; private
		// to the NAT gateway (Single: the one; OnePerAz: its zone's) unless strategy None;
		// isolated none.
		switch spec.Type {
		case "Public":
			if _, err := register("aws:ec2/route:Route", spec.Name, pulumi.Map{
				"routeTableId": table.ID(), "gatewayId": igw.ID(), "destinationCidrBlock": pulumi.String("0.0.0.0/0"),
			}, table, table); err != nil {
				return nil, err
			}
		case "Private":
			if nat == "none" {
				break
			}
			gw := nats[0]
			if nat != "single" {
				gw = nats[i]
			}
			if _, err := register("aws:ec2/route:Route", spec.Name, pulumi.Map{
				"routeTableId": table.ID(), "natGatewayId": gw.ID(), "destinationCidrBlock": pulumi.String("0.0.0.0/0"),
			}, table, table); err != nil {
				return nil, err
			}
		}
	}

	v.VpcID = vpcID
	v.PublicSubnetIDs = ids["Public"].ToStringArrayOutput()
	v.PrivateSubnetIDs = ids["Private"].ToStringArrayOutput()
	v.IsolatedSubnetIDs = ids["Isolated"].ToStringArrayOutput()
	if err := ctx.RegisterResourceOutputs(v, pulumi.Map{
		"vpcId": v.VpcID, "publicSubnetIds": v.PublicSubnetIDs, "privateSubnetIds": v.PrivateSubnetIDs, "isolatedSubnetIds": v.IsolatedSubnetIDs,
	}); err != nil {
		return nil, err
	}
	return v, nil
}

// shouldCreateNAT is shouldCreateNatGateway (vpc.ts), for a lower-cased strategy.
func shouldCreateNAT(strategy string, count, zone int) bool {
	switch strategy {
	case "single":
		return count < 1
	case "oneperaz":
		return count < zone+1
	}
	return false
}
