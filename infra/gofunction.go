package infra

import (
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
	"github.com/rabbitmq-esm/rabbitmq-esm/infra/lambdabuild"
)

// LambdaSpec is how a function of this module is built for newGoFunction, which deploys it on
// Lambda's arm64 runtime: the listener (ListenerPackage) or the provisioner
// (ProvisionerPackage), from the module in moduleDir.
func LambdaSpec(moduleDir, pkg string) lambdabuild.Spec {
	return lambdabuild.Spec{ModuleDir: moduleDir, Package: pkg, GOARCH: "arm64"}
}

// goFunctionArgs describe one Go Lambda function of this project: its code, the permissions
// it needs beyond writing its own logs, and where it runs.
type goFunctionArgs struct {
	// functionName fixes the function's name; empty: Pulumi names it.
	functionName string
	description  string
	archive      lambdabuild.Artifact
	// statements are the role's permissions besides its log stream.
	statements  []statement
	environment pulumi.StringMap
	// vpcConfig attaches the function to a VPC; nil runs it outside any VPC.
	vpcConfig *lambda.FunctionVpcConfigArgs
	// deleteHook runs after the function's deletion (a VPC-attached function's interfaces
	// outlive it).
	deleteHook *pulumi.ResourceHook
	// roleDeleteHook runs before the role and its policy are deleted: Lambda removes the
	// function's and its mappings' interfaces with them.
	roleDeleteHook *pulumi.ResourceHook
	// dependsOn must exist before the function's code runs with its environment. Default: none.
	dependsOn        []pulumi.Resource
	timeoutSeconds   int
	memoryMB         int
	logRetentionDays int
	tags             pulumi.StringMap
}

// statement is one Allow statement of an IAM policy.
type statement struct {
	sid       string
	actions   []string
	resources pulumi.StringArrayInput
}

// goFunction is what newGoFunction created; the caller's component is the parent of all of it.
type goFunction struct {
	role     *iam.Role
	policy   *iam.RolePolicy
	logGroup *cloudwatch.LogGroup
	function *lambda.Function
}

