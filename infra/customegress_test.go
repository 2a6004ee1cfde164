package infra

import (
	"slices"
	"strings"
	"testing"

	"github.com/rabbitmq-esm/rabbitmq-esm/infra/reach"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/offline"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/simaccount"
)

// TestCustomEgress: serviceRoute custom-egress takes a default route the verifier cannot
// follow (a transit gateway here) on the user's word — checked to exist and not to be an
// internet gateway, stated as not followed — and lets the broker's group out on 443 as nat does.
func TestCustomEgress(t *testing.T) {
	settings := func(subnet string) map[string]string {
		return map[string]string{"serviceRoute": "custom-egress", "subnetIds": `["` + subnet + `"]`}
	}
	t.Run("a transit gateway route", func(t *testing.T) {
		m := &offline.Account{}
		if _, err := run(t, "existingvpc", withSettings(t, "existingvpc", settings(simaccount.UserTGWSubnet)), m); err != nil {
			t.Fatal(err)
		}
		want := []string{"egress 443 0.0.0.0/0", "egress 443 sg-rabbitmq-esm-broker-sg", "egress 5671 sg-rabbitmq-esm-broker-sg",
			"ingress 443 sg-rabbitmq-esm-broker-sg", "ingress 5671 sg-rabbitmq-esm-broker-sg"}
		if got := rules(m, "sg-rabbitmq-esm-broker-sg"); !slices.Equal(got, want) {
			t.Errorf("broker group rules = %v, want %v", got, want)
		}
		if n := len(m.ByType("aws:ec2/vpcEndpoint:VpcEndpoint")); n != 0 {
			t.Errorf("custom-egress created %d endpoints", n)
		}
		fn, _ := m.One("aws:lambda/function:Function", "provisioner")
		if got := fn.Inputs["environment"].ObjectValue()["variables"].ObjectValue()["SERVICE_ROUTE"].StringValue(); got != string(RouteCustomEgress) {
			t.Errorf("the diagnosis expects the route %q, want %q", got, RouteCustomEgress)
		}
	})
	t.Run("stated, not followed", func(t *testing.T) {
		raw := withSettings(t, "existingvpc", settings(simaccount.UserTGWSubnet))
		facts := lookFacts(t, "existingvpc", raw, &offline.Account{})
		cfg, err := ParseConfig("existingvpc", raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range reach.Verify(PlannedNetwork(cfg, facts)) {
			if v.Dependency == "broker" {
				continue
			}
			if !v.Reachable || v.Via != "egress stated by serviceRoute custom-egress ("+simaccount.UserTransitGateway+"), not followed" {
				t.Errorf("%s: reachable %v via %q (%s)", v.Dependency, v.Reachable, v.Via, v.Reason)
			}
		}
		want := "not checked: serviceRoute custom-egress states that subnet " + simaccount.UserTGWSubnet + "'s 0.0.0.0/0 route to " + simaccount.UserTransitGateway
		if !slices.ContainsFunc(facts.refused.warnings, func(w string) bool { return strings.HasPrefix(w, want) }) {
			t.Errorf("no warning %q in %q", want, facts.refused.warnings)
		}
	})
	t.Run("through a NAT gateway it is followed", func(t *testing.T) {
		raw := withSettings(t, "existingvpc", settings(simaccount.UserSubnetA))
		facts := lookFacts(t, "existingvpc", raw, &offline.Account{})
		cfg, _ := ParseConfig("existingvpc", raw)
		if v := reach.Verify(PlannedNetwork(cfg, facts))[0]; !v.Reachable || v.Via != "NAT gateway" {
			t.Errorf("sts via %q (%s)", v.Via, v.Reason)
		}
		if len(facts.refused.warnings) != 0 {
			t.Errorf("warnings for a route the verifier follows: %q", facts.refused.warnings)
		}
	})
	for _, tc := range []struct {
		name, subnet string
		want         []string
	}{
		{"an internet gateway gives the interfaces nothing", simaccount.UserPublicSubnet, []string{"serviceRoute custom-egress",
			"sts: missing an interface endpoint for sts or a default route out of the VPC, other than to an internet gateway, in the broker's subnets",
			"routes 0.0.0.0/0 to the internet gateway " + simaccount.UserIGW, "only a NAT gateway, the egress serviceRoute custom-egress states, or an endpoint"}},
		{"no default route", simaccount.UserMainSubnet, []string{"subnet " + simaccount.UserMainSubnet + " (us-east-1d) has no 0.0.0.0/0 route"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &offline.Account{}
			_, err := run(t, "existingvpc", withSettings(t, "existingvpc", settings(tc.subnet)), m)
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("the refusal lacks %q: %v", w, err)
				}
			}
			if n := len(m.All()); n != 0 {
				t.Errorf("%d resources registered before the refusal", n)
			}
		})
	}
	t.Run("serviceRoute nat through a transit gateway points to custom-egress", func(t *testing.T) {
		m := &offline.Account{}
		_, err := run(t, "existingvpc", withSettings(t, "existingvpc", map[string]string{"serviceRoute": "nat", "subnetIds": `["` + simaccount.UserTGWSubnet + `"]`}), m)
		if err == nil || !strings.Contains(err.Error(), "which the verifier cannot follow to a NAT gateway") ||
			!strings.Contains(err.Error(), "set rabbitmq-esm:serviceRoute to custom-egress") {
			t.Errorf("want the route refused with the way out, got %v", err)
		}
		if n := len(m.All()); n != 0 {
			t.Errorf("%d resources registered before the refusal", n)
		}
	})
}
