package enginetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin/cloud"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/simaccount"
)

// existingVPCEdges runs the real CLI on the user's VPC where it is unusual: shared from another
// account, routed out through a transit gateway, with the endpoints spread over zones beside a
// deleted endpoint EC2 still lists.
func (h *harness) existingVPCEdges(t *testing.T) {
	t.Run("shared-vpc", h.sharedVPCRefused)
	t.Run("custom-egress", h.customEgress)
	t.Run("endpoint-subnets", h.endpointSubnets)
}

// sharedVPCRefused: a VPC another account shares through AWS RAM is refused before any change,
// naming vpcId, the owner and what to do.
func (h *harness) sharedVPCRefused(t *testing.T) {
	const stack = "existingvpc-shared"
	h.stackFromBody(t, stack, "  rabbitmq-esm:networkMode: existingvpc\n  rabbitmq-esm:vpcId: "+simaccount.SharedVPCID+
		"\n  rabbitmq-esm:subnetIds:\n    - "+simaccount.SharedSubnet+"\n  rabbitmq-esm:serviceRoute: nat\n")
	acct := h.newAccount(t, linger)
	for _, cmd := range [][]string{{"preview"}, {"up", "--yes", "--skip-preview"}} {
		r := h.run(t, acct, stack, cmd[0]+" (refused)", append([]string{pulumiSh, cmd[0], stack}, cmd[1:]...)...)
		want := `rabbitmq-esm:vpcId = "` + simaccount.SharedVPCID + `": is owned by account ` + simaccount.SharedVPCOwner + " and shared with this account, " +
			simaccount.AccountID + " (AWS RAM)"
		if r.err == nil || !strings.Contains(r.out, want) || !strings.Contains(r.out, "deploy the stack with credentials of account "+simaccount.SharedVPCOwner) {
			t.Fatalf("%s: want the shared VPC refused (%q):\n%s", cmd[0], want, tail(r.out, 40))
		}
	}
	if n := len(acct.view(t).Events); n != 0 {
		t.Errorf("%d changes reached the account before the refusal", n)
	}
}

// customEgress: a subnet routed out through a transit gateway deploys with serviceRoute
// custom-egress — the route taken on the user's word and said so — previews no changes, and
// destroys.
func (h *harness) customEgress(t *testing.T) {
	const stack = "existingvpc-egress"
	h.stackFromBody(t, stack, existingVPC(simaccount.UserTGWSubnet, "custom-egress"))
	acct := h.newAccount(t, linger)
	run := func(name string, args ...string) result { return h.run(t, acct, stack, name, args...) }

	r := run("up", pulumiSh, "up", stack, "--yes", "--skip-preview").must(t, "up")
	if want := "serviceRoute custom-egress states that subnet " + simaccount.UserTGWSubnet + "'s 0.0.0.0/0 route to " + simaccount.UserTransitGateway; !strings.Contains(r.out, want) {
		t.Errorf("the up does not say the route is taken on the user's word (%q):\n%s", want, tail(r.out, 40))
	}
	st := acct.view(t)
	broker := st.FindOne(cloud.TypeBroker, nil)
	if broker == nil || !slices.Equal(broker.Strs("subnetIds"), []string{simaccount.UserTGWSubnet}) {
		t.Fatalf("the broker is not in the transit-gateway subnet: %+v", broker)
	}
	if eps := st.Find(cloud.TypeVPCEndpoint, nil); len(eps) != 0 {
		t.Errorf("custom-egress created %d endpoints", len(eps))
	}
	group := broker.Strs("securityGroups")[0]
	if st.FindOne(cloud.TypeEgressRule, func(r *cloud.Resource) bool {
		return r.Str("securityGroupId") == group && r.Str("cidrIpv4") == "0.0.0.0/0" && r.Props["fromPort"] == 443.0
	}) == nil {
		t.Error("the broker's group does not let 443 out")
	}
	diagnosis := run("stack output diagnosis", "pulumi", "stack", "output", "diagnosis", "--stack", stack).must(t, "stack output")
	t.Logf("diagnosis: %s", strings.TrimSpace(diagnosis.stdout))
	run("preview --expect-no-changes", pulumiSh, "preview", stack, "--expect-no-changes").must(t, "the second preview")
	run("destroy --run-program", pulumiSh, "destroy", stack, "--yes", "--skip-preview").must(t, "destroy")
	assertEmpty(t, acct.view(t))
	run("stack rm", "pulumi", "stack", "rm", "--yes", "--stack", stack).must(t, "stack rm")
}

