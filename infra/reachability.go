package infra

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rabbitmq-esm/rabbitmq-esm/infra/reach"
)

// Names the planned model gives the groups the program creates; the ids are known only after
// creation, and the verifier compares ids only with each other.
const (
	plannedBrokerGroup   = "broker-security-group"
	plannedEndpointGroup = "endpoint-security-group"
)

// PlannedNetwork is the network the program will build for cfg, as the verifier sees it:
// derived from the option table, the configuration and the account's facts, before anything
// is registered. A test holds it equal to the model of what the program actually registers.
func PlannedNetwork(cfg Config, facts Facts) reach.Model {
	opt := cfg.Option()
	if opt.PublicBroker {
		return reach.Model{PublicBroker: true}
	}
	m := reach.Model{VPCDNS: true, Endpoints: map[string]reach.Endpoint{}}
	switch opt.VPC {
	case VPCDefault:
		// The default group and the VPC's DNS as they are now, not as AWS creates them.
		dv := facts.DefaultVPC
		m.Group, m.VPCID = dv.Group, dv.ID
		m.VPCDNS, m.VPCDNSOff = dv.DNSSupport && dv.DNSHostnames, dnsOff(dv.DNSSupport, dv.DNSHostnames)
		s := dv.Subnets[dv.BrokerSubnetID]
		m.Subnets = []reach.Subnet{{ID: s.ID, Zone: s.Zone, Route: s.DefaultRoute, CIDR: s.CIDR}}
	case VPCNew, VPCExisting:
		m.Group = reach.Group{ID: plannedBrokerGroup,
			Ingress: []reach.Rule{{Port: AMQPSPort, Peer: plannedBrokerGroup}},
			Egress:  []reach.Rule{{Port: AMQPSPort, Peer: plannedBrokerGroup}}}
		if opt.ServiceRoute.ToPublicEndpoints() {
			m.Group.Egress = append(m.Group.Egress, reach.Rule{Port: HTTPSPort, Peer: "0.0.0.0/0"})
		}
		if ev := facts.ExistingVPC; ev != nil {
			group := m.Group
			m = ev.Model(ev.SubnetIDs())
			m.Group = group
			break
		}
		for _, zone := range facts.Zones {
			m.Subnets = append(m.Subnets, reach.Subnet{ID: string(opt.BrokerTier) + "-" + zone, Zone: zone, Route: tierRoute(opt.BrokerTier)})
		}
	}
	switch {
	case opt.CreatesEndpoints():
		for _, svc := range EndpointServices {
			m.Endpoints[svc] = plannedEndpoint(cfg, facts, svc, m.Group.ID)
		}
		if opt.OwnBrokerGroup() {
			m.Group.Egress = append(m.Group.Egress, reach.Rule{Port: HTTPSPort, Peer: plannedEndpointGroup})
		}
	case opt.NeedsInterfaceEndpoints() && facts.DefaultVPC != nil:
		for _, svc := range EndpointServices {
			m.Endpoints[svc] = plannedEndpoint(cfg, facts, svc, m.Group.ID)
		}
	case opt.NeedsInterfaceEndpoints() && opt.OwnBrokerGroup():
		// The VPC's own endpoints (ExistingVPC.Model put them in): the program lets its group out
		// to each of their groups.
		for _, g := range facts.ExistingVPC.EndpointGroups() {
			m.Group.Egress = append(m.Group.Egress, reach.Rule{Port: HTTPSPort, Peer: g})
		}
	}
	return m
}

func plannedEndpoint(cfg Config, facts Facts, service, clientGroup string) reach.Endpoint {
	if dv := facts.DefaultVPC; dv != nil && cfg.Option().EndpointsFound() {
		// The look-up proved it is available with private DNS; its group is the account's
		// own, and the default group (which the ESM's interfaces carry) lets everything out.
		return reach.Endpoint{Service: service, ID: dv.ExistingEndpoints[service], PrivateDNS: true,
			Group: reach.Group{ID: "existing-" + service, Ingress: []reach.Rule{{Port: HTTPSPort, Peer: clientGroup}}}}
	}
	ep := reach.Endpoint{Service: service, ID: "(to be created)", PrivateDNS: true,
		Group: reach.Group{ID: plannedEndpointGroup, Ingress: []reach.Rule{{Port: HTTPSPort, Peer: clientGroup}}}}
	if dv := facts.DefaultVPC; dv != nil {
		for _, id := range dv.SubnetIDs {
			ep.SubnetCIDRs = append(ep.SubnetCIDRs, dv.Subnets[id].CIDR)
		}
	}
	return ep
}

// tierRoute is where a subnet tier's default route goes (awsx's tiers).
func tierRoute(t SubnetTier) reach.Route {
	switch t {
	case TierPublic:
		return reach.RouteInternetGateway
	case TierPrivate:
		return reach.RouteNATGateway
	default:
		return reach.RouteNone
	}
}

// checkReachability runs the verifier over the planned network and refuses, before anything is
// registered, a network in which the ESM could not reach one of its dependencies.
func checkReachability(cfg Config, facts Facts) error {
	bad := reach.Unreachable(reach.Verify(PlannedNetwork(cfg, facts)))
	if len(bad) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "networkMode %s%s as configured would leave the event source mapping unable to reach:", cfg.NetworkMode, cfg.placement())
	for _, v := range bad {
		fmt.Fprintf(&b, "\n  - %s: missing %s (%s)", v.Dependency, strings.Join(v.Missing, "; "), v.Reason)
	}
	if dv := facts.DefaultVPC; dv != nil && slices.ContainsFunc(bad, func(v reach.Verdict) bool {
		return slices.ContainsFunc(v.Missing, func(p string) bool {
			return p == reach.PieceSelfIngress || p == reach.PieceAMQPSEgress || p == reach.PieceHTTPSEgress
		})
	}) {
		fmt.Fprintf(&b, "\nThe mapping's interfaces carry the default security group %[1]s of %[2]s, which no longer lets them do this "+
			"(accounts remediated for CIS AWS Foundations 5.4 / Security Hub EC2.2 empty it). Either give it what the mapping needs "+
			"(EC2.2 will flag the group again):\n"+
			"  aws ec2 authorize-security-group-ingress --group-id %[1]s --ip-permissions 'IpProtocol=tcp,FromPort=5671,ToPort=5671,UserIdGroupPairs=[{GroupId=%[1]s}]'\n"+
			"  aws ec2 authorize-security-group-egress --group-id %[1]s --ip-permissions 'IpProtocol=tcp,FromPort=5671,ToPort=5671,UserIdGroupPairs=[{GroupId=%[1]s}]' "+
			"'IpProtocol=tcp,FromPort=443,ToPort=443,IpRanges=[{CidrIp=%[3]s}]'\n"+
			"or use networkMode isolated or existingvpc, where the broker has a security group of its own.", dv.SecurityGroupID, dv.ID, dv.CIDRs[0])
	}
	if ev := facts.ExistingVPC; ev != nil && cfg.ServiceRoute == RouteNAT &&
		slices.ContainsFunc(ev.Subnets, func(s ExistingSubnet) bool { return s.DefaultRoute == reach.RouteOther }) {
		b.WriteString("\nIf that route reaches the internet (a transit gateway to an egress VPC, a firewall, a NAT instance), set " +
			ProjectName + ":serviceRoute to " + string(RouteCustomEgress) + ": the program then takes it on your word.")
	}
	b.WriteString("\nNothing was created. See `make plan STACK=" + cfg.Stack + "` for the whole picture.")
	return fmt.Errorf("%s", b.String())
}
