// Package awsx is the stand-in of the awsx provider (pulumi-awsx v2.22.0): Construct for
// awsx:ec2:Vpc registers, through the engine, the children awsx really creates — the VPC, a
// subnet per tier and zone with its route table and association, the internet gateway and its
// routes, EIPs and NAT gateways per strategy and the private subnets' routes to them — so the
// aws stand-in holds the network the program's diagnosis and deletions depend on.
package awsx

import (
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"

	"rabbitmq-esm/testsupport/standin"
	awsstandin "rabbitmq-esm/testsupport/standin/aws"
)

// Version is the pulumi-awsx version the program pins (go.mod).
const Version = "2.22.0"

// Main runs the plugin.
func Main() error {
	return provider.MainWithOptions(provider.Options{Name: "awsx", Version: Version, Construct: construct})
}

func construct(ctx *pulumi.Context, typ, name string, inputs provider.ConstructInputs, opts pulumi.ResourceOption) (*provider.ConstructResult, error) {
	if typ != "awsx:ec2:Vpc" {
		return nil, fmt.Errorf("stand-in awsx %s: component %s is not modelled; model it in testsupport/standin before the program uses it", Version, typ)
	}
	given, err := inputs.Map()
	if err != nil {
		return nil, err
	}
	known := standin.InputKeys(vpcArgs{})
	for key := range given {
		if !known[resource.PropertyKey(key)] {
			return nil, fmt.Errorf("awsx:ec2:Vpc %s: the stand-in does not model the input %q", name, key)
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

type subnetSpec struct {
	Type string            `pulumi:"type"`
	Tags map[string]string `pulumi:"tags"`
}

type natConfig struct {
	Strategy string `pulumi:"strategy"`
}

// vpcArgs are the inputs of awsx:ec2:Vpc the stand-in models; Construct refuses the others.
type vpcArgs struct {
	CidrBlock             *string           `pulumi:"cidrBlock"`
	AvailabilityZoneNames []string          `pulumi:"availabilityZoneNames"`
	SubnetStrategy        *string           `pulumi:"subnetStrategy"`
	SubnetSpecs           []subnetSpec      `pulumi:"subnetSpecs"`
	NatGateways           *natConfig        `pulumi:"natGateways"`
	EnableDNSSupport      *bool             `pulumi:"enableDnsSupport"`
	EnableDNSHostnames    *bool             `pulumi:"enableDnsHostnames"`
	Tags                  map[string]string `pulumi:"tags"`
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

// tierOrder is the order awsx lays subnets out in.
var tierOrder = []string{"Public", "Private", "Isolated"}

func newVpc(ctx *pulumi.Context, name string, args vpcArgs, opts pulumi.ResourceOption) (*vpc, error) {
	if args.SubnetStrategy != nil && *args.SubnetStrategy != "Auto" {
		return nil, fmt.Errorf("the stand-in awsx models subnetStrategy Auto only, not %s", *args.SubnetStrategy)
	}
	strategy := "Single"
	if args.NatGateways != nil {
		strategy = args.NatGateways.Strategy
	}
	tiers := map[string]subnetSpec{}
	for _, s := range args.SubnetSpecs {
		if !slices.Contains(tierOrder, s.Type) {
			return nil, fmt.Errorf("the stand-in awsx does not model subnet type %q", s.Type)
		}
		tiers[s.Type] = s
	}
	_, hasPublic := tiers["Public"]
	_, hasPrivate := tiers["Private"]
	// awsx's own validation.
	if strategy != "None" && (!hasPublic || !hasPrivate) {
		return nil, fmt.Errorf("awsx:ec2:Vpc %s: if NAT Gateway strategy is 'OnePerAz' or 'Single', both private and public subnets must be declared", name)
	}
	cidr := "10.0.0.0/16"
	if args.CidrBlock != nil {
		cidr = *args.CidrBlock
	}
	block, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("cidrBlock %q: %w", cidr, err)
	}
	zones := args.AvailabilityZoneNames
	if len(zones) == 0 {
		return nil, fmt.Errorf("the stand-in awsx needs availabilityZoneNames")
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
	tags := func(extra string) pulumi.StringMap {
		t := pulumi.ToStringMap(args.Tags)
		t["Name"] = pulumi.String(extra)
		return t
	}
	dnsSupport := args.EnableDNSSupport == nil || *args.EnableDNSSupport
	dnsHostnames := args.EnableDNSHostnames != nil && *args.EnableDNSHostnames
	awsVpc, err := register("aws:ec2/vpc:Vpc", name, pulumi.Map{
		"cidrBlock": pulumi.String(cidr), "enableDnsSupport": pulumi.Bool(dnsSupport), "enableDnsHostnames": pulumi.Bool(dnsHostnames),
		"tags": tags(name),
	}, v)
	if err != nil {
		return nil, err
	}
	vpcID := awsVpc.ID().ToStringOutput()

	var igw *awsResource
	if hasPublic {
		if igw, err = register("aws:ec2/internetGateway:InternetGateway", name, pulumi.Map{"vpcId": vpcID, "tags": tags(name)}, awsVpc); err != nil {
			return nil, err
		}
	}

	// Auto layout: one block per zone, split among the tiers.
	zoneBits, tierBits := ceilLog2(len(zones)), ceilLog2(len(tierOrder))
	ids := map[string]pulumi.StringArray{}
	subnets := map[string][]*awsResource{}
	tables := map[string][]*awsResource{}
	for zi, zone := range zones {
		for ti, tier := range tierOrder {
			spec, ok := tiers[tier]
			if !ok {
				continue
			}
			subnetName := fmt.Sprintf("%s-%s-%d", name, strings.ToLower(tier), zi+1)
			subnetCidr, err := subnetBlock(block, zoneBits+tierBits, zi<<tierBits|ti)
			if err != nil {
				return nil, err
			}
			st := tags(subnetName)
			for k, val := range spec.Tags {
				st[k] = pulumi.String(val)
			}
			subnet, err := register("aws:ec2/subnet:Subnet", subnetName, pulumi.Map{
				"vpcId": vpcID, "availabilityZone": pulumi.String(zone), "cidrBlock": pulumi.String(subnetCidr.String()),
				"mapPublicIpOnLaunch": pulumi.Bool(tier == "Public"), "tags": st,
			}, awsVpc, awsVpc)
			if err != nil {
				return nil, err
			}
			table, err := register("aws:ec2/routeTable:RouteTable", subnetName, pulumi.Map{"vpcId": vpcID, "tags": tags(subnetName)}, subnet)
			if err != nil {
				return nil, err
			}
			if _, err := register("aws:ec2/routeTableAssociation:RouteTableAssociation", subnetName, pulumi.Map{
				"routeTableId": table.ID(), "subnetId": subnet.ID(),
			}, table); err != nil {
				return nil, err
			}
			// awsx names a subnet's route after the subnet, as its table and association
			// (pulumi-awsx awsx/ec2/vpc.ts): a change of NAT strategy updates the private
			// subnets' routes in place rather than creating new ones beside them.
			if tier == "Public" {
				if _, err := register("aws:ec2/route:Route", subnetName, pulumi.Map{
					"routeTableId": table.ID(), "destinationCidrBlock": pulumi.String("0.0.0.0/0"), "gatewayId": igw.ID(),
				}, table); err != nil {
					return nil, err
				}
			}
			ids[tier] = append(ids[tier], subnet.ID().ToStringOutput())
			subnets[tier] = append(subnets[tier], subnet)
			tables[tier] = append(tables[tier], table)
		}
	}

	var nats []*awsResource
	natCount := map[string]int{"None": 0, "Single": 1, "OnePerAz": len(zones)}[strategy]
	for i := range natCount {
		public := subnets["Public"][i]
		eip, err := register("aws:ec2/eip:Eip", fmt.Sprintf("%s-%d", name, i+1), pulumi.Map{"domain": pulumi.String("vpc"), "tags": tags(name)}, public)
		if err != nil {
			return nil, err
		}
		nat, err := register("aws:ec2/natGateway:NatGateway", fmt.Sprintf("%s-%d", name, i+1), pulumi.Map{
			"subnetId": public.ID(), "allocationId": eip.ID(), "tags": tags(name),
		}, public)
		if err != nil {
			return nil, err
		}
		nats = append(nats, nat)
	}
	for i, table := range tables["Private"] {
		nat := nats[min(i, len(nats)-1)]
		if _, err := register("aws:ec2/route:Route", fmt.Sprintf("%s-private-%d", name, i+1), pulumi.Map{
			"routeTableId": table.ID(), "destinationCidrBlock": pulumi.String("0.0.0.0/0"), "natGatewayId": nat.ID(),
		}, table); err != nil {
			return nil, err
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

func ceilLog2(n int) int {
	if n <= 1 {
		return 0
	}
	return bits.Len(uint(n - 1))
}

// subnetBlock is the index-th block of newBits more bits inside block.
func subnetBlock(block netip.Prefix, newBits, index int) (netip.Prefix, error) {
	size := block.Bits() + newBits
	if size > 28 {
		return netip.Prefix{}, fmt.Errorf("the VPC block %s is too small for its subnets", block)
	}
	addr := block.Masked().Addr()
	// Step over index blocks of the subnet size, address by address through the block size.
	step := netip.PrefixFrom(addr, size)
	for range index {
		last := step.Addr()
		for range 1 << (32 - size) {
			last = last.Next()
		}
		step = netip.PrefixFrom(last, size)
	}
	return step, nil
}
