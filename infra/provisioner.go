package infra

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
	"github.com/rabbitmq-esm/rabbitmq-esm/infra/lambdabuild"
)

// ProvisionerArgs configure the Provisioner component.
type ProvisionerArgs struct {
	// Broker is the broker to provision and to diagnose, as reached: Arn, Endpoint and
	// SecretArn are required; with Private the provisioner runs where the mapping's interfaces
	// are, in the broker's subnets and security groups. Required.
	Broker BrokerConnection
	// Queue is the queue to declare, with its dead-letter exchange and queue. Required.
	Queue Queue
	// EngineVersion is the broker's RabbitMQ version, major.minor (3.13 or later): the
	// dead-letter queue's arguments depend on it. Required.
	EngineVersion string
	// ServiceRoute is how the mapping reaches STS, Secrets Manager and Lambda: RouteAWSSide
	// for a public broker, any other route for a private one. The diagnosis's hints follow
	// it. Required.
	ServiceRoute ServiceRoute
	// NetworkName names the network in the diagnosis's hints ("networkMode <name> reaches sts
	// through ..."): the stack's networkMode, or a name of your own for a network this project
	// did not build. Required.
	NetworkName string
	// LogRetentionDays of the provisioner's log group, one CloudWatch Logs accepts. Required.
	LogRetentionDays int
	// Archive is the built provisioner (lambdabuild, arm64). Required.
	Archive lambdabuild.Artifact
	// NetworkPath are the resources the ESM's traffic depends on; the diagnosis runs after
	// them, since it checks exactly that path. Default: none (public).
	NetworkPath []pulumi.Resource
	// DeleteHook runs after the VPC-attached function is deleted, until its network
	// interfaces are gone; nil outside a VPC. Default: none.
	DeleteHook *pulumi.ResourceHook
	// RoleDeleteHook runs before the function's role and policy are deleted, until no
	// interface Lambda made remains in the broker's own security group: Lambda removes them
	// with that role. Default: none.
	RoleDeleteHook *pulumi.ResourceHook
	// Tags for every taggable child. Default: none.
	Tags pulumi.StringMap
}

// Provisioner is a Lambda function placed exactly where the ESM's network interfaces are — in
// the broker's subnets with the broker's security group, or outside any VPC for a public
// broker — and two invocations of it at deployment: "diagnose" checks that STS, Secrets
// Manager, Lambda and the broker are reachable from there, and "declare" creates the queue
// with its dead-lettering. Nothing outside the VPC could reach a private broker to create the
// queue, and without the diagnosis a broken path shows only as a mapping stuck in PROBLEM.
type Provisioner struct {
	pulumi.ResourceState

	// FunctionName of the provisioner (the smoke test invokes its "publish" action).
	FunctionName pulumi.StringOutput `pulumi:"functionName"`
	// Diagnosis is the JSON report of the deploy-time diagnosis.
	Diagnosis pulumi.StringOutput `pulumi:"diagnosis"`
	// Declared is the JSON result of the queue declaration.
	Declared pulumi.StringOutput `pulumi:"declared"`
	// Users is the JSON result of the users action (contract.UsersResponse: names and what
	// changed, no password); empty without Broker.Users.
	Users pulumi.StringOutput `pulumi:"users"`

	// members: the diagnosis and the queue declaration, which the mapping must wait for.
	members
}

// checkProvisionerArgs holds the arguments to what the provisioner needs at deployment.
func checkProvisionerArgs(c *argCheck, a *ProvisionerArgs) {
	a.Broker.check(c, "Broker", true)
	a.Queue.check(c, "Queue")
	c.bad("EngineVersion", a.EngineVersion, engineVersionProblem(a.EngineVersion))
	c.bad("ServiceRoute", string(a.ServiceRoute), serviceRouteProblem(a.ServiceRoute, a.Broker.Private != nil))
	c.required("NetworkName", a.NetworkName != "", "the name the diagnosis's hints give the network")
	c.bad("LogRetentionDays", strconv.Itoa(a.LogRetentionDays), logRetentionProblem(a.LogRetentionDays))
	checkArchive(c, "Archive", a.Archive)
}

