package infra

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// The subnet layout of a new VPC. awsx's Auto allocator derives every subnet's block from the
// number of zones and of subnet specs (awsx/ec2/subnetDistributorNew.ts, v2.22.0): a third zone
// or a second tier moves every subnet, and EC2 refuses the moved subnet while the old one still
// exists (InvalidSubnet.Conflict; Pulumi creates a replacement before deleting). So the program
// gives awsx every block itself (explicit cidrBlocks): a subnet that exists keeps its block, and
// a new one takes a slot that depends only on its tier and its zone's place.

// The slot grid: the VPC's block is cut into 32 equal slots, 8 per tier (a zone's place, up to
// maxZones, picks one), in the order Public, Private, Isolated (the fourth quarter is spare).
const (
	zoneSlotBits = 3
	tierSlotBits = 2
	slotBits     = zoneSlotBits + tierSlotBits
	// smallestSubnet is the longest prefix AWS accepts for a subnet.
	smallestSubnet = 28
	// widestLayoutVPC is the longest VPC prefix whose slots are still valid subnets (/23 → /28).
	widestLayoutVPC = smallestSubnet - slotBits
)

// tierSlot is a tier's quarter of the grid.
var tierSlot = map[SubnetTier]int{TierPublic: 0, TierPrivate: 1, TierIsolated: 2}

// FoundSubnet is a subnet of the stack's VPC as the account holds it.
type FoundSubnet struct {
	ID, Zone, CIDR string
	// Tier and Index are read from the name awsx gave it (<vpc>-<tier>-<n>); empty and 0 for a
	// subnet that is not the stack's.
	Tier  SubnetTier
	Index int
}

// FoundNetwork is the stack's VPC as an earlier up left it, or nil before the first.
type FoundNetwork struct {
	VpcID, CIDR string
	// Subnets are every subnet of the VPC: the stack's (with a tier) and any other.
	Subnets []FoundSubnet
}

// Zones are the zones the stack's subnets are in, by their place (Index 1 first); "" where no
// subnet has that place.
func (f *FoundNetwork) Zones() []string {
	var zones []string
	for _, s := range f.Subnets {
		if s.Tier == "" || s.Index < 1 {
			continue
		}
		for len(zones) < s.Index {
			zones = append(zones, "")
		}
		if zones[s.Index-1] == "" {
			zones[s.Index-1] = s.Zone
		}
	}
	return zones
}

// pinZones keeps the zones the stack's subnets are in, in their places, and fills the places
// still needed from candidates (the zones that offer what the option needs, in the region's
// order): a zone that changes state or gains a service later moves nothing. It returns the
// zones and how many more the stack asked for than the candidates could give.
func pinZones(found []string, want int, candidates []string) ([]string, int) {
	zones := slices.Clone(found)
	if len(zones) > want {
		zones = zones[:want]
	}
	next := slices.DeleteFunc(slices.Clone(candidates), func(z string) bool { return slices.Contains(found, z) })
	for i := range zones {
		if zones[i] == "" && len(next) > 0 {
			zones[i], next = next[0], next[1:]
		}
	}
	for len(zones) < want && len(next) > 0 {
		zones, next = append(zones, next[0]), next[1:]
	}
	zones = slices.DeleteFunc(zones, func(z string) bool { return z == "" })
	return zones, want - len(zones)
}

// SubnetLayout gives, per tier, the block of the tier's subnet in each zone, in the zones' order.
type SubnetLayout map[SubnetTier][]string

