package infra

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/offline"
)

func TestSubnetLayoutOfANewVPC(t *testing.T) {
	cases := []struct {
		tiers []SubnetTier
		zones int
		want  SubnetLayout
	}{
		{[]SubnetTier{TierIsolated}, 2, SubnetLayout{TierIsolated: {"10.0.128.0/21", "10.0.136.0/21"}}},
		{[]SubnetTier{TierIsolated}, 3, SubnetLayout{TierIsolated: {"10.0.128.0/21", "10.0.136.0/21", "10.0.144.0/21"}}},
		{[]SubnetTier{TierPublic, TierPrivate}, 2, SubnetLayout{TierPublic: {"10.0.0.0/21", "10.0.8.0/21"}, TierPrivate: {"10.0.64.0/21", "10.0.72.0/21"}}},
		{[]SubnetTier{TierPublic}, 6, SubnetLayout{TierPublic: {"10.0.0.0/21", "10.0.8.0/21", "10.0.16.0/21", "10.0.24.0/21", "10.0.32.0/21", "10.0.40.0/21"}}},
	}
	for _, tc := range cases {
		got, err := layOutSubnets("10.0.0.0/16", tc.tiers, testZones(tc.zones), nil)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%v in %d zones: got %v, want %v", tc.tiers, tc.zones, got, tc.want)
		}
	}
	// The narrowest VPC the settings accept still gives valid subnets.
	got, err := layOutSubnets("10.0.0.0/23", []SubnetTier{TierPublic, TierPrivate}, testZones(6), nil)
	if err != nil || got[TierPrivate][5] != "10.0.0.208/28" {
		t.Fatalf("a /23: %v, %v", got, err)
	}
}

// Every change the settings allow keeps the subnets that exist and adds ones that overlap none:
// EC2 refuses an overlapping subnet, and Pulumi creates a replacement before deleting.
func TestSubnetsNeverMove(t *testing.T) {
	options := []NetworkMode{ModeNAT, ModeIsolated, ModePublicSubnet}
	for _, from := range options {
		for _, to := range options {
			for fromZones := 1; fromZones <= 6; fromZones++ {
				for toZones := 1; toZones <= 6; toZones++ {
					before, err := layOutSubnets("10.0.0.0/16", Options[from].SubnetTiers, testZones(fromZones), nil)
					if err != nil {
						t.Fatal(err)
					}
					found := foundFrom("vpc-1", "10.0.0.0/16", before, testZones(fromZones))
					after, err := layOutSubnets("10.0.0.0/16", Options[to].SubnetTiers, testZones(toZones), found)
					if err != nil {
						t.Fatalf("%s in %d zones → %s in %d: %v", from, fromZones, to, toZones, err)
					}
					name := fmt.Sprintf("%s/%d → %s/%d", from, fromZones, to, toZones)
					assertKeptOrApart(t, name, found, after, testZones(toZones))
				}
			}
		}
	}
}

// assertKeptOrApart: a subnet of the same tier and zone keeps its block; every other block
// overlaps no subnet of the VPC.
func assertKeptOrApart(t *testing.T, name string, found *FoundNetwork, after SubnetLayout, zones []string) {
	t.Helper()
	for tier, blocks := range after {
		for i, block := range blocks {
			p := netip.MustParsePrefix(block)
			for _, s := range found.Subnets {
				if s.Tier == tier && s.Zone == zones[i] {
					if s.CIDR != block {
						t.Errorf("%s: the %s subnet in %s moves from %s to %s", name, tier, zones[i], s.CIDR, block)
					}
					continue
				}
				if netip.MustParsePrefix(s.CIDR).Overlaps(p) {
					t.Errorf("%s: the new %s subnet %s in %s overlaps %s", name, tier, block, zones[i], s.CIDR)
				}
			}
		}
	}
}

