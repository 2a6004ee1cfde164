package infra

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/rabbitmq-esm/rabbitmq-esm/infra/reach"
)

// EndpointServices are the AWS services the ESM calls from its network interfaces, in the
// order of its poll loop: assume the listener's role, read the broker credentials, invoke.
var EndpointServices = []string{"sts", "secretsmanager", "lambda"}

// Facts are what the program learns from the account before it registers any resource, so
// that a problem with the account (no default VPC, too few zones) stops the run with a clear
// message while nothing has been created yet.
type Facts struct {
	Region string
	// Zones are the availability zones a new VPC spans: those its subnets are in already, in
	// their places, then the first others that offer every service the option needs.
	Zones []string
	// Layout is a new VPC's subnet blocks, per tier and zone (layOutSubnets).
	Layout SubnetLayout
	// Network is the stack's new VPC as an earlier up left it; nil before the first up.
	Network *FoundNetwork
	// Broker is the broker of the configured name as Amazon MQ reports it; nil before the
	// first up (or under a new brokerName).
	Broker *DeployedBroker
	// DefaultVPC is set for the defaultvpc option only.
	DefaultVPC *DefaultVPC
	// ExistingVPC is set for the existingvpc option only.
	ExistingVPC *ExistingVPC

	// refused are the checks of the account that failed and guard a deploy only (refusals).
	refused refusals
}

// DefaultVPC is the account's default VPC as the defaultvpc option uses it: looked up, never
// assumed to be as AWS created it (accounts remediated for CIS AWS Foundations 5.4 have an empty
// default group; a VPC may have DNS hostnames off).
type DefaultVPC struct {
	ID string
	// SubnetIDs are the default subnets (one per zone) in zones where the endpoint services
	// are offered; the interface endpoints go there.
	SubnetIDs []string
	// Subnets are those subnets' zones and blocks, by id.
	Subnets map[string]ExistingSubnet
	// BrokerSubnetID is the one of them the program gives the broker (and so the mapping's
	// interfaces), rather than letting Amazon MQ pick a default subnet in a zone it may not
	// have checked: the deployed broker's, else the first zone's.
	BrokerSubnetID string
	// CIDRs are the VPC's IPv4 blocks.
	CIDRs []string
	// DNSSupport and DNSHostnames are the VPC's attributes, which private DNS needs, both.
	DNSSupport, DNSHostnames bool
	// SecurityGroupID is the VPC's default security group, which the program gives the broker
	// (and the ESM its interfaces), and Group its rules as looked up.
	SecurityGroupID string
	Group           reach.Group
	// ExistingEndpoints maps each endpoint service to the id of the endpoint the VPC already
	// has (defaultVpcEndpoints = existing).
	ExistingEndpoints map[string]string
}

func lookupFacts(ctx *pulumi.Context, cfg Config) (Facts, error) {
	opt := cfg.Option()
	region, err := aws.GetRegion(ctx, &aws.GetRegionArgs{})
	if err != nil {
		return Facts{}, fmt.Errorf("looking up the AWS region (set aws:region in the stack file): %w", err)
	}
	facts := Facts{Region: region.Name}
	if facts.Broker, err = lookupDeployedBroker(ctx, cfg.BrokerName); err != nil {
		return Facts{}, err
	}
	facts.refused.add(brokerChangeProblem(facts.Broker, cfg.EngineVersion, cfg.InstanceType, cfg.DeploymentMode, opt.PublicBroker))
	facts.refused.add(newBrokerVirtualHostProblem(facts.Broker, cfg.VirtualHost, cfg.DeploymentMode, opt.PublicBroker))
	if opt.VPC == VPCNone {
		return facts, nil
	}

	// One rule for every option with a VPC, whatever carries the ESM's calls: its subnets go
	// only in zones that offer every service it calls. A zone without them may also lack
	// Lambda's VPC networking, and with NAT it would hold an interface endpoint nobody can add
	// later.
	serviceZones, err := endpointServiceZones(ctx, region.Name)
	if err != nil {
		return Facts{}, err
	}

	switch opt.VPC {
	case VPCNew:
		if facts.Network, err = lookupStackNetwork(ctx, cfg); err != nil {
			return Facts{}, err
		}
		if facts.Zones, err = chooseZones(ctx, cfg, serviceZones, facts.Network, &facts.refused); err != nil {
			return Facts{}, err
		}
		facts.Layout, err = layOutSubnets(cfg.VPCCidr, opt.SubnetTiers, facts.Zones, facts.Network)
		if err != nil {
			facts.refused.add(err)
			// Tearing down, any valid layout serves: the engine creates nothing.
			facts.Layout, err = layOutSubnets(cfg.VPCCidr, opt.SubnetTiers, facts.Zones, nil)
		}
	case VPCDefault:
		facts.DefaultVPC, err = lookupDefaultVPC(ctx, cfg, region.Name, serviceZones, facts.Broker, &facts.refused)
	case VPCExisting:
		facts.ExistingVPC, err = lookupExistingVPC(ctx, cfg, region.Name, serviceZones, &facts.refused)
	}
	return facts, err
}

