package offline

import (
	"fmt"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/simaccount"
)

// UserVPC is a VPC of the user's as its look-ups answer for it.
type UserVPC struct {
	ID, CIDR                 string
	DNSSupport, DNSHostnames bool
	MainRouteTable           string
	Subnets                  map[string]UserSubnet
	// DefaultRoutes maps a route table to the target of its 0.0.0.0/0 route ("" for none).
	DefaultRoutes map[string]string
	// Associations maps a subnet to its explicitly associated route table.
	Associations map[string]string
	// Endpoints are the VPC's interface endpoints, by service, and More are further ones
	// (a second endpoint of a service, a deleted one), each naming its Service.
	Endpoints map[string]UserEndpoint
	More      []UserEndpoint
	// Rules are security group rules, by group.
	Rules map[string][]simaccount.Rule
}

// UserSubnet is one subnet.
type UserSubnet struct{ VPC, Zone, CIDR string }

// UserEndpoint is an interface endpoint of the user's VPC.
type UserEndpoint struct {
	ID         string
	PrivateDNS bool
	Groups     []string
	// Service is sts, secretsmanager or lambda (set for More; Endpoints' key says it).
	Service string
	// State is the endpoint's state; "" is available.
	State string
	// Subnets hold its interfaces, one each; none given: simaccount.UserSubnetA.
	Subnets []string
	Tags    map[string]string
}

// NewUserVPC is the user's VPC as the shipped stack file expects it, simaccount's, with the
// subnets and route tables of the account's other non-default VPCs that a look-up can reach.
func NewUserVPC() *UserVPC {
	u := &UserVPC{
		ID: simaccount.UserVPCID, CIDR: simaccount.UserVPCCidr, DNSSupport: true, DNSHostnames: true, MainRouteTable: simaccount.UserMainRouteTable,
		Subnets: map[string]UserSubnet{}, DefaultRoutes: map[string]string{}, Associations: map[string]string{},
		Endpoints: map[string]UserEndpoint{}, Rules: map[string][]simaccount.Rule{},
	}
	for _, s := range simaccount.Subnets {
		if s.Default {
			continue
		}
		u.Subnets[s.ID] = UserSubnet{s.VPC, s.Zone, s.CIDR}
		if s.RouteTable != "" {
			u.Associations[s.ID] = s.RouteTable
		}
	}
	for _, t := range simaccount.RouteTables {
		if t.VPC != simaccount.DefaultVPCID {
			u.DefaultRoutes[t.ID] = t.DefaultRoute
		}
	}
	for _, g := range simaccount.DefaultGroups {
		if g.VPC != simaccount.DefaultVPCID {
			u.Rules[g.ID] = g.Rules
		}
	}
	return u
}

// WithEndpoints gives the VPC the three interface endpoints, with private DNS, in one group
// that admits 443 from cidr.
func (u *UserVPC) WithEndpoints(cidr string) *UserVPC {
	for _, svc := range simaccount.Services {
		u.Endpoints[svc] = UserEndpoint{ID: "vpce-0user" + svc, PrivateDNS: true, Groups: []string{"sg-0userendpoints0000"}}
	}
	u.Rules["sg-0userendpoints0000"] = []simaccount.Rule{
		{ID: "sgr-0userendpoints001", Protocol: "tcp", From: 443, To: 443, CIDR: cidr},
		{ID: "sgr-0userendpoints002", Egress: true, Protocol: "-1", CIDR: "0.0.0.0/0"},
	}
	return u
}

// vpc answers the look-up of a VPC by id: the user's as it now is, another non-default one
// as the account declares it.
func (u *UserVPC) vpc(id string) (resource.PropertyMap, error) {
	v, ok := simaccount.FindVPC(id)
	if id == u.ID {
		v, ok = simaccount.VPC{ID: u.ID, CIDR: u.CIDR, MainRouteTable: u.MainRouteTable, Owner: simaccount.AccountID}, true
	}
	if !ok || v.Default {
		return nil, fmt.Errorf("no matching EC2 VPC found")
	}
	dnsSupport, dnsHostnames := true, true
	if id == u.ID {
		dnsSupport, dnsHostnames = u.DNSSupport, u.DNSHostnames
	}
	return resource.NewPropertyMapFromMap(map[string]any{"id": v.ID, "cidrBlock": v.CIDR, "default": false,
		"enableDnsSupport": dnsSupport, "enableDnsHostnames": dnsHostnames, "mainRouteTableId": v.MainRouteTable, "ownerId": v.Owner}), nil
}

// call answers the look-ups only existingvpc makes.
func (u *UserVPC) call(token string, args resource.PropertyMap) (resource.PropertyMap, error) {
	str := func(key string) string {
		if v, ok := args[resource.PropertyKey(key)]; ok && v.IsString() {
			return v.StringValue()
		}
		return ""
	}
	filter := func(name string) []string {
		var values []string
		for _, f := range args["filters"].ArrayValue() {
			if f.ObjectValue()["name"].StringValue() == name {
				for _, v := range f.ObjectValue()["values"].ArrayValue() {
					values = append(values, v.StringValue())
				}
			}
		}
		return values
	}
	switch token {
	case "aws:ec2/getSubnet:getSubnet":
		s, ok := u.Subnets[str("id")]
		if !ok {
			return nil, fmt.Errorf("no matching EC2 Subnet found")
		}
		return resource.NewPropertyMapFromMap(map[string]any{"id": str("id"), "vpcId": s.VPC, "availabilityZone": s.Zone, "cidrBlock": s.CIDR}), nil
	case "aws:ec2/getRouteTables:getRouteTables":
		var ids []string
		for _, subnet := range filter("association.subnet-id") {
			if t, ok := u.Associations[subnet]; ok && !slices.Contains(ids, t) {
				ids = append(ids, t)
			}
		}
		return resource.NewPropertyMapFromMap(map[string]any{"id": simaccount.Region, "ids": toAny(ids)}), nil
	case "aws:ec2/getRouteTable:getRouteTable":
		id := str("routeTableId")
		target, ok := u.DefaultRoutes[id]
		if !ok {
			return nil, fmt.Errorf("no matching Route Table found")
		}
		routes := []any{map[string]any{"cidrBlock": u.CIDR, "gatewayId": "local"}}
		if target != "" {
			routes = append(routes, map[string]any{"cidrBlock": "0.0.0.0/0", simaccount.RouteTargetProperty(target): target})
		}
		return resource.NewPropertyMapFromMap(map[string]any{"id": id, "routeTableId": id, "vpcId": u.ID, "routes": routes}), nil
	case "aws:vpc/getSecurityGroupRules:getSecurityGroupRules":
		var ids []string
		for _, g := range filter("group-id") {
			for _, r := range u.Rules[g] {
				ids = append(ids, r.ID)
			}
		}
		return resource.NewPropertyMapFromMap(map[string]any{"id": simaccount.Region, "ids": toAny(ids)}), nil
	case "aws:vpc/getSecurityGroupRule:getSecurityGroupRule":
		for g, rules := range u.Rules {
			for _, r := range rules {
				if r.ID == str("securityGroupRuleId") {
					return resource.NewPropertyMapFromMap(map[string]any{"id": r.ID, "securityGroupRuleId": r.ID, "securityGroupId": g,
						"isEgress": r.Egress, "ipProtocol": r.Protocol, "fromPort": r.From, "toPort": r.To,
						"cidrIpv4": r.CIDR, "referencedSecurityGroupId": r.Group}), nil
				}
			}
		}
		return nil, fmt.Errorf("no matching Security Group Rule found")
	}
	return nil, fmt.Errorf("offline account: unexpected invoke %s", token)
}
