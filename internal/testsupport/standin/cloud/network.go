package cloud

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/simaccount"
)

// Check is what the stand-in Lambda service reports for one dependency of a function placed
// where the mapping's interfaces are: the fields of the provisioner's diagnosis.
type Check struct {
	Name    string
	OK      bool
	Address string
	Private bool
	Detail  string
}

// publicServiceAddress stands for the public addresses of STS, Secrets Manager and Lambda.
const publicServiceAddress = "52.94.0.10"

// Reach works out, from the account's routes, endpoints and security group rules, whether a
// function with this VPC configuration (nil: none) reaches each service over HTTPS and the
// broker over AMQPS. It models what decides it in AWS: an interface endpoint with private DNS
// in the VPC answers for the service, else the subnet's default route must lead to a NAT
// gateway (an internet gateway gives an interface without a public address nothing), and
// both ends' security groups must admit the traffic.
func (st *State) Reach(subnetIDs, groups []string, broker *Resource, services []string) []Check {
	var checks []Check
	for _, svc := range services {
		checks = append(checks, st.reachService(subnetIDs, groups, svc))
	}
	return append(checks, st.reachBroker(subnetIDs, groups, broker))
}

func (st *State) reachService(subnetIDs, groups []string, svc string) Check {
	c := Check{Name: svc}
	if len(subnetIDs) == 0 {
		c.OK, c.Address, c.Detail = true, publicServiceAddress+":443", "outside any VPC: public endpoint"
		return c
	}
	for _, subnetID := range subnetIDs {
		subnet := st.Get(subnetID)
		if subnet == nil {
			c.Detail = "subnet " + subnetID + " does not exist"
			return c
		}
		vpc := subnet.Str("vpcId")
		serviceName := simaccount.ServiceName(svc)
		if ep := st.FindOne(TypeVPCEndpoint, func(r *Resource) bool {
			return r.Str("vpcId") == vpc && r.Str("serviceName") == serviceName && r.Bool("privateDnsEnabled")
		}); ep != nil {
			epSubnets := ep.Strs("subnetIds")
			if len(epSubnets) == 0 {
				c.Detail = "endpoint " + ep.ID + " has no subnet"
				return c
			}
			addr := st.addressIn(epSubnets[0], 10)
			if !st.admits(groups, ep.Strs("securityGroupIds"), st.addressIn(subnetID, 20), addr, 443) {
				c.Detail = fmt.Sprintf("the security groups of subnet %s's interfaces and of endpoint %s do not admit HTTPS between them", subnetID, ep.ID)
				return c
			}
			c.Address, c.Private = addr.String()+":443", true
			continue
		}
		target, kind := st.defaultRoute(subnetID)
		switch kind {
		case "nat", "tgw":
			if !st.allowsTo(groups, "egress", 443, nil, netip.MustParseAddr(publicServiceAddress)) {
				c.Detail = "no egress rule lets HTTPS out to the " + map[string]string{"nat": "NAT gateway ", "tgw": "transit gateway "}[kind] + target
				return c
			}
			c.Address = publicServiceAddress + ":443"
		case "igw":
			c.Detail = fmt.Sprintf("subnet %s routes to the internet gateway %s, which gives an interface without a public address nothing, and the VPC has no %s endpoint", subnetID, target, svc)
			return c
		default:
			c.Detail = fmt.Sprintf("subnet %s has no route out of the VPC and the VPC has no %s endpoint with private DNS", subnetID, svc)
			return c
		}
	}
	c.OK, c.Detail = true, "reached"
	return c
}

func (st *State) reachBroker(subnetIDs, groups []string, broker *Resource) Check {
	c := Check{Name: "broker"}
	if broker == nil {
		c.Detail = "the broker does not exist"
		return c
	}
	if broker.Bool("publiclyAccessible") {
		c.OK, c.Address, c.Detail = true, publicServiceAddress+":5671", "public broker"
		return c
	}
	brokerSubnets := broker.Strs("subnetIds")
	if len(subnetIDs) == 0 || len(brokerSubnets) == 0 {
		c.Detail = "a private broker is reachable only from inside its VPC"
		return c
	}
	addr := st.addressIn(brokerSubnets[0], 30)
	for _, subnetID := range subnetIDs {
		if st.vpcOf(subnetID) != st.vpcOf(brokerSubnets[0]) {
			c.Detail = "subnet " + subnetID + " is not in the broker's VPC"
			return c
		}
		if !st.admits(groups, broker.Strs("securityGroups"), st.addressIn(subnetID, 20), addr, 5671) {
			c.Detail = "the security groups do not admit AMQPS (5671) from subnet " + subnetID + "'s interfaces to the broker"
			return c
		}
	}
	c.OK, c.Address, c.Private, c.Detail = true, addr.String()+":5671", true, "reached"
	return c
}