// endpointServiceZones returns the zones in which every endpoint service is offered. Not every
// zone offers every service (us-east-1 has zones that lack some), and an endpoint subnet in
// such a zone fails the deployment.
func endpointServiceZones(ctx *pulumi.Context, region string) ([]string, error) {
	var common []string
	for i, svc := range EndpointServices {
		res, err := ec2.LookupVpcEndpointService(ctx, &ec2.LookupVpcEndpointServiceArgs{
			ServiceName: pulumi.StringRef(endpointServiceName(region, svc)),
			ServiceType: pulumi.StringRef("Interface"),
		})
		if err != nil {
			return nil, fmt.Errorf("looking up the %s interface endpoint service in %s: %w", svc, region, err)
		}
		if i == 0 {
			common = slices.Clone(res.AvailabilityZones)
			continue
		}
		common = slices.DeleteFunc(common, func(z string) bool { return !slices.Contains(res.AvailabilityZones, z) })
	}
	return common, nil
}

// chooseZones keeps the zones the stack's subnets are in and adds, where more are asked for,
// the first available ones (no opt-in) that offer every endpoint service.
func chooseZones(ctx *pulumi.Context, cfg Config, serviceZones []string, found *FoundNetwork, refused *refusals) ([]string, error) {
	azs, err := aws.GetAvailabilityZones(ctx, &aws.GetAvailabilityZonesArgs{
		State: pulumi.StringRef("available"),
		Filters: []aws.GetAvailabilityZonesFilter{
			{Name: "opt-in-status", Values: []string{"opt-in-not-required"}},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("looking up availability zones: %w", err)
	}
	candidates := slices.DeleteFunc(slices.Clone(azs.Names), func(z string) bool { return !slices.Contains(serviceZones, z) })
	var pinned []string
	if found != nil {
		pinned = found.Zones()
	}
	zones, short := pinZones(pinned, cfg.AvailabilityZones, candidates)
	if short > 0 {
		refused.add(&ConfigError{Stack: cfg.Stack, Problems: []*SettingError{{
			Key: "availabilityZones", Value: fmt.Sprint(cfg.AvailabilityZones),
			Allowed: fmt.Sprintf("must be at most %d here: only %s offer what the %s option needs", len(zones),
				strings.Join(slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(zones), candidates...)))), ", "), cfg.NetworkMode),
		}}})
	}
	return zones, nil
}

