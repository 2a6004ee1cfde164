// Command existing-broker feeds a Lambda listener from a queue on an Amazon MQ for RabbitMQ
// broker that already exists, with two of this project's components and none of its stack
// configuration: no Broker, no Network, no option table.
//
//   - infra.Provisioner runs beside the broker (in its subnets and security groups, for a
//     private broker), checks at deployment that the mapping's path to STS, Secrets Manager,
//     Lambda and the broker works, and declares the queue as a quorum queue that dead-letters
//     after 5 deliveries. Leave it out if the queue exists already, with its dead-lettering.
//   - infra.EventSource is the listener, its role and log group, and the event source mapping.
//
// Given a private broker, the mapping puts its network interfaces in the broker's subnets with
// the broker's security groups, whatever it is told: those groups must admit 5671 from
// themselves and let their members out on 5671 and on 443 to STS, Secrets Manager and Lambda
// (serviceRoute says through what). Pulumi.yaml describes every setting; Pulumi.example.yaml
// is a stack to copy. Costs: two Lambda functions and their logs, billed per use; the broker
// is yours. `pulumi destroy` removes what this program made and waits out the mapping's
// interfaces; it leaves the broker, the queue and its messages.
//
// Run it from this directory (the functions are built from the module two levels up):
//
//	pulumi stack init dev && cp Pulumi.example.yaml Pulumi.dev.yaml   # then your values
//	pulumi up
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/rabbitmq-esm/rabbitmq-esm/infra"
	"github.com/rabbitmq-esm/rabbitmq-esm/infra/eniwait"
	"github.com/rabbitmq-esm/rabbitmq-esm/infra/lambdabuild"
)

// moduleDir is the module that holds the listener and the provisioner, from this directory.
const moduleDir = "../.."

// What this example fixes rather than configures.
const (
	deliveryLimit    = 5
	batchSize        = 100
	logRetentionDays = 14
	eniWait          = 45 * time.Minute // Lambda takes up to ~35 minutes to remove interfaces
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		_, err := Program(ctx)
		return err
	})
}

// Settings are the stack's configuration; Pulumi.yaml describes each.
type Settings struct {
	BrokerArn, BrokerEndpoint, CredentialsSecretArn string
	EngineVersion, QueueName, VirtualHost           string
	// SubnetIDs and SecurityGroupIDs are a private broker's; empty for a public one.
	SubnetIDs, SecurityGroupIDs []string
	ServiceRoute                infra.ServiceRoute
	// AWSRegion and AWSProfile are the aws provider's (aws:region, aws:profile), which the
	// deletion hooks call EC2 with.
	AWSRegion, AWSProfile string
}

// Deployed is what Deploy built.
type Deployed struct {
	Provisioner *infra.Provisioner
	EventSource *infra.EventSource
}

// Program reads the settings, builds the functions and deploys them.
func Program(ctx *pulumi.Context) (*Deployed, error) {
	s, err := ReadSettings(ctx)
	if err != nil {
		return nil, err
	}
	arts, err := lambdabuild.BuildAll(context.Background(),
		infra.LambdaSpec(moduleDir, infra.ListenerPackage), infra.LambdaSpec(moduleDir, infra.ProvisionerPackage))
	if err != nil {
		return nil, err
	}
	d, err := Deploy(ctx, s, arts[0], arts[1])
	if err != nil {
		return nil, err
	}
	ctx.Export("listenerFunctionName", d.EventSource.FunctionName)
	ctx.Export("eventSourceMappingId", d.EventSource.MappingID)
	ctx.Export("diagnosis", d.Provisioner.Diagnosis)
	return d, nil
}

