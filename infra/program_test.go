package infra

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/offline"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/simaccount"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/rabbitmq-esm/rabbitmq-esm/infra/eniwait"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/stackconfig"
)

// run runs the program for a stack under the mocks with the given raw configuration and
// returns the mocks (what was offline.Resource), the stack's resolved outputs and the run's error.
func run(t *testing.T, stack string, raw map[string]string, m *offline.Account) (map[string]any, error) {
	t.Helper()
	var outputs map[string]any
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		cfg, err := ParseConfig(ctx.Stack(), raw)
		if err != nil {
			return err
		}
		st, err := Deploy(ctx, cfg, Env{ProjectDir: ".."})
		if err != nil {
			return err
		}
		stackOutputs(st).ToMapOutput().ApplyT(func(v map[string]any) error {
			outputs = v
			return nil
		})
		return nil
	}, pulumi.WithMocks(ProjectName, stack, m))
	return outputs, err
}

// shipped reads a stack's configuration from its Pulumi.<stack>.yaml, as shipped.
func shipped(t *testing.T, stack string) map[string]string {
	t.Helper()
	raw, err := stackconfig.Read("..", stack)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// optionCase is what docs/options.md's table of options and AWS's documentation of the mapping's
// network interfaces say about one option, written out independently of the program's Options
// table.
type optionCase struct {
	stack           string
	publicBroker    bool
	newVPCTiers     []string // awsx subnet types; nil when no VPC is built
	nat             string   // awsx NAT strategy of a new VPC
	lookedUpVPC     bool     // the default VPC is looked up
	existingVPC     bool     // the user's VPC is looked up (vpcId)
	brokerSubnets   []string // subnetIds given to Amazon MQ; nil when none
	dedicatedSG     bool     // the broker gets a security group of its own
	endpointSubnets []string // subnets of the sts/secretsmanager/lambda endpoints; nil when none
	endpointClient  string   // the group the endpoints admit 443 from
	httpsEgress     string   // the broker group's 443 egress: "" none, a CIDR, or "endpoints"
}

var optionCases = []optionCase{
	{stack: "public", publicBroker: true},
	{
		// The program gives the broker the default subnet of the first zone and the default group,
		// rather than letting Amazon MQ choose.
		stack: "defaultvpc", lookedUpVPC: true, brokerSubnets: []string{"subnet-default-us-east-1a"},
		endpointSubnets: []string{"subnet-default-us-east-1a", "subnet-default-us-east-1b", "subnet-default-us-east-1c", "subnet-default-us-east-1d", "subnet-default-us-east-1f"},
		endpointClient:  simaccount.DefaultSGID,
	},
	{
		stack: "nat", newVPCTiers: []string{"Public", "Private"}, nat: "Single",
		brokerSubnets: []string{"subnet-private-us-east-1a"}, dedicatedSG: true, httpsEgress: "0.0.0.0/0",
	},
	{
		stack: "isolated", newVPCTiers: []string{"Isolated"}, nat: "None",
		brokerSubnets: []string{"subnet-isolated-us-east-1a"}, dedicatedSG: true, httpsEgress: "endpoints",
		endpointSubnets: []string{"subnet-isolated-us-east-1a", "subnet-isolated-us-east-1b"},
		endpointClient:  "sg-rabbitmq-esm-broker-sg",
	},
	{
		stack: "publicsubnet", newVPCTiers: []string{"Public"}, nat: "None",
		brokerSubnets: []string{"subnet-public-us-east-1a"}, dedicatedSG: true, httpsEgress: "endpoints",
		endpointSubnets: []string{"subnet-public-us-east-1a", "subnet-public-us-east-1b"},
		endpointClient:  "sg-rabbitmq-esm-broker-sg",
	},
	{
		// The shipped file: SINGLE_INSTANCE in one subnet of the user's VPC, serviceRoute endpoints.
		stack: "existingvpc", existingVPC: true,
		brokerSubnets: []string{simaccount.UserSubnetA}, dedicatedSG: true, httpsEgress: "endpoints",
		endpointSubnets: []string{simaccount.UserSubnetA},
		endpointClient:  "sg-rabbitmq-esm-broker-sg",
	},
}

func TestShippedStacks(t *testing.T) {
	for _, tc := range optionCases {
		t.Run(tc.stack, func(t *testing.T) {
			m := &offline.Account{}
			outputs, err := run(t, tc.stack, shipped(t, tc.stack), m)
			if err != nil {
				t.Fatalf("program failed: %v", err)
			}
			checkBroker(t, m, tc)
			checkNetwork(t, m, tc)
			checkSecurityGroups(t, m, tc)
			checkEndpoints(t, m, tc)
			checkListenerRole(t, m, tc)
			checkMapping(t, m, tc)
			checkProvisioner(t, m, tc)
			checkRotation(t, m, tc)
			checkMonitor(t, m, tc)
			checkAlarms(t, m, tc, "")
			checkDeletionGuards(t, m, tc)
			checkComponents(t, m)
			checkTags(t, m, map[string]string{"project": ProjectName, "stack": tc.stack, "networkMode": tc.stack})
			checkOutputs(t, outputs, tc)
			t.Logf("%s: %d resources registered, outputs %v", tc.stack, len(m.All()), sortedKeys(outputs))
		})
	}
}

func checkBroker(t *testing.T, m *offline.Account, tc optionCase) {
	t.Helper()
	b, err := m.One("aws:mq/broker:Broker", "broker")
	if err != nil {
		t.Fatal(err)
	}
	in := b.Inputs
	want := map[string]any{
		"engineType": "RabbitMQ", "engineVersion": "3.13", "deploymentMode": "SINGLE_INSTANCE",
		"hostInstanceType": "mq.t3.micro", "autoMinorVersionUpgrade": true, "publiclyAccessible": tc.publicBroker,
		"brokerName": "rabbitmq-esm-" + tc.stack,
	}
	for key, value := range want {
		if got := in[resource.PropertyKey(key)].V; got != value {
			t.Errorf("broker %s = %v, want %v", key, got, value)
		}
	}
	if !in["logs"].ObjectValue()["general"].BoolValue() {
		t.Error("broker general logs are off")
	}
	if got := offline.Strings(in["subnetIds"]); !slices.Equal(got, tc.brokerSubnets) {
		t.Errorf("broker subnetIds = %v, want %v", got, tc.brokerSubnets)
	}
	groups := offline.Strings(in["securityGroups"])
	switch {
	case tc.dedicatedSG && !slices.Equal(groups, []string{"sg-rabbitmq-esm-broker-sg"}):
		t.Errorf("broker securityGroups = %v, want its own group", groups)
	case tc.lookedUpVPC && !slices.Equal(groups, []string{simaccount.DefaultSGID}):
		t.Errorf("broker securityGroups = %v, want the default VPC's default group", groups)
	case tc.publicBroker && groups != nil:
		t.Errorf("broker securityGroups = %v, want none (public brokers take none)", groups)
	}
	user := in["users"].ArrayValue()[0].ObjectValue()
	if user["username"].StringValue() != "esmadmin" || !user["password"].IsSecret() {
		t.Errorf("broker user = %v, want esmadmin with a secret password", user)
	}
	version, err := m.One("aws:secretsmanager/secretVersion:SecretVersion", "broker-credentials")
	if err != nil {
		t.Fatal(err)
	}
	secretString := version.Inputs["secretString"]
	if !secretString.IsSecret() {
		t.Fatal("the credentials secret string is not marked secret")
	}
	var creds map[string]string
	if err := json.Unmarshal([]byte(secretString.SecretValue().Element.StringValue()), &creds); err != nil {
		t.Fatal(err)
	}
	if creds["username"] != "esmadmin" || creds["password"] != offline.AdminPassword || len(creds) != 2 {
		t.Errorf(`secret holds keys %v, want exactly {"username","password"} with the broker's admin user`, sortedKeys(creds))
	}
}

func checkNetwork(t *testing.T, m *offline.Account, tc optionCase) {
	t.Helper()
	vpcs := m.ByType("awsx:ec2:Vpc")
	if tc.newVPCTiers == nil {
		if len(vpcs) != 0 {
			t.Fatalf("%s builds a VPC; it must not", tc.stack)
		}
	} else {
		if len(vpcs) != 1 {
			t.Fatalf("want one awsx VPC, got %d", len(vpcs))
		}
		in := vpcs[0].Inputs
		var tiers []string
		for _, spec := range in["subnetSpecs"].ArrayValue() {
			tiers = append(tiers, spec.ObjectValue()["type"].StringValue())
		}
		if !slices.Equal(tiers, tc.newVPCTiers) {
			t.Errorf("VPC subnet tiers = %v, want %v", tiers, tc.newVPCTiers)
		}
		if got := in["natGateways"].ObjectValue()["strategy"].StringValue(); got != tc.nat {
			t.Errorf("NAT strategy = %s, want %s", got, tc.nat)
		}
		if !in["enableDnsSupport"].BoolValue() || !in["enableDnsHostnames"].BoolValue() {
			t.Error("the VPC needs DNS support and DNS hostnames for private DNS of interface endpoints")
		}
		if got := offline.Strings(in["availabilityZoneNames"]); !slices.Equal(got, []string{"us-east-1a", "us-east-1b"}) {
			t.Errorf("zones = %v, want the first two that offer the endpoint services", got)
		}
		if in["cidrBlock"].StringValue() != "10.0.0.0/16" {
			t.Errorf("cidr = %v", in["cidrBlock"])
		}
	}
	if called := slices.Contains(m.Calls(), "aws:ec2/getVpc:getVpc"); called != (tc.lookedUpVPC || tc.existingVPC) {
		t.Errorf("VPC looked up = %v, want %v", called, tc.lookedUpVPC || tc.existingVPC)
	}
	if tc.existingVPC {
		// Nothing of the user's VPC changes: the program adds groups, their rules and
		// endpoints, in that VPC, and nothing else of EC2.
		for _, r := range m.All() {
			switch r.Type {
			case "aws:ec2/securityGroup:SecurityGroup", "aws:ec2/vpcEndpoint:VpcEndpoint":
				if got := r.Inputs["vpcId"].StringValue(); got != simaccount.UserVPCID {
					t.Errorf("%s %s is in %s, not the user's VPC %s", r.Type, r.Name, got, simaccount.UserVPCID)
				}
			case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":
				if g := r.Inputs["securityGroupId"].StringValue(); !strings.HasPrefix(g, "sg-rabbitmq-esm-") {
					t.Errorf("%s %s changes the group %s, which is not the stack's", r.Type, r.Name, g)
				}
			default:
				if strings.HasPrefix(r.Type, "aws:ec2/") || strings.HasPrefix(r.Type, "awsx:") {
					t.Errorf("existingvpc creates %s %s in the user's VPC", r.Type, r.Name)
				}
			}
		}
	}
	if tc.publicBroker {
		for _, r := range m.All() {
			if strings.HasPrefix(r.Type, "aws:ec2/") || strings.HasPrefix(r.Type, "aws:vpc/") {
				t.Errorf("public option created %s %s: nothing may be created in a VPC", r.Type, r.Name)
			}
		}
	}
}

// rules returns the security group rules of a group id, as "ingress|egress port peer".
func rules(m *offline.Account, groupID string) []string {
	var out []string
	for _, kind := range []string{"ingress", "egress"} {
		typ := "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
		if kind == "egress" {
			typ = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
		}
		for _, r := range m.ByType(typ) {
			if r.Inputs["securityGroupId"].StringValue() != groupID {
				continue
			}
			in := r.Inputs
			peer := ""
			if v, ok := in["referencedSecurityGroupId"]; ok && v.IsString() {
				peer = v.StringValue()
			}
			if v, ok := in["cidrIpv4"]; ok && v.IsString() {
				peer = v.StringValue()
			}
			from, to := in["fromPort"].NumberValue(), in["toPort"].NumberValue()
			if from != to || in["ipProtocol"].StringValue() != "tcp" {
				peer += fmt.Sprintf(" (ports %v-%v/%s)", from, to, in["ipProtocol"].StringValue())
			}
			out = append(out, fmt.Sprintf("%s %d %s", kind, int(from), peer))
		}
	}
	sort.Strings(out)
	return out
}

func checkSecurityGroups(t *testing.T, m *offline.Account, tc optionCase) {
	t.Helper()
	const brokerSG, endpointSG = "sg-rabbitmq-esm-broker-sg", "sg-rabbitmq-esm-endpoints-sg"
	var groups []string
	for _, sg := range m.ByType("aws:ec2/securityGroup:SecurityGroup") {
		groups = append(groups, "sg-"+sg.Name)
		if _, inline := sg.Inputs["egress"]; inline {
			t.Errorf("%s declares inline egress; rules are separate resources", sg.Name)
		}
	}
	var want []string
	if tc.dedicatedSG {
		want = append(want, brokerSG)
	}
	if tc.endpointSubnets != nil {
		want = append(want, endpointSG)
	}
	sort.Strings(groups)
	if !slices.Equal(groups, want) {
		t.Fatalf("security groups = %v, want %v", groups, want)
	}
	if tc.dedicatedSG {
		// 443 to and from itself: the provisioner and the rotator reach the management API.
		wantRules := []string{"egress 5671 " + brokerSG, "ingress 5671 " + brokerSG, "egress 443 " + brokerSG, "ingress 443 " + brokerSG}
		switch tc.httpsEgress {
		case "endpoints":
			wantRules = append(wantRules, "egress 443 "+endpointSG)
		case "":
		default:
			wantRules = append(wantRules, "egress 443 "+tc.httpsEgress)
		}
		sort.Strings(wantRules)
		if got := rules(m, brokerSG); !slices.Equal(got, wantRules) {
			t.Errorf("broker group rules = %v, want %v (self-ingress on 5671, egress to 5671 and 443)", got, wantRules)
		}
	}
	if tc.endpointSubnets != nil {
		// The ESM's interfaces, and every other workload of the VPC: private DNS sends all
		// of the VPC's calls to the services through the endpoints.
		vpcCIDR := "10.0.0.0/16"
		switch {
		case tc.lookedUpVPC:
			vpcCIDR = "172.31.0.0/16"
		case tc.existingVPC:
			vpcCIDR = simaccount.UserVPCCidr
		}
		want := []string{"ingress 443 " + vpcCIDR, "ingress 443 " + tc.endpointClient}
		if got := rules(m, endpointSG); !slices.Equal(got, want) {
			t.Errorf("endpoint group rules = %v, want %v", got, want)
		}
	}
	if got := rules(m, simaccount.DefaultSGID); got != nil {
		t.Errorf("the default VPC's default group was changed: %v", got)
	}
}

func checkEndpoints(t *testing.T, m *offline.Account, tc optionCase) {
	t.Helper()
	endpoints := m.ByType("aws:ec2/vpcEndpoint:VpcEndpoint")
	if tc.endpointSubnets == nil {
		if len(endpoints) != 0 {
			t.Fatalf("%s creates %d interface endpoints; it needs none", tc.stack, len(endpoints))
		}
		return
	}
	var services []string
	for _, ep := range endpoints {
		in := ep.Inputs
		services = append(services, in["serviceName"].StringValue())
		if in["vpcEndpointType"].StringValue() != "Interface" || !in["privateDnsEnabled"].BoolValue() {
			t.Errorf("%s: want an Interface endpoint with private DNS", ep.Name)
		}
		if got := offline.Strings(in["subnetIds"]); !slices.Equal(got, tc.endpointSubnets) {
			t.Errorf("%s subnets = %v, want %v (one per zone of the broker's tier)", ep.Name, got, tc.endpointSubnets)
		}
		wantVPC := "rabbitmq-esm-network-vpc"
		switch {
		case tc.lookedUpVPC:
			wantVPC = simaccount.DefaultVPCID
		case tc.existingVPC:
			wantVPC = simaccount.UserVPCID
		}
		if in["vpcId"].StringValue() != wantVPC {
			t.Errorf("%s vpc = %v, want %s", ep.Name, in["vpcId"], wantVPC)
		}
		if got := offline.Strings(in["securityGroupIds"]); !slices.Equal(got, []string{"sg-rabbitmq-esm-endpoints-sg"}) {
			t.Errorf("%s groups = %v", ep.Name, got)
		}
	}
	sort.Strings(services)
	want := []string{"com.amazonaws.us-east-1.lambda", "com.amazonaws.us-east-1.secretsmanager", "com.amazonaws.us-east-1.sts"}
	if !slices.Equal(services, want) {
		t.Errorf("endpoint services = %v, want %v", services, want)
	}
}

type policyStatement struct {
	Sid      string
	Effect   string
	Action   []string
	Resource []string
}

func rolePolicy(t *testing.T, m *offline.Account, name string) map[string]policyStatement {
	t.Helper()
	p, err := m.One("aws:iam/rolePolicy:RolePolicy", name)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Statement []policyStatement }
	if err := json.Unmarshal([]byte(p.Inputs["policy"].StringValue()), &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]policyStatement{}
	for _, s := range doc.Statement {
		out[s.Sid] = s
	}
	return out
}

