package infra

import (
	"fmt"
	"net/netip"
)

var privateRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("100.64.0.0/10"),
}

func vpcCidrProblem(cidr string) string {
	prefix, err := netip.ParsePrefix(cidr)
	if err != nil || !prefix.Addr().Is4() {
		return "must be an IPv4 CIDR block such as 10.0.0.0/16"
	}
	if prefix.Masked() != prefix {
		return fmt.Sprintf("has host bits set; did you mean %s?", prefix.Masked())
	}
	if prefix.Bits() < 16 || prefix.Bits() > widestLayoutVPC {
		return fmt.Sprintf("must have a prefix length from /16 (AWS's largest VPC) to /%d (the subnet layout cuts it into %d slots, "+
			"and AWS's smallest subnet is a /%d)", widestLayoutVPC, 1<<slotBits, smallestSubnet)
	}
	for _, r := range privateRanges {
		if r.Contains(prefix.Addr()) && prefix.Bits() >= r.Bits() {
			return ""
		}
	}
	return "must lie in a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10)"
}

func adminCIDRProblem(cidr string) string {
	prefix, err := netip.ParsePrefix(cidr)
	switch {
	case err != nil || !prefix.Addr().Is4():
		return "must be an IPv4 CIDR block such as 10.20.0.0/16 (a bastion's or VPN's)"
	case prefix.Masked() != prefix:
		return fmt.Sprintf("has host bits set; did you mean %s?", prefix.Masked())
	case prefix.Bits() < 8:
		return "opens the private broker far too wide; name your bastion's or VPN's block (networkMode public is the option for a broker open to the internet)"
	}
	return ""
}
