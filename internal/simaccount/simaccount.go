// Package simaccount declares the one AWS account that make plan and the stand-in AWS both
// simulate: internal/offline answers the Pulumi mocks from it, and the real-engine suite's
// stand-in (internal/testsupport/standin/cloud) seeds its mutable state from it. Declaring it
// once keeps a stack that plans offline meeting the same account under the real engine.
// It holds facts only; how each side answers, refuses or changes them is its own.
package simaccount

import (
	"fmt"
	"slices"
	"strings"
)

// The account and its region.
const (
	AccountID = "123456789012"
	Region    = "us-east-1"
	// OtherAccountID owns the VPC shared with this one (and, in the stand-in, the hosted
	// zones it shares).
	OtherAccountID = "210987654321"
)

// Zones are the region's zones and ZoneIDs their ids, in the same order; ServiceZones are
// those that offer the Services' interface endpoints: all but us-east-1e, as in the real
// region, so that a placement there is refused.
var (
	Zones        = []string{"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"}
	ZoneIDs      = []string{"use1-az1", "use1-az2", "use1-az3", "use1-az4", "use1-az5", "use1-az6"}
	ServiceZones = []string{"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1f"}
	// Services are the interface endpoint services the account offers, the ones the
	// functions call.
	Services = []string{"sts", "secretsmanager", "lambda"}
)

// ServiceName is the endpoint service name of svc ("com.amazonaws.us-east-1.sts").
func ServiceName(svc string) string { return "com.amazonaws." + Region + "." + svc }

// ServiceHost is the DNS name of svc in the region, which an endpoint's private DNS takes over.
func ServiceHost(svc string) string { return svc + "." + Region + ".amazonaws.com" }

// The default VPC. Source for its shape: Amazon VPC User Guide, "Default VPCs"; EC2 API
// Reference, CreateDefaultVpc (a /16) and CreateDefaultSubnet (a /20 in each zone).
const (
	DefaultVPCID        = "vpc-default"
	DefaultVPCCidr      = "172.31.0.0/16"
	DefaultSGID         = "sg-default"
	DefaultIGWID        = "igw-default"
	DefaultRouteTableID = "rtb-default"
)

// DefaultSubnetID is the id of the default subnet in zone.
func DefaultSubnetID(zone string) string { return "subnet-default-" + zone }

// The user's own VPC, with the placeholder ids Pulumi.existingvpc.yaml ships.
const (
	UserVPCID          = "vpc-0123456789abcdef0"
	UserVPCCidr        = "10.20.0.0/16"
	UserSubnetA        = "subnet-0123456789abcdef1" // us-east-1a, private: 0.0.0.0/0 to the NAT gateway
	UserSubnetB        = "subnet-0123456789abcdef2" // us-east-1b, private
	UserSubnetC        = "subnet-0123456789abcdef3" // us-east-1c, private
	UserPublicSubnet   = "subnet-0123456789abcdef4" // us-east-1a, public: 0.0.0.0/0 to the internet gateway; holds the NAT gateway
	UserMainSubnet     = "subnet-0123456789abcdef5" // us-east-1d, on the main route table: no default route
	UserSubnetE        = "subnet-0123456789abcdef6" // us-east-1e, private, in the zone without endpoint services
	UserTGWSubnet      = "subnet-0123456789abcdef7" // us-east-1b: 0.0.0.0/0 to a transit gateway, behind which an egress VPC reaches the internet
	UserMainRouteTable = "rtb-0123456789abcdef0"
	UserPrivateTable   = "rtb-0123456789abcdef1"
	UserPublicTable    = "rtb-0123456789abcdef2"
	UserTGWTable       = "rtb-0123456789abcdef3"
	UserTransitGateway = "tgw-0123456789abcdef0"
	UserIGW            = "igw-0123456789abcdef0"
	UserNATGateway     = "nat-0123456789abcdef0"
	UserEIP            = "eipalloc-0123456789abcdef0"
	UserEIPAddress     = "3.0.0.7"
	UserDefaultSG      = "sg-0123456789abcdef0"
)

// A VPC of this account's besides the two, for a subnet given with the wrong vpcId.
const (
	OtherVPCID     = "vpc-0fedcba9876543210"
	OtherVPCSubnet = "subnet-0fedcba9876543210" // us-east-1b
)

// A VPC OtherAccountID owns and shares with this one through AWS RAM, with one subnet shared:
// a participant sees both, the VPC with its owner's id (VPC user guide, "Share your VPC with
// other accounts"). Its main route table leads to the owner's NAT gateway.
const (
	SharedVPCID      = "vpc-0badc0ffee0000001"
	SharedSubnet     = "subnet-0badc0ffee0000002" // us-east-1a
	SharedMainTable  = "rtb-0badc0ffee0000003"
	SharedNATGateway = "nat-0badc0ffee0000004"
	SharedVPCOwner   = OtherAccountID
)

// VPC is a VPC the account sees. DNS support and hostnames are on in every one.
type VPC struct {
	ID, CIDR string
	Default  bool
	// MainRouteTable is the table of the subnets associated with no other.
	MainRouteTable string
	// Owner is the owning account: AccountID but for a VPC shared with this one.
	Owner string
}

// Subnet is a subnet the account sees.
type Subnet struct {
	ID, VPC, Zone, CIDR string
	// Default: a default subnet (defaultForAz, public IPs on launch).
	Default bool
	// RouteTable is the table it is explicitly associated with; "": its VPC's main one.
	RouteTable string
}

// RouteTable is a route table and the target of its 0.0.0.0/0 route: an internet, NAT or
// transit gateway by its id's prefix, "" for none.
type RouteTable struct {
	ID, VPC      string
	Main         bool
	DefaultRoute string
}

