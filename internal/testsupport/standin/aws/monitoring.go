package aws

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/simaccount"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin/cloud"
)

// The kinds of the monitor's schedule, the alarms, their topic and the dashboard (issue 24).
// Each one's schema facts come from terraform-provider-aws; BEHAVIOURS.md, "Monitoring", names
// the files and what each gives.

// eventRuleKind is an EventBridge rule (PutRule, DeleteRule).
// Source: internal/service/events/rule.go: name and name_prefix Optional + Computed + ForceNew
// (the provider names it when neither is set), event_bus_name ForceNew with the default bus,
// description at most 512 characters, schedule_expression at most 256, at least one of
// schedule_expression and event_pattern; the id is the rule's name on the default bus; Delete
// retries "Rule can't be deleted since it has targets" (ValidationException).
func eventRuleKind() *standin.Kind {
	return &standin.Kind{
		Args:     cloudwatch.EventRuleArgs{},
		ForceNew: []string{"name", "namePrefix", "eventBusName"},
		Computed: []string{"name", "namePrefix"},
		AutoName: "name", AutoNameMax: 64,
		Defaults: map[string]any{"eventBusName": "default", "forceDestroy": false},
		Outputs:  []string{"arn"},
		Validate: func(news resource.PropertyMap) []plugin.CheckFailure {
			var f []plugin.CheckFailure
			if !standin.Has(news, "scheduleExpression") && !standin.Has(news, "eventPattern") {
				f = append(f, plugin.CheckFailure{Property: "scheduleExpression", Reason: `one of "event_pattern,schedule_expression" must be specified`})
			}
			if n := len(standin.Str(news, "scheduleExpression")); n > 256 {
				f = append(f, plugin.CheckFailure{Property: "scheduleExpression", Reason: fmt.Sprintf("expected length of schedule_expression to be in the range (0 - 256), got %d", n)})
			}
			if n := len(standin.Str(news, "description")); n > 512 {
				f = append(f, plugin.CheckFailure{Property: "description", Reason: fmt.Sprintf("expected length of description to be in the range (0 - 512), got %d", n)})
			}
			return f
		},
		Create: func(op *standin.Op) error {
			name := standin.Str(op.Inputs, "name")
			op.ID = name
			op.Set("arn", arn("events", "rule/"+name))
			return nil
		},
		Delete: func(op *standin.Op, old *cloud.Resource) error {
			// The provider retries for five minutes; the stand-in has no one to remove the
			// target meanwhile, so it fails at once (the engine deletes the target first).
			if t := op.St.FindOne(cloud.TypeEventTarget, func(r *cloud.Resource) bool { return r.Str("rule") == old.ID }); t != nil {
				return standin.Errorf("ValidationException", "Rule can't be deleted since it has targets.")
			}
			return nil
		},
	}
}

// eventTargetKind is a target of an EventBridge rule (PutTargets, RemoveTargets).
// Source: internal/service/events/target.go: arn and rule Required, rule ForceNew, target_id
// Optional + Computed + ForceNew (the provider draws a unique id), event_bus_name ForceNew
// with the default bus; the id joins rule and target id. PutTargets on a rule that does not
// exist fails with ResourceNotFoundException (EventBridge API reference, PutTargets, Errors);
// the message's wording is the stand-in's.
func eventTargetKind() *standin.Kind {
	return &standin.Kind{
		Args:     cloudwatch.EventTargetArgs{},
		ForceNew: []string{"rule", "targetId", "eventBusName"},
		Computed: []string{"targetId"},
		Required: []string{"arn", "rule"},
		Defaults: map[string]any{"eventBusName": "default", "forceDestroy": false},
		Create: func(op *standin.Op) error {
			rule := standin.Str(op.Inputs, "rule")
			if op.St.FindOne(cloud.TypeEventRule, func(r *cloud.Resource) bool { return r.ID == rule }) == nil {
				return standin.Errorf("ResourceNotFoundException", "Rule %s does not exist on EventBus default.", rule)
			}
			target := standin.Str(op.Inputs, "targetId")
			if target == "" {
				target = op.St.NewID("terraform-")
				op.Set("targetId", target)
			}
			op.ID = rule + "-" + target
			return nil
		},
	}
}

// Source: internal/service/cloudwatch/metric_alarm.go (its schema and CustomizeDiff).
var (
	missingDataTreatments = []string{"missing", "ignore", "breaching", "notBreaching"}
	// A metric query's period: 1, 5, 10, 20, 30 or a multiple of 60 seconds.
	queryPeriods = []float64{1, 5, 10, 20, 30}
)

