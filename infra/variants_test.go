package infra

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/offline"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/simaccount"
)

func withSettings(t *testing.T, stack string, settings map[string]string) map[string]string {
	t.Helper()
	raw := shipped(t, stack)
	for k, v := range settings {
		raw[ProjectName+":"+k] = v
	}
	return raw
}

func TestClusterTakesOneSubnetPerZone(t *testing.T) {
	m := &offline.Account{}
	raw := withSettings(t, "isolated", map[string]string{"deploymentMode": "CLUSTER_MULTI_AZ", "availabilityZones": "3"})
	if _, err := run(t, "isolated", raw, m); err != nil {
		t.Fatal(err)
	}
	b, _ := m.One("aws:mq/broker:Broker", "broker")
	want := []string{"subnet-isolated-us-east-1a", "subnet-isolated-us-east-1b", "subnet-isolated-us-east-1c"}
	if got := offline.Strings(b.Inputs["subnetIds"]); !slices.Equal(got, want) {
		t.Errorf("cluster subnets = %v, want %v", got, want)
	}
	if got := b.Inputs["hostInstanceType"].StringValue(); got != "mq.m5.large" {
		t.Errorf("cluster instance type = %s", got)
	}
}

func TestNATOnePerZone(t *testing.T) {
	m := &offline.Account{}
	if _, err := run(t, "nat", withSettings(t, "nat", map[string]string{"natGateways": "OnePerAz"}), m); err != nil {
		t.Fatal(err)
	}
	vpc := m.ByType("awsx:ec2:Vpc")[0]
	if got := vpc.Inputs["natGateways"].ObjectValue()["strategy"].StringValue(); got != "OnePerAz" {
		t.Errorf("NAT strategy = %s", got)
	}
}

// TestZonesSkipThoseWithoutEndpointServices: us-east-1e offers none of the services in the
// mocks (as in the real region); a five-zone VPC must skip it.
func TestZonesSkipThoseWithoutEndpointServices(t *testing.T) {
	m := &offline.Account{}
	if _, err := run(t, "isolated", withSettings(t, "isolated", map[string]string{"availabilityZones": "5"}), m); err != nil {
		t.Fatal(err)
	}
	zones := offline.Strings(m.ByType("awsx:ec2:Vpc")[0].Inputs["availabilityZoneNames"])
	if slices.Contains(zones, "us-east-1e") || len(zones) != 5 {
		t.Errorf("zones = %v", zones)
	}
}

func TestUserTagsAndListenerSettings(t *testing.T) {
	// Another virtual host than / needs a deployed broker (newBrokerVirtualHostProblem).
	m := &offline.Account{Broker: map[string]any{"brokerId": "b-1", "brokerName": "rabbitmq-esm-publicsubnet", "engineVersion": "3.13",
		"hostInstanceType": "mq.t3.micro", "deploymentMode": "SINGLE_INSTANCE", "publiclyAccessible": false}}
	raw := withSettings(t, "publicsubnet", map[string]string{
		"tags": `{"team":"payments","cost-center":"42"}`, "logMessageBodies": "true", "maxBatchingWindowSeconds": "5",
		"batchSize": "250", "queueName": "orders", "virtualHost": "shop",
	})
	if _, err := run(t, "publicsubnet", raw, m); err != nil {
		t.Fatal(err)
	}
	checkTags(t, m, map[string]string{"team": "payments", "cost-center": "42", "project": ProjectName})
	fn, _ := m.One("aws:lambda/function:Function", "events-listener")
	env := fn.Inputs["environment"].ObjectValue()["variables"].ObjectValue()
	if env["LISTENER_LOG_BODIES"].StringValue() != "true" {
		t.Errorf("LISTENER_LOG_BODIES = %v", env["LISTENER_LOG_BODIES"])
	}
	esm, _ := m.One("aws:lambda/eventSourceMapping:EventSourceMapping", "mapping")
	in := esm.Inputs
	if in["maximumBatchingWindowInSeconds"].NumberValue() != 5 || in["batchSize"].NumberValue() != 250 || in["queues"].StringValue() != "orders" {
		t.Errorf("mapping settings = %v", in)
	}
	if uri := in["sourceAccessConfigurations"].ArrayValue()[1].ObjectValue()["uri"].StringValue(); uri != "shop" {
		t.Errorf("virtual host = %s", uri)
	}
}