// layOutSubnets places a subnet per tier in each zone of a VPC with the block vpcCIDR. Where the
// VPC exists with that block (found), its subnets keep their blocks, and a new subnet takes its
// slot, or the first free slot of the grid if an older layout holds that one. It fails, saying
// which subnets are in the way, when no slot is free: a subnet cannot be moved or resized in
// place.
func layOutSubnets(vpcCIDR string, tiers []SubnetTier, zones []string, found *FoundNetwork) (SubnetLayout, error) {
	vpc, err := netip.ParsePrefix(vpcCIDR)
	if err != nil {
		return nil, fmt.Errorf("vpcCidr %q: %w", vpcCIDR, err)
	}
	if found != nil && found.CIDR != vpc.String() {
		// A new block replaces the VPC, and every subnet with it: nothing is in the way.
		found = nil
	}
	var taken []netip.Prefix
	kept := map[string]string{} // tier/zone → block
	if found != nil {
		for _, s := range found.Subnets {
			p, err := netip.ParsePrefix(s.CIDR)
			if err != nil {
				return nil, fmt.Errorf("subnet %s of %s has the block %q: %w", s.ID, found.VpcID, s.CIDR, err)
			}
			taken = append(taken, p)
			if s.Tier != "" {
				kept[string(s.Tier)+"/"+s.Zone] = s.CIDR
			}
		}
	}

	layout := SubnetLayout{}
	var blocked []string
	for _, tier := range tiers {
		for i, zone := range zones {
			if block, ok := kept[string(tier)+"/"+zone]; ok {
				layout[tier] = append(layout[tier], block)
				continue
			}
			block, ok := freeSlot(vpc, tierSlot[tier]<<zoneSlotBits|i, taken)
			if !ok {
				blocked = append(blocked, fmt.Sprintf("%s in %s", strings.ToLower(string(tier)), zone))
				continue
			}
			taken = append(taken, block)
			layout[tier] = append(layout[tier], block.String())
		}
	}
	if len(blocked) > 0 {
		var held []string
		for _, s := range found.Subnets {
			held = append(held, s.CIDR)
		}
		return nil, fmt.Errorf("no room in %s (vpcCidr %s) for the new subnets (%s): its subnets %s hold the space — laid out "+
			"before this version as awsx's Auto strategy does — and a subnet cannot be moved or resized in place (EC2 refuses a "+
			"subnet that overlaps another). Keep the settings that need them as they were, or set vpcCidr to another block in "+
			"the same change: the VPC and everything in it, the broker included, are then replaced (drain the queue first)",
			found.VpcID, vpc, strings.Join(blocked, ", "), strings.Join(held, ", "))
	}
	return layout, nil
}

// freeSlot returns the grid's slot number want if it overlaps nothing taken, else the first
// free slot of the grid.
func freeSlot(vpc netip.Prefix, want int, taken []netip.Prefix) (netip.Prefix, bool) {
	free := func(p netip.Prefix) bool {
		return !slices.ContainsFunc(taken, func(t netip.Prefix) bool { return t.Overlaps(p) })
	}
	if p := slot(vpc, want); free(p) {
		return p, true
	}
	for n := range 1 << slotBits {
		if p := slot(vpc, n); free(p) {
			return p, true
		}
	}
	return netip.Prefix{}, false
}

// slot is the n-th of the grid's 32 blocks of vpc.
func slot(vpc netip.Prefix, n int) netip.Prefix {
	bits := vpc.Bits() + slotBits
	base := vpc.Masked().Addr().As4()
	v := binary.BigEndian.Uint32(base[:]) + uint32(n%(1<<slotBits))<<(32-bits) //nolint:gosec // G115: n%32 fits
	binary.BigEndian.PutUint32(base[:], v)
	return netip.PrefixFrom(netip.AddrFrom4(base), bits)
}

// keptSubnets are the ids of the tier's subnets in the first n zones, where each exists already
// with the block the layout keeps; nil where one is new. The broker is given these rather than
// awsx's subnet outputs, which a preview leaves unknown as a whole whenever any subnet of the
// VPC is new: an unknown subnet would show the broker replaced (its subnets force a new one).
func keptSubnets(facts Facts, vpcCIDR string, tier SubnetTier, n int) []string {
	if facts.Network == nil || facts.Network.CIDR != vpcCIDR || n > len(facts.Zones) || len(facts.Layout[tier]) < n {
		return nil
	}
	ids := make([]string, n)
	for i, zone := range facts.Zones[:n] {
		j := slices.IndexFunc(facts.Network.Subnets, func(s FoundSubnet) bool {
			return s.Tier == tier && s.Zone == zone && s.CIDR == facts.Layout[tier][i]
		})
		if j < 0 {
			return nil
		}
		ids[i] = facts.Network.Subnets[j].ID
	}
	return ids
}
