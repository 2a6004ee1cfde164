package infra

import (
	"slices"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
	"github.com/rabbitmq-esm/rabbitmq-esm/infra/lambdabuild"
)

// RotationArgs configure the Rotation component.
type RotationArgs struct {
	// Broker is the broker whose secrets rotate, as reached: Arn, Endpoint, SecretArn (the
	// administrator's) and Users are required; with Private the rotator runs where the
	// provisioner does. Required.
	Broker BrokerConnection
	// Queue names the grants the rotator gives a new user of a pair (docs/broker-users.md).
	// Required.
	Queue Queue
	// Schedule is Secrets Manager's schedule of every rotation: rate(N days) (1-1000), rate(N
	// hours) (at least 4) or a cron() expression. Required.
	Schedule string
	// LogRetentionDays of the rotator's log group, one CloudWatch Logs accepts. Required.
	LogRetentionDays int
	// Archive is the built rotator (lambdabuild, arm64). Required.
	Archive lambdabuild.Artifact
	// After are the resources the first rotation must wait for: the users invocation, which
	// creates the users the secrets name. Default: none.
	After []pulumi.Resource
	// DeleteHook runs after the VPC-attached function is deleted, until its network
	// interfaces are gone; nil outside a VPC. Default: none.
	DeleteHook *pulumi.ResourceHook
	// RoleDeleteHook runs before the function's role and policy are deleted. Default: none
	// (DeleteHook already waits out the function's interfaces before its role goes).
	RoleDeleteHook *pulumi.ResourceHook
	// Tags for every taggable child. Default: none.
	Tags pulumi.StringMap
}

// Rotation is the rotation function of the broker's four secrets, placed where the
// provisioner is, and one Secrets Manager rotation per secret (docs/broker-users.md,
// "Rotation").
type Rotation struct {
	pulumi.ResourceState

	// FunctionName of the rotator.
	FunctionName pulumi.StringOutput `pulumi:"functionName"`
	// SecretArns are the rotated secrets: the administrator's, the mapping's, the
	// dead-letter user's and the monitor's.
	SecretArns pulumi.StringArrayOutput `pulumi:"secretArns"`
}

func checkRotationArgs(c *argCheck, a *RotationArgs) {
	a.Broker.check(c, "Broker", true)
	c.required("Broker.Users", a.Broker.Users != nil, "the users whose secrets rotate, beside the administrator's")
	a.Queue.check(c, "Queue")
	if a.Schedule == RotationOff {
		c.bad("Schedule", a.Schedule, "is a rotation's schedule; to rotate nothing, create no Rotation")
	} else {
		c.bad("Schedule", a.Schedule, rotationScheduleProblem(a.Schedule))
	}
	c.bad("LogRetentionDays", strconv.Itoa(a.LogRetentionDays), logRetentionProblem(a.LogRetentionDays))
	checkArchive(c, "Archive", a.Archive)
}

// rotatorActions are what internal/rotation calls: the four steps read and write versions
// and move their stages, and createSecret draws the new password from Secrets Manager.
var rotatorActions = []string{
	"secretsmanager:DescribeSecret",
	"secretsmanager:GetSecretValue",
	"secretsmanager:PutSecretValue",
	"secretsmanager:UpdateSecretVersionStage",
}

