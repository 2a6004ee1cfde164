package infra

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/rabbitmq-esm/rabbitmq-esm/infra/reach"
)

// ExistingVPC is the user's VPC as the existingvpc option found it, before anything is
// created: what the verifier needs to decide whether the mapping's interfaces, in the given
// subnets, reach STS, Secrets Manager, Lambda and the broker.
type ExistingVPC struct {
	ID string
	// CIDRs are the VPC's IPv4 blocks: endpoints the program creates admit 443 from them.
	CIDRs []string
	// DNSSupport and DNSHostnames are the VPC's enableDnsSupport and enableDnsHostnames, which
	// the private DNS of interface endpoints needs, both.
	DNSSupport, DNSHostnames bool
	// Subnets are the given subnets, in the order given.
	Subnets []ExistingSubnet
	// EndpointSubnets are endpointSubnetIds' subnets, which hold only the interface endpoints
	// (one per zone the broker's subnets do not cover).
	EndpointSubnets []ExistingSubnet
	// Endpoints are the VPC's own interface endpoints with private DNS, by service: the ones
	// serviceRoute existing-endpoints uses, or (serviceRoute nat) the ones that answer for a
	// service anyway, since private DNS answers for the whole VPC.
	Endpoints map[string]FoundEndpoint
	// StatedEgress names the setting that states the subnets' default routes reach the
	// internet where the verifier cannot follow them ("serviceRoute custom-egress"); empty
	// otherwise.
	StatedEgress string
}

// ExistingSubnet is one given subnet with what decides its path out of the VPC.
type ExistingSubnet struct {
	ID, Zone, CIDR string
	// RouteTable is the table its traffic follows: its explicit association, else the VPC's
	// main table (MainTable).
	RouteTable string
	MainTable  bool
	// DefaultRoute is where its 0.0.0.0/0 route leads, and Target that route's target.
	DefaultRoute reach.Route
	Target       string
}

// FoundEndpoint is an interface endpoint of the user's VPC.
type FoundEndpoint struct {
	ID string
	// SecurityGroupIDs are the endpoint's groups, sorted; the broker's group gets egress to
	// each.
	SecurityGroupIDs []string
	// Ingress are those groups' rules that admit 443, as the verifier reads them.
	Ingress []reach.Rule
}

// SubnetIDs are the given subnets' ids.
func (ev *ExistingVPC) SubnetIDs() []string {
	ids := make([]string, len(ev.Subnets))
	for i, s := range ev.Subnets {
		ids[i] = s.ID
	}
	return ids
}

// EndpointSubnetIDs are the subnets of the endpoints the program creates: the broker's, then
// endpointSubnetIds'.
func (ev *ExistingVPC) EndpointSubnetIDs() []string {
	ids := ev.SubnetIDs()
	for _, s := range ev.EndpointSubnets {
		ids = append(ids, s.ID)
	}
	return ids
}

// EndpointGroups are the distinct security groups of the found endpoints, sorted.
func (ev *ExistingVPC) EndpointGroups() []string {
	var groups []string
	for _, ep := range ev.Endpoints {
		groups = append(groups, ep.SecurityGroupIDs...)
	}
	slices.Sort(groups)
	return slices.Compact(groups)
}

