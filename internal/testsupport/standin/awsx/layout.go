package awsx

// The subnet layout of awsx:ec2:Vpc, as pulumi-awsx v2.22.0 decides and validates it. Sources,
// read at the versions stored in the public index (see internal/testsupport/standin/BEHAVIOURS.md for
// how they were tied to the v2.22.0 tag):
//
//   - awsx/ec2/subnetDistributorNew.ts (commit 666894cd): validateAndNormalizeSubnetInputs,
//     allocateSubnetCidrBlocks ("Auto"), getSubnetSpecsExplicit (every spec gives cidrBlocks),
//     defaultSubnetInputs, nextNetmask, newBits, subnetName;
//   - awsx/ec2/vpc.ts (commit 01c654f2): initialize's defaults, pickSubnetAllocator,
//     validateSubnets/getOverlappingSubnets, validateNatGatewayStrategy, validateEips,
//     compareSubnetSpecs.
//
// Nothing here is taken from what the program expects.

import (
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
	"strings"
)

// SubnetSpec is one entry of the Vpc's subnetSpecs input (awsx's SubnetSpecInputs).
type SubnetSpec struct {
	Type       string            `pulumi:"type"`
	Name       *string           `pulumi:"name"`
	CidrMask   *int              `pulumi:"cidrMask"`
	Size       *int              `pulumi:"size"`
	CidrBlocks []string          `pulumi:"cidrBlocks"`
	Tags       map[string]string `pulumi:"tags"`
}

// LayoutArgs are the inputs the layout depends on.
type LayoutArgs struct {
	// CidrBlock is the VPC's block (awsx's default: 10.0.0.0/16).
	CidrBlock string
	// Zones are availabilityZoneNames.
	Zones []string
	// Strategy is subnetStrategy ("" stands for awsx's default, Legacy).
	Strategy string
	// Specs are subnetSpecs; nil when the input is absent.
	Specs []SubnetSpec
	// AZCidrMask is availabilityZoneCidrMask.
	AZCidrMask *int
	// NAT is natGateways.strategy ("" stands for awsx's default, OnePerAz).
	NAT string
}

// Subnet is one subnet of the layout (awsx's SubnetSpec): spec entries of type Unused are
// laid out and validated like the others, and never created.
type Subnet struct {
	Name      string
	Type      string
	Zone      string
	ZoneIndex int
	CidrBlock string
	Tags      map[string]string
}

// Defaults of vpc.ts initialize (v2.22.0).
const (
	DefaultCidrBlock      = "10.0.0.0/16" // decideCidrBlockVpcInput: "Historically this default was used"
	DefaultSubnetStrategy = "Legacy"      // args.subnetStrategy ?? "Legacy"
	DefaultNATStrategy    = "OnePerAz"    // args.natGateways?.strategy ?? "OnePerAz"
)

var subnetTypes = []string{"Public", "Private", "Isolated", "Unused"} // SubnetTypeInputs

// Layout decides and validates the subnets of a Vpc named vpcName, in awsx's order (zone by
// zone, spec by spec), or fails with awsx's own error text. It models subnetStrategy Auto,
// with or without explicit cidrBlocks; Legacy (awsx's default) and Exact are refused as not
// modelled.
func Layout(vpcName string, a LayoutArgs) ([]Subnet, error) {
	nat := a.NAT
	if nat == "" {
		nat = DefaultNATStrategy
	}
	// validateEips, with no elasticIpAllocationIds (the stand-in does not accept them).
	if !slices.Contains([]string{"none", "single", "oneperaz"}, strings.ToLower(nat)) {
		return nil, fmt.Errorf("Unknown NatGatewayStrategy '%s'", nat) //nolint:revive,staticcheck // awsx's own text, as the user of awsx sees it
	}
	strategy := a.Strategy
	if strategy == "" {
		strategy = DefaultSubnetStrategy
	}
	if strategy != "Auto" {
		return nil, fmt.Errorf("the stand-in awsx %s models subnetStrategy Auto only, not %s (awsx's default is %s)", Version, strategy, DefaultSubnetStrategy)
	}
	if len(a.Zones) == 0 {
		return nil, fmt.Errorf("the stand-in awsx needs availabilityZoneNames (numberOfAvailabilityZones asks the region, which it does not model)")
	}
	for _, s := range a.Specs {
		if !slices.Contains(subnetTypes, s.Type) {
			return nil, fmt.Errorf("the stand-in awsx does not model subnet type %q", s.Type)
		}
	}
	cidr := a.CidrBlock
	if cidr == "" {
		cidr = DefaultCidrBlock
	}
	vpc, err := parseBlock(cidr)
	if err != nil {
		return nil, err
	}

	specs, explicit, err := normalize(a.Specs, len(a.Zones))
	if err != nil {
		return nil, err
	}
	// pickSubnetAllocator: no specs or specs without cidrBlocks → the new allocator; every
	// spec with cidrBlocks → the explicit one (Auto and Exact alike; only Legacy ignores it).
	var subnets []Subnet
	if explicit {
		subnets, err = explicitLayout(vpcName, a.Zones, specs)
	} else {
		subnets, err = autoLayout(vpcName, vpc, a.Zones, specs, a.AZCidrMask)
	}
	if err != nil {
		return nil, err
	}
	if err := validateOverlaps(subnets); err != nil {
		return nil, err
	}
	if err := validateNAT(nat, subnets); err != nil {
		return nil, err
	}
	return subnets, nil
}

