package infra

import (
	"errors"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/rabbitmq-esm/rabbitmq-esm/infra/lambdabuild"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/offline"
)

// Arguments a program could give the components, each valid; the cases below break one thing.
func validBroker() *BrokerArgs {
	return &BrokerArgs{BrokerName: "orders", EngineVersion: "3.13", InstanceType: "mq.t3.micro", DeploymentMode: SingleInstance,
		AdminUsername: "admin", MappingUsername: "mapping", DeadLetterUsername: "dead-letter", MonitorUsername: "monitor", VpcID: pulumi.String("vpc-1"), SubnetIDs: pulumi.ToStringArray([]string{"subnet-1"}),
		ServiceRoute: RouteEndpoints}
}

func validConnection() BrokerConnection {
	return BrokerConnection{Arn: pulumi.String("arn:aws:mq:us-east-1:123456789012:broker:orders:b-1"),
		Endpoint: pulumi.String("amqps://b-1.mq.us-east-1.amazonaws.com:5671"), SecretArn: pulumi.String("arn:aws:secretsmanager:us-east-1:123456789012:secret:s"),
		Private: &BrokerPlacement{SubnetIDs: pulumi.ToStringArray([]string{"subnet-1"}), SecurityGroupIDs: pulumi.ToStringArray([]string{"sg-1"})}}
}

var (
	validQueue   = Queue{Name: "orders", VirtualHost: "/", DeliveryLimit: 5}
	validArchive = lambdabuild.Artifact{ZipPath: "function.zip", SHA256: "c2hh"}
)

func validEventSource() *EventSourceArgs {
	return &EventSourceArgs{Broker: validConnection(), Queue: validQueue, BatchSize: 100, LogRetentionDays: 14, ListenerArchive: validArchive}
}

func validMonitor() *MonitorArgs {
	c := validConnection()
	c.Users = &BrokerUsers{ManagementURL: pulumi.String("https://b-1.mq.us-east-1.amazonaws.com"), MappingSecretArn: pulumi.String("m"),
		DeadLetterSecretArn: pulumi.String("d"), MonitorSecretArn: pulumi.String("o")}
	return &MonitorArgs{Broker: c, Queue: validQueue, MappingUUID: pulumi.String("u"), MappingArn: pulumi.String("arn:aws:lambda:us-east-1:123456789012:event-source-mapping:u"),
		MetricsStack: "rabbitmq-esm-dev", FunctionName: "rabbitmq-esm-dev-monitor", LogRetentionDays: 14, Archive: validArchive}
}

func validAlarms() *AlarmsArgs {
	return &AlarmsArgs{Prefix: "rabbitmq-esm-dev", Stack: "dev", MetricsStack: "rabbitmq-esm-dev", ListenerFunctionName: pulumi.String("listener"),
		BrokerName: "orders", Settings: AlarmSettings{Thresholds: AlarmThresholds{StalledMinutes: 5, BacklogMessages: 1000, BrokerMemoryPercent: 80, BrokerDiskFreeMultiple: 2}}}
}

func validDashboard() *DashboardArgs {
	return &DashboardArgs{Name: "rabbitmq-esm-dev", Region: "us-east-1", MetricsStack: "rabbitmq-esm-dev", ListenerFunctionName: pulumi.String("listener"), BrokerName: "orders"}
}

func validProvisioner() *ProvisionerArgs {
	return &ProvisionerArgs{Broker: validConnection(), Queue: validQueue, EngineVersion: "3.13", ServiceRoute: RouteEndpoints,
		NetworkName: "mine", LogRetentionDays: 14, Archive: validArchive}
}

