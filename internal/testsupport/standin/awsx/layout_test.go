package awsx

// The stand-in's layout held against awsx's own expectations. Unless a case says it is
// derived, its inputs and expected blocks are those of pulumi/pulumi-awsx
// awsx/ec2/subnetDistributorNew.test.ts, as stored at commit
// 4a60923646b276acfdc51a08831b933ff78078d5. No stored version of that test file is from the
// v2 line (both stored versions import mergeWithDefaultSubnetSpecs, awsx 3.2); the cases taken
// here exercise getSubnetSpecs, getSubnetSpecsExplicit, nextNetmask and
// validateAndNormalizeSubnetInputs, whose code is the same in the v2-line source the stand-in
// follows (subnetDistributorNew.ts 666894cd), and none of them goes through the 3.2 merge.

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

type want struct{ name, zone, cidr string }

func blocks(t *testing.T, got []Subnet) []want {
	t.Helper()
	var out []want
	for _, s := range got {
		out = append(out, want{s.Name, s.Zone, s.CidrBlock})
	}
	return out
}

func same(a, b []want) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func mask(cidr string) int { return netip.MustParsePrefix(cidr).Bits() }

// "when no layout specified": one zone, no subnetSpecs: a private subnet of half the zone,
// then a public one of a quarter.
func TestAwsxDefaultLayoutStaggersPrivateAndPublic(t *testing.T) {
	for m := 16; m <= 24; m++ {
		got, err := Layout("vpcName", LayoutArgs{CidrBlock: fmt.Sprintf("10.0.0.0/%d", m), Zones: []string{"us-east-1a"}, Strategy: "Auto"})
		if err != nil {
			t.Fatalf("/%d: %v", m, err)
		}
		if len(got) != 2 || got[0].Type != "Private" || mask(got[0].CidrBlock) != m+1 || got[1].Type != "Public" || mask(got[1].CidrBlock) != m+2 {
			t.Errorf("/%d: %v", m, got)
		}
	}
	// The blocks themselves, for the /16 of that case (derived: the masks above, laid one
	// after the other from the VPC's base).
	got, _ := Layout("vpcName", LayoutArgs{CidrBlock: "10.0.0.0/16", Zones: []string{"us-east-1a"}, Strategy: "Auto"})
	if w := []want{{"vpcName-private-1", "us-east-1a", "10.0.0.0/17"}, {"vpcName-public-1", "us-east-1a", "10.0.128.0/18"}}; !same(blocks(t, got), w) {
		t.Errorf("default /16: %v", blocks(t, got))
	}
}

// "should use whole space if there's only one subnet and VPC is small".
func TestAwsxOneSpecTakesTheWholeSmallVPC(t *testing.T) {
	for m := 24; m <= 27; m++ {
		for _, typ := range []string{"Private", "Public", "Isolated"} {
			vpc := fmt.Sprintf("10.0.0.0/%d", m)
			got, err := Layout("vpcName", LayoutArgs{CidrBlock: vpc, Zones: []string{"us-east-1a"}, Strategy: "Auto", NAT: "None",
				Specs: []SubnetSpec{{Type: typ}}})
			if err != nil || len(got) != 1 || got[0].CidrBlock != vpc {
				t.Errorf("%s in /%d: %v %v", typ, m, got, err)
			}
		}
	}
}

// "default sizes for private, public and isolated subnet": three specs without masks share
// the zone in quarters, in the order given.
func TestAwsxThreeSpecsShareTheZoneEvenly(t *testing.T) {
	for m := 16; m <= 24; m++ {
		got, err := Layout("vpcName", LayoutArgs{CidrBlock: fmt.Sprintf("10.0.0.0/%d", m), Zones: []string{"us-east-1a"}, Strategy: "Auto",
			Specs: []SubnetSpec{{Type: "Private"}, {Type: "Public"}, {Type: "Isolated"}}})
		if err != nil {
			t.Fatalf("/%d: %v", m, err)
		}
		for i, typ := range []string{"Private", "Public", "Isolated"} {
			if got[i].Type != typ || mask(got[i].CidrBlock) != m+2 {
				t.Errorf("/%d: %v", m, got)
			}
		}
	}
}

// "highlights gaps at end of VPC": Public, Private, Isolated in a /16 leave the last quarter
// free; awsx reports the isolated subnet "ending 10.0.191.254" (netmask's last host address).
func TestAwsxLaysSpecsInTheOrderGiven(t *testing.T) {
	got, err := Layout("vpcName", LayoutArgs{CidrBlock: "10.0.0.0/16", Zones: []string{"us-east-1a"}, Strategy: "Auto",
		Specs: []SubnetSpec{{Type: "Public"}, {Type: "Private"}, {Type: "Isolated"}}})
	if err != nil {
		t.Fatal(err)
	}
	w := []want{{"vpcName-public-1", "us-east-1a", "10.0.0.0/18"}, {"vpcName-private-1", "us-east-1a", "10.0.64.0/18"},
		{"vpcName-isolated-1", "us-east-1a", "10.0.128.0/18"}}
	if !same(blocks(t, got), w) {
		t.Errorf("got %v", blocks(t, got))
	}
}