func TestDefaultVPCWithExistingEndpoints(t *testing.T) {
	m := &offline.Account{ExistingEndpoints: true}
	outputs, err := run(t, "defaultvpc", withSettings(t, "defaultvpc", map[string]string{"defaultVpcEndpoints": "existing"}), m)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(m.ByType("aws:ec2/vpcEndpoint:VpcEndpoint")); n != 0 {
		t.Errorf("%d endpoints created though the VPC has them", n)
	}
	ids := fmt.Sprint(outputs["vpcEndpointIds"])
	if ids != "map[lambda:vpce-existing-lambda secretsmanager:vpce-existing-secretsmanager sts:vpce-existing-sts]" {
		t.Errorf("vpcEndpointIds = %v", outputs["vpcEndpointIds"])
	}
	esm, _ := m.One("aws:lambda/eventSourceMapping:EventSourceMapping", "mapping")
	if len(esm.Inputs["sourceAccessConfigurations"].ArrayValue()) != 2 {
		t.Error("mapping lost its access configurations")
	}
}

func TestDefaultVPCLookupFailures(t *testing.T) {
	cases := []struct {
		name     string
		settings map[string]string
		m        *offline.Account
		want     []string
	}{
		{"no default VPC", nil,
			&offline.Account{FailCalls: map[string]error{"aws:ec2/getVpc:getVpc": errors.New("no matching EC2 VPC found")}},
			[]string{"needs the account's default VPC", "aws ec2 create-default-vpc --region us-east-1", "networkMode isolated"}},
		{"existing endpoint missing", map[string]string{"defaultVpcEndpoints": "existing"},
			&offline.Account{},
			[]string{"defaultVpcEndpoints is existing", "no available sts interface endpoint"}},
		{"existing endpoint without private DNS", map[string]string{"defaultVpcEndpoints": "existing"},
			&offline.Account{ExistingEndpoints: true, NoPrivateDNS: []string{"secretsmanager"}},
			[]string{"secretsmanager endpoint vpce-existing-secretsmanager", "private DNS off"}},
		// Creating an endpoint with private DNS where the VPC already answers for the name fails
		// in AWS with the broker half built; the program must refuse before anything exists.
		{"endpoints to create already exist", nil,
			&offline.Account{ExistingEndpoints: true},
			[]string{"already has a sts interface endpoint with private DNS (vpce-existing-sts)", "defaultVpcEndpoints to existing"}},
		{"a private hosted zone answers for a service", nil,
			&offline.Account{PrivateZones: []string{"lambda"}},
			[]string{"private hosted zone for lambda.us-east-1.amazonaws.com", "defaultVpcEndpoints to existing"}},
		// The default group and the VPC's DNS are read, not assumed: a remediated account has an
		// empty group, and private DNS needs both attributes.
		{"the default group emptied (CIS 5.4)", nil,
			&offline.Account{DefaultGroupRules: []simaccount.Rule{}},
			[]string{"broker: missing ingress on 5671 from the broker's own security group", "sts: missing egress on 443",
				"authorize-security-group-ingress --group-id sg-default", "IpRanges=[{CidrIp=172.31.0.0/16}]", "networkMode isolated or existingvpc"}},
		{"DNS hostnames off", nil,
			&offline.Account{DefaultVPCDNSHostnamesOff: true},
			[]string{"missing DNS support and DNS hostnames on the VPC", "vpc-default has enableDnsHostnames off", "--enable-dns-hostnames"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := run(t, "defaultvpc", withSettings(t, "defaultvpc", tc.settings), tc.m)
			if err == nil {
				t.Fatal("the program succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if n := len(tc.m.All()); n != 0 {
				t.Errorf("%d resources registered before the failure", n)
			}
		})
	}
}

// TestUnreachableTopologyIsRefusedBeforeAnythingIsRegistered bends the option table so that
// isolated subnets would rely on a NAT gateway that does not exist: the program must refuse,
// naming the missing piece, before it registers anything.
func TestUnreachableTopologyIsRefusedBeforeAnythingIsRegistered(t *testing.T) {
	original := Options[ModeIsolated]
	t.Cleanup(func() { Options[ModeIsolated] = original })
	broken := original
	broken.ServiceRoute = RouteNAT
	Options[ModeIsolated] = broken

	m := &offline.Account{}
	_, err := run(t, "isolated", shipped(t, "isolated"), m)
	if err == nil {
		t.Fatal("the program accepted a topology in which the ESM cannot reach STS")
	}
	for _, want := range []string{"unable to reach", "sts: missing an interface endpoint for sts or a NAT gateway route", "Nothing was created"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if n := len(m.All()); n != 0 {
		t.Errorf("%d resources registered before the refusal", n)
	}
}

// TestAdminAccess: operators reach the console (443) and AMQPS (5671) of a private broker only
// from the blocks they name, through the broker's own group.
func TestAdminAccess(t *testing.T) {
	m := &offline.Account{}
	if _, err := run(t, "isolated", withSettings(t, "isolated", map[string]string{"adminAccessCidrs": `["10.20.0.0/16","192.168.5.0/24"]`}), m); err != nil {
		t.Fatal(err)
	}
	got := rules(m, "sg-rabbitmq-esm-broker-sg")
	for _, want := range []string{"ingress 443 10.20.0.0/16", "ingress 5671 10.20.0.0/16", "ingress 443 192.168.5.0/24", "ingress 5671 192.168.5.0/24"} {
		if !slices.Contains(got, want) {
			t.Errorf("broker group rules %v lack %s", got, want)
		}
	}
	shippedOnly := &offline.Account{}
	if _, err := run(t, "isolated", shipped(t, "isolated"), shippedOnly); err != nil {
		t.Fatal(err)
	}
	for _, r := range rules(shippedOnly, "sg-rabbitmq-esm-broker-sg") {
		// The provisioner and the rotator reach the management API from the broker's own group.
		if strings.HasPrefix(r, "ingress 443") && r != "ingress 443 sg-rabbitmq-esm-broker-sg" {
			t.Errorf("the shipped stack opens the console: %s", r)
		}
	}
}

// A default group narrowed to what the mapping needs — the rules the refusal above suggests —
// passes the verifier.
func TestDefaultVPCWithANarrowedDefaultGroup(t *testing.T) {
	m := &offline.Account{DefaultGroupRules: []simaccount.Rule{
		{ID: "sgr-1", Protocol: "tcp", From: 5671, To: 5671, Group: simaccount.DefaultSGID},
		{ID: "sgr-2", Egress: true, Protocol: "tcp", From: 5671, To: 5671, Group: simaccount.DefaultSGID},
		{ID: "sgr-3", Egress: true, Protocol: "tcp", From: 443, To: 443, CIDR: "172.31.0.0/16"},
	}}
	if _, err := run(t, "defaultvpc", shipped(t, "defaultvpc"), m); err != nil {
		t.Fatal(err)
	}
}

// An emptied default group, like every deploy-only check, does not keep a stack from being torn
// down: the teardown run warns and registers what the engine needs to delete.
func TestDefaultVPCEmptiedGroupDoesNotBlockATeardown(t *testing.T) {
	t.Setenv(EnvTeardown, "1")
	m := &offline.Account{DefaultGroupRules: []simaccount.Rule{}, DefaultVPCDNSHostnamesOff: true}
	if _, err := run(t, "defaultvpc", shipped(t, "defaultvpc"), m); err != nil {
		t.Fatalf("the teardown was refused: %v", err)
	}
	if len(m.All()) == 0 {
		t.Error("the teardown registered nothing: the engine could run no deletion hook")
	}
}