// validSubnetSizes[mask] is the number of addresses of a /mask block.
func validSize(size int) (mask int, ok bool) {
	for m := 0; m <= 30; m++ {
		if size == 1<<(32-m) {
			return m, true
		}
	}
	return -1, false
}

func validSizesText() string {
	var s []string
	for m := 0; m <= 30; m++ {
		s = append(s, fmt.Sprint(uint64(1)<<(32-m)))
	}
	return strings.Join(s, ", ")
}

// normalize is validateAndNormalizeSubnetInputs: sizes must be powers of two awsx knows;
// cidrBlocks on one spec means on all, one per zone, agreeing with any cidrMask and size;
// otherwise cidrMask and size must agree and each fills in the other.
func normalize(in []SubnetSpec, zones int) ([]SubnetSpec, bool, error) {
	if in == nil {
		return nil, false, nil
	}
	var issues []string
	var invalid []string
	for _, s := range in {
		if s.Size != nil {
			if _, ok := validSize(*s.Size); !ok {
				invalid = append(invalid, fmt.Sprint(*s.Size))
			}
		}
	}
	if len(invalid) > 0 {
		issues = append(issues, fmt.Sprintf("The following subnet sizes are invalid: %s. Valid sizes are: %s.", strings.Join(invalid, ", "), validSizesText()))
	}
	explicit := slices.ContainsFunc(in, func(s SubnetSpec) bool { return s.CidrBlocks != nil })
	out := make([]SubnetSpec, 0, len(in))
	if explicit {
		for i, s := range in {
			if s.CidrBlocks == nil {
				issues = append(issues, "If any subnet spec has explicit cidrBlocks, all subnets must have explicit cidrBlocks.")
				continue
			}
			if len(s.CidrBlocks) != zones {
				issues = append(issues, fmt.Sprintf("The number of CIDR blocks in subnetSpecs[%d] must match the number of availability zones (%d).", i, zones))
				continue
			}
			var blocks []netip.Prefix
			for _, b := range s.CidrBlocks {
				p, err := parseBlock(b)
				if err != nil {
					return nil, false, err
				}
				blocks = append(blocks, p)
			}
			if s.CidrMask != nil && slices.ContainsFunc(blocks, func(p netip.Prefix) bool { return p.Bits() != *s.CidrMask }) {
				issues = append(issues, fmt.Sprintf("The cidrMask in subnetSpecs[%d] must match all cidrBlocks or be left undefined.", i))
				continue
			}
			if s.Size != nil && slices.ContainsFunc(blocks, func(p netip.Prefix) bool { return 1<<(32-p.Bits()) != *s.Size }) {
				issues = append(issues, fmt.Sprintf("The size in subnetSpecs[%d] must match all cidrBlocks or be left undefined.", i))
				continue
			}
			out = append(out, s)
		}
	} else {
		for _, s := range in {
			mask := s.CidrMask
			if mask == nil && s.Size != nil {
				m, _ := validSize(*s.Size)
				mask = &m
			}
			// awsx tests the mask for truthiness: a /0 mask counts as none.
			if mask != nil && *mask > 0 && *mask <= 30 {
				expected := 1 << (32 - *mask)
				if s.Size != nil && *s.Size != expected {
					issues = append(issues, fmt.Sprintf("Subnet size %d does not match the expected size for a /%d subnet (%d).", *s.Size, *mask, expected))
				}
				s.Size = &expected
			}
			s.CidrMask = mask
			out = append(out, s)
		}
	}
	if len(issues) > 0 {
		return nil, false, fmt.Errorf("Invalid subnet specifications:\n - %s", strings.Join(issues, "\n - ")) //nolint:revive,staticcheck // awsx's own text, as the user of awsx sees it
	}
	return out, explicit, nil
}