// lookupExistingVPC looks up what existingvpc's settings name, and refuses — naming the
// setting and the value — a VPC that does not exist or that another account shares with this
// one, a subnet (of subnetIds or endpointSubnetIds) that does not exist, lies in another VPC,
// shares a zone with another, or sits in a zone without the endpoint services. Whether
// the mapping's paths work is the verifier's to say (checkReachability), from what this
// returns: the subnets' route tables and default routes, the VPC's DNS attributes, and the
// endpoints with their security groups' rules.
func lookupExistingVPC(ctx *pulumi.Context, cfg Config, region string, serviceZones []string, refused *refusals) (*ExistingVPC, error) {
	refuse := func(problems ...*SettingError) error { return &ConfigError{Stack: cfg.Stack, Problems: problems} }
	v, err := ec2.LookupVpc(ctx, &ec2.LookupVpcArgs{Id: pulumi.StringRef(cfg.VPCID)})
	switch {
	case err != nil && isNotFound(err):
		return nil, refuse(&SettingError{Key: "vpcId", Value: cfg.VPCID, Allowed: fmt.Sprintf("names no VPC in %s that these credentials see (%v); "+
			"`aws ec2 describe-vpcs --region %s --query 'Vpcs[].[VpcId,CidrBlock]' --output table` lists them", region, err, region)})
	case err != nil:
		return nil, fmt.Errorf("looking up the VPC %s (vpcId): %w", cfg.VPCID, err)
	}
	ev := &ExistingVPC{ID: v.Id, CIDRs: []string{v.CidrBlock}, DNSSupport: v.EnableDnsSupport, DNSHostnames: v.EnableDnsHostnames}
	if err := refuseSharedVPC(ctx, cfg, v, refuse, refused); err != nil {
		return nil, err
	}
	for _, a := range v.CidrBlockAssociations {
		if !slices.Contains(ev.CIDRs, a.CidrBlock) {
			ev.CIDRs = append(ev.CIDRs, a.CidrBlock)
		}
	}

	zoneOf := map[string]string{}
	given, problems, err := lookupGivenSubnets(ctx, "subnetIds", cfg.SubnetIDs, region, ev.ID, serviceZones, zoneOf, subnetReasons{
		otherVPC:   "list subnets of " + ev.ID + " (the broker's endpoints and the mapping's interfaces go in one VPC)",
		noServices: "which does not offer the " + strings.Join(EndpointServices, ", ") + " interface endpoint services (nor, it may be, Lambda's VPC networking)",
		sameZone:   "Amazon MQ takes one subnet per zone (and an interface endpoint one per zone); list one subnet per zone",
	})
	if err != nil {
		return nil, err
	}
	ev.Subnets = given
	given, more, err := lookupGivenSubnets(ctx, "endpointSubnetIds", cfg.EndpointSubnetIDs, region, ev.ID, serviceZones, zoneOf, subnetReasons{
		otherVPC:   "an interface endpoint lives in one VPC",
		noServices: "which does not offer the " + strings.Join(EndpointServices, ", ") + " interface endpoint services",
		sameZone: "an interface endpoint takes one subnet per zone, and subnetIds' subnets hold the endpoints in their zones already; " +
			"list one subnet per other zone",
	})
	if err != nil {
		return nil, err
	}
	ev.EndpointSubnets, problems = given, append(problems, more...)
	if len(problems) > 0 {
		refused.add(refuse(problems...))
	}
	if cfg.ServiceRoute == RouteEndpoints && cfg.DeploymentMode == SingleInstance && len(cfg.EndpointSubnetIDs) == 0 && len(ev.Subnets) == 1 {
		// Private DNS makes the endpoints answer for every workload of the VPC, not only the
		// mapping: in one zone they become a single-zone dependency of all of them.
		s := ev.Subnets[0]
		refused.warn(fmt.Sprintf("serviceRoute endpoints with deploymentMode SINGLE_INSTANCE puts the sts, secretsmanager and lambda "+
			"endpoints in one zone, %s (subnet %s), and through private DNS they answer for every workload of %s: workloads in other zones "+
			"then reach STS, Secrets Manager and Lambda across zones, and lose them while %s is down. Give the endpoints a subnet in each "+
			"other zone the VPC uses with %s:endpointSubnetIds, e.g. `pulumi config set --path 'endpointSubnetIds[0]' <subnet-id>`",
			s.Zone, s.ID, ev.ID, s.Zone, ProjectName))
	}
	for i := range ev.Subnets {
		if err := lookupDefaultRoute(ctx, &ev.Subnets[i], v.MainRouteTableId); err != nil {
			return nil, err
		}
	}
	if cfg.ServiceRoute == RouteCustomEgress {
		// The verifier checks that each subnet has a default route and that it is no internet
		// gateway; beyond a transit gateway, a firewall or an instance it cannot see.
		ev.StatedEgress = "serviceRoute " + string(RouteCustomEgress)
		for _, s := range ev.Subnets {
			if s.DefaultRoute == reach.RouteOther {
				refused.warn(fmt.Sprintf("not checked: serviceRoute custom-egress states that subnet %s's 0.0.0.0/0 route to %s (route table %s) "+
					"reaches the internet; the program does not follow it (the provisioner's diagnosis tries STS, Secrets Manager and Lambda "+
					"from there at deployment)", s.ID, s.Target, s.RouteTable))
			}
		}
	}

	own := stackTags(ctx, cfg)
	choice := endpointChoice{vpc: ev.ID, key: "serviceRoute", found: string(RouteExistingEndpoints), create: string(RouteEndpoints),
		alternative: "set it to nat if the subnets route 0.0.0.0/0 to a NAT gateway"}
	switch cfg.ServiceRoute {
	case RouteEndpoints:
		return ev, refuseConflictingDNS(ctx, ev.ID, region, own, choice, refused)
	case RouteExistingEndpoints:
		found, err := lookupExistingEndpoints(ctx, ev.ID, region, own, choice, refused)
		if err != nil {
			return nil, err
		}
		ev.Endpoints, err = withIngress(ctx, found)
		return ev, err
	}
	// serviceRoute nat or custom-egress: an endpoint with private DNS answers for its service in
	// the whole VPC, whatever the route, so the mapping's calls to that service go to it; the
	// verifier must see it and its group.
	all, err := listEndpoints(ctx, ev.ID, region)
	if err != nil {
		return nil, err
	}
	found := map[string]*ec2.LookupVpcEndpointResult{}
	for svc, eps := range all {
		if ep := answering(eps); ep != nil {
			found[svc] = ep
		}
	}
	ev.Endpoints, err = withIngress(ctx, found)
	return ev, err
}

