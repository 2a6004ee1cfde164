package enginetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin/cloud"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/simaccount"
)

// upgradePath takes a deployed isolated stack (RabbitMQ 3.13 on mq.t3.micro) where the upgrade
// section of docs/operations.md tells the user to take it: RabbitMQ 4.2 in the two ups the refusal names, each
// followed by a preview that plans nothing; and the changes Amazon MQ would refuse half way are
// refused before anything changes.
func (h *harness) upgradePath(t *testing.T) {
	const stack = "isolated-upgrade"
	h.stackFrom(t, "isolated", stack, "")
	acct := h.newAccount(t, linger)
	run := func(name string, args ...string) result { return h.run(t, acct, stack, name, args...) }
	set := func(key, value string) {
		run("config set "+key+" "+value, "pulumi", "config", "set", "rabbitmq-esm:"+key, value, "--stack", stack).must(t, "config set")
	}
	upAndSettled := func(what string) {
		run("up ("+what+")", pulumiSh, "up", stack, "--yes", "--skip-preview").must(t, "up with "+what)
		run("preview --expect-no-changes ("+what+")", pulumiSh, "preview", stack, "--expect-no-changes").must(t, "the preview after "+what)
	}
	refused := func(what, want string) {
		before := len(acct.view(t).Events)
		r := run("up (refused: "+what+")", pulumiSh, "up", stack, "--yes", "--skip-preview")
		if r.err == nil || !strings.Contains(r.out, want) {
			t.Fatalf("%s: want a refusal with %q:\n%s", what, want, tail(r.out, 30))
		}
		if n := len(acct.view(t).Events) - before; n != 0 {
			t.Fatalf("%s: %d changes reached the account before the refusal", what, n)
		}
		t.Logf("%s is refused: %s", what, firstLineWith(r.out, want))
	}
	broker := func() *cloud.Resource { return acct.view(t).FindOne(cloud.TypeBroker, nil) }
	plansExactly := func(what string, want map[string]string) {
		got := map[string]string{}
		for res, steps := range h.previewSteps(t, acct, stack, "preview --json ("+what+")") {
			got[res] = stepKind(steps)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s plans %v, want %v", what, got, want)
		}
	}

	upAndSettled("3.13 on mq.t3.micro")
	id := broker().ID

	set("engineVersion", "4.2")
	refused("engineVersion 4.2 in one step", "Upgrade in two ups")
	set("engineVersion", "3.13")
	set("instanceType", "mq.m7g.medium")
	plansExactly("step 1: instanceType mq.m7g.medium", plans("Broker rabbitmq-esm-broker:update"))
	upAndSettled("step 1: instanceType mq.m7g.medium")

	set("instanceType", "mq.t3.micro")
	refused("instanceType back to mq.t3.micro", "back to mq.t3.micro")
	set("instanceType", "mq.m7g.medium")
	set("engineVersion", "4.3")
	refused("engineVersion 4.3 from 3.13", "to RabbitMQ 4.3 only from 4.2")

	// The provisioner declares the dead-letter queue for the engine: the declaration runs again.
	set("engineVersion", "4.2")
	plansExactly("step 2: engineVersion 4.2", plans("Broker rabbitmq-esm-broker:update", "Function rabbitmq-esm-provisioner:update",
		"Invocation rabbitmq-esm-provisioner-diagnose:replace", "Invocation rabbitmq-esm-provisioner-declare:replace",
		"Invocation rabbitmq-esm-provisioner-users:replace"))
	upAndSettled("step 2: engineVersion 4.2")
	if b := broker(); b.ID != id || b.Str("engineVersion") != "4.2" || b.Str("hostInstanceType") != "mq.m7g.medium" {
		t.Fatalf("want the same broker %s on 4.2 and mq.m7g.medium, got %s on %s and %s", id, b.ID, b.Str("engineVersion"), b.Str("hostInstanceType"))
	}

	set("engineVersion", "3.13")
	refused("engineVersion back to 3.13", "does not downgrade")
	set("engineVersion", "4.2")

	run("destroy --run-program", pulumiSh, "destroy", stack, "--yes", "--skip-preview").must(t, "destroy")
	assertEmpty(t, acct.view(t))
}

