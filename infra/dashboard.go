package infra

import (
	"regexp"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
)

// DashboardArgs configure the Dashboard component.
type DashboardArgs struct {
	// Name is the dashboard's name, letters, digits, '-' and '_'. Required.
	Name string
	// Region is the region of every metric the dashboard shows. Required.
	Region string
	// MetricsStack is the monitor's Stack dimension (contract.EnvMetricsStack). Required.
	MetricsStack string
	// ListenerFunctionName is the listener, whose Lambda metrics are shown. Required.
	ListenerFunctionName pulumi.StringInput
	// BrokerName is the broker, whose Amazon MQ metrics are shown. Required.
	BrokerName string
	// AlarmArns are the alarms whose state the dashboard shows. Default: none.
	AlarmArns pulumi.StringArrayInput
}

// dashboardName is CloudWatch's rule for a dashboard's name (PutDashboard, DashboardName).
var dashboardName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

func checkDashboardArgs(c *argCheck, a *DashboardArgs) {
	if !dashboardName.MatchString(a.Name) {
		c.bad("Name", a.Name, "must be 1-255 letters, digits, '-' or '_'")
	}
	c.required("Region", a.Region != "", "the metrics' region")
	c.required("MetricsStack", a.MetricsStack != "", "the value of the monitor's Stack dimension")
	c.required("ListenerFunctionName", given(a.ListenerFunctionName), "the listener function's name")
	c.required("BrokerName", a.BrokerName != "", "the broker's name, Amazon MQ's Broker dimension")
}

// Dashboard is the stack's CloudWatch dashboard: the queue, the mapping, the listener, the
// broker and the alarms' states on one page.
type Dashboard struct {
	pulumi.ResourceState

	// Name of the dashboard.
	Name pulumi.StringOutput `pulumi:"dashboardName"`
}

// NewDashboard creates the dashboard.
func NewDashboard(ctx *pulumi.Context, name string, args *DashboardArgs, opts ...pulumi.ResourceOption) (*Dashboard, error) {
	if err := checkArgs("Dashboard", name, args, checkDashboardArgs); err != nil {
		return nil, err
	}
	d := &Dashboard{}
	if err := ctx.RegisterComponentResource(typeToken("Dashboard"), name, d, opts...); err != nil {
		return nil, err
	}
	// Each source's namespace and dimension are the alarms' (metricSource).
	row := func(source metricSource, value pulumi.StringInput, metric string, options ...pulumi.Map) pulumi.Array {
		r := pulumi.Array{pulumi.String(source.namespace()), pulumi.String(metric), pulumi.String(source.dimension()), value}
		for _, o := range options {
			r = append(r, o)
		}
		return r
	}
	monitor := func(metric string) pulumi.Array { return row(fromMonitor, pulumi.String(args.MetricsStack), metric) }
	listener := func(metric, stat string) pulumi.Array {
		return row(fromListener, args.ListenerFunctionName, metric, pulumi.Map{"stat": pulumi.String(stat)})
	}
	broker := func(metric string) pulumi.Array { return row(fromBroker, pulumi.String(args.BrokerName), metric) }
	// CloudWatch's dashboard body structure: a grid 24 units wide; a metric widget lists
	// [namespace, metric, dimension, value, {options}] rows (CloudWatch API reference,
	// "Dashboard Body Structure and Syntax").
	widget := func(x, y int, title string, rows ...pulumi.Array) pulumi.Map {
		metrics := pulumi.Array{}
		for _, r := range rows {
			metrics = append(metrics, r)
		}
		return pulumi.Map{"type": pulumi.String("metric"), "x": pulumi.Int(x), "y": pulumi.Int(y), "width": pulumi.Int(12), "height": pulumi.Int(6),
			"properties": pulumi.Map{"title": pulumi.String(title), "region": pulumi.String(args.Region), "period": pulumi.Int(60),
				"stat": pulumi.String("Maximum"), "view": pulumi.String("timeSeries"), "metrics": metrics}}
	}
	widgets := pulumi.Array{
		pulumi.Map{"type": pulumi.String("alarm"), "x": pulumi.Int(0), "y": pulumi.Int(0), "width": pulumi.Int(24), "height": pulumi.Int(3),
			"properties": pulumi.Map{"title": pulumi.String("Alarms of " + args.MetricsStack), "alarms": args.AlarmArns}},
		widget(0, 3, "Queue: ready and unacknowledged", monitor(contract.MetricQueueReady), monitor(contract.MetricQueueUnacked)),
		widget(12, 3, "Dead letters", monitor(contract.MetricDeadLetterReady)),
		widget(0, 9, "Consumers and mapping health (1 = healthy)", monitor(contract.MetricQueueConsumers), monitor(contract.MetricMappingHealthy),
			monitor(contract.MetricMonitorErrors)),
		widget(12, 9, "Publish and deliver rates (messages/s)", monitor(contract.MetricQueuePublishRate), monitor(contract.MetricQueueDeliverRate)),
		widget(0, 15, "Listener: invocations, errors, throttles", listener("Invocations", "Sum"), listener("Errors", "Sum"), listener("Throttles", "Sum")),
		widget(12, 15, "Listener: duration (ms)", listener("Duration", "Average"), listener("Duration", "Maximum")),
		widget(0, 21, "Broker: memory and disk (bytes)", broker("RabbitMQMemUsed"), broker("RabbitMQMemLimit"), broker("RabbitMQDiskFree"),
			broker("RabbitMQDiskFreeLimit")),
		widget(12, 21, "Broker: CPU (%) and connections", broker("SystemCpuUtilization"), broker("ConnectionCount")),
	}
	dashboard, err := cloudwatch.NewDashboard(ctx, name, &cloudwatch.DashboardArgs{
		DashboardName: pulumi.String(args.Name),
		DashboardBody: pulumi.JSONMarshal(pulumi.Map{"widgets": widgets}),
	}, pulumi.Parent(d))
	if err != nil {
		return nil, err
	}
	d.Name = dashboard.DashboardName
	return d, ctx.RegisterResourceOutputs(d, pulumi.Map{"dashboardName": d.Name})
}
