package infra

import (
	"slices"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
	"github.com/rabbitmq-esm/rabbitmq-esm/infra/lambdabuild"
)

// EventSourceArgs configure the EventSource component.
type EventSourceArgs struct {
	// Broker is the event source, as reached: Arn and SecretArn are required; with Endpoint
	// the listener dead-letters on the broker; with Private the mapping makes its interfaces
	// in the broker's subnets and the listener runs there. Required.
	Broker BrokerConnection
	// Queue is the queue the mapping consumes; the listener dead-letters to its exchange.
	// Required.
	Queue Queue
	// BatchSize is the most messages the mapping hands the listener at once, 1-10000 (AWS's
	// default is 100). Required.
	BatchSize int
	// MaxBatchingWindowSeconds is how long the mapping gathers a batch, 0-300. Default: nil,
	// AWS's 0.5 s for Amazon MQ.
	MaxBatchingWindowSeconds *int
	// LogRetentionDays of the listener's log group, one CloudWatch Logs accepts. Required.
	LogRetentionDays int
	// LogMessageBodies adds each message's body to the listener's log line. Default: false.
	LogMessageBodies bool
	// ListenerArchive is the built listener (lambdabuild, arm64). Required.
	ListenerArchive lambdabuild.Artifact
	// Prerequisites must be in place before the mapping polls and the listener runs: the VPC
	// with its routes (NAT included), the interface endpoints with their rules, the declared
	// queue and the users. Created earlier, the mapping would poll, fail and sit in PROBLEM.
	// Default: none.
	Prerequisites []pulumi.Resource
	// DeleteHook runs after the mapping is deleted, until its network interfaces are gone;
	// nil for a public broker's mapping, which makes none. Default: none.
	DeleteHook *pulumi.ResourceHook
	// FunctionDeleteHook runs after the VPC-attached listener is deleted, until its network
	// interfaces are gone; nil outside a VPC. Default: none.
	FunctionDeleteHook *pulumi.ResourceHook
	// RoleDeleteHook runs before the function's role and policy are deleted, until no
	// interface Lambda made remains in the broker's own security group: Lambda removes them
	// with that role. Default: none.
	RoleDeleteHook *pulumi.ResourceHook
	// Tags for every taggable child. Default: none.
	Tags pulumi.StringMap
	// MappingTags are added to the mapping's own tags: what its DeleteHook reads to find its
	// interfaces (eniwait.GuardTags). Default: none.
	MappingTags pulumi.StringMap
}

// EventSource is the listener function, its role and logs, and the event source mapping that
// polls the broker's queue and invokes it. The listener dead-letters the messages that fail
// for good on the broker itself, so for a private broker it runs beside the broker, in its
// subnets and security group.
type EventSource struct {
	pulumi.ResourceState

	// FunctionName of the listener.
	FunctionName pulumi.StringOutput `pulumi:"functionName"`
	// FunctionArn of the listener.
	FunctionArn pulumi.StringOutput `pulumi:"functionArn"`
	// LogGroupName of the listener's logs.
	LogGroupName pulumi.StringOutput `pulumi:"logGroupName"`
	// RoleArn is the listener's role, which the ESM also uses.
	RoleArn pulumi.StringOutput `pulumi:"roleArn"`
	// MappingID is the ESM's UUID.
	MappingID pulumi.StringOutput `pulumi:"mappingId"`
	// MappingArn is the ESM's ARN, what lambda:GetEventSourceMapping is granted on.
	MappingArn pulumi.StringOutput `pulumi:"mappingArn"`
}

// checkEventSourceArgs holds the arguments to the mapping's and the listener's limits.
func checkEventSourceArgs(c *argCheck, a *EventSourceArgs) {
	a.Broker.check(c, "Broker", false)
	a.Queue.check(c, "Queue")
	c.bad("BatchSize", strconv.Itoa(a.BatchSize), batchSizeProblem(a.BatchSize))
	if w := a.MaxBatchingWindowSeconds; w != nil {
		c.bad("MaxBatchingWindowSeconds", strconv.Itoa(*w), batchingWindowProblem(*w))
	}
	c.bad("LogRetentionDays", strconv.Itoa(a.LogRetentionDays), logRetentionProblem(a.LogRetentionDays))
	checkArchive(c, "ListenerArchive", a.ListenerArchive)
}