// subnetName is awsx's name of a spec's subnet in the zone numbered azNum (from 1): it names
// the subnet and, after it, its route table, association and route.
func subnetName(vpcName string, s SubnetSpec, azNum int) string {
	name := strings.ToLower(s.Type)
	if s.Name != nil {
		name = *s.Name
	}
	return fmt.Sprintf("%s-%s-%d", vpcName, name, azNum)
}

// explicitLayout is getSubnetSpecsExplicit: each spec's cidrBlocks[zone] as given, zone by
// zone; nothing checks that they lie in the VPC or in their zone's share of it.
func explicitLayout(vpcName string, zones []string, specs []SubnetSpec) ([]Subnet, error) {
	var out []Subnet
	for zi, zone := range zones {
		for _, s := range specs {
			out = append(out, Subnet{Name: subnetName(vpcName, s, zi+1), Type: s.Type, Zone: zone, ZoneIndex: zi,
				CidrBlock: s.CidrBlocks[zi], Tags: s.Tags})
		}
	}
	return out, nil
}

// newBits is ceil(log2(count)), 0 for 0 or 1.
func newBits(count int) int {
	if count <= 1 {
		return 0
	}
	return bits.Len(uint(count - 1))
}

// defaultSpecs is defaultSubnetInputs: with no subnetSpecs, a private subnet of half the zone
// and a public one of a quarter (at most a /17 and a /18), zones no smaller than /26.
func defaultSpecs(azBits int) ([]SubnetSpec, error) {
	if azBits > 26 {
		return nil, fmt.Errorf("Automatic subnet creation requires a VPC with at least /26 available per AZ, but only /%d is available.If you do need very small subnets, please specify them explicitly.", azBits) //nolint:revive,staticcheck // awsx's own text, as the user of awsx sees it
	}
	base := max(azBits, 16)
	private, public := base+1, base+2
	return []SubnetSpec{{Type: "Private", CidrMask: &private}, {Type: "Public", CidrMask: &public}}, nil
}

// autoLayout is allocateSubnetCidrBlocks (subnetStrategy Auto without cidrBlocks): the VPC is
// cut into zone blocks of availabilityZoneCidrMask bits (default: the VPC's prefix +
// newBits(zones)), laid one after the other from the VPC's base; in each zone block the specs
// are laid in the order given, each of cidrMask bits (default: the zone's prefix +
// newBits(specs)), each after the previous one (nextNetmask: a wider block starts at the next
// boundary of its own size). Only the total size is checked against the zone's.
func autoLayout(vpcName string, vpc netip.Prefix, zones []string, in []SubnetSpec, azMask *int) ([]Subnet, error) {
	azBits := vpc.Bits() + newBits(len(zones))
	if azMask != nil {
		azBits = *azMask
	}
	specs := in
	if specs == nil {
		var err error
		if specs, err = defaultSpecs(azBits); err != nil {
			return nil, err
		}
	}
	if len(specs) == 0 {
		return nil, fmt.Errorf("No subnets specified") //nolint:revive,staticcheck // awsx's own text, as the user of awsx sees it
	}
	defaultMask := azBits + newBits(len(specs))
	maskOf := func(s SubnetSpec) int {
		if s.CidrMask != nil {
			return *s.CidrMask
		}
		return defaultMask
	}
	for _, m := range append([]int{azBits}, mapSlice(specs, maskOf)...) {
		if m < 0 || m > 32 {
			return nil, fmt.Errorf("the stand-in awsx cannot lay out a /%d block (netmask: Invalid mask)", m)
		}
	}
	azSize := uint64(1) << (32 - azBits)
	var total uint64
	for _, s := range specs {
		total += uint64(1) << (32 - maskOf(s))
	}
	if total > azSize {
		return nil, fmt.Errorf("Subnets are too large for VPC. VPC has %d addresses, but subnets require %d addresses.", azSize, total) //nolint:revive,staticcheck // awsx's own text, as the user of awsx sees it
	}
	azBase := uint64(addr32(vpc.Masked().Addr())) &^ (azSize - 1)
	var out []Subnet
	for zi, zone := range zones {
		var cur uint64
		var curSize uint64
		for si, s := range specs {
			mask := maskOf(s)
			size := uint64(1) << (32 - mask)
			if si == 0 {
				cur = azBase &^ (size - 1)
			} else {
				last := cur + curSize - 1
				cur = (last &^ (size - 1)) + size
			}
			curSize = size
			if cur+size > 1<<32 {
				return nil, fmt.Errorf("the stand-in awsx: subnet %s runs past 255.255.255.255", subnetName(vpcName, s, zi+1))
			}
			p := netip.PrefixFrom(addrOf(uint32(cur)), mask) //nolint:gosec // G115: cur is an IPv4 address, below 2^32
			out = append(out, Subnet{Name: subnetName(vpcName, s, zi+1), Type: s.Type, Zone: zone, ZoneIndex: zi,
				CidrBlock: p.String(), Tags: s.Tags})
		}
		azBase += azSize
	}
	return out, nil
}

