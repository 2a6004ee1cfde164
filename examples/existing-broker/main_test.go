package main

import (
	"encoding/json"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/offline"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/stackconfig"
)

// The values of Pulumi.example.yaml; brokerUserArn is the credentials secret's ARN.
const (
	brokerArn     = "arn:aws:mq:us-east-1:123456789012:broker:orders:b-0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
	endpoint      = "amqps://b-0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d.mq.us-east-1.amazonaws.com:5671"
	brokerUserArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:orders-broker-AbCdEf"
	subnetID      = "subnet-0aaa1111bbbb22223"
	groupID       = "sg-0ccc3333dddd44445"
	projectName   = "existing-broker"
)

// runExample runs the program as `pulumi up` would on the example stack, with some settings
// changed, against the simulated account; it returns the account and the program's error.
func runExample(t *testing.T, changes map[string]string) (*offline.Account, error) {
	t.Helper()
	raw, err := stackconfig.Read(".", "example")
	if err != nil {
		t.Fatal(err)
	}
	for key, value := range changes {
		if value == "" {
			delete(raw, projectName+":"+key)
		} else {
			raw[projectName+":"+key] = value
		}
	}
	env, err := json.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(pulumi.EnvConfig, string(env))
	m := &offline.Account{}
	err = pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := Program(ctx)
		return err
	}, pulumi.WithMocks(projectName, "example", m))
	return m, err
}

func TestExistingBroker(t *testing.T) {
	cases := []struct {
		name    string
		changes map[string]string
		private bool
		route   string
	}{
		{name: "private broker behind interface endpoints (Pulumi.example.yaml)", private: true, route: "existing-endpoints"},
		{name: "private broker behind a NAT gateway", changes: map[string]string{"serviceRoute": "nat"}, private: true, route: "nat"},
		{name: "public broker", changes: map[string]string{"subnetIds": "[]", "securityGroupIds": "[]", "serviceRoute": "aws-side"}, route: "aws-side"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := runExample(t, tc.changes)
			if err != nil {
				t.Fatal(err)
			}
			checkOnlyTheListenerSide(t, m)
			checkMapping(t, m, tc.private)
			checkFunctions(t, m, tc.private, tc.route)
		})
	}
}

// checkOnlyTheListenerSide: the program makes the provisioner and the event source, each
// inside its component, and nothing of a broker or a network: those exist.
func checkOnlyTheListenerSide(t *testing.T, m *offline.Account) {
	t.Helper()
	var got []string
	for _, r := range m.All() {
		got = append(got, r.Type)
		parent, _ := offline.URNName(r.Parent)
		component := strings.HasPrefix(r.Type, "rabbitmq-esm:infra:")
		if component != (parent == "pulumi:pulumi:Stack") || !component && !strings.HasPrefix(parent, "rabbitmq-esm:infra:") {
			t.Errorf("%s %s has parent %s", r.Type, r.Name, parent)
		}
	}
	sort.Strings(got)
	want := []string{
		"aws:cloudwatch/logGroup:LogGroup", "aws:cloudwatch/logGroup:LogGroup",
		"aws:iam/role:Role", "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "aws:iam/rolePolicy:RolePolicy",
		"aws:lambda/eventSourceMapping:EventSourceMapping",
		"aws:lambda/function:Function", "aws:lambda/function:Function",
		"aws:lambda/invocation:Invocation", "aws:lambda/invocation:Invocation",
		"rabbitmq-esm:infra:EventSource", "rabbitmq-esm:infra:Provisioner",
	}
	if !slices.Equal(got, want) {
		t.Errorf("registered %v,\nwant %v", got, want)
	}
}

func checkMapping(t *testing.T, m *offline.Account, private bool) {
	t.Helper()
	esm, err := m.One("aws:lambda/eventSourceMapping:EventSourceMapping", "orders-mapping")
	if err != nil {
		t.Fatal(err)
	}
	in := esm.Inputs
	if in["eventSourceArn"].StringValue() != brokerArn || in["queues"].StringValue() != "orders" || in["batchSize"].NumberValue() != 100 {
		t.Errorf("mapping source %v, queue %v, batch %v; want %s, orders, 100", in["eventSourceArn"], in["queues"], in["batchSize"], brokerArn)
	}
	var access []string
	for _, c := range in["sourceAccessConfigurations"].ArrayValue() {
		access = append(access, c.ObjectValue()["type"].StringValue()+"="+c.ObjectValue()["uri"].StringValue())
	}
	if want := []string{"BASIC_AUTH=" + brokerUserArn, "VIRTUAL_HOST=/"}; !slices.Equal(access, want) {
		t.Errorf("mapping access %v, want %v", access, want)
	}
	if !esm.DependsOnResource("aws:lambda/invocation:Invocation", "orders-provisioner-declare") {
		t.Error("the mapping does not wait for the queue's declaration")
	}
	if got := in["tags"].ObjectValue()["example"]; !got.IsString() || got.StringValue() != projectName {
		t.Errorf("mapping tags %v", in["tags"])
	}
	var wantHooks []string
	if private {
		wantHooks = []string{"existing-broker-wait-esm-enis"}
	}
	if !slices.Equal(esm.AfterDeleteHooks, wantHooks) {
		t.Errorf("mapping after-delete hooks %v, want %v", esm.AfterDeleteHooks, wantHooks)
	}
}

