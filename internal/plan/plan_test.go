package plan

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/rabbitmq-esm/rabbitmq-esm/infra"
	"github.com/rabbitmq-esm/rabbitmq-esm/infra/reach"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/offline"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/simaccount"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/stackconfig"
)

const projectDir = "../.."

// run runs the program for a shipped stack and returns its config, facts and resources.
func run(t *testing.T, stack string) (infra.Config, infra.Facts, []offline.Resource) {
	t.Helper()
	st, resources, err := Run(projectDir, stack)
	if err != nil {
		t.Fatal(err)
	}
	return st.Config, st.Facts, resources
}

// summary reduces verdicts to what must agree between two models of the same network.
func summary(verdicts []reach.Verdict) []string {
	var out []string
	for _, v := range verdicts {
		via := v.Via
		if strings.HasPrefix(via, "interface endpoint") {
			via = "interface endpoint"
		}
		out = append(out, v.Dependency+"="+via+strings.Join(v.Missing, ","))
	}
	return out
}

// TestPlannedNetworkMatchesWhatIsRegistered holds the program's own model (which it verifies
// before registering anything) equal to the model read back from the registered resources.
func TestPlannedNetworkMatchesWhatIsRegistered(t *testing.T) {
	want := map[string][]string{
		"public":       {"sts=AWS side", "secretsmanager=AWS side", "broker=AWS side", "lambda=AWS side"},
		"defaultvpc":   {"sts=interface endpoint", "secretsmanager=interface endpoint", "broker=security group self-reference on 5671", "lambda=interface endpoint"},
		"nat":          {"sts=NAT gateway", "secretsmanager=NAT gateway", "broker=security group self-reference on 5671", "lambda=NAT gateway"},
		"isolated":     {"sts=interface endpoint", "secretsmanager=interface endpoint", "broker=security group self-reference on 5671", "lambda=interface endpoint"},
		"publicsubnet": {"sts=interface endpoint", "secretsmanager=interface endpoint", "broker=security group self-reference on 5671", "lambda=interface endpoint"},
		"existingvpc":  {"sts=interface endpoint", "secretsmanager=interface endpoint", "broker=security group self-reference on 5671", "lambda=interface endpoint"},
	}
	for _, mode := range infra.ModeNames() {
		t.Run(string(mode), func(t *testing.T) {
			cfg, facts, resources := run(t, string(mode))
			planned := summary(reach.Verify(infra.PlannedNetwork(cfg, facts)))
			registered := summary(reach.Verify(ModelFromResources(resources, facts)))
			if !slices.Equal(planned, registered) {
				t.Errorf("planned %v, registered %v", planned, registered)
			}
			if !slices.Equal(registered, want[string(mode)]) {
				t.Errorf("paths %v, want %v", registered, want[string(mode)])
			}
		})
	}
}

// TestExistingVPCRoutesPlannedAsRegistered: for each serviceRoute of existingvpc, the model the
// program verifies before registering anything is the model of what it registers.
func TestExistingVPCRoutesPlannedAsRegistered(t *testing.T) {
	cases := []struct {
		route   string
		account *offline.Account
		want    []string
	}{
		{"nat", &offline.Account{},
			[]string{"sts=NAT gateway", "secretsmanager=NAT gateway", "broker=security group self-reference on 5671", "lambda=NAT gateway"}},
		{"existing-endpoints", &offline.Account{UserVPC: offline.NewUserVPC().WithEndpoints(simaccount.UserVPCCidr)},
			[]string{"sts=interface endpoint", "secretsmanager=interface endpoint", "broker=security group self-reference on 5671", "lambda=interface endpoint"}},
		// Private DNS answers for the whole VPC: with the VPC's own endpoints, nat's calls go
		// to them, not through the NAT gateway.
		{"nat", &offline.Account{UserVPC: offline.NewUserVPC().WithEndpoints("10.20.1.0/24")},
			[]string{"sts=interface endpoint", "secretsmanager=interface endpoint", "broker=security group self-reference on 5671", "lambda=interface endpoint"}},
	}
	for _, tc := range cases {
		t.Run(tc.route, func(t *testing.T) {
			raw, err := stackconfig.Read(projectDir, "existingvpc")
			if err != nil {
				t.Fatal(err)
			}
			raw["rabbitmq-esm:serviceRoute"] = tc.route
			cfg, err := infra.ParseConfig("existingvpc", raw)
			if err != nil {
				t.Fatal(err)
			}
			var st *infra.Stack
			err = pulumi.RunErr(func(ctx *pulumi.Context) error {
				st, err = infra.Deploy(ctx, cfg, infra.Env{ProjectDir: projectDir})
				return err
			}, pulumi.WithMocks(infra.ProjectName, "existingvpc", tc.account))
			if err != nil {
				t.Fatal(err)
			}
			planned := summary(reach.Verify(infra.PlannedNetwork(cfg, st.Facts)))
			registered := summary(reach.Verify(ModelFromResources(tc.account.All(), st.Facts)))
			if !slices.Equal(planned, registered) || !slices.Equal(registered, tc.want) {
				t.Errorf("planned %v, registered %v, want %v", planned, registered, tc.want)
			}
		})
	}
}