// metricAlarmKind is a CloudWatch metric alarm (PutMetricAlarm, DeleteAlarms).
// Source: internal/service/cloudwatch/metric_alarm.go: alarm_name (Pulumi's name) Required +
// ForceNew, 1-255 characters; comparison_operator and evaluation_periods (at least 1)
// Required; alarm_description at most 1024 characters; ok_actions and
// insufficient_data_actions at most 5; treat_missing_data one of missing, ignore, breaching,
// notBreaching, default missing; actions_enabled default true; metric_name, namespace, period,
// statistic and dimensions conflict with metric_query; a metric_name needs exactly one of
// statistic and extended_statistic; no metric_query has both an expression and a metric; a
// query's metric period is 1, 5, 10, 20, 30 or a multiple of 60; arn computed; the id is the
// alarm's name. PutMetricAlarm creates or replaces the alarm of that name (CloudWatch API
// reference, PutMetricAlarm), so the stand-in keeps one alarm per name.
func metricAlarmKind() *standin.Kind {
	return &standin.Kind{
		Args:     cloudwatch.MetricAlarmArgs{},
		ForceNew: []string{"name"},
		Computed: []string{"evaluateLowSampleCountPercentiles"},
		Required: []string{"name", "comparisonOperator", "evaluationPeriods"},
		Defaults: map[string]any{"actionsEnabled": true, "treatMissingData": "missing"},
		Outputs:  []string{"arn"},
		Validate: validateMetricAlarm,
		Create: func(op *standin.Op) error {
			op.ID = standin.Str(op.Inputs, "name")
			op.Set("arn", arn("cloudwatch", "alarm:"+op.ID))
			return nil
		},
	}
}

func validateMetricAlarm(news resource.PropertyMap) []plugin.CheckFailure {
	var f []plugin.CheckFailure
	fail := func(property, reason string) {
		f = append(f, plugin.CheckFailure{Property: resource.PropertyKey(property), Reason: reason})
	}
	if n := len(standin.Str(news, "name")); n < 1 || n > 255 {
		fail("name", fmt.Sprintf("expected length of alarm_name to be in the range (1 - 255), got %d", n))
	}
	if n := len(standin.Str(news, "alarmDescription")); n > 1024 {
		fail("alarmDescription", fmt.Sprintf("expected length of alarm_description to be in the range (0 - 1024), got %d", n))
	}
	if n := standin.Num(news, "evaluationPeriods"); n < 1 {
		fail("evaluationPeriods", fmt.Sprintf("expected evaluation_periods to be at least (1), got %v", n))
	}
	if m := standin.Str(news, "treatMissingData"); m != "" && !slices.Contains(missingDataTreatments, m) {
		fail("treatMissingData", fmt.Sprintf("expected treat_missing_data to be one of %v, got %s", missingDataTreatments, m))
	}
	for _, key := range []string{"okActions", "insufficientDataActions"} {
		if list, ok := standin.Plain(news[resource.PropertyKey(key)]).([]any); ok && len(list) > 5 {
			fail(key, fmt.Sprintf("%s: attribute supports 5 items maximum, config has %d declared", key, len(list)))
		}
	}
	queries, _ := standin.Plain(news["metricQueries"]).([]any)
	if len(queries) > 0 {
		for _, key := range []string{"metricName", "namespace", "period", "statistic", "dimensions", "extendedStatistic"} {
			if standin.Has(news, key) {
				fail(key, fmt.Sprintf("%q: conflicts with metric_query", key))
			}
		}
	}
	if standin.Has(news, "metricName") && standin.Has(news, "statistic") == standin.Has(news, "extendedStatistic") {
		fail("statistic", "One of `statistic` or `extended_statistic` must be set for a cloudwatch metric alarm")
	}
	for _, q := range queries {
		query, _ := q.(map[string]any)
		metric, _ := query["metric"].(map[string]any)
		if expression, _ := query["expression"].(string); expression != "" && metric != nil {
			fail("metricQueries", "No metric_query may have both `expression` and a `metric` specified")
		}
		if period, ok := metric["period"].(float64); ok && !slices.Contains(queryPeriods, period) && int(period)%60 != 0 {
			fail("metricQueries", fmt.Sprintf("expected metric_query.metric.period to be one of %v or divisible by 60, got %v", queryPeriods, period))
		}
	}
	return f
}

// dashboardKind is a CloudWatch dashboard (PutDashboard, DeleteDashboards).
// Source: internal/service/cloudwatch/dashboard.go: dashboard_name and dashboard_body
// Required, dashboard_name ForceNew, dashboard_body validated as JSON (StringIsJSON);
// dashboard_arn computed; the id is the name; Create and Update are both PutDashboard.
func dashboardKind() *standin.Kind {
	return &standin.Kind{
		Args:     cloudwatch.DashboardArgs{},
		ForceNew: []string{"dashboardName"},
		Required: []string{"dashboardName", "dashboardBody"},
		Outputs:  []string{"dashboardArn"},
		Validate: func(news resource.PropertyMap) []plugin.CheckFailure {
			body := standin.Str(news, "dashboardBody")
			var v any
			if body != "" && json.Unmarshal([]byte(body), &v) != nil {
				return []plugin.CheckFailure{{Property: "dashboardBody", Reason: `"dashboard_body" contains an invalid JSON`}}
			}
			return nil
		},
		Create: func(op *standin.Op) error {
			op.ID = standin.Str(op.Inputs, "dashboardName")
			op.Set("dashboardArn", "arn:aws:cloudwatch::"+simaccount.AccountID+":dashboard/"+op.ID)
			return nil
		},
	}
}

