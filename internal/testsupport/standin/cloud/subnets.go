package cloud

import (
	"fmt"
	"net/netip"
)

// CheckSubnetBlock is what EC2 CreateSubnet checks of a new subnet's IPv4 block in the VPC
// vpcID, in the "<Code>: <message>" form of standin.Errorf:
//
//   - the block is /16 to /28 (Amazon VPC User Guide, "Subnet CIDR blocks": "The allowed
//     block size is between a /28 netmask and /16 netmask") and inside the VPC's block:
//     otherwise InvalidSubnet.Range (EC2 API Reference, "Error codes for the Amazon EC2 API":
//     "The CIDR block you've specified for the subnet is not within the CIDR range of the
//     VPC"); a block with host bits set is refused alike (the stand-in's choice, not sourced);
//   - it overlaps no subnet of the VPC, the old one of a replacement included (Pulumi creates
//     the replacement first): otherwise InvalidSubnet.Conflict (same page: "The specified CIDR
//     block conflicts with that of another subnet in your VPC"), with the message AWS returns
//     ("The CIDR '10.0.0.0/24' conflicts with another subnet", as the Terraform provider
//     reports it).
//
// The VPC's secondary blocks are not modelled: a VPC has the one block it was created with.
func CheckSubnetBlock(st *State, vpcID, block string) error {
	vpc := st.Get(vpcID)
	if vpc == nil {
		return fmt.Errorf("InvalidVpcID.NotFound: The vpc ID '%s' does not exist", vpcID)
	}
	vpcBlock, err := netip.ParsePrefix(vpc.Str("cidrBlock"))
	if err != nil {
		return fmt.Errorf("the stand-in VPC %s has no readable cidrBlock %q", vpcID, vpc.Str("cidrBlock"))
	}
	p, err := netip.ParsePrefix(block)
	if err != nil || !p.Addr().Is4() || p != p.Masked() || p.Bits() < 16 || p.Bits() > 28 ||
		p.Bits() < vpcBlock.Bits() || !vpcBlock.Contains(p.Addr()) {
		return fmt.Errorf("InvalidSubnet.Range: The CIDR '%s' is invalid.", block) //nolint:revive,staticcheck // AWS's own text
	}
	for _, other := range st.Find(TypeSubnet, func(r *Resource) bool { return r.Str("vpcId") == vpcID }) {
		if o, err := netip.ParsePrefix(other.Str("cidrBlock")); err == nil && o.Overlaps(p) {
			return fmt.Errorf("InvalidSubnet.Conflict: The CIDR '%s' conflicts with another subnet", block)
		}
	}
	return nil
}
