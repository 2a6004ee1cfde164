// Package enginetest is the real-engine suite: the real Pulumi CLI and Go language host
// (scripts/build-pulumi.sh) run the program on every shipped stack file, against the stand-in
// AWS of internal/testsupport/standin, through the commands a user runs (scripts/pulumi.sh, which
// `make up/preview/destroy` call). Mocks cannot show what this shows: the CLI's config
// validation, the engine's diffs and replacements, resource hooks and the delete order.
package enginetest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin/cloud"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/simaccount"
)

// shippedStacks are the stack files the project ships, one per networking option.
var shippedStacks = []string{"public", "defaultvpc", "nat", "isolated", "publicsubnet", "existingvpc"}

// linger is how long the stand-in keeps a deleted mapping's (or function's) interfaces: long
// enough that every hook must wait through at least one poll that still finds them.
const linger = 3 * time.Second

const pulumiSh = "scripts/pulumi.sh"

func TestRealEngine(t *testing.T) {
	h := newHarness(t)
	defer func() { t.Logf("real-engine suite, step by step:\n%s", h.table()) }()

	t.Run("config", h.configAsTheCLISeesIt)
	for _, stack := range shippedStacks {
		t.Run(stack, func(t *testing.T) { h.lifecycle(t, stack) })
	}
	t.Run("rerun-after-failed-wait", h.rerunAfterFailedWait)
	t.Run("reworded-mapping-interfaces", h.rewordedMappingInterfaces)
	t.Run("day-two", h.dayTwo)
	t.Run("upgrade-path", h.upgradePath)
	t.Run("upgrade-from-main", h.upgradeFromAnotherRevision)
	t.Run("teardown-after-account-changed", h.teardownAfterAccountChanged)
	t.Run("existingvpc-edges", h.existingVPCEdges)
}

// configAsTheCLISeesIt runs the CLI on broken copies of a stack file: the CLI's own schema
// check and the program's validation each speak to the user, and nothing is created.
func (h *harness) configAsTheCLISeesIt(t *testing.T) {
	cases := []struct {
		stack, extra string
		want         string
	}{
		{"broken-type", "  rabbitmq-esm:networkMode: isolated\n  rabbitmq-esm:batchSize: many\n",
			"Stack 'broken-type' with configuration key 'batchSize' must be of type 'integer'"},
		{"broken-missing", "",
			"Stack 'broken-missing' is missing configuration value 'networkMode'"},
		{"broken-unknown", "  rabbitmq-esm:networkMode: isolated\n  rabbitmq-esm:batchsize: 10\n",
			`rabbitmq-esm:batchsize = "10": is not a setting of this project; did you mean batchSize?`},
		{"broken-other-option", "  rabbitmq-esm:networkMode: isolated\n  rabbitmq-esm:natGateways: OnePerAz\n",
			`rabbitmq-esm:natGateways = "OnePerAz": applies only to networkMode nat, not to isolated; remove it from this stack`},
		{"broken-range", "  rabbitmq-esm:networkMode: isolated\n  rabbitmq-esm:batchSize: 0\n",
			`rabbitmq-esm:batchSize = "0": must be a whole number from 1 to 10000`},
		// The user's VPC as the stand-in account holds it: the verifier reads its routes.
		{"broken-existingvpc-route", existingVPC(simaccount.UserPublicSubnet, "nat"),
			"sts: missing an interface endpoint for sts or a NAT gateway route in the broker's subnets (no sts interface endpoint, and subnet " +
				simaccount.UserPublicSubnet + " (us-east-1a) routes 0.0.0.0/0 to the internet gateway " + simaccount.UserIGW + " (route table " + simaccount.UserPublicTable + ")"},
		{"broken-existingvpc-endpoints", existingVPC(simaccount.UserSubnetA, "existing-endpoints"),
			"serviceRoute is existing-endpoints, but " + simaccount.UserVPCID + " has no available sts interface endpoint"},
	}
	for _, tc := range cases {
		t.Run(tc.stack, func(t *testing.T) {
			acct := h.newAccount(t, linger)
			h.stackFromBody(t, tc.stack, tc.extra)
			r := h.run(t, acct, tc.stack, "up --yes (refused)", pulumiSh, "up", tc.stack, "--yes", "--skip-preview")
			if r.err == nil {
				t.Fatalf("the CLI accepted the broken stack:\n%s", tail(r.out, 40))
			}
			if !strings.Contains(r.out, tc.want) {
				t.Errorf("the user does not see %q:\n%s", tc.want, tail(r.out, 40))
			}
			for line := range strings.Lines(r.out) {
				if strings.Contains(line, tc.want) {
					t.Logf("the user sees: %s", strings.TrimSpace(line))
					break
				}
			}
			if n := len(acct.view(t).Events); n != 0 {
				t.Errorf("%d changes reached the account before the refusal", n)
			}
		})
	}
}

// existingVPC is the body of an existingvpc stack file placing the broker in subnet of the
// stand-in's user VPC, with serviceRoute route.
func existingVPC(subnet, route string) string {
	return "  rabbitmq-esm:networkMode: existingvpc\n  rabbitmq-esm:vpcId: " + simaccount.UserVPCID + "\n  rabbitmq-esm:subnetIds:\n    - " + subnet +
		"\n  rabbitmq-esm:serviceRoute: " + route + "\n"
}