func checkListenerRole(t *testing.T, m *offline.Account, tc optionCase) {
	t.Helper()
	logGroup, err := m.One("aws:cloudwatch/logGroup:LogGroup", "events-listener")
	if err != nil {
		t.Fatal(err)
	}
	secrets := secretArns(t, m)
	broker, _ := m.One("aws:mq/broker:Broker", "broker")
	want := map[string]policyStatement{
		"WriteOwnLogs": {Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			Resource: []string{logGroup.Outputs["arn"].StringValue() + ":*"}},
		// The mapping (through this role) reads its user's secret, the listener its
		// dead-letter user's; never the administrator's.
		"ReadBrokerCredentials": {Action: []string{"secretsmanager:GetSecretValue"}, Resource: []string{secrets.mapping, secrets.deadLetter}},
		"DescribeBroker":        {Action: []string{"mq:DescribeBroker"}, Resource: []string{broker.Outputs["arn"].StringValue()}},
	}
	if !tc.publicBroker {
		want["ManageEsmNetworkInterfaces"] = policyStatement{Resource: []string{"*"}, Action: []string{
			"ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:DescribeNetworkInterfaces",
			"ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"}}
		want["ManageOwnNetworkInterfaces"] = policyStatement{Resource: []string{"*"}, Action: []string{
			"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
			"ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"}}
	}
	got := rolePolicy(t, m, "events-listener")
	for sid, s := range got {
		if slices.Contains(s.Resource, secrets.admin) {
			t.Errorf("the listener's role can read the administrator's secret (statement %s: %v)", sid, s.Action)
		}
	}
	if len(got) != len(want) {
		t.Errorf("listener policy statements = %v, want %v", sortedKeys(got), sortedKeys(want))
	}
	for sid, w := range want {
		g := got[sid]
		if g.Effect != "Allow" || !slices.Equal(g.Action, w.Action) || !slices.Equal(g.Resource, w.Resource) {
			t.Errorf("statement %s = %+v, want actions %v on %v", sid, g, w.Action, w.Resource)
		}
	}
	fn, err := m.One("aws:lambda/function:Function", "events-listener")
	if err != nil {
		t.Fatal(err)
	}
	in := fn.Inputs
	if in["runtime"].StringValue() != "provided.al2023" || in["handler"].StringValue() != "bootstrap" ||
		!slices.Equal(offline.Strings(in["architectures"]), []string{"arm64"}) {
		t.Errorf("listener runtime = %v %v %v, want provided.al2023, bootstrap, arm64", in["runtime"], in["handler"], in["architectures"])
	}
	// The listener dead-letters on the broker: beside it, like the provisioner.
	checkBesideTheBroker(t, m, fn, tc)
	env := in["environment"].ObjectValue()["variables"].ObjectValue()
	if got := env["LISTENER_LOG_BODIES"]; !got.IsString() || got.StringValue() != "false" {
		t.Errorf("listener LISTENER_LOG_BODIES = %v, want false", got)
	}
	if logGroup.Inputs["retentionInDays"].NumberValue() != 14 {
		t.Errorf("log retention = %v, want 14", logGroup.Inputs["retentionInDays"])
	}
}

