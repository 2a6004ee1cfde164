package infra

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"rabbitmq-esm/contract"
	"rabbitmq-esm/lambdakit/lambdabuild"
)

// ProvisionerArgs configure the Provisioner component.
type ProvisionerArgs struct {
	// Option is the networking option's table row: where the provisioner runs and which
	// route the diagnosis expects the ESM to use. Required.
	Option Option
	// Config supplies the queue, virtual host, delivery limit and log retention. Required.
	Config Config
	// Broker is the broker to provision and to diagnose. Required.
	Broker *Broker
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

	// members: the diagnosis and the queue declaration, which the mapping must wait for.
	members
}

// NewProvisioner creates the function and runs the diagnosis, then the declaration.
func NewProvisioner(ctx *pulumi.Context, name string, args *ProvisionerArgs, opts ...pulumi.ResourceOption) (*Provisioner, error) {
	p := &Provisioner{}
	if err := ctx.RegisterComponentResource(typeToken("Provisioner"), name, p, opts...); err != nil {
		return nil, err
	}
	cfg, opt := args.Config, args.Option

	vpcConfig, networkStatements := besideTheBroker(opt, args.Broker)
	statements := slices.Concat([]statement{
		{sid: "ReadBrokerCredentials", actions: []string{"secretsmanager:GetSecretValue"}, resources: pulumi.StringArray{args.Broker.SecretArn}},
	}, networkStatements)
	environment := brokerEnvironment(args.Broker, cfg.VirtualHost, cfg.DeliveryLimit)
	environment[contract.EnvQueueName] = pulumi.String(cfg.QueueName)
	environment[contract.EnvNetworkMode] = pulumi.String(string(cfg.NetworkMode))
	environment[contract.EnvServiceRoute] = pulumi.String(string(opt.ServiceRoute))
	environment[contract.EnvEngineVersion] = pulumi.String(cfg.EngineVersion)
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
		logRetentionDays: cfg.LogRetentionDays,
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
		"credentials":   args.Broker.CredentialsVersion,
		"queue":         pulumi.String(cfg.QueueName),
		"virtualHost":   pulumi.String(cfg.VirtualHost),
		"deliveryLimit": pulumi.String(strconv.Itoa(cfg.DeliveryLimit)),
		"engineVersion": pulumi.String(cfg.EngineVersion),
		"code":          pulumi.String(args.Archive.SHA256),
	}
	diagnoseAfter := slices.Concat([]pulumi.Resource{fn.function}, args.Broker.Members(), args.NetworkPath)
	diagnosis, err := lambda.NewInvocation(ctx, name+"-diagnose", &lambda.InvocationArgs{
		FunctionName: fn.function.Name,
		Input:        pulumi.String(`{"action":"diagnose"}`),
		Triggers:     triggers,
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
	p.FunctionName = fn.function.Name
	p.Diagnosis = diagnosis.Result
	p.Declared = declared.Result
	return p, ctx.RegisterResourceOutputs(p, pulumi.Map{
		"functionName": p.FunctionName,
		"diagnosis":    p.Diagnosis,
		"declared":     p.Declared,
	})
}