// endpointSubnets: beside an sts endpoint with private DNS that was deleted (EC2 lists it as
// deleted for a while), serviceRoute endpoints is no DNS conflict; a single instance's preview
// warns that its endpoints would sit in one zone; with endpointSubnetIds they go in two, the
// broker staying in one.
func (h *harness) endpointSubnets(t *testing.T) {
	const stack = "existingvpc-spread"
	h.stackFromBody(t, stack, existingVPC(simaccount.UserSubnetA, "endpoints"))
	acct := h.newAccount(t, linger)
	const deleted = "vpce-0deleted00000001"
	if err := acct.store.Update(func(st *cloud.State) error {
		st.DeletedEndpoints = append(st.DeletedEndpoints, cloud.DeletedEndpoint{DeletedAt: time.Now(), Endpoint: &cloud.Resource{
			Type: cloud.TypeVPCEndpoint, ID: deleted, Props: map[string]any{"vpcId": simaccount.UserVPCID, "serviceName": "com.amazonaws." + simaccount.Region + ".sts",
				"vpcEndpointType": "Interface", "privateDnsEnabled": true, "state": "deleted", "subnetIds": []any{simaccount.UserSubnetA}}}})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) result { return h.run(t, acct, stack, name, args...) }

	r := run("preview", pulumiSh, "preview", stack).must(t, "preview beside a deleted endpoint")
	if want := "endpoints in one zone, us-east-1a (subnet " + simaccount.UserSubnetA + ")"; !strings.Contains(r.out, want) {
		t.Errorf("the preview does not warn %q:\n%s", want, tail(r.out, 40))
	}
	run("config set endpointSubnetIds[0]", "pulumi", "config", "set", "--path", "rabbitmq-esm:endpointSubnetIds[0]", simaccount.UserSubnetB,
		"--stack", stack).must(t, "config set")
	r = run("up", pulumiSh, "up", stack, "--yes", "--skip-preview").must(t, "up beside a deleted endpoint, with endpointSubnetIds")
	if strings.Contains(r.out, "endpoints in one zone") {
		t.Errorf("the up warns of one zone with endpointSubnetIds set:\n%s", tail(r.out, 40))
	}
	st := acct.view(t)
	eps := st.Find(cloud.TypeVPCEndpoint, nil)
	if len(eps) != 3 {
		t.Fatalf("%d endpoints in the account, want 3", len(eps))
	}
	for _, ep := range eps {
		if got := ep.Strs("subnetIds"); !slices.Equal(got, []string{simaccount.UserSubnetA, simaccount.UserSubnetB}) {
			t.Errorf("endpoint %s (%s) is in %v, want subnets A and B", ep.ID, ep.Str("serviceName"), got)
		}
		zones := map[string]bool{}
		for _, e := range st.LiveENIs(time.Now()) {
			if e.Owner == ep.ID && e.InterfaceType == "vpc_endpoint" {
				zones[st.Get(e.SubnetID).Str("availabilityZone")] = true
			}
		}
		if len(zones) != 2 {
			t.Errorf("endpoint %s has interfaces in zones %v, want us-east-1a and us-east-1b", ep.ID, zones)
		}
	}
	if b := st.FindOne(cloud.TypeBroker, nil); b == nil || !slices.Equal(b.Strs("subnetIds"), []string{simaccount.UserSubnetA}) {
		t.Errorf("the broker left subnetIds: %+v", b)
	}
	run("preview --expect-no-changes", pulumiSh, "preview", stack, "--expect-no-changes").must(t, "the second preview")
	run("destroy --run-program", pulumiSh, "destroy", stack, "--yes", "--skip-preview").must(t, "destroy")
	assertEmpty(t, acct.view(t))
	run("stack rm", "pulumi", "stack", "rm", "--yes", "--stack", stack).must(t, "stack rm")
}
