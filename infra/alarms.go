package infra

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
)

// metricSource is whose metric an alarm reads, and so its namespace and dimension.
type metricSource int

const (
	// fromMonitor: the monitor's metrics (contract.MetricNamespace, dimension Stack).
	fromMonitor metricSource = iota
	// fromListener: Lambda's metrics of the listener (AWS/Lambda, dimension FunctionName).
	fromListener
	// fromBroker: Amazon MQ's broker metrics (AWS/AmazonMQ, dimension Broker, the broker's
	// name). For a cluster each is the sum over its three nodes (Amazon MQ developer guide,
	// "Available CloudWatch metrics for Amazon MQ for RabbitMQ brokers"), so used/limit and
	// free/limit are the cluster's ratios, not the worst node's.
	fromBroker
)

// namespace is the CloudWatch namespace of the source's metrics.
func (s metricSource) namespace() string {
	return [...]string{contract.MetricNamespace, "AWS/Lambda", "AWS/AmazonMQ"}[s]
}

// dimension is the one dimension the source's metrics are read with.
func (s metricSource) dimension() string {
	return [...]string{contract.MetricDimensionStack, "FunctionName", "Broker"}[s]
}

// alarmMetric is one metric an alarm reads, under an id its expression names.
type alarmMetric struct {
	id, name, stat string
	source         metricSource
}

// alarmSpec is one alarm of every stack. The table below is the only place an alarm is
// described: the Alarms component builds it and docs/operations.md's table is generated from it.
type alarmSpec struct {
	// name is the alarm's own part of "<project>-<stack>-<name>".
	name    string
	metrics []alarmMetric
	// expression is metric math over the metrics' ids; empty: the one metric's value.
	expression string
	// thresholdSetting is the setting that chooses the threshold; empty: threshold is fixed.
	thresholdSetting string
	threshold        func(AlarmThresholds) float64
	comparison       string
	periodSeconds    int
	// periodsSetting is the setting that chooses the periods; empty: periods is fixed.
	periodsSetting string
	periods        func(AlarmThresholds) int
	// missing is the alarm's treatment of missing data: missing, notBreaching or breaching.
	missing string
	// meaning says what the alarm means, action what to do; the stack's name replaces <stack>.
	meaning, action string
}

func fixed[T any](v T) func(AlarmThresholds) T { return func(AlarmThresholds) T { return v } }