func checkMapping(t *testing.T, m *offline.Account, tc optionCase) {
	t.Helper()
	esm, err := m.One("aws:lambda/eventSourceMapping:EventSourceMapping", "mapping")
	if err != nil {
		t.Fatal(err)
	}
	in := esm.Inputs
	secrets := secretArns(t, m)
	if in["queues"].StringValue() != "events" || in["batchSize"].NumberValue() != 100 {
		t.Errorf("mapping queue/batch = %v/%v, want events/100", in["queues"], in["batchSize"])
	}
	if _, set := in["maximumBatchingWindowInSeconds"]; set {
		t.Error("batching window set though the stack leaves it to AWS's default")
	}
	var access []string
	for _, c := range in["sourceAccessConfigurations"].ArrayValue() {
		access = append(access, c.ObjectValue()["type"].StringValue()+"="+c.ObjectValue()["uri"].StringValue())
	}
	wantAccess := []string{"BASIC_AUTH=" + secrets.mapping, "VIRTUAL_HOST=/"}
	if slices.Contains(access, "BASIC_AUTH="+secrets.admin) {
		t.Errorf("the mapping logs in as the administrator: %v", access)
	}
	if !slices.Equal(access, wantAccess) {
		t.Errorf("source access = %v, want %v", access, wantAccess)
	}
	wantHooks := []string{"rabbitmq-esm-wait-esm-enis"}
	if tc.publicBroker {
		wantHooks = nil
	}
	if !slices.Equal(esm.AfterDeleteHooks, wantHooks) {
		t.Errorf("mapping after-delete hooks = %v, want %v", esm.AfterDeleteHooks, wantHooks)
	}
	// Where the broker's group is the stack's own, the mapping tells its hook the group and the
	// functions beside it, so the wait does not rest on the interfaces' description alone.
	tags := in["tags"].ObjectValue()
	groups, functions := tags[eniwait.GuardGroupsTag], tags[eniwait.GuardFunctionsTag]
	if tc.dedicatedSG && !tc.publicBroker {
		provisioner, err := m.One("aws:lambda/function:Function", "provisioner")
		if err != nil {
			t.Fatal(err)
		}
		rotator, err := m.One("aws:lambda/function:Function", "rotation")
		if err != nil {
			t.Fatal(err)
		}
		if !groups.IsString() || groups.StringValue() != "sg-rabbitmq-esm-broker-sg" || !functions.IsString() ||
			functions.StringValue() != provisioner.Outputs["name"].StringValue()+" rabbitmq-esm-"+tc.stack+"-monitor "+rotator.Outputs["name"].StringValue() {
			t.Errorf("mapping guard tags = %v / %v, want the broker's group and the provisioner's, the monitor's and the rotator's names", groups, functions)
		}
	} else if _, ok := tags[eniwait.GuardGroupsTag]; ok {
		t.Errorf("mapping has guard tags (%v) though the broker's group is not the stack's own", groups)
	}
	if !dependsOn(esm, "aws:iam/role:Role rabbitmq-esm-events-listener") {
		t.Error("the mapping does not depend on the listener's role: the role could be deleted before the interfaces are gone")
	}
	if !esm.DeleteBeforeReplace {
		t.Error("a replaced mapping must be deleted (and its interfaces waited out) before the new one is created")
	}
	deps := map[string]bool{}
	for _, urn := range esm.DependsOn {
		typ, name := offline.URNName(urn)
		deps[typ+" "+name] = true
	}
	if !deps["aws:iam/rolePolicy:RolePolicy rabbitmq-esm-events-listener"] {
		t.Errorf("the mapping does not wait for its role's policy (depends on %v)", sortedKeys(deps))
	}
	// The mapping must wait for everything on its path that is in place only once created:
	// the broker and its credentials, every security group rule, every endpoint, the VPC
	// (with its NAT routes).
	mustWait := []string{
		"aws:lambda/invocation:Invocation", "aws:mq/broker:Broker", "aws:secretsmanager/secretVersion:SecretVersion", "aws:ec2/vpcEndpoint:VpcEndpoint", "awsx:ec2:Vpc",
		"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
	}
	waited := 0
	for _, r := range m.All() {
		if !slices.Contains(mustWait, r.Type) {
			continue
		}
		waited++
		if !deps[r.Type+" "+r.Name] {
			t.Errorf("the mapping does not wait for %s %s", r.Type, r.Name)
		}
	}
	if waited < 3 {
		t.Errorf("only %d resources on the mapping's path", waited)
	}
}