// NewEventSource creates the listener and its mapping.
func NewEventSource(ctx *pulumi.Context, name string, args *EventSourceArgs, opts ...pulumi.ResourceOption) (*EventSource, error) {
	if err := checkArgs("EventSource", name, args, checkEventSourceArgs); err != nil {
		return nil, err
	}
	es := &EventSource{}
	if err := ctx.RegisterComponentResource(typeToken("EventSource"), name, es, opts...); err != nil {
		return nil, err
	}

	// The ESM acts with the listener's role: it reads its user's secret and describes the
	// broker, and for a private broker creates its interfaces in the broker's subnets. The
	// listener reads its dead-letter user's secret. Neither reads the administrator's.
	readable := []pulumi.StringInput{args.Broker.mappingSecret()}
	if args.Broker.Users != nil {
		readable = append(readable, args.Broker.deadLetterSecret())
	}
	statements := []statement{
		readSecrets("ReadBrokerCredentials", readable[0], readable[1:]...),
		{sid: "DescribeBroker", actions: []string{"mq:DescribeBroker"}, resources: pulumi.StringArray{args.Broker.Arn}},
	}
	if args.Broker.Private != nil {
		statements = append(statements, statement{sid: "ManageEsmNetworkInterfaces", actions: eniManagementActions,
			resources: pulumi.StringArray{pulumi.String("*")}})
	}
	vpcConfig, networkStatements := besideTheBroker(args.Broker.Private)
	environment := brokerEnvironment(args.Broker, args.Queue)
	delete(environment, contract.EnvBrokerSecretArn)
	environment[contract.EnvDeadLetterSecretArn] = args.Broker.deadLetterSecret()
	environment[contract.EnvListenerLogBodies] = pulumi.String(strconv.FormatBool(args.LogMessageBodies))
	fn, err := newGoFunction(ctx, name+"-listener", goFunctionArgs{
		description:    "RabbitMQ listener of " + ProjectName + "-" + ctx.Stack() + " (invoked by the Amazon MQ event source mapping)",
		archive:        args.ListenerArchive,
		statements:     slices.Concat(statements, networkStatements),
		environment:    environment,
		vpcConfig:      vpcConfig,
		deleteHook:     args.FunctionDeleteHook,
		roleDeleteHook: args.RoleDeleteHook,
		// The listener dead-letters as its user: on an upgrade its new environment names that
		// user's secret, so it waits for the user to exist (the Provisioner's users action).
		dependsOn:        args.Prerequisites,
		timeoutSeconds:   60,
		memoryMB:         256,
		logRetentionDays: args.LogRetentionDays,
		tags:             args.Tags,
	}, es)
	if err != nil {
		return nil, err
	}

	mappingArgs := &lambda.EventSourceMappingArgs{
		EventSourceArn: args.Broker.Arn,
		FunctionName:   fn.function.Arn,
		Queues:         pulumi.String(args.Queue.Name),
		BatchSize:      pulumi.Int(args.BatchSize),
		SourceAccessConfigurations: lambda.EventSourceMappingSourceAccessConfigurationArray{
			&lambda.EventSourceMappingSourceAccessConfigurationArgs{Type: pulumi.String("BASIC_AUTH"), Uri: args.Broker.mappingSecret()},
			&lambda.EventSourceMappingSourceAccessConfigurationArgs{Type: pulumi.String("VIRTUAL_HOST"), Uri: pulumi.String(args.Queue.VirtualHost)},
		},
		Tags: mergeTags(args.Tags, args.MappingTags),
	}
	if args.MaxBatchingWindowSeconds != nil {
		mappingArgs.MaximumBatchingWindowInSeconds = pulumi.Int(*args.MaxBatchingWindowSeconds)
	}
	// The role's policy is a separate resource: without this edge the mapping could be created
	// before its permissions exist and fail its first polls with EVENT_SOURCE_AUTHN_ERROR.
	// The same edges order the deletion: Pulumi deletes the mapping, runs its after-delete hook
	// until the interfaces are gone, and only then the role (whose EC2 permissions Lambda needs
	// to remove them), the security group rules and groups, the endpoints and the VPC.
	dependsOn := slices.Concat([]pulumi.Resource{fn.role, fn.policy}, args.Broker.DependsOn, args.Prerequisites)
	mappingOpts := []pulumi.ResourceOption{
		pulumi.Parent(es), pulumi.DependsOn(dependsOn),
		// Replaced, the old mapping goes first (with the wait), so its interfaces are gone
		// before anything it depended on is touched.
		pulumi.DeleteBeforeReplace(true),
	}
	if args.DeleteHook != nil {
		mappingOpts = append(mappingOpts, pulumi.ResourceHooks(&pulumi.ResourceHookBinding{AfterDelete: []*pulumi.ResourceHook{args.DeleteHook}}))
	}
	mapping, err := lambda.NewEventSourceMapping(ctx, name+"-mapping", mappingArgs, mappingOpts...)
	if err != nil {
		return nil, err
	}

	es.FunctionName = fn.function.Name
	es.FunctionArn = fn.function.Arn
	es.LogGroupName = fn.logGroup.Name
	es.RoleArn = fn.role.Arn
	es.MappingID = mapping.Uuid
	es.MappingArn = mapping.Arn
	return es, ctx.RegisterResourceOutputs(es, pulumi.Map{
		"functionName": es.FunctionName,
		"functionArn":  es.FunctionArn,
		"logGroupName": es.LogGroupName,
		"roleArn":      es.RoleArn,
		"mappingId":    es.MappingID,
		"mappingArn":   es.MappingArn,
	})
}