// topicName is a standard topic's name (topic.go's CustomizeDiff).
var topicName = regexp.MustCompile(`^[0-9A-Za-z_-]{1,256}$`)

// topicKind is an SNS topic (CreateTopic, DeleteTopic).
// Source: internal/service/sns/topic.go: name and name_prefix Optional + Computed + ForceNew,
// fifo_topic ForceNew with default false, content_based_deduplication default false, a
// standard topic's name 1-256 letters, digits, '-' or '_' (CustomizeDiff, on create); policy,
// signature_version, tracing_config Optional + Computed; arn, owner computed; the id is the
// topic's ARN. DeleteTopic deletes the topic's subscriptions too (Amazon SNS API reference,
// DeleteTopic).
func topicKind() *standin.Kind {
	return &standin.Kind{
		Args:     sns.TopicArgs{},
		ForceNew: []string{"name", "namePrefix", "fifoTopic"},
		Computed: []string{"name", "namePrefix", "policy", "signatureVersion", "tracingConfig", "fifoThroughputScope"},
		AutoName: "name", AutoNameMax: 256,
		Defaults: map[string]any{"fifoTopic": false, "contentBasedDeduplication": false},
		Outputs:  []string{"arn", "owner", "beginningArchiveTime"},
		Validate: func(news resource.PropertyMap) []plugin.CheckFailure {
			if standin.Bool(news, "fifoTopic") {
				return []plugin.CheckFailure{{Property: "fifoTopic", Reason: "the stand-in models standard topics only"}}
			}
			if name := standin.Str(news, "name"); name != "" && !topicName.MatchString(name) {
				return []plugin.CheckFailure{{Property: "name", Reason: "invalid topic name: " + name}}
			}
			return nil
		},
		Create: func(op *standin.Op) error {
			op.ID = arn("sns", standin.Str(op.Inputs, "name"))
			op.Set("arn", op.ID)
			op.Set("owner", simaccount.AccountID)
			return nil
		},
		Delete: func(op *standin.Op, old *cloud.Resource) error {
			for id, r := range op.St.Resources {
				if r.Type == cloud.TypeTopicSubscription && r.Str("topic") == old.ID {
					delete(op.St.Resources, id)
				}
			}
			return nil
		},
	}
}

// Source: topic_subscription.go, subscriptionProtocol_Values (its enum file).
var subscriptionProtocols = []string{"application", "email", "email-json", "firehose", "http", "https", "lambda", "sms", "sqs"}

// topicSubscriptionKind is a subscription to an SNS topic (Subscribe, Unsubscribe).
// Source: internal/service/sns/topic_subscription.go: endpoint, protocol and topic_arn
// (Pulumi's topic) Required + ForceNew; confirmation_timeout_in_minutes default 1,
// endpoint_auto_confirms and raw_message_delivery default false; arn, owner_id,
// pending_confirmation, confirmation_was_authenticated computed; Subscribe asks for the ARN
// even unconfirmed (ReturnSubscriptionArn), the id is that ARN; an email subscription is not
// waited for: it stays pending until the address confirms it; Unsubscribe of a pending one
// ("Cannot unsubscribe a subscription that is pending confirmation") is taken as done. A topic
// that does not exist: NotFoundException (Amazon SNS API reference, Subscribe, Errors); the
// message's wording is the stand-in's.
func topicSubscriptionKind() *standin.Kind {
	return &standin.Kind{
		Args:     sns.TopicSubscriptionArgs{},
		ForceNew: []string{"endpoint", "protocol", "topic"},
		Computed: []string{"filterPolicyScope"},
		Required: []string{"endpoint", "protocol", "topic"},
		Defaults: map[string]any{"confirmationTimeoutInMinutes": 1.0, "endpointAutoConfirms": false, "rawMessageDelivery": false},
		Outputs:  []string{"arn", "ownerId", "pendingConfirmation", "confirmationWasAuthenticated"},
		Validate: func(news resource.PropertyMap) []plugin.CheckFailure {
			if p := standin.Str(news, "protocol"); p != "" && !slices.Contains(subscriptionProtocols, p) {
				return []plugin.CheckFailure{{Property: "protocol", Reason: fmt.Sprintf("expected protocol to be one of %v, got %s", subscriptionProtocols, p)}}
			}
			return nil
		},
		Create: func(op *standin.Op) error {
			topic := standin.Str(op.Inputs, "topic")
			// A topic of the user's own (alarmTopicArn) is not in the stand-in's account: not modelled.
			if op.St.Get(topic) == nil {
				return standin.Errorf("NotFoundException", "Topic does not exist: %s", topic)
			}
			op.ID = topic + ":" + uuidFrom(op.St.NewID("sub"))
			op.Set("arn", op.ID)
			op.Set("ownerId", simaccount.AccountID)
			protocol := standin.Str(op.Inputs, "protocol")
			op.Set("pendingConfirmation", protocol == "email" || protocol == "email-json")
			op.Set("confirmationWasAuthenticated", false)
			return nil
		},
	}
}