// lookupStackNetwork finds the VPC an earlier up of this stack built, by the tags the program
// gives every resource, with every subnet it holds; nil when there is none.
func lookupStackNetwork(ctx *pulumi.Context, cfg Config) (*FoundNetwork, error) {
	own, err := ec2.GetSubnets(ctx, &ec2.GetSubnetsArgs{Filters: []ec2.GetSubnetsFilter{
		{Name: "tag:" + tagProject, Values: []string{ProjectName}},
		{Name: "tag:" + tagStack, Values: []string{ctx.Stack()}},
	}})
	if err != nil {
		return nil, fmt.Errorf("looking up the subnets of this stack's VPC: %w", err)
	}
	byVPC := map[string][]FoundSubnet{}
	for _, id := range own.Ids {
		s, err := ec2.LookupSubnet(ctx, &ec2.LookupSubnetArgs{Id: pulumi.StringRef(id)})
		if err != nil {
			return nil, fmt.Errorf("looking up the subnet %s of this stack's VPC: %w", id, err)
		}
		tier, index := awsxSubnetName(s.Tags["Name"])
		byVPC[s.VpcId] = append(byVPC[s.VpcId], FoundSubnet{ID: s.Id, Zone: s.AvailabilityZone, CIDR: s.CidrBlock, Tier: tier, Index: index})
	}
	if len(byVPC) == 0 {
		return nil, nil
	}
	var found *FoundNetwork
	for _, vpcID := range slices.Sorted(maps.Keys(byVPC)) {
		v, err := ec2.LookupVpc(ctx, &ec2.LookupVpcArgs{Id: pulumi.StringRef(vpcID)})
		if err != nil {
			return nil, fmt.Errorf("looking up this stack's VPC %s: %w", vpcID, err)
		}
		// Were a replacement of the VPC cut short, both would hold the stack's subnets: the one
		// with the configured block is the one to keep.
		if found == nil || v.CidrBlock == cfg.VPCCidr {
			found = &FoundNetwork{VpcID: v.Id, CIDR: v.CidrBlock}
		}
	}
	all, err := ec2.GetSubnets(ctx, &ec2.GetSubnetsArgs{Filters: []ec2.GetSubnetsFilter{{Name: "vpc-id", Values: []string{found.VpcID}}}})
	if err != nil {
		return nil, fmt.Errorf("looking up the subnets of %s: %w", found.VpcID, err)
	}
	for _, id := range all.Ids {
		if i := slices.IndexFunc(byVPC[found.VpcID], func(s FoundSubnet) bool { return s.ID == id }); i >= 0 {
			found.Subnets = append(found.Subnets, byVPC[found.VpcID][i])
			continue
		}
		s, err := ec2.LookupSubnet(ctx, &ec2.LookupSubnetArgs{Id: pulumi.StringRef(id)})
		if err != nil {
			return nil, fmt.Errorf("looking up the subnet %s of %s: %w", id, found.VpcID, err)
		}
		found.Subnets = append(found.Subnets, FoundSubnet{ID: s.Id, Zone: s.AvailabilityZone, CIDR: s.CidrBlock})
	}
	return found, nil
}

// awsxSubnetName reads the tier and the zone's place from the name awsx gives a subnet,
// <vpc>-<tier>-<n> (awsx/ec2/vpc.ts, v2.22.0); "" and 0 for another name.
func awsxSubnetName(name string) (SubnetTier, int) {
	rest, ok := strings.CutPrefix(name, networkName+"-")
	if !ok {
		return "", 0
	}
	tier, n, ok := strings.Cut(rest, "-")
	index, err := strconv.Atoi(n)
	if !ok || err != nil || index < 1 {
		return "", 0
	}
	for t := range tierSlot {
		if strings.EqualFold(string(t), tier) {
			return t, index
		}
	}
	return "", 0
}

