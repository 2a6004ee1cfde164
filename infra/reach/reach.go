// Package reach decides, from a model of the network, whether the Lambda event source
// mapping can reach each of the four things its poll loop needs — STS, Secrets Manager, the
// broker on 5671 and the Lambda API — and says what carries each path or which piece is
// missing. It is pure: the program runs it before registering anything, the offline plan shows
// it, and mutation tests prove it notices each missing piece.
package reach

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Route is where a subnet's default route goes.
type Route string

const (
	// RouteInternetGateway means 0.0.0.0/0 to an internet gateway — usable only by addresses with a
	// public IP, which the ESM's interfaces never have.
	RouteInternetGateway Route = "internet-gateway"
	// RouteNATGateway means 0.0.0.0/0 to a NAT gateway.
	RouteNATGateway Route = "nat-gateway"
	// RouteNone means no default route (isolated).
	RouteNone Route = "none"
	// RouteOther means 0.0.0.0/0 to something else (a transit gateway, a firewall endpoint, an
	// instance, a peering): the verifier cannot follow it to a NAT gateway, so it carries
	// nothing here unless the model states it does (Model.StatedEgress).
	RouteOther Route = "other"
)

// AllPorts in a Rule means every port (as in the default security group's rules).
const AllPorts = 0

// Rule is one security group rule: a TCP port and a peer, which is a security group id or a
// CIDR block.
type Rule struct {
	Port int
	Peer string
}

// allows says whether the rule covers port to or from peer: a group id, or a CIDR block, which
// a rule's block admits when it contains it.
func (r Rule) allows(port int, peer string) bool {
	if r.Port != AllPorts && r.Port != port {
		return false
	}
	if r.Peer == peer || r.Peer == "0.0.0.0/0" {
		return true
	}
	outer, err1 := netip.ParsePrefix(r.Peer)
	inner, err2 := netip.ParsePrefix(peer)
	return err1 == nil && err2 == nil && outer.Bits() <= inner.Bits() && outer.Contains(inner.Addr())
}

// Group is a security group with the rules that matter here.
type Group struct {
	ID      string
	Ingress []Rule
	Egress  []Rule
}

func (g Group) admits(port int, from string) bool {
	return slices.ContainsFunc(g.Ingress, func(r Rule) bool { return r.allows(port, from) })
}

func (g Group) letsOut(port int, to string) bool {
	return slices.ContainsFunc(g.Egress, func(r Rule) bool { return r.allows(port, to) })
}

// Subnet is one subnet of the broker's tier.
type Subnet struct {
	ID    string
	Zone  string
	Route Route
	// CIDR is the subnet's block, where the ESM's interfaces take their addresses: an endpoint
	// whose group admits the block admits them. Empty where it is not known yet (a VPC the
	// program builds), and then only the broker's group counts.
	CIDR string
	// RouteTable names the subnet's route table in messages ("route table rtb-…", "the VPC's
	// main route table rtb-…") and Target the default route's target (igw-…, nat-…, tgw-…);
	// both empty for a VPC the program builds.
	RouteTable, Target string
}

// Endpoint is an interface endpoint in the broker's VPC.
type Endpoint struct {
	Service    string // sts, secretsmanager, lambda
	ID         string
	PrivateDNS bool
	Group      Group
	// SubnetCIDRs are the blocks of the subnets its interfaces are in, where known: egress to
	// blocks holding them all reaches it as egress to its group does.
	SubnetCIDRs []string
}

// reachedFrom says whether group lets HTTPS out to the endpoint: to its group, or to blocks
// holding every subnet of its interfaces.
func (ep Endpoint) reachedFrom(g Group) bool {
	if g.letsOut(443, ep.Group.ID) {
		return true
	}
	return len(ep.SubnetCIDRs) > 0 && !slices.ContainsFunc(ep.SubnetCIDRs, func(c string) bool { return !g.letsOut(443, c) })
}

// Model is the network the ESM's interfaces live in.
type Model struct {
	// PublicBroker: the mapping polls from AWS's side; nothing else in the model matters.
	PublicBroker bool
	// VPCDNS: the VPC has DNS support and DNS hostnames, which private DNS needs.
	VPCDNS bool
	// VPCID and VPCDNSOff name, where the VPC is looked up rather than built, the VPC and those
	// of its attributes (enableDnsSupport, enableDnsHostnames) found off, for messages.
	VPCID     string
	VPCDNSOff []string
	// Subnets of the broker, where the ESM places its interfaces.
	Subnets []Subnet
	// Group is the broker's security group, which the ESM's interfaces carry.
	Group Group
	// Endpoints present in the VPC, by service.
	Endpoints map[string]Endpoint
	// StatedEgress, when set, names who states that a RouteOther default route reaches the
	// internet ("serviceRoute custom-egress"): such a subnet then counts as a way out, taken on
	// that word and said so, never followed.
	StatedEgress string
}

// Dependencies of the ESM's poll loop, in its order.
var Dependencies = []string{"sts", "secretsmanager", "broker", "lambda"}