// Rule is one security group rule.
type Rule struct {
	ID       string
	Egress   bool
	Protocol string
	From, To int
	// CIDR or Group is the peer.
	CIDR, Group string
}

// SecurityGroup is a VPC's default security group.
type SecurityGroup struct {
	ID, VPC string
	Rules   []Rule
}

// VPCs are the VPCs the account sees.
var VPCs = []VPC{
	{ID: DefaultVPCID, CIDR: DefaultVPCCidr, Default: true, MainRouteTable: DefaultRouteTableID, Owner: AccountID},
	{ID: UserVPCID, CIDR: UserVPCCidr, MainRouteTable: UserMainRouteTable, Owner: AccountID},
	{ID: OtherVPCID, CIDR: "10.30.0.0/16", Owner: AccountID},
	{ID: SharedVPCID, CIDR: "10.40.0.0/16", MainRouteTable: SharedMainTable, Owner: SharedVPCOwner},
}

// Subnets are the subnets the account sees: a default one per zone, then the others.
var Subnets = slices.Concat(defaultSubnets(), []Subnet{
	{ID: UserSubnetA, VPC: UserVPCID, Zone: "us-east-1a", CIDR: "10.20.1.0/24", RouteTable: UserPrivateTable},
	{ID: UserSubnetB, VPC: UserVPCID, Zone: "us-east-1b", CIDR: "10.20.2.0/24", RouteTable: UserPrivateTable},
	{ID: UserSubnetC, VPC: UserVPCID, Zone: "us-east-1c", CIDR: "10.20.3.0/24", RouteTable: UserPrivateTable},
	{ID: UserPublicSubnet, VPC: UserVPCID, Zone: "us-east-1a", CIDR: "10.20.0.0/24", RouteTable: UserPublicTable},
	{ID: UserMainSubnet, VPC: UserVPCID, Zone: "us-east-1d", CIDR: "10.20.5.0/24"},
	{ID: UserSubnetE, VPC: UserVPCID, Zone: "us-east-1e", CIDR: "10.20.6.0/24", RouteTable: UserPrivateTable},
	{ID: UserTGWSubnet, VPC: UserVPCID, Zone: "us-east-1b", CIDR: "10.20.7.0/24", RouteTable: UserTGWTable},
	{ID: OtherVPCSubnet, VPC: OtherVPCID, Zone: "us-east-1b", CIDR: "10.30.1.0/24"},
	{ID: SharedSubnet, VPC: SharedVPCID, Zone: "us-east-1a", CIDR: "10.40.1.0/24"},
})

func defaultSubnets() []Subnet {
	out := make([]Subnet, len(Zones))
	for i, z := range Zones {
		out[i] = Subnet{ID: DefaultSubnetID(z), VPC: DefaultVPCID, Zone: z, CIDR: fmt.Sprintf("172.31.%d.0/20", 16*i), Default: true}
	}
	return out
}

// RouteTables are the route tables the account sees.
var RouteTables = []RouteTable{
	{ID: DefaultRouteTableID, VPC: DefaultVPCID, Main: true, DefaultRoute: DefaultIGWID},
	{ID: UserMainRouteTable, VPC: UserVPCID, Main: true},
	{ID: UserPrivateTable, VPC: UserVPCID, DefaultRoute: UserNATGateway},
	{ID: UserPublicTable, VPC: UserVPCID, DefaultRoute: UserIGW},
	{ID: UserTGWTable, VPC: UserVPCID, DefaultRoute: UserTransitGateway},
	{ID: SharedMainTable, VPC: SharedVPCID, Main: true, DefaultRoute: SharedNATGateway},
}

// DefaultGroups are the default security groups of this account's VPCs that the account
// models, with the rules AWS creates them with: all traffic in from the group itself, all
// traffic out (Amazon VPC user guide, "Default security groups for your VPCs").
var DefaultGroups = []SecurityGroup{
	{ID: DefaultSGID, VPC: DefaultVPCID, Rules: awsDefaultRules(DefaultSGID, "sgr-default-in", "sgr-default-out")},
	{ID: UserDefaultSG, VPC: UserVPCID, Rules: awsDefaultRules(UserDefaultSG, "sgr-0userdefaultin000", "sgr-0userdefaulteg000")},
}

func awsDefaultRules(group, in, out string) []Rule {
	return []Rule{{ID: in, Protocol: "-1", Group: group}, {ID: out, Egress: true, Protocol: "-1", CIDR: "0.0.0.0/0"}}
}

// FindVPC returns the VPC of that id; false if the account declares none.
func FindVPC(id string) (VPC, bool) { return find(VPCs, func(v VPC) bool { return v.ID == id }) }

// FindSubnet returns the subnet of that id; false if the account declares none.
func FindSubnet(id string) (Subnet, bool) {
	return find(Subnets, func(s Subnet) bool { return s.ID == id })
}

// FindDefaultGroup returns the default security group of the VPC; false if the account
// declares none.
func FindDefaultGroup(vpcID string) (SecurityGroup, bool) {
	return find(DefaultGroups, func(g SecurityGroup) bool { return g.VPC == vpcID })
}

func find[T any](list []T, match func(T) bool) (T, bool) {
	if i := slices.IndexFunc(list, match); i >= 0 {
		return list[i], true
	}
	var zero T
	return zero, false
}

// RouteTargetProperty is the property of a route that names target, by its id's prefix:
// natGatewayId, transitGatewayId, else gatewayId.
func RouteTargetProperty(target string) string {
	switch {
	case strings.HasPrefix(target, "nat-"):
		return "natGatewayId"
	case strings.HasPrefix(target, "tgw-"):
		return "transitGatewayId"
	}
	return "gatewayId"
}