// checkFunctions: both functions run beside a private broker, in its subnets and groups, and
// reach it as the mapping does; the listener's role has what the mapping needs.
func checkFunctions(t *testing.T, m *offline.Account, private bool, route string) {
	t.Helper()
	for _, name := range []string{"orders-listener", "orders-provisioner"} {
		fn, err := m.One("aws:lambda/function:Function", name)
		if err != nil {
			t.Fatal(err)
		}
		vpc, attached := fn.Inputs["vpcConfig"]
		if attached != private {
			t.Fatalf("%s in a VPC: %v, want %v", name, attached, private)
		}
		if private {
			subnets, groups := offline.Strings(vpc.ObjectValue()["subnetIds"]), offline.Strings(vpc.ObjectValue()["securityGroupIds"])
			if !slices.Equal(subnets, []string{subnetID}) || !slices.Equal(groups, []string{groupID}) {
				t.Errorf("%s in subnets %v, groups %v; want the broker's", name, subnets, groups)
			}
			if !slices.Equal(fn.AfterDeleteHooks, []string{"existing-broker-wait-function-enis"}) {
				t.Errorf("%s after-delete hooks %v", name, fn.AfterDeleteHooks)
			}
		}
		env := fn.Inputs["environment"].ObjectValue()["variables"].ObjectValue()
		// Without BrokerUsers, the one user the settings name does every job: the listener
		// dead-letters with it.
		want := map[string]string{"BROKER_ENDPOINT": endpoint, "DEAD_LETTER_SECRET_ARN": brokerUserArn, "BROKER_VHOST": "/", "DELIVERY_LIMIT": "5"}
		if name == "orders-provisioner" {
			delete(want, "DEAD_LETTER_SECRET_ARN")
			want["BROKER_SECRET_ARN"] = brokerUserArn
			want["QUEUE_NAME"], want["SERVICE_ROUTE"], want["ENGINE_VERSION"], want["NETWORK_MODE"] = "orders", route, "3.13", projectName
		}
		for k, v := range want {
			if got := env[resource.PropertyKey(k)]; !got.IsString() || got.StringValue() != v {
				t.Errorf("%s %s = %v, want %s", name, k, got, v)
			}
		}
	}

	policy, err := m.One("aws:iam/rolePolicy:RolePolicy", "orders-listener")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Statement []struct {
			Sid      string
			Resource []string
		}
	}
	if err := json.Unmarshal([]byte(policy.Inputs["policy"].StringValue()), &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, s := range doc.Statement {
		got[s.Sid] = s.Resource
	}
	if !slices.Equal(got["ReadBrokerCredentials"], []string{brokerUserArn}) || !slices.Equal(got["DescribeBroker"], []string{brokerArn}) {
		t.Errorf("the listener's role reads %v and describes %v; want the secret and the broker", got["ReadBrokerCredentials"], got["DescribeBroker"])
	}
	if _, ok := got["ManageEsmNetworkInterfaces"]; ok != private {
		t.Errorf("the listener's role manages the mapping's interfaces: %v, want %v", ok, private)
	}
}

// TestExistingBrokerRefusesBadSettings: a setting missing or at odds with the broker stops the
// program before it registers anything, naming what to fix.
func TestExistingBrokerRefusesBadSettings(t *testing.T) {
	cases := []struct {
		name    string
		changes map[string]string
		want    []string
	}{
		{"no broker ARN", map[string]string{"brokerArn": ""}, []string{"existing-broker:brokerArn is required"}},
		{"a private broker polled from AWS's side", map[string]string{"serviceRoute": "aws-side"},
			[]string{"ProvisionerArgs.ServiceRoute", `"aws-side"`, "nat, endpoints, existing-endpoints or custom-egress"}},
		{"endpoints, which this program does not create", map[string]string{"serviceRoute": "endpoints"},
			[]string{"existing-broker:serviceRoute = endpoints", "creates no interface endpoints", "existing-endpoints"}},
		{"a route by its former name", map[string]string{"serviceRoute": "nat-gateway"},
			[]string{"existing-broker:serviceRoute = nat-gateway", "now called nat"}},
		{"subnets without their security groups", map[string]string{"securityGroupIds": "[]"},
			[]string{"ProvisionerArgs.Broker.Private.SecurityGroupIDs", "is required"}},
		{"a queue name RabbitMQ reserves", map[string]string{"queueName": "amq.orders"},
			[]string{"ProvisionerArgs.Queue.Name", "amq.orders"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := runExample(t, tc.changes)
			if err == nil {
				t.Fatal("the program accepted the settings")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error lacks %q:\n%v", w, err)
				}
			}
			if n := len(m.All()); n != 0 {
				t.Errorf("%d resources registered before the error", n)
			}
		})
	}
}

// TestDocsShowThisExample: the Go snippet of docs/reuse.md is lines of main.go, in their order
// ("// ..." stands for the lines left out).
func TestDocsShowThisExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/reuse.md")
	if err != nil {
		t.Fatal(err)
	}
	source, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	_, snippet, opened := strings.Cut(string(doc), "```go\n")
	snippet, _, closed := strings.Cut(snippet, "```")
	if !opened || !closed {
		t.Fatal("docs/reuse.md has no Go snippet")
	}
	// Lines compare without their indentation and alignment.
	normal := func(line string) string { return strings.Join(strings.Fields(line), " ") }
	var lines []string
	for _, line := range strings.Split(string(source), "\n") {
		lines = append(lines, normal(line))
	}
	next, shown := 0, 0
	for _, line := range strings.Split(snippet, "\n") {
		want := normal(line)
		if want == "" || strings.HasPrefix(want, "// ...") {
			continue
		}
		i := slices.Index(lines[next:], want)
		if i < 0 {
			t.Fatalf("docs/reuse.md shows %q, which main.go does not have after the lines shown before it", want)
		}
		next, shown = next+i+1, shown+1
	}
	if shown < 20 {
		t.Errorf("docs/reuse.md shows only %d lines of the example", shown)
	}
}
