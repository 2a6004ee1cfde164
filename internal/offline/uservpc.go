package offline

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// The user's VPC that Pulumi.existingvpc.yaml names with its placeholder ids (the stand-in
// AWS of the real-engine suite holds the same): private subnets in three zones routing
// 0.0.0.0/0 to a NAT gateway, a public subnet (the NAT's) routing it to an internet gateway,
// a subnet left on the main route table (no default route), a private subnet in us-east-1e
// (no endpoint services), DNS support and hostnames on, no interface endpoints; and a subnet
// of another VPC.
const (
	UserVPCID          = "vpc-0123456789abcdef0"
	UserVPCCidr        = "10.20.0.0/16"
	UserSubnetA        = "subnet-0123456789abcdef1" // us-east-1a, private (NAT)
	UserSubnetB        = "subnet-0123456789abcdef2" // us-east-1b, private (NAT)
	UserSubnetC        = "subnet-0123456789abcdef3" // us-east-1c, private (NAT)
	UserPublicSubnet   = "subnet-0123456789abcdef4" // us-east-1a, public (internet gateway)
	UserMainSubnet     = "subnet-0123456789abcdef5" // us-east-1d, on the main route table
	UserSubnetE        = "subnet-0123456789abcdef6" // us-east-1e, private (NAT), no endpoint services
	OtherVPCSubnet     = "subnet-0fedcba9876543210" // us-east-1b, of another VPC
	UserTGWSubnet      = "subnet-0123456789abcdef7" // us-east-1b, 0.0.0.0/0 to a transit gateway (an egress VPC behind it)
	UserMainRouteTable = "rtb-0123456789abcdef0"
	UserPrivateTable   = "rtb-0123456789abcdef1"
	UserPublicTable    = "rtb-0123456789abcdef2"
	UserTGWTable       = "rtb-0123456789abcdef3"
	UserTransitGateway = "tgw-0123456789abcdef0"
	UserNATGateway     = "nat-0123456789abcdef0"
	UserIGW            = "igw-0123456789abcdef0"
	// SharedVPCID is a VPC account SharedVPCOwner shares with this one through AWS RAM, and
	// SharedSubnet (us-east-1a) its subnet shared with it.
	SharedVPCID     = "vpc-0badc0ffee0000001"
	SharedSubnet    = "subnet-0badc0ffee0000002"
	SharedMainTable = "rtb-0badc0ffee0000003"
	SharedVPCOwner  = "210987654321"
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
	Rules map[string][]UserRule
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
	// Subnets hold its interfaces, one each; none given: UserSubnetA.
	Subnets []string
	Tags    map[string]string
}

// UserRule is one security group rule.
type UserRule struct {
	ID       string
	Egress   bool
	Protocol string
	From, To int
	// CIDR or Group is the peer.
	CIDR, Group string
}

// NewUserVPC is the user's VPC as the shipped stack file expects it.
func NewUserVPC() *UserVPC {
	return &UserVPC{
		ID: UserVPCID, CIDR: UserVPCCidr, DNSSupport: true, DNSHostnames: true, MainRouteTable: UserMainRouteTable,
		Subnets: map[string]UserSubnet{
			UserSubnetA:      {UserVPCID, "us-east-1a", "10.20.1.0/24"},
			UserSubnetB:      {UserVPCID, "us-east-1b", "10.20.2.0/24"},
			UserSubnetC:      {UserVPCID, "us-east-1c", "10.20.3.0/24"},
			UserPublicSubnet: {UserVPCID, "us-east-1a", "10.20.0.0/24"},
			UserMainSubnet:   {UserVPCID, "us-east-1d", "10.20.5.0/24"},
			UserSubnetE:      {UserVPCID, "us-east-1e", "10.20.6.0/24"},
			OtherVPCSubnet:   {"vpc-0fedcba9876543210", "us-east-1b", "10.30.1.0/24"},
			SharedSubnet:     {SharedVPCID, "us-east-1a", "10.40.1.0/24"},
			UserTGWSubnet:    {UserVPCID, "us-east-1b", "10.20.7.0/24"},
		},
		DefaultRoutes: map[string]string{UserMainRouteTable: "", UserPrivateTable: UserNATGateway, UserPublicTable: UserIGW, SharedMainTable: UserNATGateway,
			UserTGWTable: UserTransitGateway},
		Associations: map[string]string{UserSubnetA: UserPrivateTable, UserSubnetB: UserPrivateTable, UserSubnetC: UserPrivateTable,
			UserSubnetE: UserPrivateTable, UserPublicSubnet: UserPublicTable, UserTGWSubnet: UserTGWTable},
		Endpoints: map[string]UserEndpoint{},
		Rules:     map[string][]UserRule{},
	}
}

