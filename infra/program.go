// Package infra is the Pulumi program: it reads and validates the stack's configuration,
// looks up what it needs from the account, and builds the networking option the stack's
// networkMode names from its components — Network, Broker, Endpoints, Provisioner, Rotation,
// EventSource, Monitor, Alarms and Dashboard.
package infra

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
	"github.com/rabbitmq-esm/rabbitmq-esm/infra/eniwait"
	"github.com/rabbitmq-esm/rabbitmq-esm/infra/lambdabuild"
)

// Env is where the program runs from.
type Env struct {
	// ProjectDir is the directory of Pulumi.yaml and go.mod; the Lambda sources are built
	// from there. Pulumi runs the program in it, so "." in production.
	ProjectDir string
}

// networkName is the Network component's name, which awsx puts in its subnets' names.
const networkName = ProjectName + "-network"

// Stack is everything Deploy built, for tests and tools that inspect the program.
type Stack struct {
	Config      Config
	Facts       Facts
	Network     *Network // nil for the public option
	Broker      *Broker
	Endpoints   *Endpoints // nil unless the option routes through interface endpoints it creates, or lets its own group out to the VPC's
	Provisioner *Provisioner
	Rotation    *Rotation // nil with credentialRotation off
	EventSource *EventSource
	Monitor     *Monitor
	Alarms      *Alarms
	Dashboard   *Dashboard
	// MetricsStack names the stack in AWS: the monitor's metrics' Stack dimension, the
	// alarms' and the dashboard's names.
	MetricsStack string
}

// Run is the program's entry point: configuration from the stack, project files from the
// working directory.
func Run(ctx *pulumi.Context) error {
	cfg, err := LoadConfig(ctx)
	if err != nil {
		return err
	}
	_, err = Deploy(ctx, cfg, Env{ProjectDir: "."})
	return err
}

// LoadConfig reads the stack's whole configuration. The Go SDK answers only for keys asked by
// name, but unknown keys of this project (typos) must be reported, so it reads the map the
// Pulumi CLI hands every Go program in PULUMI_CONFIG.
func LoadConfig(ctx *pulumi.Context) (Config, error) {
	raw := map[string]string{}
	if env := os.Getenv(pulumi.EnvConfig); env != "" {
		if err := json.Unmarshal([]byte(env), &raw); err != nil {
			return Config{}, fmt.Errorf("reading the stack configuration from %s: %w", pulumi.EnvConfig, err)
		}
	}
	return ParseConfig(ctx.Stack(), raw)
}

