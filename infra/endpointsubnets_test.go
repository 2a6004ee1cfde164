package infra

import (
	"slices"
	"strings"
	"testing"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/offline"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/simaccount"
)

// TestEndpointSubnets: endpointSubnetIds spreads the endpoints serviceRoute endpoints creates
// over more zones, while the broker stays in subnetIds; a SINGLE_INSTANCE without it is warned
// about, since through private DNS its one-zone endpoints serve the whole VPC.
func TestEndpointSubnets(t *testing.T) {
	t.Run("the endpoints in three zones, the broker in one", func(t *testing.T) {
		m := &offline.Account{}
		raw := withSettings(t, "existingvpc", map[string]string{"endpointSubnetIds": `["` + simaccount.UserSubnetB + `","` + simaccount.UserSubnetC + `"]`})
		if _, err := run(t, "existingvpc", raw, m); err != nil {
			t.Fatal(err)
		}
		for _, svc := range EndpointServices {
			ep, err := m.One("aws:ec2/vpcEndpoint:VpcEndpoint", svc)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := offline.Strings(ep.Inputs["subnetIds"]), []string{simaccount.UserSubnetA, simaccount.UserSubnetB, simaccount.UserSubnetC}; !slices.Equal(got, want) {
				t.Errorf("%s endpoint subnets = %v, want %v", svc, got, want)
			}
		}
		b, _ := m.One("aws:mq/broker:Broker", "broker")
		if got := offline.Strings(b.Inputs["subnetIds"]); !slices.Equal(got, []string{simaccount.UserSubnetA}) {
			t.Errorf("broker subnets = %v", got)
		}
		if w := lookFacts(t, "existingvpc", raw, &offline.Account{}).refused.warnings; slices.ContainsFunc(w, func(s string) bool { return strings.Contains(s, "one zone") }) {
			t.Errorf("warned of one zone with endpointSubnetIds set: %q", w)
		}
	})
	t.Run("a single instance's endpoints in one zone are warned about", func(t *testing.T) {
		w := lookFacts(t, "existingvpc", withSettings(t, "existingvpc", nil), &offline.Account{}).refused.warnings
		want := []string{"endpoints in one zone, us-east-1a (subnet " + simaccount.UserSubnetA + ")", "every workload of " + simaccount.UserVPCID,
			"rabbitmq-esm:endpointSubnetIds", "pulumi config set --path 'endpointSubnetIds[0]'"}
		if !slices.ContainsFunc(w, func(s string) bool {
			return !slices.ContainsFunc(want, func(x string) bool { return !strings.Contains(s, x) })
		}) {
			t.Errorf("no warning with %q in %q", want, w)
		}
		for _, route := range []string{"nat", "existing-endpoints"} {
			m := &offline.Account{UserVPC: offline.NewUserVPC().WithEndpoints(simaccount.UserVPCCidr)}
			if route == "nat" {
				m = &offline.Account{}
			}
			w := lookFacts(t, "existingvpc", withSettings(t, "existingvpc", map[string]string{"serviceRoute": route}), m).refused.warnings
			if slices.ContainsFunc(w, func(s string) bool { return strings.Contains(s, "one zone") }) {
				t.Errorf("serviceRoute %s creates no endpoint, yet warns of one zone: %q", route, w)
			}
		}
	})
	for _, tc := range []struct {
		name, subnets, want string
	}{
		{"in subnetIds' zone", `["` + simaccount.UserPublicSubnet + `"]`,
			`rabbitmq-esm:endpointSubnetIds = "` + simaccount.UserPublicSubnet + `": is in us-east-1a, like ` + simaccount.UserSubnetA},
		{"two in one zone", `["` + simaccount.UserSubnetB + `","` + simaccount.UserTGWSubnet + `"]`,
			`rabbitmq-esm:endpointSubnetIds = "` + simaccount.UserTGWSubnet + `": is in us-east-1b, like ` + simaccount.UserSubnetB},
		{"of another VPC", `["` + simaccount.OtherVPCSubnet + `"]`,
			`rabbitmq-esm:endpointSubnetIds = "` + simaccount.OtherVPCSubnet + `": is a subnet of vpc-0fedcba9876543210, not of vpcId ` + simaccount.UserVPCID},
		{"in a zone without the endpoint services", `["` + simaccount.UserSubnetE + `"]`,
			`rabbitmq-esm:endpointSubnetIds = "` + simaccount.UserSubnetE + `": is in us-east-1e, which does not offer`},
		{"no such subnet", `["subnet-0aaaaaaaaaaaaaaa0"]`, `rabbitmq-esm:endpointSubnetIds = "subnet-0aaaaaaaaaaaaaaa0": names no subnet in us-east-1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &offline.Account{}
			_, err := run(t, "existingvpc", withSettings(t, "existingvpc", map[string]string{"endpointSubnetIds": tc.subnets}), m)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("want %q, got %v", tc.want, err)
			}
			if n := len(m.All()); n != 0 {
				t.Errorf("%d resources registered before the refusal", n)
			}
		})
	}
}