// refuseSharedVPC refuses a VPC another account owns and shares with this one through AWS
// RAM: Amazon MQ creates a RabbitMQ broker's endpoints only in subnets of a VPC its own
// account owns (CreateBroker, subnetIds: "If you specify subnets in a shared VPC for a
// RabbitMQ broker, the associated VPC to which the specified subnets belong must be owned by
// your AWS account"), and would refuse the broker with the stack half built.
func refuseSharedVPC(ctx *pulumi.Context, cfg Config, v *ec2.LookupVpcResult, refuse func(...*SettingError) error, refused *refusals) error {
	caller, err := aws.GetCallerIdentity(ctx, &aws.GetCallerIdentityArgs{})
	if err != nil {
		return fmt.Errorf("looking up the deploying account (to compare with the owner of vpcId %s): %w", cfg.VPCID, err)
	}
	if v.OwnerId == "" || v.OwnerId == caller.AccountId {
		return nil
	}
	refused.add(refuse(&SettingError{Key: "vpcId", Value: cfg.VPCID, Allowed: fmt.Sprintf("is owned by account %s and shared with this account, %s "+
		"(AWS RAM); Amazon MQ places a RabbitMQ broker only in a VPC its own account owns, and would refuse these subnets: deploy the stack "+
		"with credentials of account %s, or use a VPC account %s owns", v.OwnerId, caller.AccountId, v.OwnerId, caller.AccountId)}))
	return nil
}

// subnetReasons are what a setting's refusals of a subnet say after the facts: of another VPC,
// in a zone without the endpoint services, in a zone taken already.
type subnetReasons struct{ otherVPC, noServices, sameZone string }