// Deploy registers the stack's resources. Everything that can fail without creating anything —
// the account look-ups and the Lambda builds — happens before the first registration.
func Deploy(ctx *pulumi.Context, cfg Config, env Env) (*Stack, error) {
	opt := cfg.Option()
	facts, err := lookupFacts(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if len(facts.refused.errs) == 0 {
		// The verifier's view of a network already refused would only repeat the refusal.
		facts.refused.add(checkReachability(cfg, facts))
	}
	if err := facts.refused.settle(ctx, tearingDown()); err != nil {
		return nil, err
	}
	archives, err := buildLambdas(env)
	if err != nil {
		return nil, err
	}

	st := &Stack{Config: cfg, Facts: facts, MetricsStack: metricsStack(ctx.Stack())}
	hooks, err := registerENIHooks(ctx, cfg)
	if err != nil {
		return nil, err
	}
	tags := resourceTags(ctx, cfg)
	prefix := ProjectName

	if opt.VPC != VPCNone {
		st.Network, err = NewNetwork(ctx, networkName, &NetworkArgs{
			Option:      opt,
			CidrBlock:   cfg.VPCCidr,
			Zones:       facts.Zones,
			Layout:      facts.Layout,
			NATStrategy: cfg.NATGateways,
			DefaultVPC:  facts.DefaultVPC,
			ExistingVPC: facts.ExistingVPC,
			Tags:        tags,
		})
		if err != nil {
			return nil, err
		}
	}

	brokerArgs := &BrokerArgs{
		BrokerName: cfg.BrokerName, EngineVersion: cfg.EngineVersion, InstanceType: cfg.InstanceType,
		DeploymentMode: cfg.DeploymentMode, AdminUsername: cfg.AdminUsername,
		MappingUsername: cfg.MappingUsername, DeadLetterUsername: cfg.DeadLetterUsername, MonitorUsername: cfg.MonitorUsername,
		PubliclyAccessible: opt.PublicBroker, ServiceRoute: opt.ServiceRoute, AdminAccessCIDRs: cfg.AdminAccessCIDRs,
		GroupDeleteHook: hooks.group, Tags: tags,
	}
	if opt.OwnBrokerGroup() {
		brokerArgs.VpcID, brokerArgs.SubnetIDs = st.Network.VpcID, st.Network.TierSubnetIDs
		if ids := keptSubnets(facts, cfg.VPCCidr, opt.BrokerTier, brokerSubnetCount(cfg.DeploymentMode, len(facts.Zones))); ids != nil {
			brokerArgs.SubnetIDs = pulumi.ToStringArray(ids)
		}
	}
	if dv := facts.DefaultVPC; dv != nil {
		brokerArgs.DefaultSecurityGroupID = dv.SecurityGroupID
		brokerArgs.SubnetIDs = pulumi.ToStringArray([]string{dv.BrokerSubnetID})
	}
	if st.Broker, err = NewBroker(ctx, prefix+"-broker", brokerArgs); err != nil {
		return nil, err
	}

	var networkPath []pulumi.Resource
	if st.Network != nil {
		networkPath = append(networkPath, st.Network.Members()...)
	}
	if endpointArgs := endpointsArgs(cfg, facts); endpointArgs != nil {
		endpointArgs.Region, endpointArgs.VpcID, endpointArgs.SubnetIDs = facts.Region, st.Network.VpcID, st.Network.TierSubnetIDs
		if ev := facts.ExistingVPC; ev != nil && len(ev.EndpointSubnets) > 0 {
			// endpointSubnetIds: the endpoints also go in zones the broker's subnets do not cover.
			endpointArgs.SubnetIDs = pulumi.ToStringArray(ev.EndpointSubnetIDs()).ToStringArrayOutput()
		}
		endpointArgs.ClientSecurityGroupID, endpointArgs.Tags = st.Broker.SecurityGroupID, tags
		if st.Endpoints, err = NewEndpoints(ctx, prefix+"-endpoints", endpointArgs); err != nil {
			return nil, err
		}
		networkPath = append(networkPath, st.Endpoints.Members()...)
	}

	broker := st.Broker.Connection()
	queue := Queue{Name: cfg.QueueName, VirtualHost: cfg.VirtualHost, DeliveryLimit: cfg.DeliveryLimit}
	st.Provisioner, err = NewProvisioner(ctx, prefix+"-provisioner", &ProvisionerArgs{
		Broker: broker, Queue: queue, EngineVersion: cfg.EngineVersion, LogRetentionDays: cfg.LogRetentionDays,
		ServiceRoute: opt.ServiceRoute, NetworkName: string(cfg.NetworkMode),
		Archive:        archives.provisioner,
		NetworkPath:    networkPath,
		DeleteHook:     hooks.function,
		RoleDeleteHook: hooks.roles,
		Tags:           tags,
	})
	if err != nil {
		return nil, err
	}

	if cfg.CredentialRotation != RotationOff {
		st.Rotation, err = NewRotation(ctx, prefix+"-rotation", &RotationArgs{
			Broker: broker, Queue: queue, Schedule: cfg.CredentialRotation, LogRetentionDays: cfg.LogRetentionDays,
			Archive: archives.rotator,
			// The users exist before their secrets can rotate.
			After:      st.Provisioner.Members(),
			DeleteHook: hooks.function,
			// No role hook: it waits for every Lambda interface in the broker's group, the
			// provisioner's and the listener's included, so turning rotation off alone would
			// wait for interfaces that stay. The rotator's role serves only its function's
			// own interfaces, which DeleteHook waits out before the role goes.
			Tags: tags,
		})
		if err != nil {
			return nil, err
		}
	}

	monitorFunction := monitorFunctionName(st.MetricsStack)
	st.EventSource, err = NewEventSource(ctx, prefix+"-events", &EventSourceArgs{
		Broker: broker, Queue: queue, BatchSize: cfg.BatchSize, MaxBatchingWindowSeconds: cfg.MaxBatchingWindowSeconds,
		LogRetentionDays: cfg.LogRetentionDays, LogMessageBodies: cfg.LogMessageBodies,
		ListenerArchive:    archives.listener,
		Prerequisites:      slices.Concat(networkPath, st.Provisioner.Members()),
		DeleteHook:         hooks.mapping,
		FunctionDeleteHook: hooks.function,
		RoleDeleteHook:     hooks.roles,
		Tags:               tags,
		MappingTags:        mappingGuardTags(opt, st.Broker, st.Provisioner, st.Rotation, monitorFunction),
	})
	if err != nil {
		return nil, err
	}

	// The monitor describes the mapping, so it comes after it.
	st.Monitor, err = NewMonitor(ctx, prefix+"-monitor", &MonitorArgs{
		Broker: broker, Queue: queue, MappingUUID: st.EventSource.MappingID, MappingArn: st.EventSource.MappingArn,
		MetricsStack: st.MetricsStack, FunctionName: monitorFunction, LogRetentionDays: cfg.LogRetentionDays,
		Archive:    archives.monitor,
		DeleteHook: hooks.function,
		// No role hook: it waits for every Lambda interface in the broker's group, and the
		// monitor, created last, is deleted first, while the listener's, the provisioner's and
		// the mapping's interfaces stay until their owners go after it. DeleteHook waits out the
		// monitor's own interfaces before its role goes.
		Tags: tags,
	})
	if err != nil {
		return nil, err
	}
	if st.Alarms, err = NewAlarms(ctx, prefix+"-alarms", &AlarmsArgs{
		Prefix: st.MetricsStack, Stack: ctx.Stack(), MetricsStack: st.MetricsStack,
		ListenerFunctionName: st.EventSource.FunctionName, BrokerName: cfg.BrokerName, Settings: cfg.Alarms, Tags: tags,
	}); err != nil {
		return nil, err
	}
	if st.Dashboard, err = NewDashboard(ctx, prefix+"-dashboard", &DashboardArgs{
		Name: st.MetricsStack, Region: facts.Region, MetricsStack: st.MetricsStack,
		ListenerFunctionName: st.EventSource.FunctionName, BrokerName: cfg.BrokerName, AlarmArns: st.Alarms.AlarmArns,
	}); err != nil {
		return nil, err
	}
	exportOutputs(ctx, st)
	return st, nil
}

// metricsStack is "<project>-<stack>" with what AWS refuses in a dashboard's or a function's
// name (a stack name may hold '.') made '-'.
func metricsStack(stack string) string {
	return notInAWSNames.ReplaceAllString(ProjectName+"-"+stack, "-")
}

var notInAWSNames = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// monitorFunctionName is the monitor's fixed name, within Lambda's 64 characters.
func monitorFunctionName(metricsStack string) string {
	const suffix = "-monitor"
	return truncate(metricsStack, 64-len(suffix)) + suffix
}

// eniHooks wait for the network interfaces Lambda made in the VPC.
type eniHooks struct {
	mapping  *pulumi.ResourceHook // after the ESM's deletion: its interfaces
	function *pulumi.ResourceHook // after a VPC-attached function's deletion: its interfaces
	group    *pulumi.ResourceHook // before the broker's group's deletion: any Lambda interface carrying it
	roles    *pulumi.ResourceHook // before the functions' roles' deletion: the same, the group found by its tags
}

// registerENIHooks registers the hooks where the option puts interfaces in a VPC; a public
// broker's mapping and functions make none.
func registerENIHooks(ctx *pulumi.Context, cfg Config) (eniHooks, error) {
	if !cfg.Option().ESMHasENIs() {
		return eniHooks{}, nil
	}
	settings := eniwait.HookSettings{
		Region:  cfg.AWSRegion,
		Profile: cfg.AWSProfile,
		Timeout: time.Duration(cfg.ENIWaitTimeoutMinutes) * time.Minute,
	}
	mapping, err := eniwait.NewESMHook(ctx, ProjectName+"-wait-esm-enis", settings)
	if err != nil {
		return eniHooks{}, err
	}
	function, err := eniwait.NewFunctionHook(ctx, ProjectName+"-wait-function-enis", settings)
	if err != nil {
		return eniHooks{}, err
	}
	hooks := eniHooks{mapping: mapping, function: function}
	if !cfg.Option().OwnBrokerGroup() {
		// The default VPC's default group is shared with other workloads: a wait on it could
		// wait for interfaces that are not this stack's.
		return hooks, nil
	}
	if hooks.group, err = eniwait.NewGroupHook(ctx, ProjectName+"-wait-group-enis", settings); err != nil {
		return eniHooks{}, err
	}
	hooks.roles, err = eniwait.NewTaggedGroupsHook(ctx, ProjectName+"-wait-role-enis", settings, stackTags(ctx, cfg))
	return hooks, err
}

// mappingGuardTags let the mapping's delete hook find its interfaces without relying on
// their description, where the broker's group is the stack's own (eniwait.Guard): there, the
// only other Lambda interfaces are the provisioner's, the rotator's, the monitor's and the
// listener's. The monitor comes after the mapping: its fixed name stands for it.
func mappingGuardTags(opt Option, broker *Broker, provisioner *Provisioner, rotation *Rotation, monitorFunction string) pulumi.StringMap {
	if !opt.ESMHasENIs() || !opt.OwnBrokerGroup() {
		return nil
	}
	functions := pulumi.StringArray{provisioner.FunctionName, pulumi.String(monitorFunction)}
	if rotation != nil {
		functions = append(functions, rotation.FunctionName)
	}
	return eniwait.GuardTags(pulumi.StringArray{broker.SecurityGroupID}, functions)
}

// endpointsArgs says what the Endpoints component does for the option, nil for nothing: create
// the endpoints (with rules admitting the VPC's blocks), or — where the VPC has its own and
// the broker's group is the program's — let that group out to them. The default VPC's
// default group lets everything out already.
func endpointsArgs(cfg Config, facts Facts) *EndpointsArgs {
	opt := cfg.Option()
	switch {
	case opt.CreatesEndpoints():
		cidrs := []string{cfg.VPCCidr}
		switch {
		case facts.DefaultVPC != nil:
			cidrs = facts.DefaultVPC.CIDRs
		case facts.ExistingVPC != nil:
			cidrs = facts.ExistingVPC.CIDRs
		}
		return &EndpointsArgs{VpcCIDRs: cidrs, ManageClientEgress: opt.OwnBrokerGroup()}
	case opt.NeedsInterfaceEndpoints() && opt.OwnBrokerGroup() && facts.ExistingVPC != nil:
		ev := facts.ExistingVPC
		ids := map[string]string{}
		for svc, ep := range ev.Endpoints {
			ids[svc] = ep.ID
		}
		return &EndpointsArgs{Existing: ids, ExistingGroups: ev.EndpointGroups(), ManageClientEgress: true}
	}
	return nil
}

func exportOutputs(ctx *pulumi.Context, st *Stack) {
	for key, value := range stackOutputs(st) {
		ctx.Export(key, value)
	}
}

// stackOutputs are the stack's outputs; the ones of a VPC exist only where the option has one.
// None of them holds the admin password: it stays in Secrets Manager and in the state, encrypted.
func stackOutputs(st *Stack) pulumi.Map {
	out := pulumi.Map{
		"version":                 pulumi.String(Version),
		"networkMode":             pulumi.String(string(st.Config.NetworkMode)),
		"awsRegion":               pulumi.String(st.Facts.Region),
		"brokerId":                st.Broker.ID,
		"brokerArn":               st.Broker.Arn,
		"amqpsEndpoint":           st.Broker.Endpoint,
		"consoleUrl":              st.Broker.ConsoleURL,
		"credentialsSecretArn":    st.Broker.SecretArn,
		"mappingSecretArn":        st.Broker.MappingSecretArn,
		"deadLetterSecretArn":     st.Broker.DeadLetterSecretArn,
		"brokerLogGroupName":      st.Broker.GeneralLogGroupName,
		"queueName":               pulumi.String(st.Config.QueueName),
		"virtualHost":             pulumi.String(st.Config.VirtualHost),
		"listenerFunctionName":    st.EventSource.FunctionName,
		"listenerLogGroupName":    st.EventSource.LogGroupName,
		"eventSourceMappingId":    st.EventSource.MappingID,
		"provisionerFunctionName": st.Provisioner.FunctionName,
		"diagnosis":               st.Provisioner.Diagnosis,
		"monitorSecretArn":        st.Broker.MonitorSecretArn,
		"monitorFunctionName":     st.Monitor.FunctionName,
		"monitorLogGroupName":     st.Monitor.LogGroupName,
		"metricsNamespace":        pulumi.String(contract.MetricNamespace),
		"metricsStack":            pulumi.String(st.MetricsStack),
		"alarmTopicArn":           st.Alarms.TopicArn,
		"alarmNames":              st.Alarms.AlarmNames,
		"dashboardName":           st.Dashboard.Name,
	}
	if st.Network != nil {
		out["vpcId"] = st.Network.VpcID
		out["subnetIds"] = st.Network.TierSubnetIDs
		out["securityGroupId"] = st.Broker.SecurityGroupID
	}
	switch {
	case st.Endpoints != nil && st.Config.Option().CreatesEndpoints():
		out["endpointSecurityGroupId"] = st.Endpoints.SecurityGroupID
		out["vpcEndpointIds"] = st.Endpoints.EndpointIDs
	case st.Endpoints != nil:
		// The VPC's own endpoints: their groups are the user's.
		out["vpcEndpointIds"] = st.Endpoints.EndpointIDs
	case st.Facts.DefaultVPC != nil && st.Facts.DefaultVPC.ExistingEndpoints != nil:
		out["vpcEndpointIds"] = pulumi.ToStringMap(st.Facts.DefaultVPC.ExistingEndpoints)
	}
	return out
}

// stackTags are the project's own tags, which tell this stack's resources from any other's.
func stackTags(ctx *pulumi.Context, cfg Config) map[string]string {
	return map[string]string{
		tagProject:     ProjectName,
		tagStack:       ctx.Stack(),
		tagNetworkMode: string(cfg.NetworkMode),
	}
}

// resourceTags are applied to every taggable resource: the user's and the project's own
// (validate refuses user tags with the project's keys).
func resourceTags(ctx *pulumi.Context, cfg Config) pulumi.StringMap {
	tags := map[string]string{}
	maps.Copy(tags, cfg.Tags)
	maps.Copy(tags, stackTags(ctx, cfg))
	return pulumi.ToStringMap(tags)
}

// The Lambda functions of this module, as packages relative to the module root.
const (
	ListenerPackage    = "./listener"
	ProvisionerPackage = "./provisioner"
	RotatorPackage     = "./rotator"
	MonitorPackage     = "./monitor"
)

// LambdaPackages are every function the program deploys.
var LambdaPackages = []string{ListenerPackage, ProvisionerPackage, RotatorPackage, MonitorPackage}

// lambdaArchives are the functions the program deploys, built.
type lambdaArchives struct{ listener, provisioner, rotator, monitor lambdabuild.Artifact }

// buildLambdas builds the functions of this module for Lambda's arm64 runtime, together.
func buildLambdas(env Env) (lambdaArchives, error) {
	arts, err := lambdabuild.BuildAll(context.Background(), LambdaSpec(env.ProjectDir, ListenerPackage), LambdaSpec(env.ProjectDir, ProvisionerPackage),
		LambdaSpec(env.ProjectDir, RotatorPackage), LambdaSpec(env.ProjectDir, MonitorPackage))
	if err != nil {
		return lambdaArchives{}, fmt.Errorf("building the Lambda functions (the program builds them itself: "+
			"the go command must be on the PATH of the machine that runs pulumi): %w", err)
	}
	return lambdaArchives{listener: arts[0], provisioner: arts[1], rotator: arts[2], monitor: arts[3]}, nil
}

// mergeTags returns a new map with the tags of each map in turn, later ones winning.
func mergeTags(tagMaps ...pulumi.StringMap) pulumi.StringMap {
	merged := pulumi.StringMap{}
	for _, m := range tagMaps {
		maps.Copy(merged, m)
	}
	return merged
}