func lookupDefaultVPC(ctx *pulumi.Context, cfg Config, region string, serviceZones []string, deployed *DeployedBroker,
	refused *refusals) (*DefaultVPC, error) {
	vpc, err := ec2.LookupVpc(ctx, &ec2.LookupVpcArgs{Default: pulumi.BoolRef(true)})
	if err != nil {
		return nil, fmt.Errorf("networkMode defaultvpc needs the account's default VPC, and none was found in %s (%v). "+
			"Create one with `aws ec2 create-default-vpc --region %s`, or use networkMode isolated, which builds its own VPC", region, err, region)
	}
	filters := []ec2.GetSubnetsFilter{
		{Name: "vpc-id", Values: []string{vpc.Id}},
		{Name: "default-for-az", Values: []string{"true"}},
		{Name: "availability-zone", Values: serviceZones},
	}
	subnets, err := ec2.GetSubnets(ctx, &ec2.GetSubnetsArgs{Filters: filters})
	if err != nil {
		return nil, fmt.Errorf("looking up the default subnets of %s: %w", vpc.Id, err)
	}
	if len(subnets.Ids) == 0 {
		return nil, fmt.Errorf("the default VPC %s in %s has no default subnet in a zone that offers %s endpoints; "+
			"recreate them with `aws ec2 create-default-subnet --availability-zone <zone>` or use networkMode isolated",
			vpc.Id, region, strings.Join(EndpointServices, ", "))
	}
	sg, err := ec2.LookupSecurityGroup(ctx, &ec2.LookupSecurityGroupArgs{
		VpcId: pulumi.StringRef(vpc.Id),
		Name:  pulumi.StringRef("default"),
	})
	if err != nil {
		return nil, fmt.Errorf("looking up the default security group of %s: %w", vpc.Id, err)
	}
	dv := &DefaultVPC{ID: vpc.Id, SubnetIDs: slices.Sorted(slices.Values(subnets.Ids)), SecurityGroupID: sg.Id, CIDRs: []string{vpc.CidrBlock},
		DNSSupport: vpc.EnableDnsSupport, DNSHostnames: vpc.EnableDnsHostnames, Subnets: map[string]ExistingSubnet{}}
	if dv.Group, err = lookupGroup(ctx, sg.Id); err != nil {
		return nil, err
	}
	for _, id := range dv.SubnetIDs {
		s, err := ec2.LookupSubnet(ctx, &ec2.LookupSubnetArgs{Id: pulumi.StringRef(id)})
		if err != nil {
			return nil, fmt.Errorf("looking up the default subnet %s: %w", id, err)
		}
		dv.Subnets[id] = ExistingSubnet{ID: id, Zone: s.AvailabilityZone, CIDR: s.CidrBlock, DefaultRoute: reach.RouteInternetGateway}
	}
	dv.BrokerSubnetID = slices.MinFunc(dv.SubnetIDs, func(a, b string) int { return strings.Compare(dv.Subnets[a].Zone, dv.Subnets[b].Zone) })
	if deployed != nil && len(deployed.SubnetIDs) > 0 && slices.Contains(dv.SubnetIDs, deployed.SubnetIDs[0]) {
		dv.BrokerSubnetID = deployed.SubnetIDs[0]
	}
	for _, a := range vpc.CidrBlockAssociations {
		if !slices.Contains(dv.CIDRs, a.CidrBlock) {
			dv.CIDRs = append(dv.CIDRs, a.CidrBlock)
		}
	}
	choice := endpointChoice{vpc: "the default VPC " + vpc.Id, key: "defaultVpcEndpoints", found: string(EndpointsExisting),
		create: string(EndpointsCreate), alternative: "use networkMode isolated"}
	if cfg.Option().EndpointsFound() {
		found, err := lookupExistingEndpoints(ctx, vpc.Id, region, stackTags(ctx, cfg), choice, refused)
		if err != nil {
			return nil, err
		}
		dv.ExistingEndpoints = map[string]string{}
		for svc, ep := range found {
			dv.ExistingEndpoints[svc] = ep.Id
		}
		return dv, nil
	}
	return dv, refuseConflictingDNS(ctx, vpc.Id, region, stackTags(ctx, cfg), choice, refused)
}

func hasTags(tags, want map[string]string) bool {
	for k, v := range want {
		if tags[k] != v {
			return false
		}
	}
	return true
}

// isNotFound tells a look-up that found nothing (the data sources fail with "no matching ...")
// from one that failed.
func isNotFound(err error) bool {
	return strings.Contains(err.Error(), "no matching")
}

func endpointServiceName(region, service string) string {
	return "com.amazonaws." + region + "." + service
}