// checkComponents asserts that every resource has a component as parent (none hangs off the
// stack) and that the components exist where the option needs them.
// checkDeletionGuards: where the broker has a group of its own, that group waits before its
// deletion for every Lambda interface carrying it, and so do the roles and policies Lambda
// removes them with (a rerun of a destroy whose mapping wait failed depends on it). In the
// default VPC, the broker's reported group is left alone.
func checkDeletionGuards(t *testing.T, m *offline.Account, tc optionCase) {
	t.Helper()
	var wantGroup, wantRole []string
	if tc.dedicatedSG {
		wantGroup, wantRole = []string{"rabbitmq-esm-wait-group-enis"}, []string{"rabbitmq-esm-wait-role-enis"}
	}
	if tc.dedicatedSG {
		sg, err := m.One("aws:ec2/securityGroup:SecurityGroup", "broker-sg")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(sg.BeforeDeleteHooks, wantGroup) {
			t.Errorf("broker group before-delete hooks = %v, want %v", sg.BeforeDeleteHooks, wantGroup)
		}
	}
	for _, typ := range []string{"aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"} {
		for _, r := range m.ByType(typ) {
			want := wantRole
			if r.Name == "rabbitmq-esm-rotation" || r.Name == "rabbitmq-esm-monitor" {
				// Its function's own wait covers its interfaces; the role wait would also wait
				// for the provisioner's and the listener's when rotation alone is turned off,
				// and, for the monitor (deleted first, being created last), on every destroy.
				want = nil
			}
			if !slices.Equal(r.BeforeDeleteHooks, want) {
				t.Errorf("%s %s before-delete hooks = %v, want %v", typ, r.Name, r.BeforeDeleteHooks, want)
			}
		}
	}
	broker, err := m.One("aws:mq/broker:Broker", "broker")
	if err != nil {
		t.Fatal(err)
	}
	if len(broker.IgnoreChanges) != 0 {
		t.Errorf("broker ignoreChanges = %v, want none", broker.IgnoreChanges)
	}
	checkBrokerDayTwo(t, broker, tc)
	for _, suffix := range []string{"diagnose", "declare"} {
		inv, err := m.One("aws:lambda/invocation:Invocation", suffix)
		if err != nil {
			t.Fatal(err)
		}
		triggers := inv.Inputs["triggers"].ObjectValue()
		if _, ok := triggers["credentials"]; !ok {
			t.Errorf("the %s invocation does not rerun when the credentials change", suffix)
		}
		// Only the diagnosis checks the path, so only it reruns when the path changes.
		if _, ok := triggers["serviceRoute"]; ok != (suffix == "diagnose") {
			t.Errorf("the %s invocation's triggers %v: want serviceRoute in the diagnosis's only", suffix, triggers)
		}
	}
}