// validateOverlaps is validateSubnets with getOverlappingSubnets: every subnet of the layout
// (all zones, Unused ones included) that shares addresses with another.
func validateOverlaps(subnets []Subnet) error {
	var msg strings.Builder
	n := 0
	for i, s := range subnets {
		p, err := parseBlock(s.CidrBlock)
		if err != nil {
			return err
		}
		for j, o := range subnets {
			q, err := parseBlock(o.CidrBlock)
			if err != nil {
				return err
			}
			if i != j && p.Overlaps(q) {
				n++
				fmt.Fprintf(&msg, "%d. %s: %s\n", n, s.Name, s.CidrBlock)
				break
			}
		}
	}
	if n == 0 {
		return nil
	}
	return fmt.Errorf("The following subnets overlap with at least one other subnet. Make the CIDR for the VPC larger, reduce the size of the subnets per AZ, or use less Availability Zones:\n\n%s", msg.String()) //nolint:revive,staticcheck // awsx's own text, as the user of awsx sees it
}

// validateNAT is validateNatGatewayStrategy: a NAT gateway needs a public subnet to sit in and
// a private one to serve.
func validateNAT(nat string, subnets []Subnet) error {
	switch strings.ToLower(nat) {
	case "oneperaz", "single":
		hasType := func(t string) bool {
			return slices.ContainsFunc(subnets, func(s Subnet) bool { return strings.EqualFold(s.Type, t) })
		}
		if hasType("public") && hasType("private") {
			return nil
		}
		return fmt.Errorf("If NAT Gateway strategy is 'OnePerAz' or 'Single', both private and public subnets must be declared. The private subnet creates the need for a NAT Gateway, and the public subnet is required to host the NAT Gateway resource.") //nolint:revive,staticcheck // awsx's own text, as the user of awsx sees it
	case "none":
		return nil
	}
	return fmt.Errorf("Unknown NAT Gateway strategy '%s'", nat) //nolint:revive,staticcheck // awsx's own text, as the user of awsx sees it
}

// typeRank is compareSubnetSpecs: public first, then private, isolated last.
func typeRank(t string) int {
	switch strings.ToLower(t) {
	case "public":
		return 0
	case "private":
		return 1
	}
	return 2
}

// CreationOrder is the order vpc.ts creates the layout's subnets in: zone by zone, Unused
// ones left out, each zone's sorted public, private, isolated (a stable sort: specs of one
// type keep their order). The first public subnet of a zone hosts its NAT gateway.
func CreationOrder(subnets []Subnet, zones int) []Subnet {
	var out []Subnet
	for zi := range zones {
		var zone []Subnet
		for _, s := range subnets {
			if s.ZoneIndex == zi && s.Type != "Unused" {
				zone = append(zone, s)
			}
		}
		slices.SortStableFunc(zone, func(a, b Subnet) int { return typeRank(a.Type) - typeRank(b.Type) })
		out = append(out, zone...)
	}
	return out
}

// parseBlock reads a CIDR block. awsx hands explicit blocks to EC2 as written; a block with
// host bits set is something the stand-in does not model.
func parseBlock(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("the stand-in awsx cannot read the IPv4 CIDR block %q", s)
	}
	if p != p.Masked() {
		return netip.Prefix{}, fmt.Errorf("the stand-in awsx does not model the CIDR block %q, whose host bits are set", s)
	}
	return p, nil
}

func addr32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func addrOf(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}) //nolint:gosec // G115: the four bytes of v, shifted down
}

func mapSlice[T, U any](in []T, f func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}