// alarmSpecs are the stack's alarms.
var alarmSpecs = []alarmSpec{
	{
		name: "mapping-not-consuming",
		metrics: []alarmMetric{{id: "consumers", name: contract.MetricQueueConsumers, stat: "Minimum", source: fromMonitor},
			{id: "healthy", name: contract.MetricMappingHealthy, stat: "Minimum", source: fromMonitor}},
		expression: "IF(consumers < 1 OR healthy < 1, 1, 0)",
		threshold:  fixed(1.0), comparison: "GreaterThanOrEqualToThreshold",
		periodSeconds: 60, periodsSetting: "alarmStalledMinutes", periods: func(t AlarmThresholds) int { return t.StalledMinutes },
		missing: "missing",
		meaning: "The queue has had no consumer, or the event source mapping has reported a problem, minute after minute: nothing is consuming the queue.",
		action:  "Run make status STACK=<stack>: it shows the mapping's state and last processing result and the queue's consumers.",
	},
	{
		name:             "backlog",
		metrics:          []alarmMetric{{id: "ready", name: contract.MetricQueueReady, stat: "Maximum", source: fromMonitor}},
		thresholdSetting: "alarmBacklogMessages", threshold: func(t AlarmThresholds) float64 { return float64(t.BacklogMessages) },
		comparison:    "GreaterThanThreshold",
		periodSeconds: 60, periods: fixed(5),
		missing: "missing",
		meaning: "More messages wait in the queue than the threshold, for five minutes: the listener falls behind the producers, or keeps failing.",
		action:  "Run make status STACK=<stack> to compare publish and deliver rates; look for listener errors; raise batchSize if the listener keeps up per message.",
	},
	{
		name:      "dead-letters",
		metrics:   []alarmMetric{{id: "dead", name: contract.MetricDeadLetterReady, stat: "Maximum", source: fromMonitor}},
		threshold: fixed(1.0), comparison: "GreaterThanOrEqualToThreshold",
		periodSeconds: 60, periods: fixed(1),
		missing: "missing",
		meaning: "The dead-letter queue holds messages: each failed in the listener deliveryLimit times.",
		action:  "Read why in the listener's log group (make status STACK=<stack> names it), fix the cause, then make redrive STACK=<stack>.",
	},
	{
		name:      "listener-errors",
		metrics:   []alarmMetric{{id: "errors", name: "Errors", stat: "Sum", source: fromListener}},
		threshold: fixed(1.0), comparison: "GreaterThanOrEqualToThreshold",
		periodSeconds: 300, periods: fixed(1),
		// Lambda publishes nothing for a function that did not run.
		missing: "notBreaching",
		meaning: "The listener returned errors in the last five minutes: their batches go back to the queue and are redelivered.",
		action:  "Read the listener's log group (make status STACK=<stack> names it) for the error.",
	},
	{
		name:      "listener-throttles",
		metrics:   []alarmMetric{{id: "throttles", name: "Throttles", stat: "Sum", source: fromListener}},
		threshold: fixed(1.0), comparison: "GreaterThanOrEqualToThreshold",
		periodSeconds: 300, periods: fixed(1),
		missing: "notBreaching",
		meaning: "Lambda throttled the listener in the last five minutes: the account's or the function's concurrency is exhausted.",
		action:  "Check the account's concurrency in the Lambda console and any reserved concurrency on other functions.",
	},
	{
		name: "broker-memory",
		metrics: []alarmMetric{{id: "used", name: "RabbitMQMemUsed", stat: "Average", source: fromBroker},
			{id: "limit", name: "RabbitMQMemLimit", stat: "Average", source: fromBroker}},
		expression:       "100 * used / limit",
		thresholdSetting: "alarmBrokerMemoryPercent", threshold: func(t AlarmThresholds) float64 { return float64(t.BrokerMemoryPercent) },
		comparison:    "GreaterThanThreshold",
		periodSeconds: 300, periods: fixed(1),
		missing: "missing",
		meaning: "RabbitMQ uses most of its memory limit; at the limit it blocks every publisher.",
		action:  "Drain the backlog (see the backlog alarm), or move to a larger instanceType.",
	},
	{
		name: "broker-disk",
		metrics: []alarmMetric{{id: "free", name: "RabbitMQDiskFree", stat: "Average", source: fromBroker},
			{id: "limit", name: "RabbitMQDiskFreeLimit", stat: "Average", source: fromBroker}},
		expression:       "free / limit",
		thresholdSetting: "alarmBrokerDiskFreeMultiple", threshold: func(t AlarmThresholds) float64 { return float64(t.BrokerDiskFreeMultiple) },
		comparison:    "LessThanThreshold",
		periodSeconds: 300, periods: fixed(1),
		missing: "missing",
		meaning: "The broker's free disk nears RabbitMQ's free-disk limit; below it RabbitMQ blocks every publisher.",
		action:  "Drain the queue and the dead-letter queue (make status STACK=<stack> shows both).",
	},
	{
		name:      "monitor-silent",
		metrics:   []alarmMetric{{id: "failures", name: contract.MetricMonitorErrors, stat: "Maximum", source: fromMonitor}},
		threshold: fixed(1.0), comparison: "GreaterThanOrEqualToThreshold",
		periodSeconds: 60, periods: fixed(3),
		// The monitor publishes MonitorErrors every minute, 0 when all is well: its absence
		// means the monitor itself is not running, and every other alarm of it is blind.
		missing: "breaching",
		meaning: "For three minutes the monitor could not read the broker or the mapping, or did not run at all: the other alarms see nothing.",
		action:  "Read the monitor's log group (the stack output monitorLogGroupName); make status STACK=<stack> says which source fails.",
	},
}

// alarmDocAnchor is where docs/operations.md explains the alarms.
const alarmDocAnchor = "docs/operations.md#alarms"

// description is the alarm's description for the stack: what it means and what to do.
func (a alarmSpec) description(stack string) string {
	return strings.ReplaceAll(a.meaning+" "+a.action+" See "+alarmDocAnchor+".", "<stack>", stack)
}