// lifecycle is what a user does with one option over its life.
func (h *harness) lifecycle(t *testing.T, stack string) {
	acct := h.newAccount(t, linger)
	run := func(name string, args ...string) result { return h.run(t, acct, stack, name, args...) }
	hooks := stack != "public" // a public broker's mapping and provisioner make no interfaces

	r := run("preview", pulumiSh, "preview", stack).must(t, "preview")
	if !strings.Contains(r.out, "to create") || len(acct.view(t).Events) != 0 {
		t.Fatalf("the preview did not just plan creations:\n%s", tail(r.out, 30))
	}
	run("up", pulumiSh, "up", stack, "--yes", "--skip-preview").must(t, "up")
	st := acct.view(t)
	mapping := st.FindOne(cloud.TypeEventSourceMapping, nil)
	if mapping == nil || st.FindOne(cloud.TypeBroker, nil) == nil {
		t.Fatal("up left no broker or no mapping in the account")
	}
	if got := len(mappingENIs(st, mapping.ID)); hooks != (got > 0) {
		t.Fatalf("the mapping has %d interfaces in the VPC; want them exactly for a private broker", got)
	}
	run("preview --expect-no-changes", pulumiSh, "preview", stack, "--expect-no-changes").must(t, "the second preview")
	h.checkState(t, acct, stack)
	h.checkMonitoring(t, acct, stack)

	// An in-place change.
	run("config set batchSize 50", "pulumi", "config", "set", "rabbitmq-esm:batchSize", "50", "--stack", stack).must(t, "config set")
	ops := h.previewSteps(t, acct, stack, "preview --json (batchSize 50)")
	if want := map[string][]string{"EventSourceMapping rabbitmq-esm-events-mapping": {"update"}}; !equalOps(ops, want) {
		t.Fatalf("changing batchSize plans %v, want %v", ops, want)
	}
	run("up (batchSize 50)", pulumiSh, "up", stack, "--yes", "--skip-preview").must(t, "up with batchSize 50")
	if b := acct.view(t).Get(mapping.ID).Props["batchSize"]; b != 50.0 {
		t.Fatalf("the mapping's batch size is %v after the update, want 50", b)
	}
	run("preview --expect-no-changes", pulumiSh, "preview", stack, "--expect-no-changes").must(t, "the preview after the update")

	// A replacing change: the mapping goes first (delete before replace) and its hook waits
	// out its interfaces before anything it depended on changes.
	run("config set queueName orders", "pulumi", "config", "set", "rabbitmq-esm:queueName", "orders", "--stack", stack).must(t, "config set")
	ops = h.previewSteps(t, acct, stack, "preview --json (queueName orders)")
	if !slices.Contains(ops["EventSourceMapping rabbitmq-esm-events-mapping"], "replace") || !slices.Contains(ops["Invocation rabbitmq-esm-provisioner-declare"], "replace") {
		t.Fatalf("changing queueName plans %v; want the mapping and the declaration replaced", ops)
	}
	calls := len(acct.ec2.Calls())
	run("up (queueName orders)", pulumiSh, "up", stack, "--yes", "--skip-preview").must(t, "up with queueName orders")
	st = acct.view(t)
	replaced := st.FindOne(cloud.TypeEventSourceMapping, nil)
	if replaced == nil || replaced.ID == mapping.ID || replaced.Str("queues") != "orders" {
		t.Fatalf("the mapping was not replaced by one on queue orders: %+v", replaced)
	}
	if hooks {
		assertWaited(t, acct.ec2.Calls()[calls:], esmPrefix(mapping.ID))
	}
	run("preview --expect-no-changes", pulumiSh, "preview", stack, "--expect-no-changes").must(t, "the preview after the replacement")

	// New credentials: Amazon MQ returns no RabbitMQ users and the provider ignores changes to
	// them, so only a new broker takes them; it can be created only once the old one, whose
	// name is unique in the account, is gone. The diagnosis reruns and logs in with them.
	oldBroker := st.FindOne(cloud.TypeBroker, nil)
	run("config set adminUsername opsadmin", "pulumi", "config", "set", "rabbitmq-esm:adminUsername", "opsadmin", "--stack", stack).must(t, "config set")
	run("up (adminUsername opsadmin)", pulumiSh, "up", stack, "--yes", "--skip-preview").must(t, "up with new credentials")
	st = acct.view(t)
	newBroker := st.FindOne(cloud.TypeBroker, nil)
	if newBroker == nil || newBroker.ID == oldBroker.ID || newBroker.Str("brokerName") != oldBroker.Str("brokerName") {
		t.Fatalf("the broker was not replaced under its name: before %s, after %+v", oldBroker.ID, newBroker)
	}
	diagnosis := h.run(t, acct, stack, "stack output diagnosis", "pulumi", "stack", "output", "diagnosis", "--stack", stack).must(t, "stack output")
	if !strings.Contains(diagnosis.stdout, `AMQPS login as \"opsadmin\"`) {
		t.Fatalf("the diagnosis did not rerun with the new credentials: %s", diagnosis.stdout)
	}
	replaced = st.FindOne(cloud.TypeEventSourceMapping, nil)
	run("preview --expect-no-changes", pulumiSh, "preview", stack, "--expect-no-changes").must(t, "the preview after the new credentials")

	if hooks {
		r := run("destroy without --run-program (refused)", "pulumi", "destroy", "--yes", "--skip-preview", "--stack", stack)
		if r.err == nil || !strings.Contains(r.out, "--run-program") {
			t.Fatalf("the engine did not refuse a destroy without --run-program:\n%s", tail(r.out, 20))
		}
		if acct.view(t).Get(replaced.ID) == nil {
			t.Fatal("the refused destroy deleted the mapping")
		}
	}
	calls = len(acct.ec2.Calls())
	run("destroy --run-program", pulumiSh, "destroy", stack, "--yes", "--skip-preview").must(t, "destroy")
	if hooks {
		assertWaited(t, acct.ec2.Calls()[calls:], esmPrefix(replaced.ID))
	}
	assertEmpty(t, acct.view(t))
	run("stack rm", "pulumi", "stack", "rm", "--yes", "--stack", stack).must(t, "stack rm")
}