// NewProvisioner creates the function and runs the diagnosis, then the declaration.
func NewProvisioner(ctx *pulumi.Context, name string, args *ProvisionerArgs, opts ...pulumi.ResourceOption) (*Provisioner, error) {
	if err := checkArgs("Provisioner", name, args, checkProvisionerArgs); err != nil {
		return nil, err
	}
	p := &Provisioner{}
	if err := ctx.RegisterComponentResource(typeToken("Provisioner"), name, p, opts...); err != nil {
		return nil, err
	}

	vpcConfig, networkStatements := besideTheBroker(args.Broker.Private)
	// The provisioner creates the users from their secrets as the administrator: it reads them all.
	statements := slices.Concat([]statement{readSecrets("ReadBrokerCredentials", args.Broker.SecretArn, usersSecrets(args.Broker.Users)...)}, networkStatements)
	environment := brokerEnvironment(args.Broker, args.Queue)
	if u := args.Broker.Users; u != nil {
		environment[contract.EnvBrokerManagementURL] = u.ManagementURL
		environment[contract.EnvMappingSecretArn] = u.MappingSecretArn
		environment[contract.EnvDeadLetterSecretArn] = u.DeadLetterSecretArn
		environment[contract.EnvMonitorSecretArn] = u.MonitorSecretArn
	}
	environment[contract.EnvQueueName] = pulumi.String(args.Queue.Name)
	environment[contract.EnvNetworkMode] = pulumi.String(args.NetworkName)
	environment[contract.EnvServiceRoute] = pulumi.String(string(args.ServiceRoute))
	environment[contract.EnvEngineVersion] = pulumi.String(args.EngineVersion)
	fn, err := newGoFunction(ctx, name, goFunctionArgs{
		description:      "Queue provisioner and connectivity diagnosis of " + ProjectName + "-" + ctx.Stack(),
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
	}, p)
	if err != nil {
		return nil, err
	}

	// An invocation runs when it is created or its triggers change: on the first deployment,
	// and again when the broker, its engine version, the queue's settings or the provisioner's
	// code change. The engine version decides the dead-letter queue's arguments, and the broker
	// is updated in place before the invocations run (they wait for it).
	triggers := pulumi.StringMap{
		"broker":        args.Broker.Arn,
		"queue":         pulumi.String(args.Queue.Name),
		"virtualHost":   pulumi.String(args.Queue.VirtualHost),
		"deliveryLimit": pulumi.String(strconv.Itoa(args.Queue.DeliveryLimit)),
		"engineVersion": pulumi.String(args.EngineVersion),
		"code":          pulumi.String(args.Archive.SHA256),
	}
	if args.Broker.CredentialsVersion != nil {
		triggers["credentials"] = args.Broker.CredentialsVersion
	}
	// The diagnosis checks the path as well: it runs again when what carries the mapping's
	// calls changes (existingvpc's serviceRoute), which the declaration does not care about.
	diagnoseTriggers := pulumi.StringMap{"serviceRoute": pulumi.String(string(args.ServiceRoute))}
	maps.Copy(diagnoseTriggers, triggers)
	diagnoseAfter := slices.Concat([]pulumi.Resource{fn.function}, args.Broker.DependsOn, args.NetworkPath)
	diagnosis, err := lambda.NewInvocation(ctx, name+"-diagnose", &lambda.InvocationArgs{
		FunctionName: fn.function.Name,
		Input:        pulumi.String(`{"action":"diagnose"}`),
		Triggers:     diagnoseTriggers,
	}, pulumi.Parent(p), pulumi.DependsOn(diagnoseAfter))
	if err != nil {
		return nil, err
	}
	declared, err := lambda.NewInvocation(ctx, name+"-declare", &lambda.InvocationArgs{
		FunctionName: fn.function.Name,
		Input:        pulumi.String(`{"action":"declare"}`),
		Triggers:     triggers,
	}, pulumi.Parent(p), pulumi.DependsOn([]pulumi.Resource{diagnosis}))
	if err != nil {
		return nil, err
	}
	// The declaration's warnings (a dead-letter queue kept with other arguments) would sit
	// unseen in the invocation's result: show them in the deployment's output.
	declared.Result.ApplyT(func(result string) string {
		var resp contract.DeclareResponse
		if json.Unmarshal([]byte(result), &resp) == nil {
			for _, w := range resp.Warnings {
				_ = ctx.Log.Warn("queue declaration: "+w, &pulumi.LogArgs{Resource: p})
			}
		}
		return result
	})
	p.track(diagnosis, declared)
	p.Users = pulumi.String("").ToStringOutput()
	if u := args.Broker.Users; u != nil {
		// The users get their grant on the declared queue and exchange, so after the
		// declaration; and again whenever the declaration runs (a new broker, queue, virtual
		// host or code) or a user's secret gets a new version (a new name). A second run
		// changes nothing on the broker.
		usersTriggers := pulumi.StringMap{}
		maps.Copy(usersTriggers, triggers)
		if u.Versions != nil {
			usersTriggers["users"] = u.Versions
		}
		users, err := lambda.NewInvocation(ctx, name+"-users", &lambda.InvocationArgs{
			FunctionName: fn.function.Name,
			Input:        pulumi.String(`{"action":"` + contract.ActionUsers + `"}`),
			Triggers:     usersTriggers,
		}, pulumi.Parent(p), pulumi.DependsOn([]pulumi.Resource{declared}))
		if err != nil {
			return nil, err
		}
		p.track(users)
		p.Users = users.Result
	}
	p.FunctionName = fn.function.Name
	p.Diagnosis = diagnosis.Result
	p.Declared = declared.Result
	return p, ctx.RegisterResourceOutputs(p, pulumi.Map{
		"functionName": p.FunctionName,
		"diagnosis":    p.Diagnosis,
		"declared":     p.Declared,
		"users":        p.Users,
	})
}
