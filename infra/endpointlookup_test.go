package infra

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/offline"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/simaccount"
)

// lookFacts runs the account look-ups alone, under the mocks, and returns what they found,
// refusals and warnings included.
func lookFacts(t *testing.T, stack string, raw map[string]string, m *offline.Account) Facts {
	t.Helper()
	var facts Facts
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		cfg, err := ParseConfig(ctx.Stack(), raw)
		if err != nil {
			return err
		}
		facts, err = lookupFacts(ctx, cfg)
		return err
	}, pulumi.WithMocks(ProjectName, stack, m))
	if err != nil {
		t.Fatal(err)
	}
	return facts
}

func withMore(eps ...offline.UserEndpoint) *offline.Account {
	u := offline.NewUserVPC()
	u.More = eps
	return &offline.Account{UserVPC: u}
}

// TestEndpointListing: the VPC's endpoints are listed through their network interfaces, so a
// deleted endpoint (EC2 lists it as deleted for a while) or a second endpoint of a service
// neither breaks the look-up nor counts as answering for the service; one not yet gone does.
func TestEndpointListing(t *testing.T) {
	deletedSTS := offline.UserEndpoint{ID: "vpce-0deletedsts", Service: "sts", State: "deleted", PrivateDNS: true, Groups: []string{"sg-0userendpoints0000"}}
	t.Run("a deleted endpoint with private DNS beside none is no conflict", func(t *testing.T) {
		m := withMore(deletedSTS)
		if _, err := run(t, "existingvpc", withSettings(t, "existingvpc", nil), m); err != nil {
			t.Fatal(err)
		}
		if n := len(m.ByType("aws:ec2/vpcEndpoint:VpcEndpoint")); n != 3 {
			t.Errorf("%d endpoints created, want 3", n)
		}
	})
	t.Run("a pending endpoint with private DNS is a conflict", func(t *testing.T) {
		pending := deletedSTS
		pending.ID, pending.State = "vpce-0pendingsts", "pending"
		m := withMore(pending)
		_, err := run(t, "existingvpc", withSettings(t, "existingvpc", nil), m)
		if err == nil || !strings.Contains(err.Error(), "already has a sts interface endpoint with private DNS (vpce-0pendingsts (pending))") {
			t.Fatalf("want the pending endpoint refused as a conflict, got %v", err)
		}
		if n := len(m.All()); n != 0 {
			t.Errorf("%d resources registered before the refusal", n)
		}
	})
	t.Run("serviceRoute nat beside a deleted endpoint", func(t *testing.T) {
		m := withMore(deletedSTS)
		if _, err := run(t, "existingvpc", withSettings(t, "existingvpc", map[string]string{"serviceRoute": "nat"}), m); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("existing-endpoints: of two sts endpoints, the one with private DNS", func(t *testing.T) {
		m := withMore(offline.UserEndpoint{ID: "vpce-0userstsnodns", Service: "sts", Groups: []string{"sg-0other000000000"}}, deletedSTS)
		m.UserVPC.WithEndpoints(simaccount.UserVPCCidr)
		outputs, err := run(t, "existingvpc", withSettings(t, "existingvpc", map[string]string{"serviceRoute": "existing-endpoints"}), m)
		if err != nil {
			t.Fatal(err)
		}
		if ids := fmt.Sprint(outputs["vpcEndpointIds"]); !strings.Contains(ids, "sts:vpce-0usersts]") {
			t.Errorf("vpcEndpointIds = %v, want sts vpce-0usersts", outputs["vpcEndpointIds"])
		}
	})
	t.Run("existing-endpoints: two sts endpoints, neither with private DNS", func(t *testing.T) {
		m := withMore(offline.UserEndpoint{ID: "vpce-0userstsnodns", Service: "sts"})
		m.UserVPC.WithEndpoints(simaccount.UserVPCCidr)
		ep := m.UserVPC.Endpoints["sts"]
		ep.PrivateDNS = false
		m.UserVPC.Endpoints["sts"] = ep
		_, err := run(t, "existingvpc", withSettings(t, "existingvpc", map[string]string{"serviceRoute": "existing-endpoints"}), m)
		if err == nil || !strings.Contains(err.Error(), "the sts endpoint vpce-0usersts, vpce-0userstsnodns in "+simaccount.UserVPCID+" has private DNS off") {
			t.Fatalf("want both endpoints named, private DNS off, got %v", err)
		}
		if n := len(m.All()); n != 0 {
			t.Errorf("%d resources registered before the refusal", n)
		}
	})
	t.Run("existing-endpoints: only a deleted one", func(t *testing.T) {
		m := withMore(deletedSTS)
		_, err := run(t, "existingvpc", withSettings(t, "existingvpc", map[string]string{"serviceRoute": "existing-endpoints"}), m)
		if err == nil || !strings.Contains(err.Error(), "has no available sts interface endpoint") {
			t.Fatalf("want the missing endpoint refused, got %v", err)
		}
	})
}

// TestSharedHostedZonesAreStatedUnchecked: a private hosted zone shared from another account is
// invisible to the look-up; the run says so with the command that shows it.
func TestSharedHostedZonesAreStatedUnchecked(t *testing.T) {
	for _, stack := range []string{"existingvpc", "defaultvpc"} {
		facts := lookFacts(t, stack, withSettings(t, stack, nil), &offline.Account{})
		vpc := map[string]string{"existingvpc": simaccount.UserVPCID, "defaultvpc": simaccount.DefaultVPCID}[stack]
		want := "`aws route53 list-hosted-zones-by-vpc --vpc-id " + vpc + " --vpc-region us-east-1`"
		if !slices.ContainsFunc(facts.refused.warnings, func(w string) bool { return strings.Contains(w, want) && strings.HasPrefix(w, "not checked:") }) {
			t.Errorf("%s: no warning naming %s: %q", stack, want, facts.refused.warnings)
		}
	}
	facts := lookFacts(t, "existingvpc", withSettings(t, "existingvpc", map[string]string{"serviceRoute": "nat"}), &offline.Account{})
	if len(facts.refused.warnings) != 0 {
		t.Errorf("serviceRoute nat creates no endpoint, yet warns: %q", facts.refused.warnings)
	}
}