// rerunAfterFailedWait: the engine removes a mapping from the state even when its after-delete
// hook fails, so a rerun of the destroy cannot wait for that mapping again. The rerun must
// still wait until no Lambda interface uses the broker's security group before deleting it,
// the subnets or the roles Lambda removes the interfaces with.
func (h *harness) rerunAfterFailedWait(t *testing.T) {
	const stack = "isolated-slow"
	h.stackFrom(t, "isolated", stack, "  rabbitmq-esm:eniWaitTimeoutMinutes: 1\n")
	acct := h.newAccount(t, linger)
	run := func(name string, args ...string) result { return h.run(t, acct, stack, name, args...) }
	run("up", pulumiSh, "up", stack, "--yes", "--skip-preview").must(t, "up")
	mapping := acct.view(t).FindOne(cloud.TypeEventSourceMapping, nil)
	// The monitor, created after the mapping, is deleted before it, and its function's own wait
	// would meet the slow interfaces first: it goes beforehand, at the usual pace.
	run("destroy the monitor", pulumiSh, "destroy", stack, "--yes", "--skip-preview", "--target-dependents",
		"--target", "urn:pulumi:"+stack+"::rabbitmq-esm::rabbitmq-esm:infra:Monitor::rabbitmq-esm-monitor").must(t, "the monitor's destroy")

	// Lambda takes longer than the wait allows (a minute): the first destroy stops at the hook,
	// and the interfaces vanish while the second one waits.
	acct.setLinger(t, 80*time.Second)
	r := run("destroy (the mapping's wait times out)", pulumiSh, "destroy", stack, "--yes", "--skip-preview")
	if r.err == nil || !strings.Contains(r.out, "still exist after") {
		t.Fatalf("the first destroy did not stop at the timed-out wait:\n%s", tail(r.out, 40))
	}
	export := h.run(t, acct, stack, "stack export", "pulumi", "stack", "export", "--stack", stack).must(t, "stack export")
	if strings.Contains(export.out, "aws:lambda/eventSourceMapping:EventSourceMapping") {
		t.Fatal("the mapping is still in the state: the engine was expected to drop it after its failed hook")
	}
	if len(mappingENIs(acct.view(t), mapping.ID)) == 0 {
		t.Fatal("the mapping's interfaces are already gone: the scenario did not arise")
	}

	acct.setLinger(t, linger)
	calls := len(acct.ec2.Calls())
	run("destroy again (waits via the security group)", pulumiSh, "destroy", stack, "--yes", "--skip-preview").must(t, "the second destroy")
	st := acct.view(t)
	assertEmpty(t, st)
	found := false
	for _, c := range acct.ec2.Calls()[calls:] {
		found = found || (len(c.Filters["group-id"]) > 0 && len(c.Found) > 0)
	}
	if !found {
		t.Error("the second destroy never saw the leftover interfaces through the security group: it did not wait for them")
	}
}

