package aws

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin/cloud"
)

// wantRefused checks that err is a refusal mentioning want.
func wantRefused(t *testing.T, what string, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("%s: got %v, want a refusal with %q", what, err, want)
	}
}

func query(id string, metric map[string]any) map[string]any {
	return map[string]any{"id": id, "metric": metric, "returnData": true}
}

func TestMetricAlarmAsTheProviderChecksIt(t *testing.T) {
	p := provider(t)
	metric := map[string]any{"metricName": "QueueReady", "namespace": "RabbitMQ-ESM", "period": 60.0, "stat": "Maximum"}
	good := map[string]any{"name": "a", "comparisonOperator": "GreaterThanThreshold", "evaluationPeriods": 5.0, "threshold": 1000.0,
		"metricQueries": []any{query("ready", metric)}}
	id, outs, err := create(t, p, "cloudwatch/metricAlarm:MetricAlarm", "a", good)
	if err != nil || id != "a" || !strings.HasSuffix(outs["arn"].StringValue(), ":alarm:a") || outs["treatMissingData"].StringValue() != "missing" {
		t.Fatalf("a valid alarm: id %q, outputs %v, %v", id, outs, err)
	}

	both := map[string]any{"name": "b", "comparisonOperator": "GreaterThanThreshold", "evaluationPeriods": 1.0, "metricName": "QueueReady",
		"statistic": "Maximum", "metricQueries": []any{query("ready", metric)}}
	_, _, err = create(t, p, "cloudwatch/metricAlarm:MetricAlarm", "b", both)
	wantRefused(t, "metricName with metric queries", err, "conflicts with metric_query")

	expressionAndMetric := map[string]any{"name": "c", "comparisonOperator": "GreaterThanThreshold", "evaluationPeriods": 1.0,
		"metricQueries": []any{map[string]any{"id": "x", "expression": "1", "metric": metric}}}
	_, _, err = create(t, p, "cloudwatch/metricAlarm:MetricAlarm", "c", expressionAndMetric)
	wantRefused(t, "an expression with a metric", err, "both `expression` and a `metric`")

	for what, change := range map[string]map[string]any{
		"a long description":   {"alarmDescription": strings.Repeat("x", 1025)},
		"six OK actions":       {"okActions": []any{"a", "b", "c", "d", "e", "f"}},
		"an unknown treatment": {"treatMissingData": "ignoreIt"},
		"no periods":           {"evaluationPeriods": 0.0},
		"a 45-second period": {"metricQueries": []any{query("ready",
			map[string]any{"metricName": "QueueReady", "namespace": "RabbitMQ-ESM", "period": 45.0, "stat": "Maximum"})}},
	} {
		in := map[string]any{}
		for k, v := range good {
			in[k] = v
		}
		for k, v := range change {
			in[k] = v
		}
		in["name"] = "d"
		_, _, err := create(t, p, "cloudwatch/metricAlarm:MetricAlarm", "d", in)
		var refused *checkError
		if !errors.As(err, &refused) {
			t.Errorf("%s: got %v, want a check failure", what, err)
		}
	}

	// The name is ForceNew: a renamed alarm is a new one.
	renamed := props(map[string]any{"name": "a2", "comparisonOperator": "GreaterThanThreshold", "evaluationPeriods": 5.0, "threshold": 1000.0,
		"metricQueries": []any{query("ready", metric)}})
	d, err := p.Diff(context.Background(), plugin.DiffRequest{Type: cloud.TypeMetricAlarm, ID: resource.ID(id), OldOutputs: outs, NewInputs: renamed})
	if err != nil || len(d.ReplaceKeys) != 1 || d.ReplaceKeys[0] != "name" {
		t.Errorf("renaming the alarm: %+v, %v; want a replacement on name", d, err)
	}
}

func TestDashboardBodyMustBeJSON(t *testing.T) {
	p := provider(t)
	_, _, err := create(t, p, "cloudwatch/dashboard:Dashboard", "d", map[string]any{"dashboardName": "x", "dashboardBody": `{"widgets": [`})
	wantRefused(t, "a broken body", err, "invalid JSON")
	id, outs, err := create(t, p, "cloudwatch/dashboard:Dashboard", "d", map[string]any{"dashboardName": "x", "dashboardBody": `{"widgets": []}`})
	if err != nil || id != "x" || !strings.HasSuffix(outs["dashboardArn"].StringValue(), ":dashboard/x") {
		t.Errorf("a valid dashboard: %q %v %v", id, outs, err)
	}
}

func TestEmailSubscriptionsStayPending(t *testing.T) {
	p := provider(t)
	_, _, err := create(t, p, "sns/topicSubscription:TopicSubscription", "s",
		map[string]any{"topic": "arn:aws:sns:us-east-1:123456789012:nowhere", "protocol": "email", "endpoint": "ops@example.com"})
	wantRefused(t, "a subscription to no topic", err, "NotFoundException")

	topic, outs, err := create(t, p, "sns/topic:Topic", "alarms", map[string]any{})
	if err != nil || topic != outs["arn"].StringValue() || !strings.HasPrefix(outs["name"].StringValue(), "alarms-") {
		t.Fatalf("topic: %q %v %v", topic, outs, err)
	}
	_, sub, err := create(t, p, "sns/topicSubscription:TopicSubscription", "s",
		map[string]any{"topic": topic, "protocol": "email", "endpoint": "ops@example.com"})
	if err != nil || !sub["pendingConfirmation"].BoolValue() {
		t.Errorf("email subscription: %v %v; want it pending confirmation", sub, err)
	}
	_, _, err = create(t, p, "sns/topicSubscription:TopicSubscription", "p",
		map[string]any{"topic": topic, "protocol": "pigeon", "endpoint": "roof"})
	wantRefused(t, "an unknown protocol", err, "expected protocol to be one of")
}

func TestEventTargetsNeedTheirRule(t *testing.T) {
	p := provider(t)
	_, _, err := create(t, p, "cloudwatch/eventTarget:EventTarget", "t", map[string]any{"rule": "nowhere", "arn": "arn:aws:lambda:us-east-1:123456789012:function:f"})
	wantRefused(t, "a target of no rule", err, "ResourceNotFoundException")
	_, _, err = create(t, p, "cloudwatch/eventRule:EventRule", "r", map[string]any{"description": "no schedule, no pattern"})
	wantRefused(t, "a rule of nothing", err, "must be specified")

	rule, _, err := create(t, p, "cloudwatch/eventRule:EventRule", "r", map[string]any{"scheduleExpression": "rate(1 minute)"})
	if err != nil {
		t.Fatal(err)
	}
	target, outs, err := create(t, p, "cloudwatch/eventTarget:EventTarget", "t", map[string]any{"rule": rule, "arn": "arn:aws:lambda:us-east-1:123456789012:function:f"})
	if err != nil || outs["targetId"].StringValue() == "" {
		t.Fatalf("target: %v %v", outs, err)
	}
	_, err = p.Delete(context.Background(), plugin.DeleteRequest{Type: tokens.Type(cloud.TypeEventRule), ID: resource.ID(rule)})
	wantRefused(t, "deleting a rule with a target", err, "has targets")
	if _, err := p.Delete(context.Background(), plugin.DeleteRequest{Type: tokens.Type(cloud.TypeEventTarget), ID: resource.ID(target)}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Delete(context.Background(), plugin.DeleteRequest{Type: tokens.Type(cloud.TypeEventRule), ID: resource.ID(rule)}); err != nil {
		t.Errorf("deleting the rule once its target is gone: %v", err)
	}
}