// mutation removes one piece from a model.
type mutation struct {
	name  string
	apply func(m *reach.Model)
	// breaks maps each dependency that must become unreachable to the piece it must name.
	breaks map[string]string
}

func removeRules(rules []reach.Rule, port int, peer string) []reach.Rule {
	return slices.DeleteFunc(slices.Clone(rules), func(r reach.Rule) bool {
		return (r.Port == port || r.Port == reach.AllPorts) && (peer == "" || r.Peer == peer)
	})
}

func mutations(t *testing.T, mode infra.NetworkMode, m reach.Model) []mutation {
	t.Helper()
	services := []string{"sts", "secretsmanager", "lambda"}
	all := func(piece string) map[string]string {
		out := map[string]string{}
		for _, s := range services {
			out[s] = piece
		}
		return out
	}
	var ms []mutation
	if m.PublicBroker {
		return nil
	}
	ms = append(ms,
		mutation{"self-ingress", func(m *reach.Model) { m.Group.Ingress = removeRules(m.Group.Ingress, 5671, m.Group.ID) },
			map[string]string{"broker": reach.PieceSelfIngress}})
	if mode == infra.ModeDefaultVPC {
		// The default group's one egress rule covers every port: without it, both paths break.
		breaks := all(reach.PieceHTTPSEgress)
		breaks["broker"] = reach.PieceAMQPSEgress
		ms = append(ms, mutation{"all egress", func(m *reach.Model) { m.Group.Egress = nil }, breaks})
	} else {
		ms = append(ms,
			mutation{"5671 egress", func(m *reach.Model) { m.Group.Egress = removeRules(m.Group.Egress, 5671, "") },
				map[string]string{"broker": reach.PieceAMQPSEgress}},
			mutation{"443 egress", func(m *reach.Model) { m.Group.Egress = removeRules(m.Group.Egress, 443, "") }, all(reach.PieceHTTPSEgress)})
	}
	if len(m.Endpoints) > 0 {
		// Without its endpoint, a service is reached through the subnets' default route:
		// existingvpc's subnets route to a NAT gateway, which the broker's group (set up for
		// endpoints) lets nothing out to.
		withoutEndpoint := func(svc string) string { return reach.PieceEndpoint(svc) + " or " + reach.PieceNATRoute }
		if slices.IndexFunc(m.Subnets, func(s reach.Subnet) bool { return s.Route != reach.RouteNATGateway }) < 0 {
			withoutEndpoint = func(string) string { return reach.PieceHTTPSEgress }
		}
		for _, svc := range services {
			ms = append(ms,
				mutation{svc + " endpoint", func(m *reach.Model) { delete(m.Endpoints, svc) },
					map[string]string{svc: withoutEndpoint(svc)}},
				mutation{svc + " private DNS", func(m *reach.Model) { e := m.Endpoints[svc]; e.PrivateDNS = false; m.Endpoints[svc] = e },
					map[string]string{svc: reach.PiecePrivateDNS(svc)}},
				mutation{svc + " endpoint ingress", func(m *reach.Model) {
					e := m.Endpoints[svc]
					e.Group.Ingress = nil
					m.Endpoints[svc] = e
				}, map[string]string{svc: reach.PieceEndpointIngress(svc)}})
		}
		ms = append(ms, mutation{"VPC DNS", func(m *reach.Model) { m.VPCDNS = false }, all(reach.PieceVPCDNS)})
	} else {
		ms = append(ms, mutation{"NAT", func(m *reach.Model) {
			for i := range m.Subnets {
				m.Subnets[i].Route = reach.RouteNone
			}
		}, map[string]string{"sts": "an interface endpoint for sts or " + reach.PieceNATRoute,
			"secretsmanager": "an interface endpoint for secretsmanager or " + reach.PieceNATRoute,
			"lambda":         "an interface endpoint for lambda or " + reach.PieceNATRoute}})
	}
	return ms
}