// AlarmsArgs configure the Alarms component.
type AlarmsArgs struct {
	// Prefix is the first part of every alarm's name, "<prefix>-<alarm>": the project and the
	// stack. Required.
	Prefix string
	// Stack is the stack's name, which the descriptions' commands take. Required.
	Stack string
	// MetricsStack is the monitor's Stack dimension (contract.EnvMetricsStack). Required.
	MetricsStack string
	// ListenerFunctionName is the listener, whose Lambda errors and throttles are watched.
	// Required.
	ListenerFunctionName pulumi.StringInput
	// BrokerName is the broker, whose Amazon MQ metrics are watched. Required.
	BrokerName string
	// Settings are where the alarms notify and their thresholds: with TopicArn empty the
	// component creates a topic. Required (the thresholds' ranges are AlarmSettings').
	Settings AlarmSettings
	// Tags for every taggable child. Default: none.
	Tags pulumi.StringMap
}

func checkAlarmsArgs(c *argCheck, a *AlarmsArgs) {
	c.required("Prefix", a.Prefix != "", "the alarms' names' first part, <project>-<stack>")
	c.required("Stack", a.Stack != "", "the stack's name")
	c.required("MetricsStack", a.MetricsStack != "", "the value of the monitor's Stack dimension")
	c.required("ListenerFunctionName", given(a.ListenerFunctionName), "the listener function's name")
	c.required("BrokerName", a.BrokerName != "", "the broker's name, Amazon MQ's Broker dimension")
	for _, p := range a.Settings.problems() {
		c.bad("Settings ("+p.Key+")", p.Value, p.Allowed)
	}
}

// Alarms are the stack's CloudWatch alarms, each notifying one SNS topic when it fires and
// when it clears: a topic the stack creates (with an optional e-mail subscription), or yours.
type Alarms struct {
	pulumi.ResourceState

	// TopicArn is the topic every alarm notifies.
	TopicArn pulumi.StringOutput `pulumi:"topicArn"`
	// AlarmNames are the alarms' names, in alarmSpecs' order.
	AlarmNames pulumi.StringArrayOutput `pulumi:"alarmNames"`
	// AlarmArns are the alarms' ARNs, in the same order.
	AlarmArns pulumi.StringArrayOutput `pulumi:"alarmArns"`
}