// WithEndpoints gives the VPC the three interface endpoints, with private DNS, in one group
// that admits 443 from cidr.
func (u *UserVPC) WithEndpoints(cidr string) *UserVPC {
	for _, svc := range []string{"sts", "secretsmanager", "lambda"} {
		u.Endpoints[svc] = UserEndpoint{ID: "vpce-0user" + svc, PrivateDNS: true, Groups: []string{"sg-0userendpoints0000"}}
	}
	u.Rules["sg-0userendpoints0000"] = []UserRule{
		{ID: "sgr-0userendpoints001", Protocol: "tcp", From: 443, To: 443, CIDR: cidr},
		{ID: "sgr-0userendpoints002", Egress: true, Protocol: "-1", CIDR: "0.0.0.0/0"},
	}
	return u
}

func (u *UserVPC) vpc(id string) (resource.PropertyMap, error) {
	if id == SharedVPCID {
		return resource.NewPropertyMapFromMap(map[string]any{"id": id, "cidrBlock": "10.40.0.0/16", "default": false, "enableDnsSupport": true,
			"enableDnsHostnames": true, "mainRouteTableId": SharedMainTable, "ownerId": SharedVPCOwner}), nil
	}
	if id != u.ID {
		return nil, fmt.Errorf("no matching EC2 VPC found")
	}
	return resource.NewPropertyMapFromMap(map[string]any{"id": u.ID, "cidrBlock": u.CIDR, "default": false,
		"enableDnsSupport": u.DNSSupport, "enableDnsHostnames": u.DNSHostnames, "mainRouteTableId": u.MainRouteTable, "ownerId": AccountID}), nil
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
		return resource.NewPropertyMapFromMap(map[string]any{"id": "us-east-1", "ids": toAny(ids)}), nil
	case "aws:ec2/getRouteTable:getRouteTable":
		id := str("routeTableId")
		target, ok := u.DefaultRoutes[id]
		if !ok {
			return nil, fmt.Errorf("no matching Route Table found")
		}
		routes := []any{map[string]any{"cidrBlock": u.CIDR, "gatewayId": "local"}}
		switch {
		case strings.HasPrefix(target, "nat-"):
			routes = append(routes, map[string]any{"cidrBlock": "0.0.0.0/0", "natGatewayId": target})
		case strings.HasPrefix(target, "tgw-"):
			routes = append(routes, map[string]any{"cidrBlock": "0.0.0.0/0", "transitGatewayId": target})
		case target != "":
			routes = append(routes, map[string]any{"cidrBlock": "0.0.0.0/0", "gatewayId": target})
		}
		return resource.NewPropertyMapFromMap(map[string]any{"id": id, "routeTableId": id, "vpcId": u.ID, "routes": routes}), nil
	case "aws:vpc/getSecurityGroupRules:getSecurityGroupRules":
		var ids []string
		for _, g := range filter("group-id") {
			for _, r := range u.Rules[g] {
				ids = append(ids, r.ID)
			}
		}
		return resource.NewPropertyMapFromMap(map[string]any{"id": "us-east-1", "ids": toAny(ids)}), nil
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
