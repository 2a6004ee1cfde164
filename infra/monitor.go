package infra

import (
	"regexp"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
	"github.com/rabbitmq-esm/rabbitmq-esm/infra/lambdabuild"
)

// MonitorArgs configure the Monitor component.
type MonitorArgs struct {
	// Broker is the broker whose queue is watched, as reached: Users (its management URL and
	// the monitor's secret) is required; with Private the monitor runs where the provisioner
	// does, which reaches the private management API. Required.
	Broker BrokerConnection
	// Queue is the queue the mapping consumes; its dead-letter queue is <Name>.dlq. Required.
	Queue Queue
	// MappingUUID and MappingArn are the event source mapping whose state the monitor reports:
	// it may describe that mapping only. Required.
	MappingUUID, MappingArn pulumi.StringInput
	// MetricsStack is the value of the Stack dimension of every metric the monitor publishes
	// (contract.EnvMetricsStack). Required.
	MetricsStack string
	// FunctionName is the monitor function's name, 1-64 letters, digits, '-' or '_': fixed, so
	// that the mapping, created before the monitor, can name it in its guard tags. Required.
	FunctionName string
	// LogRetentionDays of the monitor's log group, one CloudWatch Logs accepts. Required.
	LogRetentionDays int
	// Archive is the built monitor (lambdabuild, arm64). Required.
	Archive lambdabuild.Artifact
	// DeleteHook runs after the VPC-attached function is deleted, until its network
	// interfaces are gone; nil outside a VPC. Default: none.
	DeleteHook *pulumi.ResourceHook
	// RoleDeleteHook runs before the function's role and policy are deleted, until no
	// interface Lambda made remains in the broker's own security group. Default: none.
	RoleDeleteHook *pulumi.ResourceHook
	// Tags for every taggable child. Default: none.
	Tags pulumi.StringMap
}

// Monitor is a function beside the broker that EventBridge runs every minute: it reads the
// queue's figures from the broker's management API and the mapping's state from the Lambda
// API, and publishes them as the contract's metrics (docs/operations.md, "Alarms").
type Monitor struct {
	pulumi.ResourceState

	// FunctionName of the monitor.
	FunctionName pulumi.StringOutput `pulumi:"functionName"`
	// LogGroupName of the monitor's logs, which carry its metrics (Embedded Metric Format).
	LogGroupName pulumi.StringOutput `pulumi:"logGroupName"`
}

// lambdaFunctionName is Lambda's rule for a function's name (CreateFunction, FunctionName).
var lambdaFunctionName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func checkMonitorArgs(c *argCheck, a *MonitorArgs) {
	a.Broker.check(c, "Broker", false)
	c.required("Broker.Users", a.Broker.Users != nil, "the management URL and the monitor's secret")
	a.Queue.check(c, "Queue")
	c.required("MappingUUID", given(a.MappingUUID), "the event source mapping's UUID")
	c.required("MappingArn", given(a.MappingArn), "the event source mapping's ARN")
	c.required("MetricsStack", a.MetricsStack != "", "the value of the metrics' Stack dimension")
	if !lambdaFunctionName.MatchString(a.FunctionName) {
		c.bad("FunctionName", a.FunctionName, "must be 1-64 letters, digits, '-' or '_'")
	}
	c.bad("LogRetentionDays", strconv.Itoa(a.LogRetentionDays), logRetentionProblem(a.LogRetentionDays))
	checkArchive(c, "Archive", a.Archive)
}

// monitorSchedule is how often EventBridge runs the monitor: the metrics' one-minute periods.
const monitorSchedule = "rate(1 minute)"

// NewMonitor creates the monitor function, its role and logs, and its schedule.
func NewMonitor(ctx *pulumi.Context, name string, args *MonitorArgs, opts ...pulumi.ResourceOption) (*Monitor, error) {
	if err := checkArgs("Monitor", name, args, checkMonitorArgs); err != nil {
		return nil, err
	}
	m := &Monitor{}
	if err := ctx.RegisterComponentResource(typeToken("Monitor"), name, m, opts...); err != nil {
		return nil, err
	}
	users := args.Broker.Users
	vpcConfig, networkStatements := besideTheBroker(args.Broker.Private)
	statements := append([]statement{
		readSecrets("ReadMonitorCredentials", users.MonitorSecretArn),
		// GetEventSourceMapping takes the mapping's ARN as its resource (Lambda's actions table
		// in the Service Authorization Reference: resource type eventSourceMapping).
		{sid: "DescribeOwnMapping", actions: []string{"lambda:GetEventSourceMapping"}, resources: pulumi.StringArray{args.MappingArn}},
	}, networkStatements...)
	fn, err := newGoFunction(ctx, name, goFunctionArgs{
		functionName: args.FunctionName,
		description:  "Queue and mapping monitor of " + args.MetricsStack + " (publishes the " + contract.MetricNamespace + " metrics)",
		archive:      args.Archive,
		statements:   statements,
		environment: pulumi.StringMap{
			contract.EnvBrokerManagementURL: users.ManagementURL,
			contract.EnvMonitorSecretArn:    users.MonitorSecretArn,
			contract.EnvBrokerVHost:         pulumi.String(args.Queue.VirtualHost),
			contract.EnvQueueName:           pulumi.String(args.Queue.Name),
			contract.EnvMappingUUID:         args.MappingUUID,
			contract.EnvMetricsStack:        pulumi.String(args.MetricsStack),
		},
		vpcConfig:        vpcConfig,
		deleteHook:       args.DeleteHook,
		roleDeleteHook:   args.RoleDeleteHook,
		timeoutSeconds:   30,
		memoryMB:         128,
		logRetentionDays: args.LogRetentionDays,
		tags:             args.Tags,
	}, m)
	if err != nil {
		return nil, err
	}

	parent := pulumi.Parent(m)
	rule, err := cloudwatch.NewEventRule(ctx, name+"-schedule", &cloudwatch.EventRuleArgs{
		Description:        pulumi.String("Runs the monitor of " + args.MetricsStack + " every minute"),
		ScheduleExpression: pulumi.String(monitorSchedule),
		Tags:               args.Tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	// EventBridge invokes the function as events.amazonaws.com; the rule as source keeps any
	// other rule from using it (EventBridge user guide, "Using resource-based policies for
	// Amazon EventBridge": Lambda permissions).
	permission, err := lambda.NewPermission(ctx, name+"-invoke-schedule", &lambda.PermissionArgs{
		Function:    fn.function.Name,
		Action:      pulumi.String("lambda:InvokeFunction"),
		Principal:   pulumi.String("events.amazonaws.com"),
		SourceArn:   rule.Arn,
		StatementId: pulumi.String("EventBridgeSchedule"),
	}, parent)
	if err != nil {
		return nil, err
	}
	if _, err := cloudwatch.NewEventTarget(ctx, name+"-schedule", &cloudwatch.EventTargetArgs{
		Rule: rule.Name,
		Arn:  fn.function.Arn,
	}, parent, pulumi.DependsOn([]pulumi.Resource{permission})); err != nil {
		return nil, err
	}

	m.FunctionName = fn.function.Name
	m.LogGroupName = fn.logGroup.Name
	return m, ctx.RegisterResourceOutputs(m, pulumi.Map{
		"functionName": m.FunctionName,
		"logGroupName": m.LogGroupName,
	})
}