// rewordedMappingInterfaces: the description the mapping's wait looks for is stated in no AWS
// document. Were Lambda to word it otherwise, the wait must still hold everything the mapping
// used until its interfaces are gone: it finds them as Lambda's interfaces in the broker's
// group that belong to none of the stack's functions, and says that the description matched
// nothing.
func (h *harness) rewordedMappingInterfaces(t *testing.T) {
	const stack = "isolated-reworded"
	h.stackFrom(t, "isolated", stack, "")
	acct := h.newAccount(t, 15*time.Second)
	if err := acct.store.Update(func(st *cloud.State) error {
		st.Settings.ESMENIDescription = "AWS Lambda VPC ENI-mq-esm-{uuid}"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) result { return h.run(t, acct, stack, name, args...) }
	run("up", pulumiSh, "up", stack, "--yes", "--skip-preview").must(t, "up")
	st := acct.view(t)
	mapping := st.FindOne(cloud.TypeEventSourceMapping, nil)
	listener := st.FindOne(cloud.TypeFunction, func(r *cloud.Resource) bool { return r.Str("arn") == mapping.Str("functionArn") })
	if mapping == nil || listener == nil || len(mappingENIs(st, mapping.ID)) != 0 {
		t.Fatalf("want a mapping whose interfaces are described otherwise than the wait expects, and its listener: %+v %+v", mapping, listener)
	}

	r := run("destroy --run-program", pulumiSh, "destroy", stack, "--yes", "--skip-preview").must(t, "destroy")
	if !strings.Contains(r.out, "describes them otherwise") {
		t.Errorf("the destroy did not say that no interface had the expected description:\n%s", tail(r.out, 40))
	}
	st = acct.view(t)
	assertEmpty(t, st)
	var gone time.Time
	for _, e := range st.ENIs {
		if e.Owner == mapping.ID && e.VanishAt != nil && e.VanishAt.After(gone) {
			gone = *e.VanishAt
		}
	}
	var listenerDeleted time.Time
	for _, e := range st.Events {
		if e.Op == "delete" && e.Type == cloud.TypeFunction && e.ID == listener.ID {
			listenerDeleted = e.Time
		}
	}
	if gone.IsZero() || listenerDeleted.IsZero() || listenerDeleted.Before(gone) {
		t.Fatalf("the listener was deleted at %s, the mapping's interfaces were gone at %s: the mapping's wait did not hold what it used until they were gone",
			listenerDeleted.Format(time.RFC3339Nano), gone.Format(time.RFC3339Nano))
	}
	run("stack rm", "pulumi", "stack", "rm", "--yes", "--stack", stack).must(t, "stack rm")
}

// dayTwoChanges are the rows of docs/configuration.md's day-two table: a setting changed on a deployed
// isolated stack (or the row's option), and what the next up plans for each resource it
// touches (kinds: update, replace, create, delete). A row with refused instead plans nothing: the program says why.
var dayTwoChanges = []struct {
	// stack is the shipped option the row changes; empty: isolated.
	stack      string
	key, value string
	// path sets the value with `pulumi config set --path` (a list element).
	path    bool
	plans   map[string]string
	refused string
	// deploy: the row is deployed too, and then taken back: each up is followed by a preview
	// that must plan nothing.
	deploy bool
}{
	{key: "batchSize", value: "500", plans: map[string]string{"EventSourceMapping rabbitmq-esm-events-mapping": "update"}},
	{key: "maxBatchingWindowSeconds", value: "5", plans: map[string]string{"EventSourceMapping rabbitmq-esm-events-mapping": "update"}},
	{key: "logMessageBodies", value: "true", plans: map[string]string{"Function rabbitmq-esm-events-listener": "update"}},
	{key: "logRetentionDays", value: "30", plans: map[string]string{"LogGroup rabbitmq-esm-events-listener": "update", "LogGroup rabbitmq-esm-provisioner": "update",
		"LogGroup rabbitmq-esm-rotation": "update", "LogGroup rabbitmq-esm-monitor": "update"}},
	{key: "eniWaitTimeoutMinutes", value: "60", plans: map[string]string{}},
	{key: "instanceType", value: "mq.m5.large", plans: map[string]string{"Broker rabbitmq-esm-broker": "update"}},
	// RabbitMQ 4 runs on mq.m7g only and the provider changes the engine before the instance
	// type: from mq.t3.micro it takes two ups (upgradePath deploys them).
	{key: "engineVersion", value: "4.2", refused: "Upgrade in two ups:"},
	{key: "deliveryLimit", value: "10", plans: map[string]string{"Function rabbitmq-esm-provisioner": "update",
		"Function rabbitmq-esm-events-listener":        "update",
		"Invocation rabbitmq-esm-provisioner-diagnose": "replace", "Invocation rabbitmq-esm-provisioner-declare": "replace",
		"Invocation rabbitmq-esm-provisioner-users": "replace"}},
	{key: "virtualHost", value: "orders", plans: map[string]string{"EventSourceMapping rabbitmq-esm-events-mapping": "update",
		"Function rabbitmq-esm-provisioner":            "update",
		"Function rabbitmq-esm-rotation":               "update",
		"Function rabbitmq-esm-events-listener":        "update",
		"Function rabbitmq-esm-monitor":                "update",
		"Invocation rabbitmq-esm-provisioner-diagnose": "replace", "Invocation rabbitmq-esm-provisioner-declare": "replace",
		"Invocation rabbitmq-esm-provisioner-users": "replace"}},
	// A new name makes a new version of the user's secret (its first password, now AWSCURRENT)
	// and the users action runs again to create that user; the mapping's BASIC_AUTH names the
	// same secret and reads the new user at its next connection. Deployed, and taken back.
	{key: "mappingUsername", value: "orders-consumer", deploy: true, plans: plans(
		"SecretVersion rabbitmq-esm-broker-mapping-credentials:replace", "Invocation rabbitmq-esm-provisioner-users:replace")},
	{key: "deadLetterUsername", value: "esmadmin-clone", refused: "rotation pair"},
	// The monitor's user, as the mapping's. Deployed, and taken back.
	{key: "monitorUsername", value: "orders-monitor", deploy: true, plans: plans(
		"SecretVersion rabbitmq-esm-broker-monitor-credentials:replace", "Invocation rabbitmq-esm-provisioner-users:replace")},
	// Each threshold updates its alarm in place.
	{key: "alarmStalledMinutes", value: "10", plans: plans("MetricAlarm rabbitmq-esm-alarms-mapping-not-consuming:update")},
	{key: "alarmBacklogMessages", value: "250", plans: plans("MetricAlarm rabbitmq-esm-alarms-backlog:update")},
	{key: "alarmBrokerMemoryPercent", value: "70", plans: plans("MetricAlarm rabbitmq-esm-alarms-broker-memory:update")},
	{key: "alarmBrokerDiskFreeMultiple", value: "3", plans: plans("MetricAlarm rabbitmq-esm-alarms-broker-disk:update")},
	{key: "alarmBrokerMemoryPercent", value: "100", refused: `rabbitmq-esm:alarmBrokerMemoryPercent = "100": must be a whole number from 1 to 99`},
	// A topic of the user's: the stack's own goes, every alarm notifies the one given.
	// Deployed, and taken back.
	{key: "alarmTopicArn", value: "arn:aws:sns:us-east-1:" + simaccount.AccountID + ":ops-alerts", deploy: true, plans: plans(
		slices.Concat([]string{"Topic rabbitmq-esm-alarms-topic:delete"}, eachAlarm("update"))...)},
	{key: "alarmTopicArn", value: "ops-alerts", refused: `rabbitmq-esm:alarmTopicArn = "ops-alerts": must be the ARN of a standard SNS topic`},
	// The subscription stays pending until the address confirms it. Deployed, and taken back.
	{key: "alarmEmail", value: "ops@example.com", deploy: true, plans: plans("TopicSubscription rabbitmq-esm-alarms-email:create")},
	{key: "credentialRotation", value: "rate(7 days)", plans: plans("SecretRotation rabbitmq-esm-rotation-admin:update",
		"SecretRotation rabbitmq-esm-rotation-mapping:update", "SecretRotation rabbitmq-esm-rotation-dead-letter:update",
		"SecretRotation rabbitmq-esm-rotation-monitor:update")},
	{key: "credentialRotation", value: "rate(2 hours)", refused: "at most every 4 hours"},
	// off: the rotator and every rotation go (CancelRotateSecret); the mapping's guard tags
	// stop naming the rotator. Deployed, and taken back.
	{key: "credentialRotation", value: "off", deploy: true, plans: plans("Rotation rabbitmq-esm-rotation:delete",
		"Function rabbitmq-esm-rotation:delete", "LogGroup rabbitmq-esm-rotation:delete", "Role rabbitmq-esm-rotation:delete",
		"RolePolicy rabbitmq-esm-rotation:delete", "Permission rabbitmq-esm-rotation-invoke-admin:delete",
		"Permission rabbitmq-esm-rotation-invoke-mapping:delete", "Permission rabbitmq-esm-rotation-invoke-dead-letter:delete",
		"Permission rabbitmq-esm-rotation-invoke-monitor:delete", "SecretRotation rabbitmq-esm-rotation-monitor:delete",
		"SecretRotation rabbitmq-esm-rotation-admin:delete", "SecretRotation rabbitmq-esm-rotation-mapping:delete",
		"SecretRotation rabbitmq-esm-rotation-dead-letter:delete", "EventSourceMapping rabbitmq-esm-events-mapping:update")},
	{key: "adminAccessCidrs[0]", value: "10.20.0.0/16", path: true, plans: map[string]string{
		"SecurityGroupIngressRule rabbitmq-esm-broker-admin-443-from-1": "create", "SecurityGroupIngressRule rabbitmq-esm-broker-admin-5671-from-1": "create"}},
	{key: "deploymentMode", value: "CLUSTER_MULTI_AZ", plans: brokerReplaced()},
	// The broker's name is the Broker dimension of its alarms and dashboard widgets.
	{key: "brokerName", value: "orders-broker", plans: brokerReplaced("Secret rabbitmq-esm-broker-credentials:update",
		"Secret rabbitmq-esm-broker-mapping-credentials:update", "Secret rabbitmq-esm-broker-dead-letter-credentials:update",
		"Secret rabbitmq-esm-broker-monitor-credentials:update", "MetricAlarm rabbitmq-esm-alarms-broker-memory:update",
		"MetricAlarm rabbitmq-esm-alarms-broker-disk:update", "Dashboard rabbitmq-esm-dashboard:update")},
	// The subnets that exist keep their blocks and zones; the third zone's subnet takes its own
	// slot, and the endpoints reach into it. Deployed, and taken back.
	{key: "availabilityZones", value: "3", deploy: true, plans: plans(
		"Subnet rabbitmq-esm-network-isolated-3:create", "RouteTable rabbitmq-esm-network-isolated-3:create",
		"RouteTableAssociation rabbitmq-esm-network-isolated-3:create",
		"VpcEndpoint rabbitmq-esm-endpoints-lambda:update", "VpcEndpoint rabbitmq-esm-endpoints-secretsmanager:update",
		"VpcEndpoint rabbitmq-esm-endpoints-sts:update")},
	{key: "vpcCidr", value: "10.1.0.0/16", plans: brokerReplaced(
		"Vpc rabbitmq-esm-network:replace", "InternetGateway rabbitmq-esm-network:update", "Subnet rabbitmq-esm-network-isolated-1:replace", "Subnet rabbitmq-esm-network-isolated-2:replace",
		"RouteTable rabbitmq-esm-network-isolated-1:replace", "RouteTable rabbitmq-esm-network-isolated-2:replace",
		"RouteTableAssociation rabbitmq-esm-network-isolated-1:replace", "RouteTableAssociation rabbitmq-esm-network-isolated-2:replace",
		"SecurityGroup rabbitmq-esm-broker-sg:replace", "SecurityGroup rabbitmq-esm-endpoints-sg:replace",
		"SecurityGroupEgressRule rabbitmq-esm-broker-amqps-to-self:replace", "SecurityGroupEgressRule rabbitmq-esm-endpoints-https-to-endpoints:replace",
		"SecurityGroupIngressRule rabbitmq-esm-broker-amqps-from-self:replace", "SecurityGroupIngressRule rabbitmq-esm-endpoints-https-from-clients:replace",
		"SecurityGroupEgressRule rabbitmq-esm-broker-https-to-self:replace", "SecurityGroupIngressRule rabbitmq-esm-broker-https-from-self:replace",
		"SecurityGroupIngressRule rabbitmq-esm-endpoints-https-from-vpc-1:replace",
		"VpcEndpoint rabbitmq-esm-endpoints-lambda:replace", "VpcEndpoint rabbitmq-esm-endpoints-secretsmanager:replace",
		"VpcEndpoint rabbitmq-esm-endpoints-sts:replace")},
	// Another option rebuilds the network around the same VPC: isolated's subnets, routes and
	// endpoints go, nat's public and private subnets, gateways and routes come, the broker is
	// replaced into the new subnets, and every taggable resource takes the new networkMode tag.
	{key: "networkMode", value: "nat", deploy: true, plans: brokerReplaced(slices.Concat([]string{
		"Vpc rabbitmq-esm-network:update", "InternetGateway rabbitmq-esm-network:update",
		"Eip rabbitmq-esm-network-1:create", "NatGateway rabbitmq-esm-network-1:create",
		"Subnet rabbitmq-esm-network-isolated-1:delete", "Subnet rabbitmq-esm-network-isolated-2:delete",
		"RouteTable rabbitmq-esm-network-isolated-1:delete", "RouteTable rabbitmq-esm-network-isolated-2:delete",
		"RouteTableAssociation rabbitmq-esm-network-isolated-1:delete", "RouteTableAssociation rabbitmq-esm-network-isolated-2:delete",
		"Subnet rabbitmq-esm-network-private-1:create", "Subnet rabbitmq-esm-network-private-2:create",
		"Subnet rabbitmq-esm-network-public-1:create", "Subnet rabbitmq-esm-network-public-2:create",
		"RouteTable rabbitmq-esm-network-private-1:create", "RouteTable rabbitmq-esm-network-private-2:create",
		"RouteTable rabbitmq-esm-network-public-1:create", "RouteTable rabbitmq-esm-network-public-2:create",
		"RouteTableAssociation rabbitmq-esm-network-private-1:create", "RouteTableAssociation rabbitmq-esm-network-private-2:create",
		"RouteTableAssociation rabbitmq-esm-network-public-1:create", "RouteTableAssociation rabbitmq-esm-network-public-2:create",
		"Route rabbitmq-esm-network-private-1:create", "Route rabbitmq-esm-network-private-2:create",
		"Route rabbitmq-esm-network-public-1:create", "Route rabbitmq-esm-network-public-2:create",
	}, endpointsGiveWayToNAT, []string{
		"SecurityGroup rabbitmq-esm-broker-sg:update", "SecurityGroupEgressRule rabbitmq-esm-broker-amqps-to-self:update",
		"SecurityGroupIngressRule rabbitmq-esm-broker-amqps-from-self:update",
		"SecurityGroupEgressRule rabbitmq-esm-broker-https-to-self:update", "SecurityGroupIngressRule rabbitmq-esm-broker-https-from-self:update",
		"Secret rabbitmq-esm-broker-credentials:update", "LogGroup rabbitmq-esm-events-listener:update",
		"Secret rabbitmq-esm-broker-mapping-credentials:update", "Secret rabbitmq-esm-broker-dead-letter-credentials:update",
		"LogGroup rabbitmq-esm-provisioner:update", "Role rabbitmq-esm-events-listener:update", "Role rabbitmq-esm-provisioner:update",
		"LogGroup rabbitmq-esm-rotation:update", "Role rabbitmq-esm-rotation:update",
		"Secret rabbitmq-esm-broker-monitor-credentials:update", "LogGroup rabbitmq-esm-monitor:update", "Role rabbitmq-esm-monitor:update",
		"EventRule rabbitmq-esm-monitor-schedule:update", "Topic rabbitmq-esm-alarms-topic:update",
	}, eachAlarm("update"))...)},
	// Every taggable resource, in place.
	{key: "tags.team", value: "payments", path: true, plans: plans(append(eachAlarm("update"),
		"Function rabbitmq-esm-monitor:update", "LogGroup rabbitmq-esm-monitor:update", "Role rabbitmq-esm-monitor:update",
		"Secret rabbitmq-esm-broker-monitor-credentials:update", "EventRule rabbitmq-esm-monitor-schedule:update", "Topic rabbitmq-esm-alarms-topic:update",
		"Broker rabbitmq-esm-broker:update", "EventSourceMapping rabbitmq-esm-events-mapping:update",
		"Function rabbitmq-esm-events-listener:update", "Function rabbitmq-esm-provisioner:update", "Function rabbitmq-esm-rotation:update",
		"LogGroup rabbitmq-esm-events-listener:update", "LogGroup rabbitmq-esm-provisioner:update", "LogGroup rabbitmq-esm-rotation:update",
		"Role rabbitmq-esm-events-listener:update", "Role rabbitmq-esm-provisioner:update", "Role rabbitmq-esm-rotation:update",
		"Secret rabbitmq-esm-broker-mapping-credentials:update", "Secret rabbitmq-esm-broker-dead-letter-credentials:update",
		"SecurityGroupEgressRule rabbitmq-esm-broker-https-to-self:update", "SecurityGroupIngressRule rabbitmq-esm-broker-https-from-self:update",
		"RouteTable rabbitmq-esm-network-isolated-1:update", "RouteTable rabbitmq-esm-network-isolated-2:update",
		"Secret rabbitmq-esm-broker-credentials:update", "SecurityGroup rabbitmq-esm-broker-sg:update", "SecurityGroup rabbitmq-esm-endpoints-sg:update",
		"SecurityGroupEgressRule rabbitmq-esm-broker-amqps-to-self:update", "SecurityGroupEgressRule rabbitmq-esm-endpoints-https-to-endpoints:update",
		"SecurityGroupIngressRule rabbitmq-esm-broker-amqps-from-self:update", "SecurityGroupIngressRule rabbitmq-esm-endpoints-https-from-clients:update",
		"SecurityGroupIngressRule rabbitmq-esm-endpoints-https-from-vpc-1:update",
		"Subnet rabbitmq-esm-network-isolated-1:update", "Subnet rabbitmq-esm-network-isolated-2:update", "Vpc rabbitmq-esm-network:update",
		"InternetGateway rabbitmq-esm-network:update",
		"VpcEndpoint rabbitmq-esm-endpoints-lambda:update", "VpcEndpoint rabbitmq-esm-endpoints-secretsmanager:update",
		"VpcEndpoint rabbitmq-esm-endpoints-sts:update")...)},
	{stack: "defaultvpc", key: "defaultVpcEndpoints", value: "existing", refused: "is this stack's own, created while it was create"},
	{key: "engineVersion", value: "3.12", refused: `rabbitmq-esm:engineVersion = "3.12": must be a RabbitMQ major.minor version of 3.13 or later`},
	{key: "natGateways", value: "OnePerAz", refused: `applies only to networkMode nat, not to isolated`},
	// awsx names a private subnet's route after the subnet and points it at its zone's gateway:
	// the second zone gets a gateway of its own and its route is updated in place.
	{stack: "nat", key: "natGateways", value: "OnePerAz", plans: plans(
		"Eip rabbitmq-esm-network-2:create", "NatGateway rabbitmq-esm-network-2:create", "Route rabbitmq-esm-network-private-2:update")},
	// The endpoints found would be the stack's own: switching would delete them.
	{stack: "existingvpc", key: "serviceRoute", value: "existing-endpoints", refused: "is this stack's own, created while it was endpoints"},
	// The path moves to the user's NAT gateway (the verifier checked the route first): the
	// endpoints, their group and rules go, the broker's group gets 443 out, and the provisioner
	// learns the route its diagnosis expects, and the diagnosis runs again on the new path.
	{stack: "existingvpc", key: "serviceRoute", value: "nat", plans: plans(append(endpointsGiveWayToNAT,
		"Invocation rabbitmq-esm-provisioner-diagnose:replace", "Function rabbitmq-esm-provisioner:update")...)},
	// Egress the user states (here through the NAT route the verifier can follow too): the same.
	{stack: "existingvpc", key: "serviceRoute", value: "custom-egress", plans: plans(append(endpointsGiveWayToNAT,
		"Invocation rabbitmq-esm-provisioner-diagnose:replace", "Function rabbitmq-esm-provisioner:update")...)},
	// The endpoints reach into a second zone, in place.
	{stack: "existingvpc", key: "endpointSubnetIds[0]", value: simaccount.UserSubnetB, path: true, plans: plans(
		"VpcEndpoint rabbitmq-esm-endpoints-lambda:update", "VpcEndpoint rabbitmq-esm-endpoints-secretsmanager:update",
		"VpcEndpoint rabbitmq-esm-endpoints-sts:update")},
}

// eachAlarm is every alarm of the stack with the step kind.
func eachAlarm(kind string) []string {
	var out []string
	for _, a := range []string{"mapping-not-consuming", "backlog", "dead-letters", "listener-errors", "listener-throttles", "broker-memory",
		"broker-disk", "monitor-silent"} {
		out = append(out, "MetricAlarm rabbitmq-esm-alarms-"+a+":"+kind)
	}
	return out
}

// endpointsGiveWayToNAT is what moving the mapping's path from the interface endpoints to a
// NAT gateway plans: the endpoints with their group and rules go, the broker's group lets 443 out.
var endpointsGiveWayToNAT = []string{
	"Endpoints rabbitmq-esm-endpoints:delete", "SecurityGroup rabbitmq-esm-endpoints-sg:delete",
	"VpcEndpoint rabbitmq-esm-endpoints-lambda:delete", "VpcEndpoint rabbitmq-esm-endpoints-secretsmanager:delete",
	"VpcEndpoint rabbitmq-esm-endpoints-sts:delete",
	"SecurityGroupEgressRule rabbitmq-esm-endpoints-https-to-endpoints:delete",
	"SecurityGroupIngressRule rabbitmq-esm-endpoints-https-from-clients:delete",
	"SecurityGroupIngressRule rabbitmq-esm-endpoints-https-from-vpc-1:delete",
	"SecurityGroupEgressRule rabbitmq-esm-broker-https-to-aws:create",
}

// plans builds a row's expectation from "<type> <name>:<kind>" entries.
func plans(entries ...string) map[string]string {
	out := map[string]string{}
	for _, e := range entries {
		i := strings.LastIndex(e, ":")
		out[e[:i]] = e[i+1:]
	}
	return out
}

// brokerReplaced is what replacing the broker plans, with more: the broker goes first (its name
// is unique in the account), and with it the mapping (its event source) and the provisioner's
// invocations; the functions and the listener's and the monitor's policies follow the new
// broker and mapping in place.
func brokerReplaced(more ...string) map[string]string {
	return plans(append([]string{"Broker rabbitmq-esm-broker:replace", "EventSourceMapping rabbitmq-esm-events-mapping:replace",
		"Invocation rabbitmq-esm-provisioner-diagnose:replace", "Invocation rabbitmq-esm-provisioner-declare:replace",
		"Invocation rabbitmq-esm-provisioner-users:replace",
		"Function rabbitmq-esm-provisioner:update", "Function rabbitmq-esm-rotation:update", "Function rabbitmq-esm-events-listener:update",
		"RolePolicy rabbitmq-esm-events-listener:update",
		// The monitor follows the new broker's management URL and the new mapping (its UUID, and
		// its ARN in the monitor's policy).
		"Function rabbitmq-esm-monitor:update", "RolePolicy rabbitmq-esm-monitor:update"}, more...)...)
}

// dayTwo plans each change of dayTwoChanges against a deployed stack of its option, one at a
// time.
func (h *harness) dayTwo(t *testing.T) {
	for _, option := range []string{"isolated", "defaultvpc", "nat", "existingvpc"} {
		t.Run(option, func(t *testing.T) { h.dayTwoOf(t, option) })
	}
}

func (h *harness) dayTwoOf(t *testing.T, option string) {
	stack := option + "-daytwo"
	shipped := h.stackFrom(t, option, stack, "")
	acct := h.newAccount(t, linger)
	h.run(t, acct, stack, "up", pulumiSh, "up", stack, "--yes", "--skip-preview").must(t, "up")
	for _, row := range dayTwoChanges {
		if cmp.Or(row.stack, "isolated") != option {
			continue
		}
		name := row.key + "=" + row.value
		set := []string{"pulumi", "config", "set", "rabbitmq-esm:" + row.key, row.value, "--stack", stack}
		if row.path {
			set = append(set, "--path")
		}
		h.run(t, acct, stack, "config set "+name, set...).must(t, "config set")
		if row.refused != "" {
			r := h.run(t, acct, stack, "preview (refused) "+name, "pulumi", "preview", "--stack", stack)
			if r.err == nil || !strings.Contains(r.out, row.refused) {
				t.Errorf("%s: want the program to refuse with %q:\n%s", name, row.refused, tail(r.out, 15))
			}
		} else {
			ops := h.previewSteps(t, acct, stack, "preview --json "+name)
			got := map[string]string{}
			for res, steps := range ops {
				got[res] = stepKind(steps)
			}
			if fmt.Sprint(got) != fmt.Sprint(row.plans) {
				t.Errorf("%s plans %v, want %v", name, got, row.plans)
			}
		}
		upAndSettled := func(what string) {
			h.run(t, acct, stack, "up ("+what+")", pulumiSh, "up", stack, "--yes", "--skip-preview").must(t, "up with "+what)
			h.run(t, acct, stack, "preview --expect-no-changes ("+what+")", pulumiSh, "preview", stack, "--expect-no-changes").must(t, "the preview after "+what)
		}
		if row.deploy {
			upAndSettled(name)
		}
		key, _, _ := strings.Cut(strings.Split(row.key, ".")[0], "[")
		if value, ok := shippedSetting(shipped, key); ok {
			h.run(t, acct, stack, "config set back "+key, "pulumi", "config", "set", "rabbitmq-esm:"+key, value, "--stack", stack).must(t, "config set back")
		} else {
			h.run(t, acct, stack, "config rm "+key, "pulumi", "config", "rm", "rabbitmq-esm:"+key, "--stack", stack).must(t, "config rm")
		}
		if row.deploy {
			upAndSettled(key + " back")
		}
	}
	h.run(t, acct, stack, "destroy --run-program", pulumiSh, "destroy", stack, "--yes", "--skip-preview").must(t, "destroy")
}

// stackFrom writes the stack file of a stack of the suite's own: the shipped option's, with
// more settings appended, and returns the shipped file.
func (h *harness) stackFrom(t *testing.T, option, stack, more string) []byte {
	t.Helper()
	shipped, err := os.ReadFile(filepath.Join(h.repo, "Pulumi."+option+".yaml")) //nolint:gosec // G304: a shipped stack file
	if err != nil {
		t.Fatal(err)
	}
	h.writeStack(t, stack, string(shipped)+more)
	return shipped
}

// writeStack writes the stack file of a stack of the suite's own.
func (h *harness) writeStack(t *testing.T, stack, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(h.project, "Pulumi."+stack+".yaml"), []byte(body), 0o600); err != nil { //nolint:gosec // G703: the suite's temp copy
		t.Fatal(err)
	}
}