// A stack deployed before this layout has awsx's Auto blocks: they stay, new subnets go where
// there is room, and where there is none the change is refused, naming the subnets in the way and
// the way forward.
func TestSubnetsOfAnOlderLayout(t *testing.T) {
	// awsx Auto, one spec in two zones: each zone's /17 is the isolated subnet.
	isolated := foundFrom("vpc-old", "10.0.0.0/16", SubnetLayout{TierIsolated: {"10.0.0.0/17", "10.0.128.0/17"}}, testZones(2))
	_, err := layOutSubnets("10.0.0.0/16", []SubnetTier{TierIsolated}, testZones(3), isolated)
	for _, want := range []string{"no room in vpc-old", "isolated in us-east-1c", "10.0.0.0/17, 10.0.128.0/17", "set vpcCidr to another block"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("adding a zone to a full VPC: want %q in %v", want, err)
		}
	}
	// A new block replaces the VPC: nothing is in the way.
	if _, err := layOutSubnets("10.1.0.0/16", []SubnetTier{TierIsolated}, testZones(3), isolated); err != nil {
		t.Errorf("a new vpcCidr: %v", err)
	}
	// awsx Auto, two specs in two zones (/18 each) leaves no room either; in one zone, it does.
	oneZone := foundFrom("vpc-old", "10.0.0.0/16", SubnetLayout{TierPublic: {"10.0.0.0/17"}, TierPrivate: {"10.0.128.0/17"}}, testZones(1))
	if _, err := layOutSubnets("10.0.0.0/16", []SubnetTier{TierPublic, TierPrivate}, testZones(2), oneZone); err == nil {
		t.Error("a full one-zone VPC took a second zone")
	}
	halfFull := foundFrom("vpc-old", "10.0.0.0/16", SubnetLayout{TierIsolated: {"10.0.0.0/17"}}, testZones(1))
	got, err := layOutSubnets("10.0.0.0/16", []SubnetTier{TierIsolated}, testZones(2), halfFull)
	if err != nil || got[TierIsolated][0] != "10.0.0.0/17" || got[TierIsolated][1] != "10.0.136.0/21" {
		t.Errorf("half full: %v, %v", got, err)
	}
	// Someone else's subnet in the VPC is in the way too.
	withOther := foundFrom("vpc-1", "10.0.0.0/16", SubnetLayout{TierIsolated: {"10.0.128.0/21"}}, testZones(1))
	withOther.Subnets = append(withOther.Subnets, FoundSubnet{ID: "subnet-theirs", Zone: "us-east-1b", CIDR: "10.0.136.0/24"})
	got, err = layOutSubnets("10.0.0.0/16", []SubnetTier{TierIsolated}, testZones(2), withOther)
	if err != nil || got[TierIsolated][1] == "10.0.136.0/21" {
		t.Errorf("another subnet in the slot: %v, %v", got, err)
	}
}

func TestZonesArePinned(t *testing.T) {
	candidates := []string{"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"}
	cases := []struct {
		found     []string
		want      int
		candidate []string
		zones     []string
		short     int
	}{
		{nil, 2, candidates, []string{"us-east-1a", "us-east-1b"}, 0},
		// A zone that now lacks a service, or is listed first, moves nothing.
		{[]string{"us-east-1b", "us-east-1d"}, 2, []string{"us-east-1a", "us-east-1b", "us-east-1c"}, []string{"us-east-1b", "us-east-1d"}, 0},
		{[]string{"us-east-1b", "us-east-1d"}, 3, candidates, []string{"us-east-1b", "us-east-1d", "us-east-1a"}, 0},
		{[]string{"us-east-1b", "us-east-1d", "us-east-1a"}, 2, candidates, []string{"us-east-1b", "us-east-1d"}, 0},
		{[]string{"us-east-1b", "", "us-east-1a"}, 3, candidates, []string{"us-east-1b", "us-east-1c", "us-east-1a"}, 0},
		{nil, 5, candidates, candidates, 1},
	}
	for _, tc := range cases {
		zones, short := pinZones(tc.found, tc.want, tc.candidate)
		if !slices.Equal(zones, tc.zones) || short != tc.short {
			t.Errorf("pinZones(%v, %d): got %v short %d, want %v short %d", tc.found, tc.want, zones, short, tc.zones, tc.short)
		}
	}
}

func TestAwsxSubnetNames(t *testing.T) {
	for name, want := range map[string]struct {
		tier  SubnetTier
		index int
	}{
		"rabbitmq-esm-network-isolated-2": {TierIsolated, 2},
		"rabbitmq-esm-network-public-1":   {TierPublic, 1},
		"rabbitmq-esm-network-private-10": {TierPrivate, 10},
		"rabbitmq-esm-network-other-1":    {"", 0},
		"someone-elses":                   {"", 0},
		"rabbitmq-esm-network-public-x":   {"", 0},
	} {
		tier, index := awsxSubnetName(name)
		if tier != want.tier || index != want.index {
			t.Errorf("%s: got %q %d, want %q %d", name, tier, index, want.tier, want.index)
		}
	}
}