// TestComponentsRefuseBadArguments: each component checks its own arguments before it registers
// anything, and names the argument, the value and what is allowed.
func TestComponentsRefuseBadArguments(t *testing.T) {
	cases := []struct {
		name  string
		build func(ctx *pulumi.Context) error
		want  []string
	}{
		{"broker name with a dot", broker(func(a *BrokerArgs) { a.BrokerName = "my.broker" }),
			[]string{`BrokerArgs.BrokerName = "my.broker"`, "letters, digits"}},
		{"RabbitMQ 4 on mq.t3.micro", broker(func(a *BrokerArgs) { a.EngineVersion = "4.2" }),
			[]string{`BrokerArgs.InstanceType = "mq.t3.micro"`, "mq.m7g"}},
		{"public broker in a VPC", broker(func(a *BrokerArgs) { a.PubliclyAccessible, a.ServiceRoute = true, RouteAWSSide }),
			[]string{"BrokerArgs.PubliclyAccessible", "takes no VpcID"}},
		{"VPC without subnets", broker(func(a *BrokerArgs) { a.SubnetIDs = nil }),
			[]string{"BrokerArgs.SubnetIDs", "is required with VpcID"}},
		{"default VPC without its group", broker(func(a *BrokerArgs) { a.VpcID, a.SubnetIDs = nil, nil }),
			[]string{"BrokerArgs.DefaultSecurityGroupID", "is required"}},
		{"operators without a group of the broker's own", broker(func(a *BrokerArgs) {
			a.VpcID, a.SubnetIDs, a.DefaultSecurityGroupID, a.AdminAccessCIDRs = nil, nil, "sg-default", []string{"10.20.0.0/16"}
		}), []string{`BrokerArgs.AdminAccessCIDRs = "10.20.0.0/16"`, "VpcID"}},
		{"no arguments", func(ctx *pulumi.Context) error { _, err := NewEventSource(ctx, "x", nil); return err },
			[]string{`EventSourceArgs = "nil"`}},
		{"mapping without the broker's ARN", eventSource(func(a *EventSourceArgs) { a.Broker.Arn = pulumi.String("") }),
			[]string{"EventSourceArgs.Broker.Arn", "is required"}},
		{"mapping batch of 0", eventSource(func(a *EventSourceArgs) { a.BatchSize = 0 }),
			[]string{`EventSourceArgs.BatchSize = "0"`, "1 to 10000"}},
		{"mapping of a reserved queue", eventSource(func(a *EventSourceArgs) { a.Queue.Name = "amq.orders" }),
			[]string{`EventSourceArgs.Queue.Name = "amq.orders"`, "amq."}},
		{"private broker without subnets", eventSource(func(a *EventSourceArgs) { a.Broker.Private.SubnetIDs = pulumi.StringArray{} }),
			[]string{"EventSourceArgs.Broker.Private.SubnetIDs", "is required"}},
		{"listener not built", eventSource(func(a *EventSourceArgs) { a.ListenerArchive = lambdabuild.Artifact{} }),
			[]string{"EventSourceArgs.ListenerArchive", "lambdabuild"}},
		{"provisioner without the endpoint", provisioner(func(a *ProvisionerArgs) { a.Broker.Endpoint = nil }),
			[]string{"ProvisionerArgs.Broker.Endpoint", "amqps://"}},
		{"private broker polled from AWS's side", provisioner(func(a *ProvisionerArgs) { a.ServiceRoute = RouteAWSSide }),
			[]string{`ProvisionerArgs.ServiceRoute = "aws-side"`, "nat, endpoints, existing-endpoints or custom-egress"}},
		{"public broker through a NAT gateway", provisioner(func(a *ProvisionerArgs) { a.Broker.Private, a.ServiceRoute = nil, RouteNAT }),
			[]string{`ProvisionerArgs.ServiceRoute = "nat"`, "aws-side"}},
		{"provisioner for RabbitMQ 3.12", provisioner(func(a *ProvisionerArgs) { a.EngineVersion = "3.12" }),
			[]string{`ProvisionerArgs.EngineVersion = "3.12"`, "3.13 or later"}},
		{"diagnosis without a network name", provisioner(func(a *ProvisionerArgs) { a.NetworkName = "" }),
			[]string{"ProvisionerArgs.NetworkName", "is required"}},
		{"every problem at once", provisioner(func(a *ProvisionerArgs) { a.Queue, a.LogRetentionDays = Queue{}, 10 }),
			[]string{"ProvisionerArgs.Queue.Name", "ProvisionerArgs.Queue.VirtualHost", "ProvisionerArgs.Queue.DeliveryLimit", `ProvisionerArgs.LogRetentionDays = "10"`}},
		{"broker without the monitor's user", broker(func(a *BrokerArgs) { a.MonitorUsername = "" }),
			[]string{`BrokerArgs.MonitorUsername = ""`}},
		{"monitor without its secret", monitor(func(a *MonitorArgs) { a.Broker.Users.MonitorSecretArn = pulumi.String("") }),
			[]string{"MonitorArgs.Broker.Users.MonitorSecretArn", "is required"}},
		{"monitor without users", monitor(func(a *MonitorArgs) { a.Broker.Users = nil }),
			[]string{"MonitorArgs.Broker.Users", "the monitor's secret"}},
		{"monitor named with a dot", monitor(func(a *MonitorArgs) { a.FunctionName = "rabbitmq-esm-dev.1-monitor" }),
			[]string{`MonitorArgs.FunctionName = "rabbitmq-esm-dev.1-monitor"`, "1-64 letters"}},
		{"monitor without its mapping", monitor(func(a *MonitorArgs) { a.MappingArn = nil }),
			[]string{"MonitorArgs.MappingArn", "is required"}},
		{"alarms to a queue", alarms(func(a *AlarmsArgs) { a.Settings.TopicArn = "arn:aws:sqs:us-east-1:123456789012:q" }),
			[]string{"AlarmsArgs.Settings (alarmTopicArn)", "SNS topic"}},
		{"alarms without thresholds", alarms(func(a *AlarmsArgs) { a.Settings.Thresholds = AlarmThresholds{} }),
			[]string{"AlarmsArgs.Settings (alarmStalledMinutes)", "AlarmsArgs.Settings (alarmBrokerMemoryPercent)"}},
		{"dashboard named with a space", dashboard(func(a *DashboardArgs) { a.Name = "my dashboard" }),
			[]string{`DashboardArgs.Name = "my dashboard"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := &offline.Account{}
			err := pulumi.RunErr(tc.build, pulumi.WithMocks(ProjectName, "components", m))
			var argsErr *ArgsError
			if !errors.As(err, &argsErr) {
				t.Fatalf("want an *ArgsError, got %v", err)
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

// changed makes, for a component, a program that creates it from valid arguments with one change.
func changed[A, C any](valid func() *A, create func(*pulumi.Context, string, *A, ...pulumi.ResourceOption) (C, error)) func(func(*A)) func(*pulumi.Context) error {
	return func(change func(*A)) func(*pulumi.Context) error {
		return func(ctx *pulumi.Context) error {
			a := valid()
			change(a)
			_, err := create(ctx, "component", a)
			return err
		}
	}
}

var (
	broker      = changed(validBroker, NewBroker)
	eventSource = changed(validEventSource, NewEventSource)
	provisioner = changed(validProvisioner, NewProvisioner)
	monitor     = changed(validMonitor, NewMonitor)
	alarms      = changed(validAlarms, NewAlarms)
	dashboard   = changed(validDashboard, NewDashboard)
)

// TestValidComponentArgumentsPass: the arguments the cases above start from are accepted.
func TestValidComponentArgumentsPass(t *testing.T) {
	for name, problems := range map[string]error{
		"Broker":      checkArgs("Broker", "b", validBroker(), checkBrokerArgs),
		"EventSource": checkArgs("EventSource", "e", validEventSource(), checkEventSourceArgs),
		"Provisioner": checkArgs("Provisioner", "p", validProvisioner(), checkProvisionerArgs),
		"Monitor":     checkArgs("Monitor", "m", validMonitor(), checkMonitorArgs),
		"Alarms":      checkArgs("Alarms", "a", validAlarms(), checkAlarmsArgs),
		"Dashboard":   checkArgs("Dashboard", "d", validDashboard(), checkDashboardArgs),
	} {
		if problems != nil {
			t.Errorf("%s: %v", name, problems)
		}
	}
}