// checkBrokerDayTwo: the options that make later ups safe. A replacement deletes the old
// broker first (its name is unique in the account), new credentials replace it (the provider
// ignores RabbitMQ users), a security-group change replaces it (RabbitMQ refuses the update),
// changes apply at once, and the timeouts outlast slow regions.
func checkBrokerDayTwo(t *testing.T, broker offline.Resource, tc optionCase) {
	t.Helper()
	if !broker.DeleteBeforeReplace || !broker.ReplacementTrigger {
		t.Errorf("broker deleteBeforeReplace %v, replacementTrigger %v; want both", broker.DeleteBeforeReplace, broker.ReplacementTrigger)
	}
	var wantReplace []string
	if tc.dedicatedSG || tc.lookedUpVPC {
		wantReplace = []string{"securityGroups"}
	}
	if !slices.Equal(broker.ReplaceOnChanges, wantReplace) {
		t.Errorf("broker replaceOnChanges = %v, want %v", broker.ReplaceOnChanges, wantReplace)
	}
	if want := [3]string{"90m", "90m", "90m"}; broker.Timeouts != want {
		t.Errorf("broker timeouts = %v, want %v", broker.Timeouts, want)
	}
	if !broker.Inputs["applyImmediately"].BoolValue() {
		t.Error("broker changes wait for the maintenance window")
	}
}

