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

// existingVPCConfigs are existingvpc settings the program must refuse without asking AWS
// anything, each naming the key and the value.
var existingVPCConfigs = []struct {
	name     string
	settings map[string]string
	key      string
	value    string
}{
	{"no vpcId", map[string]string{"vpcId": ""}, "vpcId", `""`},
	{"vpcId not an id", map[string]string{"vpcId": "my-vpc"}, "vpcId", "my-vpc"},
	{"vpcId in capitals", map[string]string{"vpcId": "vpc-0123456789ABCDEF0"}, "vpcId", "vpc-0123456789ABCDEF0"},
	{"no subnets", map[string]string{"subnetIds": "[]"}, "subnetIds", "[]"},
	{"subnetIds not a list", map[string]string{"subnetIds": `"subnet-0123456789abcdef1"`}, "subnetIds", "subnet-0123456789abcdef1"},
	{"subnet id not an id", map[string]string{"subnetIds": `["private-a"]`}, "subnetIds", "private-a"},
	{"a subnet twice", map[string]string{"deploymentMode": "CLUSTER_MULTI_AZ",
		"subnetIds": `["subnet-0123456789abcdef1","subnet-0123456789abcdef1"]`}, "subnetIds", "subnet-0123456789abcdef1"},
	{"two subnets for a single instance", map[string]string{"subnetIds": `["subnet-0123456789abcdef1","subnet-0123456789abcdef2"]`},
		"subnetIds", "SINGLE_INSTANCE places the broker"},
	{"too few subnets for a cluster", map[string]string{"deploymentMode": "CLUSTER_MULTI_AZ"}, "subnetIds", "at least two"},
	{"serviceRoute unknown", map[string]string{"serviceRoute": "internet"}, "serviceRoute", "internet"},
	{"endpointSubnetIds without serviceRoute endpoints", map[string]string{"serviceRoute": "nat", "endpointSubnetIds": `["subnet-0123456789abcdef2"]`},
		"endpointSubnetIds", "applies only with serviceRoute endpoints"},
	{"endpointSubnetIds repeating subnetIds", map[string]string{"endpointSubnetIds": `["subnet-0123456789abcdef1"]`},
		"endpointSubnetIds", "is in subnetIds"},
	{"endpointSubnetIds twice", map[string]string{"endpointSubnetIds": `["subnet-0123456789abcdef2","subnet-0123456789abcdef2"]`},
		"endpointSubnetIds", "is listed twice"},
	{"endpointSubnetIds not an id", map[string]string{"endpointSubnetIds": `["private-b"]`}, "endpointSubnetIds", "private-b"},
}

func TestExistingVPCSettingsRefusedBeforeAnyLookup(t *testing.T) {
	for _, tc := range existingVPCConfigs {
		t.Run(tc.name, func(t *testing.T) {
			m := &offline.Account{}
			_, err := run(t, "existingvpc", withSettings(t, "existingvpc", tc.settings), m)
			var cfgErr *ConfigError
			if !errors.As(err, &cfgErr) {
				t.Fatalf("want a *ConfigError, got %v", err)
			}
			if msg := err.Error(); !strings.Contains(msg, ProjectName+":"+tc.key) || !strings.Contains(msg, tc.value) {
				t.Errorf("the message does not name %s and %s:\n%s", tc.key, tc.value, msg)
			}
			if calls, n := m.Calls(), len(m.All()); len(calls) != 0 || n != 0 {
				t.Errorf("%d look-ups (%v) and %d registrations before the refusal", len(calls), calls, n)
			}
		})
	}
	// Another option's stack may not carry existingvpc's settings, unless at their defaults.
	for key, value := range map[string]string{"vpcId": simaccount.UserVPCID, "subnetIds": `["` + simaccount.UserSubnetA + `"]`, "serviceRoute": "nat"} {
		_, err := ParseConfig("isolated", map[string]string{ProjectName + ":networkMode": "isolated", ProjectName + ":" + key: value})
		if err == nil || !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "applies only to networkMode existingvpc, not to isolated") {
			t.Errorf("%s on isolated: %v", key, err)
		}
	}
}

// broken returns the simulated user VPC with one change.
func broken(change func(u *offline.UserVPC)) *offline.Account {
	u := offline.NewUserVPC()
	change(u)
	return &offline.Account{UserVPC: u}
}