// lookupGivenSubnets looks up the subnets a setting (key) names, in order, and refuses — naming
// the setting and the subnet — one that does not exist, lies in another VPC than vpcID, sits in a
// zone without the endpoint services, or in a zone zoneOf holds already (which it then records).
func lookupGivenSubnets(ctx *pulumi.Context, key string, ids []string, region, vpcID string, serviceZones []string, zoneOf map[string]string,
	why subnetReasons) ([]ExistingSubnet, []*SettingError, error) {
	var subnets []ExistingSubnet
	var problems []*SettingError
	for _, id := range ids {
		s, err := ec2.LookupSubnet(ctx, &ec2.LookupSubnetArgs{Id: pulumi.StringRef(id)})
		switch {
		case err != nil && isNotFound(err):
			problems = append(problems, &SettingError{Key: key, Value: id, Allowed: fmt.Sprintf("names no subnet in %s (%v)", region, err)})
			continue
		case err != nil:
			return nil, nil, fmt.Errorf("looking up the subnet %s (%s): %w", id, key, err)
		}
		switch {
		case s.VpcId != vpcID:
			problems = append(problems, &SettingError{Key: key, Value: id, Allowed: fmt.Sprintf("is a subnet of %s, not of vpcId %s: %s", s.VpcId, vpcID, why.otherVPC)})
		case !slices.Contains(serviceZones, s.AvailabilityZone):
			problems = append(problems, &SettingError{Key: key, Value: id, Allowed: fmt.Sprintf("is in %s, %s; use a subnet in one of %s",
				s.AvailabilityZone, why.noServices, strings.Join(serviceZones, ", "))})
		case zoneOf[s.AvailabilityZone] != "":
			problems = append(problems, &SettingError{Key: key, Value: id, Allowed: fmt.Sprintf("is in %s, like %s: %s",
				s.AvailabilityZone, zoneOf[s.AvailabilityZone], why.sameZone)})
		}
		zoneOf[s.AvailabilityZone] = cmp.Or(zoneOf[s.AvailabilityZone], id)
		subnets = append(subnets, ExistingSubnet{ID: id, Zone: s.AvailabilityZone, CIDR: s.CidrBlock})
	}
	return subnets, problems, nil
}

// lookupDefaultRoute finds the subnet's route table — its explicit association, else the VPC's
// main table — and where that table sends 0.0.0.0/0.
func lookupDefaultRoute(ctx *pulumi.Context, s *ExistingSubnet, mainTable string) error {
	tables, err := ec2.GetRouteTables(ctx, &ec2.GetRouteTablesArgs{
		Filters: []ec2.GetRouteTablesFilter{{Name: "association.subnet-id", Values: []string{s.ID}}},
	})
	if err != nil {
		return fmt.Errorf("looking up the route table of subnet %s: %w", s.ID, err)
	}
	s.RouteTable, s.MainTable = mainTable, true
	if len(tables.Ids) > 0 {
		s.RouteTable, s.MainTable = tables.Ids[0], false
	}
	table, err := ec2.LookupRouteTable(ctx, &ec2.LookupRouteTableArgs{RouteTableId: pulumi.StringRef(s.RouteTable)})
	if err != nil {
		return fmt.Errorf("looking up the route table %s of subnet %s: %w", s.RouteTable, s.ID, err)
	}
	s.DefaultRoute = reach.RouteNone
	for _, r := range table.Routes {
		if r.CidrBlock != "0.0.0.0/0" {
			continue
		}
		switch {
		case r.NatGatewayId != "":
			s.DefaultRoute, s.Target = reach.RouteNATGateway, r.NatGatewayId
		case strings.HasPrefix(r.GatewayId, "igw-"):
			s.DefaultRoute, s.Target = reach.RouteInternetGateway, r.GatewayId
		default:
			s.DefaultRoute, s.Target = reach.RouteOther, cmp.Or(r.TransitGatewayId, r.VpcEndpointId, r.NetworkInterfaceId, r.VpcPeeringConnectionId,
				r.InstanceId, r.GatewayId, r.LocalGatewayId, r.CarrierGatewayId, r.CoreNetworkArn, "an unknown target")
		}
	}
	return nil
}

