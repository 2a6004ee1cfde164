package aws

import (
	"context"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/status"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin/cloud"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/simaccount"
)

// deployed is a broker created from in, with the outputs the engine keeps.
type deployed struct {
	p    *standin.Provider
	id   string
	in   map[string]any
	outs resource.PropertyMap
}

func deploy(t *testing.T, in map[string]any) *deployed {
	t.Helper()
	p := provider(t)
	id, outs, err := create(t, p, "mq/broker:Broker", "b", in)
	if err != nil {
		t.Fatal(err)
	}
	return &deployed{p: p, id: id, in: in, outs: outs}
}

// update sends the changes over the created inputs (the read-back security groups kept).
func (d *deployed) update(t *testing.T, changes map[string]any) (resource.PropertyMap, error) {
	t.Helper()
	news := props(d.in)
	news["securityGroups"] = d.outs["securityGroups"]
	for k, v := range changes {
		news[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
	}
	res, err := d.p.Update(context.Background(), plugin.UpdateRequest{Type: cloud.TypeBroker, ID: resource.ID(d.id),
		OldInputs: props(d.in), OldOutputs: d.outs, NewInputs: news})
	return res.Properties, err
}

func (d *deployed) account(t *testing.T) *cloud.State {
	t.Helper()
	store, err := cloud.OpenFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	var st *cloud.State
	if err := store.View(func(s *cloud.State) { st = s }); err != nil {
		t.Fatal(err)
	}
	return st
}

// calls are the broker's API calls and refusals the account saw, in order.
func (d *deployed) calls(t *testing.T) []string {
	var out []string
	for _, e := range d.account(t).Events {
		if e.ID == d.id && (e.Op == "call" || e.Op == "refuse") {
			out = append(out, e.Op+" "+e.Detail)
		}
	}
	return out
}

func TestBrokerUpdateFollowsTheProviderOrder(t *testing.T) {
	in := rabbit("orders")
	in["hostInstanceType"] = "mq.m5.large"
	d := deploy(t, in)
	_, err := d.update(t, map[string]any{"engineVersion": "4.2", "hostInstanceType": "mq.m7g.large", "applyImmediately": true,
		"maintenanceWindowStartTime": map[string]any{"dayOfWeek": "MONDAY", "timeOfDay": "03:00", "timeZone": "UTC"}})
	// The engine version goes first, judged against the running m5: refused before the
	// instance type call that would have made it possible.
	if err == nil || !strings.Contains(err.Error(), "RabbitMQ 4.2 is supported on mq.m7g instance types only, not mq.m5.large") {
		t.Fatalf("4.2 with m7g in one update: %v", err)
	}
	if got := d.calls(t); len(got) != 1 || !strings.HasPrefix(got[0], "refuse ") {
		t.Fatalf("calls: %q", got)
	}
	// The instance type alone, then the engine version: both pass, each its own call.
	d.in["applyImmediately"] = true
	outs, err := d.update(t, map[string]any{"hostInstanceType": "mq.m7g.large"})
	if err != nil || standin.Str(outs, "hostInstanceType") != "mq.m7g.large" {
		t.Fatalf("m7g: %v %v", err, outs["hostInstanceType"])
	}
	d.outs = outs
	d.in["hostInstanceType"] = "mq.m7g.large"
	outs, err = d.update(t, map[string]any{"engineVersion": "4.2", "maintenanceWindowStartTime": map[string]any{"dayOfWeek": "MONDAY", "timeOfDay": "03:00", "timeZone": "UTC"}})
	if err != nil || standin.Str(outs, "engineVersion") != "4.2" {
		t.Fatalf("4.2 on m7g: %v %v", err, outs["engineVersion"])
	}
	want := []string{"UpdateBroker hostInstanceType", "RebootBroker", "UpdateBroker configuration,logs,engineVersion",
		"UpdateBroker maintenanceWindowStartTime", "RebootBroker"}
	got := d.calls(t)[1:]
	if strings.Join(got, "|") != "call "+strings.Join(want, "|call ") {
		t.Fatalf("calls %q, want %q", got, want)
	}
}

func TestBrokerRefusals(t *testing.T) {
	for _, c := range []struct {
		name, instance, version string
		changes                 map[string]any
		want                    string
	}{
		{"4.x off m7g", "mq.m5.large", "3.13", map[string]any{"engineVersion": "4.2"},
			"RabbitMQ 4.2 is supported on mq.m7g instance types only"},
		{"back to t3.micro", "mq.m5.large", "3.13", map[string]any{"hostInstanceType": "mq.t3.micro"},
			"BadRequestException: Downgrading from current instance type [mq.m5.large] to requested instance type [mq.t3.micro] is not supported for RabbitMQ brokers."},
		{"m7g back to t3.micro", "mq.m7g.large", "3.13", map[string]any{"hostInstanceType": "mq.t3.micro"},
			"Downgrading from current instance type [mq.m7g.large]"},
		{"4.x moved off m7g", "mq.m7g.large", "4.2", map[string]any{"hostInstanceType": "mq.m5.large"},
			"RabbitMQ 4.2 is supported on mq.m7g instance types only, not mq.m5.large"},
		{"4.2 pending, then off m7g", "mq.m7g.large", "3.13", map[string]any{"engineVersion": "4.2", "hostInstanceType": "mq.m5.large"},
			"RabbitMQ 4.2 is supported on mq.m7g instance types only, not mq.m5.large"},
		{"engine downgrade", "mq.m7g.large", "4.2", map[string]any{"engineVersion": "3.13"},
			"Downgrading from current engine version [4.2] to requested engine version [3.13]"},
		{"4.3 from 3.13", "mq.m7g.large", "3.13", map[string]any{"engineVersion": "4.3"},
			"the next version is [4.2]"},
		{"security groups", "mq.m5.large", "3.13", map[string]any{"securityGroups": []any{}},
			"BadRequestException: Changing security groups is not supported for RabbitMQ brokers."},
		{"auto minor off", "mq.m5.large", "3.13", map[string]any{"autoMinorVersionUpgrade": false},
			"BadRequestException: Brokers on [RabbitMQ] version [3.13] must have [autoMinorVersionUpgrade] set to [true]."},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := rabbit("orders")
			in["hostInstanceType"], in["engineVersion"] = c.instance, c.version
			d := deploy(t, in)
			if _, err := d.update(t, c.changes); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
	t.Run("4.3 from 4.2", func(t *testing.T) {
		in := rabbit("orders")
		in["hostInstanceType"], in["engineVersion"] = "mq.m7g.large", "4.2"
		if _, err := deploy(t, in).update(t, map[string]any{"engineVersion": "4.3"}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestBrokerRefusalKeepsEarlierCalls: the engine version call is made (pending) before the
// instance type call is refused, and no reboot follows; the broker still runs 3.13.
func TestBrokerRefusalKeepsEarlierCalls(t *testing.T) {
	in := rabbit("orders")
	in["hostInstanceType"], in["deploymentMode"] = "mq.m7g.large", "SINGLE_INSTANCE"
	d := deploy(t, in)
	_, err := d.update(t, map[string]any{"engineVersion": "4.2", "hostInstanceType": "mq.t3.micro", "applyImmediately": true})
	if err == nil || !strings.Contains(err.Error(), "Downgrading from current instance type") {
		t.Fatalf("update: %v", err)
	}
	// The engine records the planned state with the refusal as an initialization error, as the
	// bridge returns it.
	st, ok := status.FromError(err)
	var planned *pulumirpc.ErrorResourceInitFailed
	for _, detail := range st.Details() {
		if f, is := detail.(*pulumirpc.ErrorResourceInitFailed); is {
			planned = f
		}
	}
	if !ok || planned == nil || planned.Id != d.id || planned.Properties.Fields["engineVersion"].GetStringValue() != "4.2" ||
		planned.Properties.Fields["hostInstanceType"].GetStringValue() != "mq.t3.micro" || len(planned.Reasons) != 1 {
		t.Fatalf("the refusal carries no planned state: %v", err)
	}
	b := d.account(t).Get(d.id)
	if b.Str("pendingEngineVersion") != "4.2" || b.Str("engineVersion") != "3.13" || b.Str("hostInstanceType") != "mq.m7g.large" {
		t.Fatalf("after the refusal: %v", b.Props)
	}
	got := d.calls(t)
	if len(got) != 2 || got[0] != "call UpdateBroker configuration,logs,engineVersion" || !strings.HasPrefix(got[1], "refuse ") {
		t.Fatalf("calls %q", got)
	}

	// The next deployment updates the resource again (its initialization error): from the
	// planned state nothing changes, no call is made, and the engine believes t3.micro and 4.2.
	plannedState, err := plugin.UnmarshalProperties(planned.Properties, plugin.MarshalOptions{KeepSecrets: true})
	if err != nil {
		t.Fatal(err)
	}
	news := props(d.in)
	news["securityGroups"] = d.outs["securityGroups"]
	for k, v := range map[string]any{"engineVersion": "4.2", "hostInstanceType": "mq.t3.micro", "applyImmediately": true} {
		news[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
	}
	again, err := d.p.Update(context.Background(), plugin.UpdateRequest{Type: cloud.TypeBroker, ID: resource.ID(d.id), OldOutputs: plannedState, NewInputs: news})
	if err != nil || standin.Str(again.Properties, "hostInstanceType") != "mq.t3.micro" || len(d.calls(t)) != 2 {
		t.Fatalf("the forced update: %v, %v, calls %q", again.Properties["hostInstanceType"], err, d.calls(t))
	}
	r, err := d.p.Read(context.Background(), plugin.ReadRequest{Type: cloud.TypeBroker, ID: resource.ID(d.id), State: again.Properties})
	if err != nil || standin.Str(r.Outputs, "hostInstanceType") != "mq.m7g.large" || standin.Str(r.Outputs, "engineVersion") != "3.13" {
		t.Fatalf("a refresh: %v %v %v", r.Outputs["hostInstanceType"], r.Outputs["engineVersion"], err)
	}
}

// TestBrokerStorageAndAuthChangeNothing: neither is ForceNew nor sent by the update.
func TestBrokerStorageAndAuthChangeNothing(t *testing.T) {
	d := deploy(t, rabbit("orders"))
	news := props(d.in)
	news["securityGroups"] = d.outs["securityGroups"]
	news["storageType"] = resource.NewStringProperty("efs")
	diff, err := d.p.Diff(context.Background(), plugin.DiffRequest{Type: cloud.TypeBroker, OldOutputs: d.outs, NewInputs: news})
	if err != nil || diff.Changes != plugin.DiffSome || len(diff.ReplaceKeys) != 0 {
		t.Fatalf("storageType diff: %+v %v", diff, err)
	}
	outs, err := d.update(t, map[string]any{"storageType": "efs", "applyImmediately": true})
	if err != nil || standin.Str(outs, "storageType") != "efs" {
		t.Fatalf("storageType planned by the update: %v %v", outs["storageType"], err)
	}
	if got := d.account(t).Get(d.id).Str("storageType"); got != "ebs" {
		t.Fatalf("the broker's storage type became %s: the update sends none", got)
	}
	r, err := d.p.Read(context.Background(), plugin.ReadRequest{Type: cloud.TypeBroker, ID: resource.ID(d.id), State: outs})
	if err != nil || standin.Str(r.Outputs, "storageType") != "ebs" {
		t.Fatalf("storageType after a refresh: %v %v", r.Outputs["storageType"], err)
	}
	for _, key := range []string{"deploymentMode", "publiclyAccessible", "ldapServerMetadata", "dataReplicationPrimaryBrokerArn"} {
		news := props(d.in)
		news["securityGroups"] = d.outs["securityGroups"]
		news[resource.PropertyKey(key)] = resource.NewStringProperty("x")
		diff, _ := d.p.Diff(context.Background(), plugin.DiffRequest{Type: cloud.TypeBroker, OldOutputs: d.outs, NewInputs: news})
		if len(diff.ReplaceKeys) != 1 {
			t.Errorf("%s does not replace: %+v", key, diff)
		}
	}
}

// TestBrokerGeneralLogGroupOutlivesTheBroker: Amazon MQ creates the group with the broker and
// leaves it when the broker is deleted.
func TestBrokerGeneralLogGroupOutlivesTheBroker(t *testing.T) {
	in := rabbit("orders")
	in["logs"] = map[string]any{"general": true}
	d := deploy(t, in)
	name := cloud.BrokerLogGroupName(d.id)
	g := d.account(t).Get(name)
	if g == nil || g.Type != cloud.TypeLogGroup || g.Props["retentionInDays"] != nil {
		t.Fatalf("log group %s: %+v", name, g)
	}
	if _, _, err := create(t, d.p, "cloudwatch/logGroup:LogGroup", "lg", map[string]any{"name": name, "retentionInDays": 7}); err == nil ||
		!strings.Contains(err.Error(), "ResourceAlreadyExistsException") {
		t.Errorf("the program creating Amazon MQ's group: %v", err)
	}
	if left := d.account(t).LeftByAmazonMQ(); len(left) != 0 {
		t.Fatalf("left before the delete: %v", left)
	}
	if _, err := d.p.Delete(context.Background(), plugin.DeleteRequest{Type: cloud.TypeBroker, ID: resource.ID(d.id), Inputs: props(in), Outputs: d.outs}); err != nil {
		t.Fatal(err)
	}
	left := d.account(t).LeftByAmazonMQ()
	if len(left) != 1 || left[0].ID != name {
		t.Fatalf("left after the delete: %v", left)
	}
}

func TestBrokerLogsTurnedOnLaterMakeTheGroupAtTheReboot(t *testing.T) {
	d := deploy(t, rabbit("orders"))
	if _, err := d.update(t, map[string]any{"logs": map[string]any{"general": true}}); err != nil {
		t.Fatal(err)
	}
	if d.account(t).Get(cloud.BrokerLogGroupName(d.id)) != nil {
		t.Fatal("the group exists before the change is applied")
	}
	if _, err := d.update(t, map[string]any{"logs": map[string]any{"general": true}, "applyImmediately": true}); err != nil {
		t.Fatal(err)
	}
	if d.account(t).Get(cloud.BrokerLogGroupName(d.id)) == nil {
		t.Fatal("no group after the reboot")
	}
}

func TestGetBroker(t *testing.T) {
	in := rabbit("orders")
	in["logs"] = map[string]any{"general": true}
	d := deploy(t, in)
	invoke := func(args map[string]any) (resource.PropertyMap, error) {
		res, err := d.p.Invoke(context.Background(), plugin.InvokeRequest{Tok: "aws:mq/getBroker:getBroker", Args: props(args)})
		return res.Properties, err
	}
	for _, args := range []map[string]any{{"brokerId": d.id}, {"brokerName": "orders"}} {
		got, err := invoke(args)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if standin.Str(got, "id") != d.id || standin.Str(got, "brokerName") != "orders" || standin.Str(got, "engineType") != "RabbitMQ" ||
			standin.Str(got, "engineVersion") != "3.13" || standin.Str(got, "hostInstanceType") != "mq.t3.micro" ||
			standin.Str(got, "deploymentMode") != "SINGLE_INSTANCE" || standin.Bool(got, "publiclyAccessible") ||
			len(standin.Strs(got, "subnetIds")) != 1 || standin.Strs(got, "securityGroups")[0] != simaccount.DefaultSGID ||
			!strings.HasPrefix(standin.Str(got, "arn"), "arn:aws:mq:") || len(standin.Plain(got["instances"]).([]any)) != 1 ||
			len(standin.Plain(got["users"]).([]any)) != 0 || !standin.Plain(got["logs"]).(map[string]any)["general"].(bool) {
			t.Errorf("%v: %v", args, got)
		}
	}
	if _, err := invoke(map[string]any{"brokerName": "other"}); err == nil || err.Error() != "no matching MQ Broker found" {
		t.Errorf("an unknown name: %v", err)
	}
	if _, err := invoke(map[string]any{"brokerId": "b-0000"}); err == nil || err.Error() != "no matching MQ Broker found" {
		t.Errorf("an unknown id: %v", err)
	}
	if _, err := invoke(map[string]any{"brokerId": d.id, "brokerName": "orders"}); err == nil || !strings.Contains(err.Error(), "conflicts with") {
		t.Errorf("both arguments: %v", err)
	}
	if _, _, err := create(t, d.p, "mq/broker:Broker", "b2", rabbit("payments")); err != nil {
		t.Fatal(err)
	}
	if _, err := invoke(map[string]any{}); err == nil || !strings.HasPrefix(err.Error(), "multiple MQ Brokers matched") {
		t.Errorf("no argument, two brokers: %v", err)
	}
}

// TestBrokerDefaultsAreNoChange: deployment_mode defaults to SINGLE_INSTANCE in the schema, so
// leaving it out plans no replacement of the broker that reports it.
func TestBrokerDefaultsAreNoChange(t *testing.T) {
	in := rabbit("orders")
	delete(in, "deploymentMode")
	d := deploy(t, in)
	checked, err := d.p.Check(context.Background(), plugin.CheckRequest{Type: cloud.TypeBroker, Name: "b", News: props(in), Olds: d.outs})
	if err != nil || standin.Str(checked.Properties, "deploymentMode") != "SINGLE_INSTANCE" {
		t.Fatalf("check: %v %v", checked.Properties["deploymentMode"], err)
	}
	checked.Properties["securityGroups"] = d.outs["securityGroups"]
	diff, err := d.p.Diff(context.Background(), plugin.DiffRequest{Type: cloud.TypeBroker, OldOutputs: d.outs, NewInputs: checked.Properties})
	if err != nil || diff.Changes != plugin.DiffNone {
		t.Fatalf("diff: %+v %v", diff, err)
	}
}