func checkComponents(t *testing.T, m *offline.Account) {
	t.Helper()
	for _, r := range m.All() {
		parentType, _ := offline.URNName(r.Parent)
		isComponent := strings.HasPrefix(r.Type, ProjectName+":infra:")
		switch {
		case isComponent && parentType != "pulumi:pulumi:Stack":
			t.Errorf("component %s is parented to %s", r.Name, r.Parent)
		case !isComponent && !strings.HasPrefix(parentType, ProjectName+":infra:"):
			t.Errorf("%s %s is not parented to a component (parent %q)", r.Type, r.Name, r.Parent)
		}
	}
}

// taggable lists the resource types of the program that take tags.
var taggable = []string{
	"awsx:ec2:Vpc", "aws:secretsmanager/secret:Secret", "aws:mq/broker:Broker", "aws:ec2/securityGroup:SecurityGroup",
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
	"aws:ec2/vpcEndpoint:VpcEndpoint", "aws:cloudwatch/logGroup:LogGroup", "aws:iam/role:Role",
	"aws:lambda/function:Function", "aws:lambda/eventSourceMapping:EventSourceMapping",
	"aws:cloudwatch/eventRule:EventRule", "aws:cloudwatch/metricAlarm:MetricAlarm", "aws:sns/topic:Topic",
}

func checkTags(t *testing.T, m *offline.Account, want map[string]string) {
	t.Helper()
	for _, r := range m.All() {
		if !slices.Contains(taggable, r.Type) {
			continue
		}
		tags := r.Inputs["tags"]
		if !tags.IsObject() {
			t.Errorf("%s %s has no tags", r.Type, r.Name)
			continue
		}
		for k, v := range want {
			if got := tags.ObjectValue()[resource.PropertyKey(k)]; !got.IsString() || got.StringValue() != v {
				t.Errorf("%s %s tag %s = %v, want %s", r.Type, r.Name, k, got, v)
			}
		}
	}
}