// "can override az cidr mask": one zone, one spec, availabilityZoneCidrMask 19.
func TestAwsxAZCidrMaskOverridesTheZoneBlock(t *testing.T) {
	got, err := Layout("vpcName", LayoutArgs{CidrBlock: "10.0.0.0/16", Zones: []string{"us-east-1a"}, Strategy: "Auto", NAT: "None",
		Specs: []SubnetSpec{{Type: "Public"}}, AZCidrMask: ptr(19)})
	if err != nil || got[0].CidrBlock != "10.0.0.0/19" {
		t.Errorf("got %v %v", got, err)
	}
}

// "nextNetmask": /16 then /17 gives 10.1.0.0/17; /17 then /16 skips to the next /16
// boundary, 10.1.0.0/16 (10.0.128.0/16 would be 10.0.0.0/16, overlapping the first).
func TestAwsxNextBlockStartsAtItsOwnBoundary(t *testing.T) {
	for _, c := range []struct {
		masks []int
		want  []string
	}{
		{[]int{16, 17}, []string{"10.0.0.0/16", "10.1.0.0/17"}},
		{[]int{17, 16}, []string{"10.0.0.0/17", "10.1.0.0/16"}},
	} {
		var specs []SubnetSpec
		for i, m := range c.masks {
			specs = append(specs, SubnetSpec{Type: "Isolated", Name: ptr(fmt.Sprint("s", i)), CidrMask: ptr(m)})
		}
		got, err := Layout("vpcName", LayoutArgs{CidrBlock: "10.0.0.0/8", Zones: []string{"us-east-1a"}, Strategy: "Auto", NAT: "None", Specs: specs})
		if err != nil || got[0].CidrBlock != c.want[0] || got[1].CidrBlock != c.want[1] {
			t.Errorf("masks %v: %v %v", c.masks, got, err)
		}
	}
}

// "should not have overlapping ranges" and "should have smaller subnets than the vpc",
// awsx's properties, over every case of their ranges the stand-in can enumerate.
func TestAwsxAutoLayoutProperties(t *testing.T) {
	types := []string{"Private", "Public", "Isolated"}
	for vm := 16; vm <= 27; vm++ {
		vpc := fmt.Sprintf("10.0.0.0/%d", vm)
		for m1 := vm + 1; m1 <= 27; m1++ {
			for m2 := vm; m2 <= 27; m2++ {
				specs := []SubnetSpec{{Type: "Private", CidrMask: ptr(m1)}}
				if m2 > vm {
					specs = append(specs, SubnetSpec{Type: "Public", CidrMask: ptr(m2)})
				}
				if _, err := Layout("vpcName", LayoutArgs{CidrBlock: vpc, Zones: []string{"a"}, Strategy: "Auto", NAT: "None", Specs: specs}); err != nil {
					t.Errorf("%s, masks %d %d: %v", vpc, m1, m2, err)
				}
			}
		}
		for zones := 2; zones <= 4; zones++ {
			for n := 1; n <= 5; n++ {
				var specs []SubnetSpec
				for i := range n {
					specs = append(specs, SubnetSpec{Type: types[i%3], Name: ptr(fmt.Sprint("s", i))})
				}
				got, err := Layout("vpcName", LayoutArgs{CidrBlock: vpc, Zones: []string{"a", "b", "c", "d"}[:zones], Strategy: "Auto", NAT: "None", Specs: specs})
				if err != nil {
					t.Fatalf("%s, %d zones, %d specs: %v", vpc, zones, n, err)
				}
				for _, s := range got {
					if mask(s.CidrBlock) <= vm {
						t.Errorf("%s, %d zones, %d specs: %v is not smaller than the VPC", vpc, zones, n, s)
					}
				}
			}
		}
	}
}