// shippedSetting is the value a shipped stack file gives the project's key, if it sets it.
func shippedSetting(file []byte, key string) (string, bool) {
	for line := range strings.Lines(string(file)) {
		if value, ok := strings.CutPrefix(strings.TrimSpace(line), "rabbitmq-esm:"+key+":"); ok {
			return strings.TrimSpace(value), true
		}
	}
	return "", false
}

// stepKind reduces a resource's steps to what a reader of the day-two table needs.
func stepKind(steps []string) string {
	switch {
	case slices.Contains(steps, "replace"):
		return "replace"
	case slices.Contains(steps, "create"):
		return "create"
	case slices.Contains(steps, "delete"):
		return "delete"
	}
	return strings.Join(steps, "+")
}

// checkState reads the state as `pulumi stack export` writes it: no duplicate URNs, every
// resource in a component of the project, and the admin password nowhere in plain text.
func (h *harness) checkState(t *testing.T, acct *account, stack string) {
	t.Helper()
	plain := h.run(t, acct, stack, "stack export", "pulumi", "stack", "export", "--stack", stack).must(t, "stack export")
	revealed := h.run(t, acct, stack, "stack export --show-secrets", "pulumi", "stack", "export", "--show-secrets", "--stack", stack).must(t, "stack export")
	var doc struct {
		Deployment struct {
			Resources []struct {
				URN     string         `json:"urn"`
				Type    string         `json:"type"`
				Parent  string         `json:"parent"`
				Outputs map[string]any `json:"outputs"`
			} `json:"resources"`
		} `json:"deployment"`
	}
	if err := json.Unmarshal([]byte(revealed.stdout), &doc); err != nil {
		t.Fatalf("stack export: %v", err)
	}
	urns := map[string]string{}
	password := ""
	for _, r := range doc.Deployment.Resources {
		if _, dup := urns[r.URN]; dup {
			t.Errorf("duplicate URN %s", r.URN)
		}
		urns[r.URN] = r.Type
		if r.Type == "random:index/randomPassword:RandomPassword" {
			password = secretPlaintext(r.Outputs["result"])
		}
	}
	for _, r := range doc.Deployment.Resources {
		switch {
		case r.Type == "pulumi:pulumi:Stack" || strings.HasPrefix(r.Type, "pulumi:providers:"):
		case r.Parent == "":
			t.Errorf("%s has no parent", r.URN)
		case urns[r.Parent] == "pulumi:pulumi:Stack" && !strings.HasPrefix(r.Type, "rabbitmq-esm:infra:"):
			t.Errorf("%s sits directly under the stack, outside every component", r.URN)
		case urns[r.Parent] == "":
			t.Errorf("%s names a parent that is not in the state", r.URN)
		}
	}
	if len(password) < 12 {
		t.Fatalf("no admin password found in the state (got %q)", password)
	}
	if strings.Contains(plain.stdout, password) {
		t.Error("the admin password appears in plain text in the state")
	}
	var anyDoc any
	_ = json.Unmarshal([]byte(revealed.stdout), &anyDoc)
	if paths := plainOccurrences(anyDoc, password, "$"); len(paths) > 0 {
		t.Errorf("the admin password is held outside a secret at %s", strings.Join(paths, ", "))
	}
	outputs := h.run(t, acct, stack, "stack output --show-secrets", "pulumi", "stack", "output", "--json", "--show-secrets", "--stack", stack).must(t, "stack output")
	if strings.Contains(outputs.out, password) {
		t.Error("a stack output holds the admin password")
	}
}

