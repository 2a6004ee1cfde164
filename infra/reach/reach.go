// Package reach decides, from a model of the network, whether the Lambda event source
// mapping can reach each of the four things its poll loop needs — STS, Secrets Manager, the
// broker on 5671 and the Lambda API — and says what carries each path or which piece is
// missing. It is pure: the program runs it before registering anything, the offline plan shows
// it, and mutation tests prove it notices each missing piece.
package reach

import (
	"fmt"
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
)

// AllPorts in a Rule means every port (as in the default security group's rules).
const AllPorts = 0

// Rule is one security group rule: a TCP port and a peer, which is a security group id or a
// CIDR block.
type Rule struct {
	Port int
	Peer string
}

func (r Rule) allows(port int, peer string) bool {
	if r.Port != AllPorts && r.Port != port {
		return false
	}
	return r.Peer == peer || r.Peer == "0.0.0.0/0"
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
}

// Endpoint is an interface endpoint in the broker's VPC.
type Endpoint struct {
	Service    string // sts, secretsmanager, lambda
	ID         string
	PrivateDNS bool
	Group      Group
}

// Model is the network the ESM's interfaces live in.
type Model struct {
	// PublicBroker: the mapping polls from AWS's side; nothing else in the model matters.
	PublicBroker bool
	// VPCDNS: the VPC has DNS support and DNS hostnames, which private DNS needs.
	VPCDNS bool
	// Subnets of the broker, where the ESM places its interfaces.
	Subnets []Subnet
	// Group is the broker's security group, which the ESM's interfaces carry.
	Group Group
	// Endpoints present in the VPC, by service.
	Endpoints map[string]Endpoint
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
	PieceSelfIngress  = "ingress on 5671 from the broker's own security group"
	PieceAMQPSEgress  = "egress on 5671 from the broker's security group to itself"
	PieceHTTPSEgress  = "egress on 443 from the broker's security group"
	PieceVPCDNS       = "DNS support and DNS hostnames on the VPC"
	pieceEndpoint     = "an interface endpoint for %s"
	piecePrivateDNS   = "private DNS on the %s endpoint"
	pieceEndpointPort = "ingress on 443 to the %s endpoint from the broker's security group"
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
		if !m.VPCDNS {
			v.Missing = append(v.Missing, PieceVPCDNS)
		}
		if !ep.PrivateDNS {
			v.Missing = append(v.Missing, PiecePrivateDNS(service))
		}
		if !ep.Group.admits(443, m.Group.ID) {
			v.Missing = append(v.Missing, PieceEndpointIngress(service))
		}
		if !m.Group.letsOut(443, ep.Group.ID) {
			v.Missing = append(v.Missing, PieceHTTPSEgress)
		}
		if len(v.Missing) > 0 {
			v.Reason = fmt.Sprintf("the %s interface endpoint %s exists but the ESM cannot use it", service, ep.ID)
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
	natEverywhere := len(m.Subnets) > 0 && len(routes) == 1 && routes[RouteNATGateway]
	switch {
	case !natEverywhere:
		v.Missing = append(v.Missing, PieceEndpoint(service)+" or "+PieceNATRoute)
	case !m.Group.letsOut(443, "0.0.0.0/0"):
		// Only with a route out does the group's egress decide.
		v.Missing = append(v.Missing, PieceHTTPSEgress)
		v.Reason = fmt.Sprintf("the broker's subnets route to a NAT gateway, but the broker's security group does not let 443 out to %s", service)
		return v
	}
	if len(v.Missing) > 0 {
		var have []string
		for r := range routes {
			have = append(have, string(r))
		}
		slices.Sort(have)
		v.Reason = fmt.Sprintf("no %s interface endpoint, and the broker's subnets route to %s: the ESM's interfaces have private addresses only, "+
			"so only a NAT gateway or an endpoint carries them", service, orNothing(have))
		return v
	}
	v.Reachable, v.Via = true, "NAT gateway"
	v.Reason = fmt.Sprintf("the broker's subnets route to a NAT gateway, which reaches %s's public endpoint", service)
	return v
}

func orNothing(routes []string) string {
	if len(routes) == 0 {
		return "nothing"
	}
	return strings.Join(routes, " and ")
}