// Verdict is the answer for one dependency.
type Verdict struct {
	Dependency string `json:"dependency"`
	Reachable  bool   `json:"reachable"`
	// Via says what carries the path when it is reachable.
	Via string `json:"via,omitempty"`
	// Missing lists the pieces whose absence breaks the path, each named as Piece* do.
	Missing []string `json:"missing,omitempty"`
	// Reason explains the verdict in a sentence.
	Reason string `json:"reason"`
}

// The pieces a verdict can name as missing.
const (
	PieceNATRoute     = "a NAT gateway route in the broker's subnets"
	PieceEgressRoute  = "a default route out of the VPC, other than to an internet gateway, in the broker's subnets"
	PieceSelfIngress  = "ingress on 5671 from the broker's own security group"
	PieceAMQPSEgress  = "egress on 5671 from the broker's security group to itself"
	PieceHTTPSEgress  = "egress on 443 from the broker's security group"
	PieceVPCDNS       = "DNS support and DNS hostnames on the VPC"
	pieceEndpoint     = "an interface endpoint for %s"
	piecePrivateDNS   = "private DNS on the %s endpoint"
	pieceEndpointPort = "ingress on 443 to the %s endpoint from the broker's security group or subnets"
)

// PieceEndpoint names a missing interface endpoint.
func PieceEndpoint(service string) string { return fmt.Sprintf(pieceEndpoint, service) }

// PiecePrivateDNS names an endpoint whose private DNS is off.
func PiecePrivateDNS(service string) string { return fmt.Sprintf(piecePrivateDNS, service) }

// PieceEndpointIngress names an endpoint group that does not admit the ESM.
func PieceEndpointIngress(service string) string { return fmt.Sprintf(pieceEndpointPort, service) }

// Verify returns a verdict per dependency, in Dependencies' order.
func Verify(m Model) []Verdict {
	out := make([]Verdict, 0, len(Dependencies))
	for _, dep := range Dependencies {
		switch {
		case m.PublicBroker:
			out = append(out, Verdict{Dependency: dep, Reachable: true, Via: "AWS side",
				Reason: "a public broker's mapping polls from AWS's own network over public endpoints"})
		case dep == "broker":
			out = append(out, verifyBroker(m))
		default:
			out = append(out, verifyService(m, dep))
		}
	}
	return out
}

// Unreachable returns the verdicts that fail.
func Unreachable(verdicts []Verdict) []Verdict {
	var bad []Verdict
	for _, v := range verdicts {
		if !v.Reachable {
			bad = append(bad, v)
		}
	}
	return bad
}

func verifyBroker(m Model) Verdict {
	v := Verdict{Dependency: "broker"}
	if !m.Group.admits(5671, m.Group.ID) {
		v.Missing = append(v.Missing, PieceSelfIngress)
	}
	if !m.Group.letsOut(5671, m.Group.ID) {
		v.Missing = append(v.Missing, PieceAMQPSEgress)
	}
	if len(v.Missing) > 0 {
		v.Reason = "the ESM's interfaces and the broker's endpoints carry the same security group, which must let AMQPS (5671) out to and in from itself"
		return v
	}
	v.Reachable, v.Via = true, "security group self-reference on 5671"
	v.Reason = "the broker's group admits 5671 from itself and lets it out to itself"
	return v
}