// NewRotation creates the rotator, lets Secrets Manager invoke it for each secret, and
// configures each secret's rotation.
func NewRotation(ctx *pulumi.Context, name string, args *RotationArgs, opts ...pulumi.ResourceOption) (*Rotation, error) {
	if err := checkArgs("Rotation", name, args, checkRotationArgs); err != nil {
		return nil, err
	}
	r := &Rotation{}
	if err := ctx.RegisterComponentResource(typeToken("Rotation"), name, r, opts...); err != nil {
		return nil, err
	}
	users := args.Broker.Users
	secrets := []struct {
		role string
		arn  pulumi.StringInput
	}{{"admin", args.Broker.SecretArn}, {"mapping", users.MappingSecretArn}, {"dead-letter", users.DeadLetterSecretArn}, {"monitor", users.MonitorSecretArn}}
	arns := pulumi.StringArray{}
	for _, s := range secrets {
		arns = append(arns, s.arn)
	}

	vpcConfig, networkStatements := besideTheBroker(args.Broker.Private)
	statements := slices.Concat([]statement{
		{sid: "RotateBrokerSecrets", actions: rotatorActions, resources: arns},
		// GetRandomPassword acts on no resource: IAM takes only "*" for it (Secrets Manager's
		// actions table in the Service Authorization Reference).
		{sid: "DrawPasswords", actions: []string{"secretsmanager:GetRandomPassword"}, resources: pulumi.StringArray{pulumi.String("*")}},
	}, networkStatements)
	environment := brokerEnvironment(args.Broker, args.Queue)
	delete(environment, contract.EnvDeliveryLimit) // the queue's arguments are the provisioner's business
	environment[contract.EnvQueueName] = pulumi.String(args.Queue.Name)
	environment[contract.EnvBrokerManagementURL] = users.ManagementURL
	environment[contract.EnvMappingSecretArn] = users.MappingSecretArn
	environment[contract.EnvDeadLetterSecretArn] = users.DeadLetterSecretArn
	environment[contract.EnvMonitorSecretArn] = users.MonitorSecretArn
	fn, err := newGoFunction(ctx, name, goFunctionArgs{
		description:      "Broker secrets' rotation of " + ProjectName + "-" + ctx.Stack(),
		archive:          args.Archive,
		statements:       statements,
		environment:      environment,
		vpcConfig:        vpcConfig,
		deleteHook:       args.DeleteHook,
		roleDeleteHook:   args.RoleDeleteHook,
		timeoutSeconds:   60,
		memoryMB:         256,
		logRetentionDays: args.LogRetentionDays,
		tags:             args.Tags,
	}, r)
	if err != nil {
		return nil, err
	}

	for _, s := range secrets {
		// Secrets Manager invokes the function as secretsmanager.amazonaws.com; the condition on
		// the secret keeps any other secret from using it (Secrets Manager user guide,
		// "Lambda rotation function execution role permissions ... resource-based policy").
		permission, err := lambda.NewPermission(ctx, name+"-invoke-"+s.role, &lambda.PermissionArgs{
			Function:    fn.function.Name,
			Action:      pulumi.String("lambda:InvokeFunction"),
			Principal:   pulumi.String("secretsmanager.amazonaws.com"),
			SourceArn:   s.arn,
			StatementId: pulumi.String("SecretsManagerRotates-" + s.role),
		}, pulumi.Parent(r))
		if err != nil {
			return nil, err
		}
		// RotateImmediately false: the first rotation comes at the schedule, not in the middle
		// of the up that configures it (the provider's default is true: RotateSecret then
		// rotates at once; terraform-provider-aws secret_rotation.go). Rotate by hand with
		// `aws secretsmanager rotate-secret`.
		_, err = secretsmanager.NewSecretRotation(ctx, name+"-"+s.role, &secretsmanager.SecretRotationArgs{
			SecretId:          s.arn,
			RotationLambdaArn: fn.function.Arn,
			RotateImmediately: pulumi.Bool(false),
			RotationRules: &secretsmanager.SecretRotationRotationRulesArgs{
				ScheduleExpression: pulumi.String(args.Schedule),
			},
		}, pulumi.Parent(r), pulumi.DependsOn(slices.Concat([]pulumi.Resource{permission, fn.function}, args.After)))
		if err != nil {
			return nil, err
		}
	}
	r.FunctionName = fn.function.Name
	r.SecretArns = arns.ToStringArrayOutput()
	return r, ctx.RegisterResourceOutputs(r, pulumi.Map{
		"functionName": r.FunctionName,
		"secretArns":   r.SecretArns,
	})
}