// TestExistingVPCRefusals: what the look-ups find makes the program refuse, before it
// registers anything, a network in which the mapping could not reach STS, Secrets Manager,
// Lambda or the broker — naming the subnet, the route table, the setting at fault.
func TestExistingVPCRefusals(t *testing.T) {
	cases := []struct {
		name     string
		settings map[string]string
		m        *offline.Account
		want     []string
	}{
		{"serviceRoute nat, but the subnet routes to an internet gateway", map[string]string{"serviceRoute": "nat", "subnetIds": `["` + simaccount.UserPublicSubnet + `"]`},
			&offline.Account{}, []string{"serviceRoute nat", "unable to reach",
				"sts: missing an interface endpoint for sts or a NAT gateway route",
				"subnet " + simaccount.UserPublicSubnet + " (us-east-1a) routes 0.0.0.0/0 to the internet gateway " + simaccount.UserIGW +
					" (route table " + simaccount.UserPublicTable + ")", "private addresses only", "Nothing was created"}},
		{"serviceRoute nat, but the subnet has no default route", map[string]string{"serviceRoute": "nat", "subnetIds": `["` + simaccount.UserMainSubnet + `"]`},
			&offline.Account{}, []string{"subnet " + simaccount.UserMainSubnet + " (us-east-1d) has no 0.0.0.0/0 route (the VPC's main route table " +
				simaccount.UserMainRouteTable + ")", "lambda: missing"}},
		{"serviceRoute nat, one subnet of a cluster without NAT", map[string]string{"serviceRoute": "nat", "deploymentMode": "CLUSTER_MULTI_AZ",
			"subnetIds": `["` + simaccount.UserSubnetB + `","` + simaccount.UserMainSubnet + `"]`},
			&offline.Account{}, []string{"subnet " + simaccount.UserMainSubnet + " (us-east-1d) has no 0.0.0.0/0 route"}},
		{"serviceRoute nat through a transit gateway", map[string]string{"serviceRoute": "nat"},
			broken(func(u *offline.UserVPC) { u.DefaultRoutes[simaccount.UserPrivateTable] = "tgw-0123456789abcdef0" }),
			[]string{"subnet " + simaccount.UserSubnetA + " (us-east-1a) routes 0.0.0.0/0 to tgw-0123456789abcdef0 (route table " +
				simaccount.UserPrivateTable + "), which the verifier cannot follow to a NAT gateway"}},
		{"serviceRoute nat, but an endpoint with private DNS shuts the subnets out", map[string]string{"serviceRoute": "nat"},
			broken(func(u *offline.UserVPC) { u.WithEndpoints("10.99.0.0/16") }),
			[]string{"sts: missing ingress on 443 to the sts endpoint", "its security group sg-0userendpoints0000 admits 443 neither from the broker's group nor from subnet " +
				simaccount.UserSubnetA + " (10.20.1.0/24)"}},
		{"DNS hostnames off with endpoints", nil,
			broken(func(u *offline.UserVPC) { u.DNSHostnames = false }),
			[]string{"sts: missing DNS support and DNS hostnames on the VPC", simaccount.UserVPCID + " has enableDnsHostnames off",
				"aws ec2 modify-vpc-attribute --vpc-id " + simaccount.UserVPCID + " --enable-dns-hostnames"}},
		{"endpoints to create already exist", nil,
			broken(func(u *offline.UserVPC) { u.WithEndpoints(simaccount.UserVPCCidr) }),
			[]string{simaccount.UserVPCID + " already has a sts interface endpoint with private DNS (vpce-0usersts)", "set rabbitmq-esm:serviceRoute to existing-endpoints"}},
		{"existing endpoints missing", map[string]string{"serviceRoute": "existing-endpoints"},
			&offline.Account{}, []string{"serviceRoute is existing-endpoints, but " + simaccount.UserVPCID + " has no available sts interface endpoint",
				"set rabbitmq-esm:serviceRoute to endpoints"}},
		{"existing endpoint without private DNS", map[string]string{"serviceRoute": "existing-endpoints"},
			broken(func(u *offline.UserVPC) {
				u.WithEndpoints(simaccount.UserVPCCidr)
				ep := u.Endpoints["lambda"]
				ep.PrivateDNS = false
				u.Endpoints["lambda"] = ep
			}),
			[]string{"serviceRoute is existing-endpoints, but the lambda endpoint vpce-0userlambda", "private DNS off"}},
		{"existing endpoints whose group does not admit the subnets", map[string]string{"serviceRoute": "existing-endpoints"},
			broken(func(u *offline.UserVPC) { u.WithEndpoints("10.20.2.0/24") }),
			[]string{"serviceRoute existing-endpoints", "secretsmanager: missing ingress on 443 to the secretsmanager endpoint from the broker's security group or subnets",
				"sg-0userendpoints0000 admits 443 neither from the broker's group nor from subnet " + simaccount.UserSubnetA + " (10.20.1.0/24)"}},
		{"a VPC shared through AWS RAM", map[string]string{"vpcId": simaccount.SharedVPCID, "subnetIds": `["` + simaccount.SharedSubnet + `"]`},
			&offline.Account{}, []string{`rabbitmq-esm:vpcId = "` + simaccount.SharedVPCID + `": is owned by account ` + simaccount.SharedVPCOwner +
				` and shared with this account, ` + simaccount.AccountID + ` (AWS RAM)`, "deploy the stack with credentials of account " + simaccount.SharedVPCOwner,
				"or use a VPC account " + simaccount.AccountID + " owns"}},
		{"no such VPC", map[string]string{"vpcId": "vpc-0aaaaaaaaaaaaaaa0"},
			&offline.Account{}, []string{`rabbitmq-esm:vpcId = "vpc-0aaaaaaaaaaaaaaa0": names no VPC in us-east-1`}},
		{"no such subnet", map[string]string{"subnetIds": `["subnet-0aaaaaaaaaaaaaaa0"]`},
			&offline.Account{}, []string{`rabbitmq-esm:subnetIds = "subnet-0aaaaaaaaaaaaaaa0": names no subnet in us-east-1`}},
		{"a subnet of another VPC", map[string]string{"subnetIds": `["` + simaccount.OtherVPCSubnet + `"]`},
			&offline.Account{}, []string{`rabbitmq-esm:subnetIds = "` + simaccount.OtherVPCSubnet + `": is a subnet of vpc-0fedcba9876543210, not of vpcId ` + simaccount.UserVPCID}},
		{"two subnets in one zone", map[string]string{"deploymentMode": "CLUSTER_MULTI_AZ", "subnetIds": `["` + simaccount.UserSubnetA + `","` + simaccount.UserPublicSubnet + `"]`},
			&offline.Account{}, []string{`rabbitmq-esm:subnetIds = "` + simaccount.UserPublicSubnet + `": is in us-east-1a, like ` + simaccount.UserSubnetA}},
		{"a zone without the endpoint services", map[string]string{"subnetIds": `["` + simaccount.UserSubnetE + `"]`},
			&offline.Account{}, []string{`rabbitmq-esm:subnetIds = "` + simaccount.UserSubnetE + `": is in us-east-1e, which does not offer the sts, secretsmanager, lambda`}},
		{"too few subnets for a cluster", map[string]string{"deploymentMode": "CLUSTER_MULTI_AZ"},
			&offline.Account{}, []string{`rabbitmq-esm:subnetIds = "[` + simaccount.UserSubnetA + `]": lists one subnet, but CLUSTER_MULTI_AZ spreads the broker across zones`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := run(t, "existingvpc", withSettings(t, "existingvpc", tc.settings), tc.m)
			if err == nil {
				t.Fatal("the program accepted the network")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the message lacks %q:\n%v", w, err)
				}
			}
			if n := len(tc.m.All()); n != 0 {
				t.Errorf("%d resources registered before the refusal", n)
			}
			t.Logf("%v", err)
		})
	}
}