// NewAlarms creates the topic (unless given one), its subscription and the alarms.
func NewAlarms(ctx *pulumi.Context, name string, args *AlarmsArgs, opts ...pulumi.ResourceOption) (*Alarms, error) {
	if err := checkArgs("Alarms", name, args, checkAlarmsArgs); err != nil {
		return nil, err
	}
	a := &Alarms{}
	if err := ctx.RegisterComponentResource(typeToken("Alarms"), name, a, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(a)
	topicArn := pulumi.String(args.Settings.TopicArn).ToStringOutput()
	if args.Settings.TopicArn == "" {
		topic, err := sns.NewTopic(ctx, name+"-topic", &sns.TopicArgs{
			DisplayName: pulumi.String("Alarms of " + args.Prefix),
			Tags:        args.Tags,
		}, parent)
		if err != nil {
			return nil, err
		}
		topicArn = topic.Arn
	}
	if args.Settings.Email != "" {
		// SNS mails the address a confirmation link; until it is followed the subscription is
		// pending and receives nothing.
		if _, err := sns.NewTopicSubscription(ctx, name+"-email", &sns.TopicSubscriptionArgs{
			Topic:    topicArn,
			Protocol: pulumi.String("email"),
			Endpoint: pulumi.String(args.Settings.Email),
		}, parent); err != nil {
			return nil, err
		}
	}

	dimensionValue := map[metricSource]pulumi.StringInput{
		fromMonitor:  pulumi.String(args.MetricsStack),
		fromListener: args.ListenerFunctionName,
		fromBroker:   pulumi.String(args.BrokerName),
	}
	actions := pulumi.Array{topicArn}
	names, arns := pulumi.StringArray{}, pulumi.StringArray{}
	for _, spec := range alarmSpecs {
		queries := cloudwatch.MetricAlarmMetricQueryArray{}
		for _, m := range spec.metrics {
			queries = append(queries, &cloudwatch.MetricAlarmMetricQueryArgs{
				Id: pulumi.String(m.id),
				Metric: &cloudwatch.MetricAlarmMetricQueryMetricArgs{
					Namespace:  pulumi.String(m.source.namespace()),
					MetricName: pulumi.String(m.name),
					Dimensions: pulumi.StringMap{m.source.dimension(): dimensionValue[m.source]},
					Period:     pulumi.Int(spec.periodSeconds),
					Stat:       pulumi.String(m.stat),
				},
				ReturnData: pulumi.Bool(spec.expression == ""),
			})
		}
		if spec.expression != "" {
			queries = append(queries, &cloudwatch.MetricAlarmMetricQueryArgs{
				Id: pulumi.String("value"), Expression: pulumi.String(spec.expression), Label: pulumi.String(spec.name),
				ReturnData: pulumi.Bool(true),
			})
		}
		alarmName := args.Prefix + "-" + spec.name
		alarm, err := cloudwatch.NewMetricAlarm(ctx, name+"-"+spec.name, &cloudwatch.MetricAlarmArgs{
			Name:               pulumi.String(alarmName),
			AlarmDescription:   pulumi.String(spec.description(args.Stack)),
			ComparisonOperator: pulumi.String(spec.comparison),
			Threshold:          pulumi.Float64(spec.threshold(args.Settings.Thresholds)),
			EvaluationPeriods:  pulumi.Int(spec.periods(args.Settings.Thresholds)),
			TreatMissingData:   pulumi.String(spec.missing),
			MetricQueries:      queries,
			AlarmActions:       actions,
			OkActions:          actions,
			Tags:               args.Tags,
		}, parent)
		if err != nil {
			return nil, err
		}
		names = append(names, pulumi.String(alarmName))
		arns = append(arns, alarm.Arn)
	}
	a.TopicArn = topicArn
	a.AlarmNames = names.ToStringArrayOutput()
	a.AlarmArns = arns.ToStringArrayOutput()
	return a, ctx.RegisterResourceOutputs(a, pulumi.Map{
		"topicArn":   a.TopicArn,
		"alarmNames": a.AlarmNames,
		"alarmArns":  a.AlarmArns,
	})
}

// AlarmDoc is one alarm as docs/operations.md's table shows it.
type AlarmDoc struct {
	Name, Watches, Fires, Over, MissingData, Meaning, Action string
}

// AlarmDocs are the stack's alarms for the docs, with the settings' defaults as thresholds.
func AlarmDocs() []AlarmDoc {
	defaults := map[string]string{}
	for _, s := range settings() {
		defaults[s.key] = s.schemaDefault
	}
	var c Config
	for _, s := range settings() {
		if strings.HasPrefix(s.key, "alarm") {
			_ = s.parse(&c, s.schemaDefault)
		}
	}
	symbols := map[string]string{"GreaterThanThreshold": ">", "GreaterThanOrEqualToThreshold": "≥", "LessThanThreshold": "<"}
	var docs []AlarmDoc
	for _, a := range alarmSpecs {
		watches := a.expression
		for _, m := range a.metrics {
			metric := m.source.namespace() + " " + m.name + " (" + m.stat + ")"
			if watches == "" {
				watches = metric
				continue
			}
			watches += "; " + m.id + " = " + metric
		}
		fires := symbols[a.comparison] + " " + strconv.FormatFloat(a.threshold(c.Alarms.Thresholds), 'f', -1, 64)
		if a.thresholdSetting != "" {
			fires = symbols[a.comparison] + " `" + a.thresholdSetting + "` (default " + defaults[a.thresholdSetting] + ")"
		}
		over := fmt.Sprintf("%d × %d s", a.periods(c.Alarms.Thresholds), a.periodSeconds)
		if a.periodsSetting != "" {
			over = fmt.Sprintf("%#q (default %s) × %d s", a.periodsSetting, defaults[a.periodsSetting], a.periodSeconds)
		}
		docs = append(docs, AlarmDoc{Name: "<project>-<stack>-" + a.name, Watches: watches, Fires: fires, Over: over,
			MissingData: a.missing, Meaning: a.meaning, Action: a.action})
	}
	return docs
}