func verifyService(m Model, service string) Verdict {
	v := Verdict{Dependency: service}
	if ep, ok := m.Endpoints[service]; ok {
		var why []string
		if !m.VPCDNS {
			v.Missing = append(v.Missing, PieceVPCDNS)
			if len(m.VPCDNSOff) > 0 {
				why = append(why, fmt.Sprintf("%s has %s off, so the endpoint's private DNS cannot answer (aws ec2 modify-vpc-attribute --vpc-id %s --%s '{\"Value\":true}')",
					m.VPCID, strings.Join(m.VPCDNSOff, " and "), m.VPCID, flag(m.VPCDNSOff[0])))
			}
		}
		if !ep.PrivateDNS {
			v.Missing = append(v.Missing, PiecePrivateDNS(service))
		}
		if out, subnets := shutOut(m, ep); out {
			v.Missing = append(v.Missing, PieceEndpointIngress(service))
			if len(subnets) > 0 {
				why = append(why, fmt.Sprintf("its security group %s admits 443 neither from the broker's group nor from %s",
					ep.Group.ID, strings.Join(subnets, ", ")))
			}
		}
		if !ep.reachedFrom(m.Group) {
			v.Missing = append(v.Missing, PieceHTTPSEgress)
		}
		if len(v.Missing) > 0 {
			v.Reason = fmt.Sprintf("the %s interface endpoint %s cannot carry the ESM's calls", service, ep.ID)
			if len(why) > 0 {
				v.Reason += ": " + strings.Join(why, "; ")
			}
			return v
		}
		v.Reachable, v.Via = true, "interface endpoint "+ep.ID+" (private DNS)"
		v.Reason = fmt.Sprintf("%s resolves to the endpoint's private addresses in the broker's VPC", service)
		return v
	}

	routes := map[Route]bool{}
	for _, s := range m.Subnets {
		routes[s.Route] = true
	}
	out, piece, via := m.leaves, PieceNATRoute, "a NAT gateway"
	if m.StatedEgress != "" {
		piece, via = PieceEgressRoute, "a way out"
	}
	outEverywhere := len(m.Subnets) > 0 && !slices.ContainsFunc(m.Subnets, func(s Subnet) bool { return !out(s) })
	switch {
	case !outEverywhere:
		v.Missing = append(v.Missing, PieceEndpoint(service)+" or "+piece)
	case !m.Group.letsOut(443, "0.0.0.0/0"):
		// Only with a route out does the group's egress decide.
		v.Missing = append(v.Missing, PieceHTTPSEgress)
		v.Reason = fmt.Sprintf("the broker's subnets route to %s, but the broker's security group does not let 443 out to %s", via, service)
		return v
	}
	if len(v.Missing) > 0 {
		var have []string
		for r := range routes {
			have = append(have, string(r))
		}
		slices.Sort(have)
		where := "the broker's subnets route to " + orNothing(have)
		if named := m.namedRoutes(); len(named) > 0 {
			where = strings.Join(named, "; ")
		}
		carriers := "only a NAT gateway or an endpoint carries them"
		if m.StatedEgress != "" {
			carriers = "only a NAT gateway, the egress " + m.StatedEgress + " states, or an endpoint carries them"
		}
		v.Reason = fmt.Sprintf("no %s interface endpoint, and %s: the ESM's interfaces have private addresses only, "+
			"so %s", service, where, carriers)
		return v
	}
	if stated := m.statedTargets(); len(stated) > 0 {
		v.Reachable = true
		v.Via = "egress stated by " + m.StatedEgress + " (" + strings.Join(stated, ", ") + "), not followed"
		v.Reason = fmt.Sprintf("the broker's subnets route 0.0.0.0/0 to %s, which %s states reaches %s's public endpoint; "+
			"the verifier does not follow it", strings.Join(stated, ", "), m.StatedEgress, service)
		return v
	}
	v.Reachable, v.Via = true, "NAT gateway"
	v.Reason = fmt.Sprintf("the broker's subnets route to a NAT gateway, which reaches %s's public endpoint", service)
	return v
}

// shutOut says whether the endpoint's group keeps the ESM's interfaces out: it lets them in
// when it admits 443 from the broker's group, or from every subnet's block. Where the blocks
// are known, it lists the subnets (by id and block) it leaves out.
func shutOut(m Model, ep Endpoint) (bool, []string) {
	if ep.Group.admits(443, m.Group.ID) {
		return false, nil
	}
	if len(m.Subnets) == 0 || slices.ContainsFunc(m.Subnets, func(s Subnet) bool { return s.CIDR == "" }) {
		return true, nil
	}
	var shut []string
	for _, s := range m.Subnets {
		if !ep.Group.admits(443, s.CIDR) {
			shut = append(shut, fmt.Sprintf("subnet %s (%s)", s.ID, s.CIDR))
		}
	}
	return len(shut) > 0, shut
}

// leaves says whether the subnet's default route leads out of the VPC as far as the model
// knows: to a NAT gateway, or, where StatedEgress says so, to a target it cannot follow.
func (m Model) leaves(s Subnet) bool {
	return s.Route == RouteNATGateway || (m.StatedEgress != "" && s.Route == RouteOther)
}

// statedTargets are the targets of the default routes taken on StatedEgress's word, sorted.
func (m Model) statedTargets() []string {
	var out []string
	for _, s := range m.Subnets {
		if m.StatedEgress != "" && s.Route == RouteOther && !slices.Contains(out, cmp.Or(s.Target, "an unknown target")) {
			out = append(out, cmp.Or(s.Target, "an unknown target"))
		}
	}
	slices.Sort(out)
	return out
}

// namedRoutes describes, where the routes were looked up, each subnet whose default route does
// not lead out of the VPC: which subnet, which table, which target.
func (m Model) namedRoutes() []string {
	var out []string
	for _, s := range m.Subnets {
		if s.RouteTable == "" || m.leaves(s) {
			continue
		}
		name := fmt.Sprintf("subnet %s (%s)", s.ID, s.Zone)
		switch s.Route {
		case RouteInternetGateway:
			out = append(out, fmt.Sprintf("%s routes 0.0.0.0/0 to the internet gateway %s (%s)", name, s.Target, s.RouteTable))
		case RouteOther:
			out = append(out, fmt.Sprintf("%s routes 0.0.0.0/0 to %s (%s), which the verifier cannot follow to a NAT gateway", name, s.Target, s.RouteTable))
		default:
			out = append(out, fmt.Sprintf("%s has no 0.0.0.0/0 route (%s)", name, s.RouteTable))
		}
	}
	return out
}

// flag is the modify-vpc-attribute option of a VPC attribute.
func flag(attribute string) string {
	if attribute == "enableDnsSupport" {
		return "enable-dns-support"
	}
	return "enable-dns-hostnames"
}

func orNothing(routes []string) string {
	if len(routes) == 0 {
		return "nothing"
	}
	return strings.Join(routes, " and ")
}