// "explicit subnet layouts / should produce specified subnets": every spec gives its
// cidrBlocks, one per zone; they are used as given, zone by zone.
func TestAwsxExplicitBlocksAreUsedAsGiven(t *testing.T) {
	got, err := Layout("vpcName", LayoutArgs{CidrBlock: "10.0.0.0/16", Zones: []string{"us-east-1a", "us-east-1b"}, Strategy: "Auto",
		Specs: []SubnetSpec{
			{Type: "Public", CidrBlocks: []string{"10.0.0.0/18", "10.0.64.0/19"}},
			{Type: "Private", CidrBlocks: []string{"10.0.96.0/19", "10.0.128.0/20"}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	w := []want{{"vpcName-public-1", "us-east-1a", "10.0.0.0/18"}, {"vpcName-private-1", "us-east-1a", "10.0.96.0/19"},
		{"vpcName-public-2", "us-east-1b", "10.0.64.0/19"}, {"vpcName-private-2", "us-east-1b", "10.0.128.0/20"}}
	if !same(blocks(t, got), w) {
		t.Errorf("got %v", blocks(t, got))
	}
}

// "validating and normalizing inputs", with awsx's messages.
func TestAwsxRefusesInconsistentSpecs(t *testing.T) {
	for _, c := range []struct {
		name  string
		zones int
		specs []SubnetSpec
		want  string
	}{
		{"invalid size", 1, []SubnetSpec{{Type: "Public", Size: ptr(100)}}, "The following subnet sizes are invalid: 100. Valid sizes are: "},
		{"size and mask disagree", 1, []SubnetSpec{{Type: "Public", Size: ptr(4096), CidrMask: ptr(21)}},
			"Subnet size 4096 does not match the expected size for a /21 subnet (2048)."},
		{"block count", 2, []SubnetSpec{{Type: "Public", CidrBlocks: []string{"10.0.0.0/16"}}},
			"The number of CIDR blocks in subnetSpecs[0] must match the number of availability zones (2)."},
		{"partial blocks", 1, []SubnetSpec{{Type: "Public", CidrBlocks: []string{"10.0.0.0/16"}}, {Type: "Private"}},
			"If any subnet spec has explicit cidrBlocks, all subnets must have explicit cidrBlocks."},
		{"blocks and mask disagree", 1, []SubnetSpec{{Type: "Public", CidrBlocks: []string{"10.0.0.0/16"}, CidrMask: ptr(17)}},
			"The cidrMask in subnetSpecs[0] must match all cidrBlocks or be left undefined."},
		{"blocks and size disagree", 1, []SubnetSpec{{Type: "Public", CidrBlocks: []string{"10.0.0.0/16"}, Size: ptr(1024)}},
			"The size in subnetSpecs[0] must match all cidrBlocks or be left undefined."},
	} {
		zones := []string{"us-east-1a", "us-east-1b"}[:c.zones]
		_, err := Layout("vpcName", LayoutArgs{CidrBlock: "10.0.0.0/16", Zones: zones, Strategy: "Auto", NAT: "None", Specs: c.specs})
		if err == nil || !strings.HasPrefix(err.Error(), "Invalid subnet specifications:\n - ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	// "allows all argument to be in agreement".
	if _, err := Layout("vpcName", LayoutArgs{CidrBlock: "10.0.0.0/16", Zones: []string{"a", "b"}, Strategy: "Auto", NAT: "None",
		Specs: []SubnetSpec{
			{Type: "Public", CidrBlocks: []string{"10.0.0.0/20", "10.0.16.0/20"}, Size: ptr(4096), CidrMask: ptr(20)},
			{Type: "Public", Name: ptr("second"), CidrBlocks: []string{"10.0.32.0/21", "10.0.40.0/21"}, Size: ptr(2048), CidrMask: ptr(21)},
		}}); err != nil {
		t.Error(err)
	}
	// "allows size only": a size stands for its mask.
	got, err := Layout("vpcName", LayoutArgs{CidrBlock: "10.0.0.0/16", Zones: []string{"a"}, Strategy: "Auto", NAT: "None",
		Specs: []SubnetSpec{{Type: "Public", Size: ptr(1024)}}})
	if err != nil || got[0].CidrBlock != "10.0.0.0/22" {
		t.Errorf("size only: %v %v", got, err)
	}
}

// validateSubnets (vpc.ts): overlapping explicit blocks are refused before anything is created,
// every overlapping subnet listed. awsx does not check that explicit blocks lie in the VPC:
// EC2 does (InvalidSubnet.Range, cloud.CheckSubnetBlock).
func TestAwsxRefusesOverlappingBlocks(t *testing.T) {
	_, err := Layout("vpc", LayoutArgs{CidrBlock: "10.0.0.0/16", Zones: []string{"us-east-1a", "us-east-1b"}, Strategy: "Auto", NAT: "None",
		Specs: []SubnetSpec{
			{Type: "Isolated", CidrBlocks: []string{"10.0.0.0/24", "10.0.1.0/24"}},
			{Type: "Public", CidrBlocks: []string{"10.0.0.128/25", "10.0.2.0/24"}},
		}})
	want := "The following subnets overlap with at least one other subnet. Make the CIDR for the VPC larger, reduce the size of the subnets per AZ, or use less Availability Zones:\n\n" +
		"1. vpc-isolated-1: 10.0.0.0/24\n2. vpc-public-1: 10.0.0.128/25\n"
	if err == nil || err.Error() != want {
		t.Errorf("got %v", err)
	}
	if _, err := Layout("vpc", LayoutArgs{CidrBlock: "10.0.0.0/16", Zones: []string{"us-east-1a"}, Strategy: "Auto", NAT: "None",
		Specs: []SubnetSpec{{Type: "Isolated", CidrBlocks: []string{"10.9.0.0/24"}}}}); err != nil {
		t.Errorf("a block outside the VPC passes awsx: %v", err)
	}
}

// Derived (not in awsx's tests): the layouts of the program's options, by the rule above,
// to show what moves when the zone or spec count changes.
func TestAwsxProgramLayoutsDerived(t *testing.T) {
	zones := []string{"us-east-1a", "us-east-1b"}
	for _, c := range []struct {
		name  string
		zones []string
		specs []SubnetSpec
		nat   string
		want  []want
	}{
		{"isolated, 2 zones", zones, []SubnetSpec{{Type: "Isolated"}}, "None",
			[]want{{"n-isolated-1", "us-east-1a", "10.0.0.0/17"}, {"n-isolated-2", "us-east-1b", "10.0.128.0/17"}}},
		{"isolated, 3 zones", append(zones, "us-east-1c"), []SubnetSpec{{Type: "Isolated"}}, "None",
			[]want{{"n-isolated-1", "us-east-1a", "10.0.0.0/18"}, {"n-isolated-2", "us-east-1b", "10.0.64.0/18"}, {"n-isolated-3", "us-east-1c", "10.0.128.0/18"}}},
		{"public then private", zones, []SubnetSpec{{Type: "Public"}, {Type: "Private"}}, "Single",
			[]want{{"n-public-1", "us-east-1a", "10.0.0.0/18"}, {"n-private-1", "us-east-1a", "10.0.64.0/18"},
				{"n-public-2", "us-east-1b", "10.0.128.0/18"}, {"n-private-2", "us-east-1b", "10.0.192.0/18"}}},
		{"private then public", zones, []SubnetSpec{{Type: "Private"}, {Type: "Public"}}, "OnePerAz",
			[]want{{"n-private-1", "us-east-1a", "10.0.0.0/18"}, {"n-public-1", "us-east-1a", "10.0.64.0/18"},
				{"n-private-2", "us-east-1b", "10.0.128.0/18"}, {"n-public-2", "us-east-1b", "10.0.192.0/18"}}},
	} {
		got, err := Layout("n", LayoutArgs{CidrBlock: "10.0.0.0/16", Zones: c.zones, Strategy: "Auto", NAT: c.nat, Specs: c.specs})
		if err != nil || !same(blocks(t, got), c.want) {
			t.Errorf("%s: %v %v", c.name, blocks(t, got), err)
		}
	}
}

// vpc.ts's other checks: the NAT strategy needs public and private subnets; Legacy (awsx's
// default) and Exact are not modelled.
func TestAwsxStrategyChecks(t *testing.T) {
	iso := []SubnetSpec{{Type: "Isolated"}}
	if _, err := Layout("n", LayoutArgs{Zones: []string{"a"}, Strategy: "Auto", Specs: iso}); err == nil ||
		!strings.HasPrefix(err.Error(), "If NAT Gateway strategy is 'OnePerAz' or 'Single', both private and public subnets must be declared.") {
		t.Errorf("the default strategy OnePerAz with isolated subnets only: %v", err)
	}
	if _, err := Layout("n", LayoutArgs{Zones: []string{"a"}, Strategy: "Auto", Specs: iso, NAT: "Two"}); err == nil || err.Error() != "Unknown NatGatewayStrategy 'Two'" {
		t.Errorf("unknown NAT strategy: %v", err)
	}
	for _, s := range []string{"", "Legacy", "Exact"} {
		if _, err := Layout("n", LayoutArgs{Zones: []string{"a"}, Strategy: s, Specs: iso, NAT: "None"}); err == nil || !strings.Contains(err.Error(), "models subnetStrategy Auto only") {
			t.Errorf("strategy %q: %v", s, err)
		}
	}
}

// compareSubnetSpecs: each zone's subnets are created public, private, isolated, whatever the
// spec order; Unused ones are laid out, never created.
func TestAwsxCreationOrder(t *testing.T) {
	got, err := Layout("n", LayoutArgs{Zones: []string{"a", "b"}, Strategy: "Auto", NAT: "Single",
		Specs: []SubnetSpec{{Type: "Isolated"}, {Type: "Unused"}, {Type: "Private"}, {Type: "Public"}}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range CreationOrder(got, 2) {
		names = append(names, s.Name)
	}
	if w := "n-public-1 n-private-1 n-isolated-1 n-public-2 n-private-2 n-isolated-2"; strings.Join(names, " ") != w {
		t.Errorf("got %v", names)
	}
}