// teardownAfterAccountChanged deploys a stack, changes the account under it the way accounts
// change — a route removed, endpoints removed, a private hosted zone associated, the default
// group emptied — and destroys it: a check that guards a deploy refuses the preview, and does not
// keep the destroy from finishing.
func (h *harness) teardownAfterAccountChanged(t *testing.T) {
	cases := []struct {
		name, option, extra string
		change              func(*cloud.State) error
		refusal             string
	}{
		{"existingvpc-nat-route-removed", "existingvpc", existingVPC(simaccount.UserSubnetA, "nat"),
			func(st *cloud.State) error { return st.RemoveRoute(simaccount.UserPrivateTable, "0.0.0.0/0") },
			"missing an interface endpoint for sts or a NAT gateway route"},
		{"existingvpc-endpoints-removed", "existingvpc", existingVPC(simaccount.UserSubnetA, "existing-endpoints"),
			func(st *cloud.State) error {
				for _, ep := range st.Find(cloud.TypeVPCEndpoint, func(r *cloud.Resource) bool { return r.Str("vpcId") == simaccount.UserVPCID }) {
					if err := st.DeleteEndpoint(ep.ID, time.Now()); err != nil {
						return err
					}
				}
				return nil
			},
			"has no available sts interface endpoint"},
		// The stack's own sts endpoint answers for the name until someone deletes it: Route 53
		// refuses a private zone of the same name beside it (ConflictingDomainExists).
		{"defaultvpc-zone-associated-group-emptied", "defaultvpc", "",
			func(st *cloud.State) error {
				sts := st.FindOne(cloud.TypeVPCEndpoint, func(r *cloud.Resource) bool {
					return r.Str("vpcId") == simaccount.DefaultVPCID && strings.HasSuffix(r.Str("serviceName"), ".sts")
				})
				if sts == nil {
					return errors.New("the stack made no sts endpoint in the default VPC")
				}
				if err := st.DeleteEndpoint(sts.ID, time.Now()); err != nil {
					return err
				}
				if _, err := st.AssociatePrivateZone("sts."+simaccount.Region+".amazonaws.com", simaccount.DefaultVPCID); err != nil {
					return err
				}
				_, err := st.EmptyDefaultSecurityGroup(simaccount.DefaultVPCID)
				return err
			},
			"private hosted zone for sts.us-east-1.amazonaws.com"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stack := tc.name
			if tc.extra != "" {
				h.stackFromBody(t, stack, tc.extra)
			} else {
				h.stackFrom(t, tc.option, stack, "")
			}
			acct := h.newAccount(t, linger)
			if tc.name == "existingvpc-endpoints-removed" {
				if err := acct.store.Update(addUserEndpoints); err != nil {
					t.Fatal(err)
				}
			}
			before := acct.view(t).Resources
			run := func(name string, args ...string) result { return h.run(t, acct, stack, name, args...) }
			run("up", pulumiSh, "up", stack, "--yes", "--skip-preview").must(t, "up")
			deployed := acct.view(t).Resources
			if err := acct.store.Update(tc.change); err != nil {
				t.Fatal(err)
			}
			// What the change added (a private hosted zone) is the account's, not the stack's.
			for id, r := range acct.view(t).Resources {
				if deployed[id] == nil {
					before[id] = r
				}
			}
			r := run("preview (refused: the account changed)", pulumiSh, "preview", stack)
			if r.err == nil || !strings.Contains(r.out, tc.refusal) || !strings.Contains(r.out, "make destroy STACK="+stack) {
				t.Errorf("the preview after the change: want the refusal %q and the way to tear down:\n%s", tc.refusal, tail(r.out, 30))
			}
			r = run("destroy --run-program", pulumiSh, "destroy", stack, "--yes", "--skip-preview").must(t, "destroy after the account changed")
			if !strings.Contains(r.out, "tearing down, so not refused") {
				t.Errorf("the destroy did not say which checks it passed over:\n%s", tail(r.out, 30))
			}
			t.Logf("the destroy warns: %s", firstLineWith(r.out, "tearing down, so not refused"))
			assertNothingOfTheStackLeft(t, acct.view(t), before)
			run("stack rm", "pulumi", "stack", "rm", "--yes", "--stack", stack).must(t, "stack rm")
		})
	}
}

// stackFromBody writes a stack file of the suite's own from a config body.
func (h *harness) stackFromBody(t *testing.T, stack, body string) {
	t.Helper()
	h.writeStack(t, stack, "config:\n  aws:region: us-east-1\n"+body)
}

func firstLineWith(out, s string) string {
	for line := range strings.Lines(out) {
		if strings.Contains(line, s) {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// addUserEndpoints gives the user's VPC its own sts, secretsmanager and lambda endpoints, with
// private DNS, each with its interface in UserSubnetA (as EC2 makes them: "VPC Endpoint
// Interface vpce-…", type vpc_endpoint), in a group of the user's admitting 443 from the VPC.
func addUserEndpoints(st *cloud.State) error {
	group := "sg-0userendpoints0000"
	st.Resources[group] = &cloud.Resource{Type: cloud.TypeSecurityGroup, ID: group, Props: map[string]any{"vpcId": simaccount.UserVPCID, "name": "user-endpoints"}}
	st.Resources["sgr-0userendpoints001"] = &cloud.Resource{Type: cloud.TypeIngressRule, ID: "sgr-0userendpoints001", Props: map[string]any{
		"securityGroupId": group, "ipProtocol": "tcp", "fromPort": 443.0, "toPort": 443.0, "cidrIpv4": simaccount.UserVPCCidr}}
	for _, svc := range []string{"sts", "secretsmanager", "lambda"} {
		id := "vpce-0user" + svc
		st.Resources[id] = &cloud.Resource{Type: cloud.TypeVPCEndpoint, ID: id, Props: map[string]any{"vpcId": simaccount.UserVPCID,
			"serviceName": "com.amazonaws." + simaccount.Region + "." + svc, "vpcEndpointType": "Interface", "privateDnsEnabled": true,
			"subnetIds": []any{simaccount.UserSubnetA}, "securityGroupIds": []any{group}}}
		st.AddENIs(id, "VPC Endpoint Interface "+id, "vpc_endpoint", "", []string{simaccount.UserSubnetA}, []string{group})
	}
	return nil
}
