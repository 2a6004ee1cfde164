package aws

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin/cloud"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/simaccount"
)

// change changes the account out of band, as a test between commands does.
func change(t *testing.T, fn func(st *cloud.State) error) {
	t.Helper()
	store, err := cloud.OpenFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func lookupZone(p *standin.Provider, args map[string]any) (resource.PropertyMap, error) {
	res, err := p.Invoke(context.Background(), plugin.InvokeRequest{Tok: "aws:route53/getZone:getZone", Args: props(args)})
	return res.Properties, err
}

func TestGetZoneFindsOwnPrivateZonesOfTheVPC(t *testing.T) {
	p := provider(t)
	sts := "sts." + simaccount.Region + ".amazonaws.com"
	args := map[string]any{"name": sts, "privateZone": true, "vpcId": simaccount.UserVPCID}
	if _, err := lookupZone(p, args); err == nil || err.Error() != "no matching Route 53 Hosted Zone found" {
		t.Fatalf("no zone yet: %v", err)
	}
	var own string
	change(t, func(st *cloud.State) (err error) {
		own, err = st.AssociatePrivateZone(sts+".", simaccount.UserVPCID)
		return err
	})
	got, err := lookupZone(p, args)
	if err != nil || standin.Str(got, "zoneId") != own || standin.Str(got, "name") != sts || !standin.Bool(got, "privateZone") {
		t.Fatalf("own zone: %v %v", got, err)
	}
	// Another VPC, or a public zone of that name: not this one.
	if _, err := lookupZone(p, map[string]any{"name": sts, "privateZone": true, "vpcId": simaccount.DefaultVPCID}); err == nil {
		t.Error("the zone was found for the default VPC")
	}
	if _, err := lookupZone(p, map[string]any{"name": sts}); err == nil {
		t.Error("a public zone was found")
	}
	if _, err := lookupZone(p, map[string]any{"zoneId": own}); err != nil {
		t.Errorf("by id: %v", err)
	}
	// A second zone of the name in the account (another VPC) with no VPC given: two match.
	change(t, func(st *cloud.State) error {
		_, err := st.AssociatePrivateZone(sts, simaccount.DefaultVPCID)
		return err
	})
	if _, err := lookupZone(p, map[string]any{"name": sts, "privateZone": true}); err == nil ||
		err.Error() != "multiple Route 53 Hosted Zones matched; use additional constraints to reduce matches to a single Route 53 Hosted Zone" {
		t.Errorf("two zones: %v", err)
	}
	// The VPC takes one zone per domain.
	change(t, func(st *cloud.State) error {
		if _, err := st.AssociateSharedZone(sts, simaccount.UserVPCID); err == nil || !strings.Contains(err.Error(), "ConflictingDomainExists") {
			t.Errorf("a second zone of the domain in the VPC: %v", err)
		}
		return nil
	})
}

// TestGetZoneIgnoresZonesOfOtherAccounts: a zone shared from another account resolves in the
// VPC (and blocks an endpoint's private DNS) but the look-up of this account does not see it.
func TestGetZoneIgnoresZonesOfOtherAccounts(t *testing.T) {
	p := provider(t)
	sts := "sts." + simaccount.Region + ".amazonaws.com"
	var shared string
	change(t, func(st *cloud.State) (err error) {
		shared, err = st.AssociateSharedZone(sts, simaccount.UserVPCID)
		return err
	})
	if _, err := lookupZone(p, map[string]any{"name": sts, "privateZone": true, "vpcId": simaccount.UserVPCID}); err == nil ||
		!strings.Contains(err.Error(), "no matching") {
		t.Errorf("the shared zone was found by name: %v", err)
	}
	if _, err := lookupZone(p, map[string]any{"zoneId": shared}); err == nil || !strings.Contains(err.Error(), "NoSuchHostedZone") {
		t.Errorf("the shared zone was found by id: %v", err)
	}
	_, _, err := create(t, p, "ec2/vpcEndpoint:VpcEndpoint", "sts", map[string]any{"vpcId": simaccount.UserVPCID,
		"serviceName": "com.amazonaws." + simaccount.Region + ".sts", "vpcEndpointType": "Interface", "privateDnsEnabled": true,
		"subnetIds": []any{simaccount.UserSubnetA}})
	if err == nil || !strings.Contains(err.Error(), "conflicting DNS domain for "+sts) {
		t.Errorf("an endpoint with private DNS beside the shared zone: %v", err)
	}
}

func TestAccountChangesUnderAStack(t *testing.T) {
	p := provider(t)
	var removed []string
	change(t, func(st *cloud.State) (err error) {
		removed, err = st.EmptyDefaultSecurityGroup(simaccount.DefaultVPCID)
		return err
	})
	if len(removed) != 2 {
		t.Fatalf("removed %v, want the seeded ingress and egress rules", removed)
	}
	res, err := p.Invoke(context.Background(), plugin.InvokeRequest{Tok: "aws:vpc/getSecurityGroupRules:getSecurityGroupRules",
		Args: props(map[string]any{"filters": []any{map[string]any{"name": "group-id", "values": []any{simaccount.DefaultSGID}}}})})
	if err != nil || len(standin.Strs(res.Properties, "ids")) != 0 {
		t.Errorf("the emptied default group still has rules: %v %v", res.Properties, err)
	}

	change(t, func(st *cloud.State) error { return st.SetDNSHostnames(simaccount.DefaultVPCID, false) })
	res, err = p.Invoke(context.Background(), plugin.InvokeRequest{Tok: "aws:ec2/getVpc:getVpc", Args: props(map[string]any{"default": true})})
	if err != nil || standin.Bool(res.Properties, "enableDnsHostnames") {
		t.Errorf("DNS hostnames still on: %v %v", res.Properties, err)
	}
	if _, _, err := create(t, p, "ec2/vpcEndpoint:VpcEndpoint", "sts", map[string]any{"vpcId": simaccount.DefaultVPCID,
		"serviceName": "com.amazonaws." + simaccount.Region + ".sts", "vpcEndpointType": "Interface", "privateDnsEnabled": true,
		"subnetIds": []any{simaccount.DefaultSubnetID("us-east-1a")}}); err == nil || !strings.Contains(err.Error(), "DNS hostnames") {
		t.Errorf("private DNS without DNS hostnames: %v", err)
	}

	change(t, func(st *cloud.State) error { return st.RemoveRoute(simaccount.UserPrivateTable, "0.0.0.0/0") })
	res, err = p.Invoke(context.Background(), plugin.InvokeRequest{Tok: "aws:ec2/getRouteTable:getRouteTable", Args: props(map[string]any{"routeTableId": simaccount.UserPrivateTable})})
	if err != nil || len(standin.Plain(res.Properties["routes"]).([]any)) != 1 {
		t.Errorf("the private table after the route's removal: %v %v", res.Properties, err)
	}
	change(t, func(st *cloud.State) error {
		if err := st.RemoveRoute(simaccount.UserPrivateTable, "0.0.0.0/0"); err == nil {
			t.Error("a removed route was removed again")
		}
		return nil
	})

	id, _, err := create(t, p, "ec2/vpcEndpoint:VpcEndpoint", "sm", map[string]any{"vpcId": simaccount.UserVPCID,
		"serviceName": "com.amazonaws." + simaccount.Region + ".secretsmanager", "vpcEndpointType": "Interface", "privateDnsEnabled": true,
		"subnetIds": []any{simaccount.UserSubnetA}})
	if err != nil {
		t.Fatal(err)
	}
	change(t, func(st *cloud.State) error { return st.DeleteEndpoint(id, time.Now()) })
	if _, err := p.Invoke(context.Background(), plugin.InvokeRequest{Tok: "aws:ec2/getVpcEndpoint:getVpcEndpoint",
		Args: props(map[string]any{"vpcId": simaccount.UserVPCID, "serviceName": "com.amazonaws." + simaccount.Region + ".secretsmanager"})}); err == nil {
		t.Error("the deleted endpoint is still found")
	}
	change(t, func(st *cloud.State) error {
		for _, e := range st.LiveENIs(time.Now()) {
			if e.Owner == id {
				t.Errorf("the deleted endpoint's interface %s remains", e.ID)
			}
		}
		return nil
	})
}