// TestExistingVPCServiceRoutes: each serviceRoute builds what it says and nothing of the
// user's VPC: nat no endpoints and 443 out through the NAT gateway; existing-endpoints the VPC's
// own, reached through their group; a cluster uses every subnet.
func TestExistingVPCServiceRoutes(t *testing.T) {
	t.Run("nat", func(t *testing.T) {
		m := &offline.Account{}
		outputs, err := run(t, "existingvpc", withSettings(t, "existingvpc", map[string]string{"serviceRoute": "nat"}), m)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(m.ByType("aws:ec2/vpcEndpoint:VpcEndpoint")) + len(m.ByType("rabbitmq-esm:infra:Endpoints")); n != 0 {
			t.Errorf("serviceRoute nat created %d endpoints or endpoint components", n)
		}
		want := []string{"egress 443 0.0.0.0/0", "egress 443 sg-rabbitmq-esm-broker-sg", "egress 5671 sg-rabbitmq-esm-broker-sg",
			"ingress 443 sg-rabbitmq-esm-broker-sg", "ingress 5671 sg-rabbitmq-esm-broker-sg"}
		if got := rules(m, "sg-rabbitmq-esm-broker-sg"); !slices.Equal(got, want) {
			t.Errorf("broker group rules = %v, want %v", got, want)
		}
		fn, _ := m.One("aws:lambda/function:Function", "provisioner")
		if got := fn.Inputs["environment"].ObjectValue()["variables"].ObjectValue()["SERVICE_ROUTE"].StringValue(); got != string(RouteNAT) {
			t.Errorf("the diagnosis expects the route %q, want %q", got, RouteNAT)
		}
		if _, ok := outputs["vpcEndpointIds"]; ok || outputs["vpcId"] != simaccount.UserVPCID {
			t.Errorf("outputs vpcId %v, vpcEndpointIds %v", outputs["vpcId"], outputs["vpcEndpointIds"])
		}
	})
	t.Run("existing-endpoints", func(t *testing.T) {
		m := &offline.Account{UserVPC: offline.NewUserVPC().WithEndpoints(simaccount.UserVPCCidr)}
		outputs, err := run(t, "existingvpc", withSettings(t, "existingvpc", map[string]string{"serviceRoute": "existing-endpoints"}), m)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(m.ByType("aws:ec2/vpcEndpoint:VpcEndpoint")) + len(m.ByType("aws:ec2/securityGroup:SecurityGroup")); n != 1 {
			t.Errorf("%d endpoints and groups created; want the broker's group alone", n)
		}
		want := []string{"egress 443 sg-0userendpoints0000", "egress 443 sg-rabbitmq-esm-broker-sg", "egress 5671 sg-rabbitmq-esm-broker-sg",
			"ingress 443 sg-rabbitmq-esm-broker-sg", "ingress 5671 sg-rabbitmq-esm-broker-sg"}
		if got := rules(m, "sg-rabbitmq-esm-broker-sg"); !slices.Equal(got, want) {
			t.Errorf("broker group rules = %v, want %v", got, want)
		}
		if got := rules(m, "sg-0userendpoints0000"); got != nil {
			t.Errorf("the user's endpoint group was changed: %v", got)
		}
		if ids := fmt.Sprint(outputs["vpcEndpointIds"]); ids != "map[lambda:vpce-0userlambda secretsmanager:vpce-0usersecretsmanager sts:vpce-0usersts]" {
			t.Errorf("vpcEndpointIds = %v", ids)
		}
		if _, ok := outputs["endpointSecurityGroupId"]; ok {
			t.Error("endpointSecurityGroupId output for endpoints the stack does not own")
		}
		esm, _ := m.One("aws:lambda/eventSourceMapping:EventSourceMapping", "mapping")
		if !dependsOn(esm, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule rabbitmq-esm-endpoints-https-to-existing-1") {
			t.Error("the mapping does not wait for the egress to the VPC's endpoints")
		}
	})
	t.Run("cluster", func(t *testing.T) {
		m := &offline.Account{}
		subnets := []string{simaccount.UserSubnetA, simaccount.UserSubnetB, simaccount.UserSubnetC}
		settings := map[string]string{"deploymentMode": "CLUSTER_MULTI_AZ", "subnetIds": `["` + strings.Join(subnets, `","`) + `"]`}
		if _, err := run(t, "existingvpc", withSettings(t, "existingvpc", settings), m); err != nil {
			t.Fatal(err)
		}
		b, _ := m.One("aws:mq/broker:Broker", "broker")
		if got := offline.Strings(b.Inputs["subnetIds"]); !slices.Equal(got, subnets) {
			t.Errorf("cluster subnets = %v, want %v", got, subnets)
		}
		ep, _ := m.One("aws:ec2/vpcEndpoint:VpcEndpoint", "sts")
		if got := offline.Strings(ep.Inputs["subnetIds"]); !slices.Equal(got, subnets) {
			t.Errorf("endpoint subnets = %v, want %v", got, subnets)
		}
	})
}

// TestSharedVPCGuardsADeployOnly: tearing down a stack whose VPC is (now) shared from another
// account warns instead of refusing: deleting needs nothing Amazon MQ refuses there.
func TestSharedVPCGuardsADeployOnly(t *testing.T) {
	t.Setenv(EnvTeardown, "1")
	m := &offline.Account{}
	settings := map[string]string{"vpcId": simaccount.SharedVPCID, "subnetIds": `["` + simaccount.SharedSubnet + `"]`, "serviceRoute": "nat"}
	if _, err := run(t, "existingvpc", withSettings(t, "existingvpc", settings), m); err != nil {
		t.Fatalf("the teardown was refused: %v", err)
	}
	if len(m.All()) == 0 {
		t.Error("nothing registered on the teardown: the deletion hooks need the program's resources")
	}
}