// withIngress adds to each found endpoint its security groups' rules that admit 443.
func withIngress(ctx *pulumi.Context, found map[string]*ec2.LookupVpcEndpointResult) (map[string]FoundEndpoint, error) {
	out := map[string]FoundEndpoint{}
	rulesOf := map[string][]reach.Rule{}
	for _, svc := range EndpointServices {
		ep, ok := found[svc]
		if !ok {
			continue
		}
		f := FoundEndpoint{ID: ep.Id, SecurityGroupIDs: slices.Sorted(slices.Values(ep.SecurityGroupIds))}
		for _, g := range f.SecurityGroupIDs {
			if _, seen := rulesOf[g]; !seen {
				rules, err := httpsIngress(ctx, g)
				if err != nil {
					return nil, err
				}
				rulesOf[g] = rules
			}
			f.Ingress = append(f.Ingress, rulesOf[g]...)
		}
		out[svc] = f
	}
	return out, nil
}

// httpsIngress returns the group's ingress rules that admit HTTPS, as the verifier reads them
// (lookupGroup).
func httpsIngress(ctx *pulumi.Context, group string) ([]reach.Rule, error) {
	g, err := lookupGroup(ctx, group)
	return slices.DeleteFunc(g.Ingress, func(r reach.Rule) bool { return r.Port != HTTPSPort && r.Port != reach.AllPorts }), err
}

// Model is the user's VPC as the verifier sees it around the given subnets (the broker's):
// their looked-up routes and blocks, the VPC's DNS attributes and its found endpoints. The
// broker's group, the program's own, is the caller's to add.
func (ev *ExistingVPC) Model(subnetIDs []string) reach.Model {
	m := reach.Model{VPCID: ev.ID, VPCDNS: ev.DNSSupport && ev.DNSHostnames, VPCDNSOff: dnsOff(ev.DNSSupport, ev.DNSHostnames),
		Endpoints: map[string]reach.Endpoint{}, StatedEgress: ev.StatedEgress}
	for _, id := range subnetIDs {
		i := slices.IndexFunc(ev.Subnets, func(s ExistingSubnet) bool { return s.ID == id })
		if i < 0 {
			m.Subnets = append(m.Subnets, reach.Subnet{ID: id, Route: reach.RouteNone})
			continue
		}
		s := ev.Subnets[i]
		table := "route table " + s.RouteTable
		if s.MainTable {
			table = "the VPC's main route table " + s.RouteTable
		}
		m.Subnets = append(m.Subnets, reach.Subnet{ID: s.ID, Zone: s.Zone, Route: s.DefaultRoute, CIDR: s.CIDR, RouteTable: table, Target: s.Target})
	}
	// A found endpoint: private DNS on (the look-up kept only those), its groups' 443 rules as
	// one group's (rules of several groups add up), named after the first — to which, like to
	// every other, the broker's group has egress.
	for svc, ep := range ev.Endpoints {
		group := reach.Group{ID: "none", Ingress: ep.Ingress}
		if len(ep.SecurityGroupIDs) > 0 {
			group.ID = ep.SecurityGroupIDs[0]
		}
		m.Endpoints[svc] = reach.Endpoint{Service: svc, ID: ep.ID, PrivateDNS: true, Group: group}
	}
	return m
}

// dnsOff names the VPC attributes private DNS needs that are off.
func dnsOff(support, hostnames bool) []string {
	var off []string
	if !support {
		off = append(off, "enableDnsSupport")
	}
	if !hostnames {
		off = append(off, "enableDnsHostnames")
	}
	return off
}

// placement names, for messages, the settings that place the network where the user chose
// it (existingvpc): empty where the option decides.
func (c Config) placement() string {
	if c.Option().VPC != VPCExisting {
		return ""
	}
	return fmt.Sprintf(" (vpcId %s, subnetIds [%s], serviceRoute %s)", c.VPCID, strings.Join(c.SubnetIDs, ", "), c.ServiceRoute)
}