func testZones(n int) []string {
	return []string{"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"}[:n]
}

// foundFrom is the network an up with layout left in vpcID.
func foundFrom(vpcID, cidr string, layout SubnetLayout, zones []string) *FoundNetwork {
	f := &FoundNetwork{VpcID: vpcID, CIDR: cidr}
	for _, tier := range []SubnetTier{TierPublic, TierPrivate, TierIsolated} {
		for i, block := range layout[tier] {
			f.Subnets = append(f.Subnets, FoundSubnet{ID: fmt.Sprintf("subnet-%s-%d", strings.ToLower(string(tier)), i+1),
				Zone: zones[i], CIDR: block, Tier: tier, Index: i + 1})
		}
	}
	return f
}

// The program reads the stack's own subnets from the account and gives awsx every block and
// zone: the first up gets the grid, a later one keeps what exists, in its zones.
func TestNewVPCGivesAwsxTheLayout(t *testing.T) {
	awsxInputs := func(t *testing.T, m *offline.Account, settings map[string]string) (zones []string, blocks map[string][]string) {
		t.Helper()
		if _, err := run(t, "isolated", withSettings(t, "isolated", settings), m); err != nil {
			t.Fatal(err)
		}
		vpc, err := m.One("awsx:ec2:Vpc", "network")
		if err != nil {
			t.Fatal(err)
		}
		blocks = map[string][]string{}
		for _, spec := range vpc.Inputs["subnetSpecs"].ArrayValue() {
			blocks[spec.ObjectValue()["type"].StringValue()] = offline.Strings(spec.ObjectValue()["cidrBlocks"])
		}
		return offline.Strings(vpc.Inputs["availabilityZoneNames"]), blocks
	}

	zones, blocks := awsxInputs(t, &offline.Account{}, nil)
	if fmt.Sprint(zones, blocks) != "[us-east-1a us-east-1b] map[Isolated:[10.0.128.0/21 10.0.136.0/21]]" {
		t.Errorf("first up: %v %v", zones, blocks)
	}

	// An older stack: awsx's Auto layout, in zones the region now lists otherwise.
	older := &offline.StackNetwork{VpcID: "vpc-older", CIDR: "10.0.0.0/16", Subnets: []offline.StackSubnet{
		{ID: "subnet-1", Name: "rabbitmq-esm-network-isolated-1", Zone: "us-east-1c", CIDR: "10.0.0.0/17"},
		{ID: "subnet-2", Name: "rabbitmq-esm-network-isolated-2", Zone: "us-east-1a", CIDR: "10.0.128.0/17"},
	}}
	m := &offline.Account{StackNetwork: older}
	zones, blocks = awsxInputs(t, m, nil)
	if fmt.Sprint(zones, blocks) != "[us-east-1c us-east-1a] map[Isolated:[10.0.0.0/17 10.0.128.0/17]]" {
		t.Errorf("a later up moved something: %v %v", zones, blocks)
	}
	// The broker is given the subnet it is in by id, known even in a preview that adds a subnet.
	broker, err := m.One("aws:mq/broker:Broker", "broker")
	if err != nil || fmt.Sprint(offline.Strings(broker.Inputs["subnetIds"])) != "[subnet-1]" {
		t.Errorf("the broker's subnets: %v, %v", broker.Inputs["subnetIds"], err)
	}
	zones, blocks = awsxInputs(t, &offline.Account{StackNetwork: older}, map[string]string{"networkMode": "isolated", "vpcCidr": "10.1.0.0/16"})
	if fmt.Sprint(zones, blocks) != "[us-east-1c us-east-1a] map[Isolated:[10.1.128.0/21 10.1.136.0/21]]" {
		t.Errorf("a new vpcCidr keeps the zones, and lays out the new VPC: %v %v", zones, blocks)
	}

	m = &offline.Account{StackNetwork: older}
	_, err = run(t, "isolated", withSettings(t, "isolated", map[string]string{"availabilityZones": "3"}), m)
	if err == nil || !strings.Contains(err.Error(), "no room in vpc-older") || !strings.Contains(err.Error(), "isolated in us-east-1b") {
		t.Fatalf("a third zone in a full VPC: %v", err)
	}
	if n := len(m.All()); n != 0 {
		t.Errorf("%d resources registered before the refusal", n)
	}
}