// secretPlaintext returns the plaintext of a revealed secret value.
func secretPlaintext(v any) string {
	m, _ := v.(map[string]any)
	text, _ := m["plaintext"].(string)
	var s string
	if json.Unmarshal([]byte(text), &s) == nil {
		return s
	}
	return text
}

// plainOccurrences lists the paths where needle appears outside a secret envelope.
func plainOccurrences(v any, needle, path string) []string {
	switch x := v.(type) {
	case string:
		if strings.Contains(x, needle) {
			return []string{path}
		}
	case []any:
		var out []string
		for i, e := range x {
			out = append(out, plainOccurrences(e, needle, fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	case map[string]any:
		if _, secret := x["4dabf18193072939515e22adb298388d"]; secret {
			return nil
		}
		var out []string
		for k, e := range x {
			out = append(out, plainOccurrences(e, needle, path+"."+k)...)
		}
		return out
	}
	return nil
}

func esmPrefix(uuid string) string {
	return "AWS Lambda VPC ENI-armq-" + simaccount.AccountID + "-" + uuid
}

func mappingENIs(st *cloud.State, uuid string) []*cloud.ENI {
	var out []*cloud.ENI
	for _, e := range st.LiveENIs(time.Now()) {
		if strings.HasPrefix(e.Description, esmPrefix(uuid)) {
			out = append(out, e)
		}
	}
	return out
}

// assertWaited checks the hook polled EC2 for the interfaces, saw them, and stopped when they
// were gone.
func assertWaited(t *testing.T, calls []cloud.EC2Call, prefix string) {
	t.Helper()
	var seen []int
	for _, c := range calls {
		if slices.Contains(c.Filters["description"], prefix+"*") {
			seen = append(seen, len(c.Found))
		}
	}
	if len(seen) < 2 || seen[0] == 0 || seen[len(seen)-1] != 0 {
		t.Fatalf("the wait for %s* polled EC2 %d times, finding %v interfaces: want it to find them, wait, and end when none remain",
			prefix, len(seen), seen)
	}
}

// assertEmpty checks a destroy left nothing of the stack's in the account, and took nothing of
// what the account held before — the default VPC, the user's VPC with its subnets, routes, NAT
// gateway and groups — nor changed any of it: only what the account was seeded with, as it
// was, and no interface at all.
func assertEmpty(t *testing.T, st *cloud.State) {
	t.Helper()
	seeded := cloud.Seeded().Resources
	assertNothingOfTheStackLeft(t, st, seeded)
	for id, want := range seeded {
		got := st.Get(id)
		if got == nil {
			t.Errorf("the stack deleted %s %s, which the account held before", want.Type, id)
			continue
		}
		if a, b := fmt.Sprint(want.Props), fmt.Sprint(got.Props); a != b {
			t.Errorf("the stack changed %s %s, which the account held before:\n  was %s\n  now %s", want.Type, id, a, b)
		}
	}
}

// assertNothingOfTheStackLeft checks a destroy left nothing the account did not hold before the
// stack (before), and no interface at all.
func assertNothingOfTheStackLeft(t *testing.T, st *cloud.State, before map[string]*cloud.Resource) {
	t.Helper()
	// Amazon MQ's own general log groups of the stack's deleted brokers stay, as in AWS; nothing
	// else may.
	leftByAmazonMQ := map[string]bool{}
	for _, g := range st.LeftByAmazonMQ() {
		leftByAmazonMQ[g.ID] = true
		t.Logf("left by Amazon MQ: log group %s of the deleted broker %s", g.ID, g.Str("brokerId"))
	}
	for id, r := range st.Resources {
		if before[id] == nil && !r.Bool("main") && !leftByAmazonMQ[id] {
			t.Errorf("destroy left %s %s", r.Type, id)
		}
	}
	for _, e := range st.LiveENIs(time.Now()) {
		t.Errorf("destroy left the interface %s (%q, orphaned %v)", e.ID, e.Description, e.Orphaned)
	}
}

func equalOps(got, want map[string][]string) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			return false
		}
	}
	return true
}