// admits says whether traffic on port from an interface with groups `from` at fromAddr to one
// with groups `to` at toAddr passes both: egress of the first, ingress of the second.
func (st *State) admits(from, to []string, fromAddr, toAddr netip.Addr, port int) bool {
	return st.allowsTo(from, "egress", port, to, toAddr) && st.allowsTo(to, "ingress", port, from, fromAddr)
}

// allowsTo says whether a rule of direction on one of groups admits port to or from a peer
// carrying peerGroups at peerAddr.
func (st *State) allowsTo(groups []string, direction string, port int, peerGroups []string, peerAddr netip.Addr) bool {
	typ := TypeEgressRule
	if direction == "ingress" {
		typ = TypeIngressRule
	}
	return len(st.Find(typ, func(r *Resource) bool {
		if !slices.Contains(groups, r.Str("securityGroupId")) || !portMatches(r, port) {
			return false
		}
		if ref := r.Str("referencedSecurityGroupId"); ref != "" {
			return slices.Contains(peerGroups, ref)
		}
		prefix, err := netip.ParsePrefix(r.Str("cidrIpv4"))
		return err == nil && prefix.Contains(peerAddr)
	})) > 0
}

func portMatches(rule *Resource, port int) bool {
	switch rule.Str("ipProtocol") {
	case "-1", "all":
		return true
	case "tcp", "6":
		from, _ := rule.Props["fromPort"].(float64)
		to, _ := rule.Props["toPort"].(float64)
		return int(from) <= port && port <= int(to)
	}
	return false
}

// defaultRoute finds the 0.0.0.0/0 route of the subnet's route table (its association's, else
// the VPC's main one; source: Amazon VPC User Guide, "Subnet route tables": a subnet not
// explicitly associated is implicitly associated with the main route table): the target's id
// and "nat", "igw", "tgw" or "" for none. A transit
// gateway stands for the centralised egress AWS describes (AMS Advanced user guide, "Egress
// VPC": internet-bound traffic of every network enters the egress VPC through the transit
// gateway and is routed to a NAT gateway there); the account does not model the egress VPC,
// and takes the route as reaching the internet.
func (st *State) defaultRoute(subnetID string) (string, string) {
	table := ""
	if a := st.FindOne(TypeRouteTableAssociation, func(r *Resource) bool { return r.Str("subnetId") == subnetID }); a != nil {
		table = a.Str("routeTableId")
	} else if main := st.FindOne(TypeRouteTable, func(r *Resource) bool {
		return r.Bool("main") && r.Str("vpcId") == st.vpcOf(subnetID)
	}); main != nil {
		table = main.ID
	}
	route := st.FindOne(TypeRoute, func(r *Resource) bool {
		return r.Str("routeTableId") == table && r.Str("destinationCidrBlock") == "0.0.0.0/0"
	})
	switch {
	case route == nil:
		return "", ""
	case route.Str("natGatewayId") != "":
		return route.Str("natGatewayId"), "nat"
	case strings.HasPrefix(route.Str("gatewayId"), "igw-"):
		return route.Str("gatewayId"), "igw"
	case route.Str("transitGatewayId") != "":
		return route.Str("transitGatewayId"), "tgw"
	}
	return "", ""
}

func (st *State) vpcOf(subnetID string) string {
	if s := st.Get(subnetID); s != nil {
		return s.Str("vpcId")
	}
	return ""
}

// addressIn is the nth address of a subnet, standing for an interface placed there.
func (st *State) addressIn(subnetID string, n int) netip.Addr {
	s := st.Get(subnetID)
	if s == nil {
		return netip.Addr{}
	}
	prefix, err := netip.ParsePrefix(s.Str("cidrBlock"))
	if err != nil {
		return netip.Addr{}
	}
	addr := prefix.Addr()
	for range n {
		addr = addr.Next()
	}
	return addr
}