// Deploy registers the provisioner and the event source for the broker the settings name.
func Deploy(ctx *pulumi.Context, s Settings, listener, provisioner lambdabuild.Artifact) (*Deployed, error) {
	// The broker as its clients reach it: all the components need of it.
	broker := infra.BrokerConnection{
		Arn:       pulumi.String(s.BrokerArn),
		Endpoint:  pulumi.String(s.BrokerEndpoint),
		SecretArn: pulumi.String(s.CredentialsSecretArn),
	}
	// A private broker's mapping and functions make interfaces in its subnets, which outlive
	// them; the hooks wait them out on destroy, before the functions' roles, with which
	// Lambda removes them, are deleted.
	var mappingHook, functionHook *pulumi.ResourceHook
	if len(s.SubnetIDs) > 0 {
		broker.Private = &infra.BrokerPlacement{
			SubnetIDs:        pulumi.ToStringArray(s.SubnetIDs),
			SecurityGroupIDs: pulumi.ToStringArray(s.SecurityGroupIDs),
		}
		hook := eniwait.HookSettings{Region: s.AWSRegion, Profile: s.AWSProfile, Timeout: eniWait}
		var err error
		if mappingHook, err = eniwait.NewESMHook(ctx, "existing-broker-wait-esm-enis", hook); err != nil {
			return nil, err
		}
		if functionHook, err = eniwait.NewFunctionHook(ctx, "existing-broker-wait-function-enis", hook); err != nil {
			return nil, err
		}
	}
	queue := infra.Queue{Name: s.QueueName, VirtualHost: s.VirtualHost, DeliveryLimit: deliveryLimit}
	tags := pulumi.StringMap{"example": pulumi.String("existing-broker")}

	prov, err := infra.NewProvisioner(ctx, "orders-provisioner", &infra.ProvisionerArgs{
		Broker:           broker,
		Queue:            queue,
		EngineVersion:    s.EngineVersion,
		ServiceRoute:     s.ServiceRoute,
		NetworkName:      ctx.Project(),
		LogRetentionDays: logRetentionDays,
		Archive:          provisioner,
		DeleteHook:       functionHook,
		Tags:             tags,
	})
	if err != nil {
		return nil, err
	}
	// The mapping polls once the queue exists: created earlier, it would fail and sit in PROBLEM.
	events, err := infra.NewEventSource(ctx, "orders", &infra.EventSourceArgs{
		Broker:             broker,
		Queue:              queue,
		BatchSize:          batchSize,
		LogRetentionDays:   logRetentionDays,
		ListenerArchive:    listener,
		Prerequisites:      prov.Members(),
		DeleteHook:         mappingHook,
		FunctionDeleteHook: functionHook,
		Tags:               tags,
	})
	if err != nil {
		return nil, err
	}
	return &Deployed{Provisioner: prov, EventSource: events}, nil
}

// ReadSettings reads the stack's configuration with the context's own look-up (Pulumi's
// config package would add a dependency to the module for nothing more) and names every
// required key that is missing.
func ReadSettings(ctx *pulumi.Context) (Settings, error) {
	get := func(key string) string {
		if !strings.Contains(key, ":") {
			key = ctx.Project() + ":" + key
		}
		value, _ := ctx.GetConfig(key)
		return value
	}
	s := Settings{
		BrokerArn: get("brokerArn"), BrokerEndpoint: get("brokerEndpoint"), CredentialsSecretArn: get("credentialsSecretArn"),
		EngineVersion: get("engineVersion"), QueueName: get("queueName"), VirtualHost: get("virtualHost"),
		ServiceRoute: infra.ServiceRoute(get("serviceRoute")), AWSRegion: get("aws:region"), AWSProfile: get("aws:profile"),
	}
	var missing []string
	for key, value := range map[string]string{"brokerArn": s.BrokerArn, "brokerEndpoint": s.BrokerEndpoint, "credentialsSecretArn": s.CredentialsSecretArn} {
		if value == "" {
			missing = append(missing, ctx.Project()+":"+key)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return Settings{}, fmt.Errorf("%s is required: pulumi config set <key> <value> (Pulumi.yaml describes every key)", strings.Join(missing, ", "))
	}
	// This program creates no endpoints; and stack files written before the routes took the
	// project's serviceRoute names say nat-gateway or interface-endpoints.
	switch s.ServiceRoute {
	case infra.RouteEndpoints, "interface-endpoints":
		return Settings{}, fmt.Errorf("%s:serviceRoute = %s: this program creates no interface endpoints; if the broker's VPC has them, "+
			"set it to %s", ctx.Project(), s.ServiceRoute, infra.RouteExistingEndpoints)
	case "nat-gateway":
		return Settings{}, fmt.Errorf("%s:serviceRoute = %s: the route is now called %s", ctx.Project(), s.ServiceRoute, infra.RouteNAT)
	}
	for key, into := range map[string]*[]string{"subnetIds": &s.SubnetIDs, "securityGroupIds": &s.SecurityGroupIDs} {
		if raw := get(key); raw != "" {
			if err := json.Unmarshal([]byte(raw), into); err != nil {
				return Settings{}, fmt.Errorf("%s:%s = %s: must be a list of ids, e.g. [\"subnet-0abc\"]", ctx.Project(), key, raw)
			}
		}
	}
	return s, nil
}