func clone(m reach.Model) reach.Model {
	c := m
	c.Subnets = slices.Clone(m.Subnets)
	c.Group.Ingress, c.Group.Egress = slices.Clone(m.Group.Ingress), slices.Clone(m.Group.Egress)
	c.Endpoints = map[string]reach.Endpoint{}
	for k, v := range m.Endpoints {
		v.Group.Ingress = slices.Clone(v.Group.Ingress)
		c.Endpoints[k] = v
	}
	return c
}

// TestVerifierNamesEachMissingPiece removes each piece of each shipped option in turn and wants
// exactly the dependencies it carries reported, each naming exactly that piece.
func TestVerifierNamesEachMissingPiece(t *testing.T) {
	for _, mode := range infra.ModeNames() {
		cfg, facts, _ := run(t, string(mode))
		base := infra.PlannedNetwork(cfg, facts)
		if bad := reach.Unreachable(reach.Verify(base)); len(bad) != 0 {
			t.Fatalf("%s as shipped is unreachable: %+v", mode, bad)
		}
		ms := mutations(t, mode, base)
		if !base.PublicBroker && len(ms) < 4 {
			t.Fatalf("%s: only %d mutations", mode, len(ms))
		}
		for _, mu := range ms {
			t.Run(string(mode)+"/without "+mu.name, func(t *testing.T) {
				m := clone(base)
				mu.apply(&m)
				got := map[string]string{}
				for _, v := range reach.Unreachable(reach.Verify(m)) {
					got[v.Dependency] = strings.Join(v.Missing, "; ")
				}
				if !equalMaps(got, mu.breaks) {
					t.Errorf("unreachable = %v\nwant %v", got, mu.breaks)
				}
			})
		}
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestPlanIsTheSameOnEveryRun holds a plan's text and JSON to one order, whatever the order the
// program registered its resources in: on two runs of the program, and over shuffles of one
// run's resources (two runs can agree by chance).
func TestPlanIsTheSameOnEveryRun(t *testing.T) {
	for _, mode := range infra.ModeNames() {
		t.Run(string(mode), func(t *testing.T) {
			st, resources, err := Run(projectDir, string(mode))
			if err != nil {
				t.Fatal(err)
			}
			want := rendered(t, build(string(mode), st, resources))
			again, err := Make(projectDir, string(mode))
			if err != nil {
				t.Fatal(err)
			}
			if got := rendered(t, again); got != want {
				t.Fatalf("a second run differs from the first: %s", firstDifference(want, got))
			}
			shuffle := rand.New(rand.NewPCG(1, 2)) //nolint:gosec // G404: a reproducible shuffle, not a secret
			for i := range 50 {
				shuffled := slices.Clone(resources)
				shuffle.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
				if got := rendered(t, build(string(mode), st, shuffled)); got != want {
					t.Fatalf("shuffle %d changes the plan: %s", i, firstDifference(want, got))
				}
			}
		})
	}
}

// TestPlanNamesTheServiceRoute: the plan names what carries the mapping's AWS calls in the
// serviceRoute setting's words, for the shipped stacks.
func TestPlanNamesTheServiceRoute(t *testing.T) {
	want := map[infra.NetworkMode]string{infra.ModePublic: "aws-side", infra.ModeDefaultVPC: "endpoints", infra.ModeNAT: "nat",
		infra.ModeIsolated: "endpoints", infra.ModePublicSubnet: "endpoints", infra.ModeExistingVPC: "endpoints"}
	for _, mode := range infra.ModeNames() {
		p, err := Make(projectDir, string(mode))
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		Text(&b, p)
		if header := "serviceRoute " + want[mode] + ","; p.ServiceRoute != want[mode] || !strings.Contains(b.String(), header) {
			t.Errorf("%s: plan's serviceRoute %q, want %q in the text as %q", mode, p.ServiceRoute, want[mode], header)
		}
	}
}

// rendered is the plan as `make plan` prints it, then as --json does.
func rendered(t *testing.T, p *Plan) string {
	t.Helper()
	var b strings.Builder
	Text(&b, p)
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func firstDifference(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d is %q, was %q", i+1, bl[i], al[i])
		}
	}
	return fmt.Sprintf("%d lines, was %d", len(bl), len(al))
}

// BenchmarkPlan measures one option's plan once built (target: at most 2 s).
func BenchmarkPlan(b *testing.B) {
	for b.Loop() {
		if _, err := Make(projectDir, "isolated"); err != nil {
			b.Fatal(err)
		}
	}
}