func checkOutputs(t *testing.T, outputs map[string]any, tc optionCase) {
	t.Helper()
	want := []string{"amqpsEndpoint", "awsRegion", "brokerArn", "brokerId", "brokerLogGroupName", "consoleUrl", "credentialsSecretArn", "mappingSecretArn", "deadLetterSecretArn",
		"eventSourceMappingId", "listenerFunctionName", "listenerLogGroupName", "networkMode", "queueName", "virtualHost",
		"provisionerFunctionName", "diagnosis", "version", "monitorSecretArn", "monitorFunctionName", "monitorLogGroupName", "metricsNamespace",
		"metricsStack", "alarmTopicArn", "alarmNames", "dashboardName"}
	if !tc.publicBroker {
		want = append(want, "securityGroupId", "subnetIds", "vpcId")
	}
	if tc.endpointSubnets != nil {
		want = append(want, "endpointSecurityGroupId", "vpcEndpointIds")
	}
	sort.Strings(want)
	if got := sortedKeys(outputs); !slices.Equal(got, want) {
		t.Errorf("outputs = %v, want %v", got, want)
	}
	if outputs["networkMode"] != tc.stack {
		t.Errorf("networkMode output = %v", outputs["networkMode"])
	}
	if outputs["version"] != Version {
		t.Errorf("version output = %v, want %s", outputs["version"], Version)
	}
	if outputs["amqpsEndpoint"] != "amqps://"+offline.BrokerID+".mq.us-east-1.amazonaws.com:5671" {
		t.Errorf("amqpsEndpoint = %v", outputs["amqpsEndpoint"])
	}
	rendered, _ := json.Marshal(outputs)
	if strings.Contains(string(rendered), offline.AdminPassword) {
		t.Error("the admin password appears in the stack outputs")
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// checkBesideTheBroker: a function that talks to the broker runs where the ESM's interfaces
// are, waits for its own interfaces when deleted, and reaches the broker as the ESM does.
func checkBesideTheBroker(t *testing.T, m *offline.Account, fn offline.Resource, tc optionCase) {
	t.Helper()
	broker, _ := m.One("aws:mq/broker:Broker", "broker")
	vpcConfig, attached := fn.Inputs["vpcConfig"]
	if attached == tc.publicBroker {
		t.Fatalf("%s VPC-attached = %v for %s", fn.Name, attached, tc.stack)
	}
	if attached {
		subnets := offline.Strings(vpcConfig.ObjectValue()["subnetIds"])
		if want := offline.Strings(broker.Outputs["subnetIds"]); len(want) == 0 || !slices.Equal(subnets, want) {
			t.Errorf("%s subnets = %v, want the broker's %v", fn.Name, subnets, want)
		}
		wantSG := tc.endpointClient
		if tc.dedicatedSG {
			wantSG = "sg-rabbitmq-esm-broker-sg"
		}
		if got := offline.Strings(vpcConfig.ObjectValue()["securityGroupIds"]); !slices.Equal(got, []string{wantSG}) {
			t.Errorf("%s groups = %v, want [%s]", fn.Name, got, wantSG)
		}
	}
	wantHooks := []string{"rabbitmq-esm-wait-function-enis"}
	if tc.publicBroker {
		wantHooks = nil
	}
	if !slices.Equal(fn.AfterDeleteHooks, wantHooks) {
		t.Errorf("%s after-delete hooks = %v, want %v", fn.Name, fn.AfterDeleteHooks, wantHooks)
	}
	env := fn.Inputs["environment"].ObjectValue()["variables"].ObjectValue()
	wantEnv := map[string]string{
		"BROKER_ENDPOINT": "amqps://" + offline.BrokerID + ".mq.us-east-1.amazonaws.com:5671",
		"BROKER_VHOST":    "/",
	}
	// The rotator gives grants; the queue's arguments are the provisioner's and the listener's.
	if fn.Name != "rabbitmq-esm-rotation" {
		wantEnv["DELIVERY_LIMIT"] = "5"
	}
	for k, v := range wantEnv {
		if got := env[resource.PropertyKey(k)]; !got.IsString() || got.StringValue() != v {
			t.Errorf("%s %s = %v, want %s", fn.Name, k, got, v)
		}
	}
}

// checkProvisioner: the provisioner runs where the ESM's interfaces are, with only the
// permissions it needs, and diagnoses before it declares.
func checkProvisioner(t *testing.T, m *offline.Account, tc optionCase) {
	t.Helper()
	fn, err := m.One("aws:lambda/function:Function", "provisioner")
	if err != nil {
		t.Fatal(err)
	}
	secrets := secretArns(t, m)
	checkBesideTheBroker(t, m, fn, tc)
	env := fn.Inputs["environment"].ObjectValue()["variables"].ObjectValue()
	for k, v := range map[string]string{"QUEUE_NAME": "events", "NETWORK_MODE": tc.stack, "ENGINE_VERSION": "3.13",
		"BROKER_SECRET_ARN": secrets.admin, "MAPPING_SECRET_ARN": secrets.mapping, "DEAD_LETTER_SECRET_ARN": secrets.deadLetter,
		"MONITOR_SECRET_ARN": secrets.monitor, "BROKER_MANAGEMENT_URL": "https://" + offline.BrokerID + ".mq.us-east-1.amazonaws.com"} {
		if got := env[resource.PropertyKey(k)]; !got.IsString() || got.StringValue() != v {
			t.Errorf("provisioner %s = %v, want %s", k, got, v)
		}
	}
	statements := rolePolicy(t, m, "provisioner")
	wantSids := []string{"ReadBrokerCredentials", "WriteOwnLogs"}
	if !tc.publicBroker {
		wantSids = append(wantSids, "ManageOwnNetworkInterfaces")
		sort.Strings(wantSids)
	}
	if got := sortedKeys(statements); !slices.Equal(got, wantSids) {
		t.Errorf("provisioner statements = %v, want %v", got, wantSids)
	}
	// The provisioner creates the users as the administrator, from their secrets: all four.
	if s := statements["ReadBrokerCredentials"]; !slices.Equal(s.Resource, secrets.all()) {
		t.Errorf("provisioner reads %v", s.Resource)
	}

	diagnose, err := m.One("aws:lambda/invocation:Invocation", "diagnose")
	if err != nil {
		t.Fatal(err)
	}
	declare, err := m.One("aws:lambda/invocation:Invocation", "declare")
	if err != nil {
		t.Fatal(err)
	}
	if diagnose.Inputs["input"].StringValue() != `{"action":"diagnose"}` || declare.Inputs["input"].StringValue() != `{"action":"declare"}` {
		t.Errorf("invocation inputs = %v, %v", diagnose.Inputs["input"], declare.Inputs["input"])
	}
	// The dead-letter queue's arguments depend on the engine version: a new one declares again.
	if got := declare.Inputs["triggers"].ObjectValue()["engineVersion"]; !got.IsString() || got.StringValue() != "3.13" {
		t.Errorf("the declaration's engineVersion trigger = %v, want 3.13", got)
	}
	if !dependsOn(declare, "aws:lambda/invocation:Invocation rabbitmq-esm-provisioner-diagnose") {
		t.Error("the queue is declared without waiting for the diagnosis")
	}
	for _, want := range []string{"aws:mq/broker:Broker rabbitmq-esm-broker", "aws:lambda/function:Function rabbitmq-esm-provisioner"} {
		if !dependsOn(diagnose, want) {
			t.Errorf("the diagnosis does not wait for %s", want)
		}
	}
	for _, ep := range m.ByType("aws:ec2/vpcEndpoint:VpcEndpoint") {
		if !dependsOn(diagnose, ep.Type+" "+ep.Name) {
			t.Errorf("the diagnosis does not wait for %s", ep.Name)
		}
	}
	// The users get their grant on the declared queue: after the declaration, before the mapping.
	users, err := m.One("aws:lambda/invocation:Invocation", "provisioner-users")
	if err != nil {
		t.Fatal(err)
	}
	if users.Inputs["input"].StringValue() != `{"action":"users"}` || !dependsOn(users, "aws:lambda/invocation:Invocation rabbitmq-esm-provisioner-declare") {
		t.Errorf("users invocation = %v, depends on %v; want the users action after the declaration", users.Inputs["input"], users.DependsOn)
	}
	esm, err := m.One("aws:lambda/eventSourceMapping:EventSourceMapping", "mapping")
	if err != nil {
		t.Fatal(err)
	}
	if !dependsOn(esm, "aws:lambda/invocation:Invocation rabbitmq-esm-provisioner-users") {
		t.Error("the mapping does not wait for its user: it would poll and fail with EVENT_SOURCE_AUTHN_ERROR")
	}
	listener, err := m.One("aws:lambda/function:Function", "events-listener")
	if err != nil {
		t.Fatal(err)
	}
	if !dependsOn(listener, "aws:lambda/invocation:Invocation rabbitmq-esm-provisioner-users") {
		t.Error("the listener does not wait for its dead-letter user")
	}
}

func dependsOn(r offline.Resource, typeAndName string) bool {
	typ, name, _ := strings.Cut(typeAndName, " ")
	return r.DependsOnResource(typ, name)
}

// stackSecrets are the ARNs of the broker's four secrets.
type stackSecrets struct{ admin, mapping, deadLetter, monitor string }

// all are the four, in the order the program lists them.
func (s stackSecrets) all() []string { return []string{s.admin, s.mapping, s.deadLetter, s.monitor} }

func secretArns(t *testing.T, m *offline.Account) stackSecrets {
	t.Helper()
	arn := func(name string) string {
		s, err := m.One("aws:secretsmanager/secret:Secret", name)
		if err != nil {
			t.Fatal(err)
		}
		return s.Outputs["arn"].StringValue()
	}
	return stackSecrets{admin: arn("broker-credentials"), mapping: arn("mapping-credentials"), deadLetter: arn("dead-letter-credentials"),
		monitor: arn("monitor-credentials")}
}

// checkRotation: each of the four secrets rotates on the default schedule with the rotator,
// which Secrets Manager may invoke for that secret only, once the users exist; the rotator
// runs beside the broker and acts on the four secrets alone.
func checkRotation(t *testing.T, m *offline.Account, tc optionCase) {
	t.Helper()
	secrets := secretArns(t, m)
	fn, err := m.One("aws:lambda/function:Function", "rotation")
	if err != nil {
		t.Fatal(err)
	}
	checkBesideTheBroker(t, m, fn, tc)
	rotated := map[string]bool{}
	for _, r := range m.ByType("aws:secretsmanager/secretRotation:SecretRotation") {
		in := r.Inputs
		secret := in["secretId"].StringValue()
		rotated[secret] = true
		if in["rotationLambdaArn"].StringValue() != fn.Outputs["arn"].StringValue() ||
			in["rotationRules"].ObjectValue()["scheduleExpression"].StringValue() != "rate(30 days)" || in["rotateImmediately"].BoolValue() {
			t.Errorf("rotation %s = %v, want the rotator every 30 days, not at once", r.Name, in)
		}
		if !dependsOn(r, "aws:lambda/invocation:Invocation rabbitmq-esm-provisioner-users") {
			t.Errorf("rotation %s does not wait for the users invocation", r.Name)
		}
	}
	if want := secrets.all(); !slices.Equal(sortedKeys(rotated), slices.Sorted(slices.Values(want))) {
		t.Errorf("rotated secrets = %v, want each of %v", sortedKeys(rotated), want)
	}
	invokers := map[string]bool{}
	for _, p := range m.ByType("aws:lambda/permission:Permission") {
		in := p.Inputs
		if in["principal"].StringValue() == "events.amazonaws.com" {
			continue // the monitor's schedule (checkMonitor)
		}
		if in["principal"].StringValue() != "secretsmanager.amazonaws.com" || in["action"].StringValue() != "lambda:InvokeFunction" ||
			in["function"].StringValue() != fn.Outputs["name"].StringValue() {
			t.Errorf("permission %s = %v, want Secrets Manager invoking the rotator", p.Name, in)
		}
		invokers[in["sourceArn"].StringValue()] = true
	}
	if want := secrets.all(); !slices.Equal(sortedKeys(invokers), slices.Sorted(slices.Values(want))) {
		t.Errorf("Secrets Manager may invoke the rotator for %v, want each secret exactly", sortedKeys(invokers))
	}
	statements := rolePolicy(t, m, "rotation")
	if s := statements["RotateBrokerSecrets"]; !slices.Equal(s.Resource, secrets.all()) || !slices.Equal(s.Action, []string{"secretsmanager:DescribeSecret",
		"secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"}) {
		t.Errorf("rotator statement = %+v, want the four rotation actions on the four secrets", s)
	}
	if s := statements["DrawPasswords"]; !slices.Equal(s.Action, []string{"secretsmanager:GetRandomPassword"}) || !slices.Equal(s.Resource, []string{"*"}) {
		t.Errorf("rotator password statement = %+v", s)
	}
	wantSids := []string{"DrawPasswords", "RotateBrokerSecrets", "WriteOwnLogs"}
	if !tc.publicBroker {
		wantSids = []string{"DrawPasswords", "ManageOwnNetworkInterfaces", "RotateBrokerSecrets", "WriteOwnLogs"}
	}
	if got := sortedKeys(statements); !slices.Equal(got, wantSids) {
		t.Errorf("rotator statements = %v, want %v", got, wantSids)
	}
}

// Each role reads only its own secrets: the listener (and the mapping through its role) the
// mapping's and the dead-letter user's, the provisioner and the rotator all four, the monitor
// its own, nobody else any.
func TestEachRoleReadsOnlyItsOwnSecrets(t *testing.T) {
	m := &offline.Account{}
	if _, err := run(t, "isolated", shipped(t, "isolated"), m); err != nil {
		t.Fatal(err)
	}
	secrets := secretArns(t, m)
	want := map[string][]string{
		"rabbitmq-esm-events-listener": {secrets.mapping, secrets.deadLetter},
		"rabbitmq-esm-provisioner":     secrets.all(),
		"rabbitmq-esm-rotation":        secrets.all(),
		"rabbitmq-esm-monitor":         {secrets.monitor},
	}
	for _, p := range m.ByType("aws:iam/rolePolicy:RolePolicy") {
		var readable []string
		for _, s := range rolePolicy(t, m, p.Name) {
			if slices.Contains(s.Action, "secretsmanager:GetSecretValue") {
				readable = append(readable, s.Resource...)
			}
		}
		if !slices.Equal(readable, want[p.Name]) {
			t.Errorf("role %s reads %v, want %v", p.Name, readable, want[p.Name])
		}
		t.Logf("role %s reads %d secrets", p.Name, len(readable))
	}
}

// credentialRotation off: no rotator, no permission of Secrets Manager, no rotation; the users
// still exist.
func TestRotationOff(t *testing.T) {
	raw := shipped(t, "isolated")
	raw[ProjectName+":credentialRotation"] = RotationOff
	m := &offline.Account{}
	if _, err := run(t, "isolated", raw, m); err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"aws:secretsmanager/secretRotation:SecretRotation", "rabbitmq-esm:infra:Rotation"} {
		if n := len(m.ByType(typ)); n != 0 {
			t.Errorf("credentialRotation off creates %d %s", n, typ)
		}
	}
	for _, p := range m.ByType("aws:lambda/permission:Permission") {
		if p.Inputs["principal"].StringValue() == "secretsmanager.amazonaws.com" {
			t.Errorf("credentialRotation off creates the permission %s", p.Name)
		}
	}
	if _, err := m.One("aws:lambda/invocation:Invocation", "provisioner-users"); err != nil {
		t.Errorf("credentialRotation off: %v", err)
	}
}