// newGoFunction creates a provided.al2023 arm64 function with its own role, an inline policy of
// exactly the given statements plus its log stream, and a log group with a retention (Lambda's
// implicit group would keep logs forever).
func newGoFunction(ctx *pulumi.Context, name string, args goFunctionArgs, parent pulumi.Resource) (*goFunction, error) {
	opt := pulumi.Parent(parent)
	logGroup, err := cloudwatch.NewLogGroup(ctx, name, &cloudwatch.LogGroupArgs{
		NamePrefix:      pulumi.String("/aws/lambda/" + ProjectName + "-" + ctx.Stack() + "-" + name + "-"),
		RetentionInDays: pulumi.Int(args.logRetentionDays),
		Tags:            args.tags,
	}, opt)
	if err != nil {
		return nil, err
	}
	roleOpts := []pulumi.ResourceOption{opt}
	if args.roleDeleteHook != nil {
		roleOpts = append(roleOpts, pulumi.ResourceHooks(&pulumi.ResourceHookBinding{BeforeDelete: []*pulumi.ResourceHook{args.roleDeleteHook}}))
	}
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		Description: pulumi.String("Execution role of " + args.description),
		AssumeRolePolicy: pulumi.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
			`"Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
		Tags: args.tags,
	}, roleOpts...)
	if err != nil {
		return nil, err
	}
	statements := append([]statement{{
		sid:       "WriteOwnLogs",
		actions:   []string{"logs:CreateLogStream", "logs:PutLogEvents"},
		resources: pulumi.StringArray{pulumi.Sprintf("%s:*", logGroup.Arn)},
	}}, args.statements...)
	policy, err := iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{
		Role:   role.ID(),
		Policy: policyDocument(statements),
	}, roleOpts...)
	if err != nil {
		return nil, err
	}
	functionOpts := []pulumi.ResourceOption{opt, pulumi.DependsOn(append([]pulumi.Resource{policy}, args.dependsOn...))}
	if args.deleteHook != nil {
		functionOpts = append(functionOpts, pulumi.ResourceHooks(&pulumi.ResourceHookBinding{AfterDelete: []*pulumi.ResourceHook{args.deleteHook}}))
	}
	var functionName pulumi.StringPtrInput
	if args.functionName != "" {
		functionName = pulumi.String(args.functionName)
	}
	function, err := lambda.NewFunction(ctx, name, &lambda.FunctionArgs{
		Name:           functionName,
		Description:    pulumi.String(args.description),
		Runtime:        pulumi.String("provided.al2023"),
		Handler:        pulumi.String("bootstrap"),
		Architectures:  pulumi.StringArray{pulumi.String("arm64")},
		Code:           pulumi.NewFileArchive(args.archive.ZipPath),
		SourceCodeHash: pulumi.String(args.archive.SHA256),
		Role:           role.Arn,
		MemorySize:     pulumi.Int(args.memoryMB),
		Timeout:        pulumi.Int(args.timeoutSeconds),
		Environment:    &lambda.FunctionEnvironmentArgs{Variables: args.environment},
		VpcConfig:      args.vpcConfig,
		LoggingConfig: &lambda.FunctionLoggingConfigArgs{
			LogFormat: pulumi.String("Text"),
			LogGroup:  logGroup.Name,
		},
		Tags: args.tags,
	}, functionOpts...)
	if err != nil {
		return nil, err
	}
	return &goFunction{role: role, policy: policy, logGroup: logGroup, function: function}, nil
}

// besideTheBroker places a function where the mapping's interfaces are — in the broker's
// subnets with the broker's security groups — for a private broker, with the permissions
// Lambda needs to manage the function's own interfaces there. A public broker's functions run
// outside any VPC: nil, nil.
//
// The provisioner must sit there to reach a private broker at all, the listener to
// dead-letter on it; and from there both take the mapping's own path to AWS's services, which
// the deploy-time diagnosis checks.
func besideTheBroker(private *BrokerPlacement) (*lambda.FunctionVpcConfigArgs, []statement) {
	if private == nil {
		return nil, nil
	}
	return &lambda.FunctionVpcConfigArgs{
			SubnetIds:        private.SubnetIDs,
			SecurityGroupIds: private.SecurityGroupIDs,
		}, []statement{{sid: "ManageOwnNetworkInterfaces", actions: vpcFunctionActions,
			resources: pulumi.StringArray{pulumi.String("*")}}}
}

// brokerEnvironment is how a function reaches the broker as the mapping does: its endpoint (if
// given), the mapping's credentials, the queue's virtual host and its delivery limit.
func brokerEnvironment(broker BrokerConnection, queue Queue) pulumi.StringMap {
	env := pulumi.StringMap{
		contract.EnvBrokerSecretArn: broker.SecretArn,
		contract.EnvBrokerVHost:     pulumi.String(queue.VirtualHost),
		contract.EnvDeliveryLimit:   pulumi.String(strconv.Itoa(queue.DeliveryLimit)),
	}
	if given(broker.Endpoint) {
		env[contract.EnvBrokerEndpoint] = broker.Endpoint
	}
	return env
}

// readSecrets lets a function read exactly the given secrets.
func readSecrets(sid string, first pulumi.StringInput, more ...pulumi.StringInput) statement {
	return statement{sid: sid, actions: []string{"secretsmanager:GetSecretValue"}, resources: pulumi.StringArray(append([]pulumi.StringInput{first}, more...))}
}

// usersSecrets are the job users' secrets, none without users.
func usersSecrets(u *BrokerUsers) []pulumi.StringInput {
	if u == nil {
		return nil
	}
	return []pulumi.StringInput{u.MappingSecretArn, u.DeadLetterSecretArn, u.MonitorSecretArn}
}

// vpcFunctionActions are what Lambda needs, through a VPC-attached function's role, to manage
// the function's own network interfaces (the actions of AWSLambdaVPCAccessExecutionRole).
var vpcFunctionActions = []string{
	"ec2:CreateNetworkInterface",
	"ec2:DescribeNetworkInterfaces",
	"ec2:DescribeSubnets",
	"ec2:DeleteNetworkInterface",
	"ec2:AssignPrivateIpAddresses",
	"ec2:UnassignPrivateIpAddresses",
}

// policyDocument renders statements as an IAM policy document.
func policyDocument(statements []statement) pulumi.StringOutput {
	list := pulumi.Array{}
	for _, s := range statements {
		list = append(list, pulumi.Map{
			"Sid":      pulumi.String(s.sid),
			"Effect":   pulumi.String("Allow"),
			"Action":   pulumi.ToStringArray(s.actions),
			"Resource": s.resources,
		})
	}
	return pulumi.JSONMarshal(pulumi.Map{"Version": pulumi.String("2012-10-17"), "Statement": list})
}

// eniManagementActions are what Lambda needs, through a function's role, to create and remove
// network interfaces in the customer's VPC: the ESM's for a private broker, and a VPC-attached
// function's own. EC2 does not support resource-level permissions for these, hence "*".
var eniManagementActions = []string{
	"ec2:CreateNetworkInterface",
	"ec2:DeleteNetworkInterface",
	"ec2:DescribeNetworkInterfaces",
	"ec2:DescribeSecurityGroups",
	"ec2:DescribeSubnets",
	"ec2:DescribeVpcs",
}
