// Package offline answers the Pulumi Go SDK's mocks from the account simaccount declares (the
// one the real-engine suite's stand-in AWS holds too), records everything, and fails on any
// resource type or look-up it does not know, so that nothing the program adds can slip past
// the tests and the offline plan unexamined.
package offline

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/simaccount"
)

// The offline account's own answers; the rest of the account is simaccount's.
var (
	BrokerID      = "b-1234abcd-56ef-78ab-90cd-ef1234567890"
	AdminPassword = "offline-generated-password-Aa1!"
)

// Resource is one resource the program registered, as the engine would see it.
type Resource struct {
	Type      string
	Name      string
	ID        string
	Custom    bool
	Inputs    resource.PropertyMap
	Outputs   resource.PropertyMap
	Parent    string   // URN
	DependsOn []string // URNs
	// DeleteBeforeReplace is the resource option of that name.
	DeleteBeforeReplace bool
	// AfterDeleteHooks and BeforeDeleteHooks are the names of the resource hooks bound to run
	// after and before its deletion.
	AfterDeleteHooks, BeforeDeleteHooks []string
	// IgnoreChanges and ReplaceOnChanges are the resource options of those names.
	IgnoreChanges, ReplaceOnChanges []string
	// ReplacementTrigger is set when the resource has that option.
	ReplacementTrigger bool
	// Timeouts are the custom create, update and delete timeouts, "" where unset.
	Timeouts [3]string
}

// Account implements pulumi.MockResourceMonitor. The zero value is ready to use.
type Account struct {
	mu        sync.Mutex
	resources []Resource
	calls     []string
	// FailCalls makes a look-up fail, by token, to simulate an account without something
	// (for example "aws:ec2/getVpc:getVpc" for an account without a default VPC).
	FailCalls map[string]error
	// ExistingEndpoints: the default VPC already has sts, secretsmanager and lambda endpoints
	// (with private DNS, but for the services in NoPrivateDNS).
	ExistingEndpoints bool
	// NoPrivateDNS lists endpoint services whose existing endpoint has private DNS off.
	NoPrivateDNS []string
	// PrivateZones lists services whose name has a private hosted zone in the default VPC.
	PrivateZones []string
	// UserVPC is the user's own VPC (existingvpc); nil: NewUserVPC's, as the shipped stack
	// file names it. Tests change a copy to break it.
	UserVPC *UserVPC
	// DefaultGroupRules are the default security group's rules; nil: as AWS creates it (all
	// traffic from itself in, everything out). Empty: emptied, as CIS AWS Foundations 5.4 asks.
	DefaultGroupRules []simaccount.Rule
	// DefaultVPCDNSHostnamesOff turns the default VPC's enableDnsHostnames off.
	DefaultVPCDNSHostnamesOff bool
	// StackNetwork is the VPC an earlier up of the stack built, as the program's look-up of its
	// own subnets (by its tags) finds it; nil: none.
	StackNetwork *StackNetwork
	// Broker is what getBroker answers for the stack's broker name, as the provider's data
	// source names the fields (engineVersion, hostInstanceType, deploymentMode, ...); nil: the
	// account has no broker of that name yet.
	Broker map[string]any
}

// NewResource answers a registration with the outputs AWS would give.
func (m *Account) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	out := args.Inputs.Copy()
	id := args.Name + "-id"
	set := func(key string, v any) { out[resource.PropertyKey(key)] = resource.NewPropertyValue(v) }
	arn := func(service, suffix string) string {
		return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, simaccount.Region, simaccount.AccountID, suffix)
	}

	switch args.TypeToken {
	case "rabbitmq-esm:infra:Network", "rabbitmq-esm:infra:Broker", "rabbitmq-esm:infra:Endpoints", "rabbitmq-esm:infra:EventSource",
		"rabbitmq-esm:infra:Provisioner", "rabbitmq-esm:infra:Rotation", "rabbitmq-esm:infra:Monitor", "rabbitmq-esm:infra:Alarms",
		"rabbitmq-esm:infra:Dashboard":
		id = ""
	case "awsx:ec2:Vpc":
		id = ""
		vpcID := args.Name + "-vpc"
		set("vpcId", vpcID)
		zones := args.Inputs["availabilityZoneNames"].ArrayValue()
		tiers := map[string][]any{"Public": {}, "Private": {}, "Isolated": {}}
		for _, spec := range args.Inputs["subnetSpecs"].ArrayValue() {
			tier := spec.ObjectValue()["type"].StringValue()
			for _, z := range zones {
				tiers[tier] = append(tiers[tier], fmt.Sprintf("subnet-%s-%s", strings.ToLower(tier), z.StringValue()))
			}
		}
		set("publicSubnetIds", tiers["Public"])
		set("privateSubnetIds", tiers["Private"])
		set("isolatedSubnetIds", tiers["Isolated"])
	case "random:index/randomPassword:RandomPassword":
		out["result"] = resource.MakeSecret(resource.NewStringProperty(AdminPassword))
	case "aws:secretsmanager/secret:Secret":
		set("arn", arn("secretsmanager", "secret:"+args.Name+"-AbCdEf"))
	case "aws:secretsmanager/secretVersion:SecretVersion":
	case "aws:mq/broker:Broker":
		id = BrokerID
		set("arn", arn("mq", "broker:"+args.Inputs["brokerName"].StringValue()+":"+BrokerID))
		if _, given := args.Inputs["subnetIds"]; !given && !args.Inputs["publiclyAccessible"].BoolValue() {
			// Given no subnets, Amazon MQ places a private broker in a default subnet.
			set("subnetIds", []any{simaccount.DefaultSubnetID(simaccount.ServiceZones[0])})
		}
		set("instances", []any{map[string]any{
			"consoleUrl": "https://" + BrokerID + ".mq." + simaccount.Region + ".amazonaws.com",
			"endpoints":  []any{"amqps://" + BrokerID + ".mq." + simaccount.Region + ".amazonaws.com:5671"},
		}})
	case "aws:ec2/securityGroup:SecurityGroup":
		id = "sg-" + args.Name
	case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":
	case "aws:ec2/vpcEndpoint:VpcEndpoint":
		id = "vpce-" + args.Name
	case "aws:cloudwatch/logGroup:LogGroup":
		name := args.Inputs["namePrefix"].StringValue() + "0001"
		id = name
		set("name", name)
		set("arn", arn("logs", "log-group:"+name))
	case "aws:iam/role:Role":
		set("arn", "arn:aws:iam::"+simaccount.AccountID+":role/"+args.Name)
		set("name", args.Name)
	case "aws:iam/rolePolicy:RolePolicy":
	case "aws:lambda/function:Function":
		name := args.Name + "-fn"
		if given, ok := args.Inputs["name"]; ok && given.IsString() {
			name = given.StringValue()
		}
		set("name", name)
		set("arn", arn("lambda", "function:"+name))
	case "aws:lambda/eventSourceMapping:EventSourceMapping":
		id = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
		set("uuid", id)
		set("arn", arn("lambda", "event-source-mapping:"+id))
	case "aws:cloudwatch/eventRule:EventRule":
		set("name", args.Name)
		set("arn", arn("events", "rule/"+args.Name))
	case "aws:cloudwatch/eventTarget:EventTarget":
	case "aws:cloudwatch/metricAlarm:MetricAlarm":
		id = args.Inputs["name"].StringValue()
		set("arn", arn("cloudwatch", "alarm:"+id))
	case "aws:cloudwatch/dashboard:Dashboard":
		id = args.Inputs["dashboardName"].StringValue()
		set("dashboardArn", "arn:aws:cloudwatch::"+simaccount.AccountID+":dashboard/"+id)
	case "aws:sns/topic:Topic":
		set("name", args.Name)
		set("arn", arn("sns", args.Name))
	case "aws:sns/topicSubscription:TopicSubscription":
		set("arn", args.Inputs["topic"].StringValue()+":0a1b2c3d")
		set("pendingConfirmation", true)
	case "aws:lambda/invocation:Invocation":
		set("result", `{"ok":true}`)
	case "aws:lambda/permission:Permission":
		id = args.Inputs["statementId"].StringValue()
	case "aws:secretsmanager/secretRotation:SecretRotation":
		// RotateSecret answers with the secret's ARN, the resource's id.
		id = args.Inputs["secretId"].StringValue()
		set("rotationEnabled", true)
	default:
		return "", nil, fmt.Errorf("offline account: unexpected resource type %s (%s): add it to the mocks and assert it", args.TypeToken, args.Name)
	}

	r := Resource{Type: args.TypeToken, Name: args.Name, ID: id, Custom: args.Custom, Inputs: args.Inputs, Outputs: out}
	if rpc := args.RegisterRPC; rpc != nil {
		r.Parent = rpc.GetParent()
		r.DependsOn = rpc.GetDependencies()
		r.DeleteBeforeReplace = rpc.GetDeleteBeforeReplace()
		r.AfterDeleteHooks = rpc.GetHooks().GetAfterDelete()
		r.BeforeDeleteHooks = rpc.GetHooks().GetBeforeDelete()
		r.IgnoreChanges = rpc.GetIgnoreChanges()
		r.ReplaceOnChanges = rpc.GetReplaceOnChanges()
		r.ReplacementTrigger = rpc.GetReplacementTrigger() != nil
		if ct := rpc.GetCustomTimeouts(); ct != nil {
			r.Timeouts = [3]string{ct.GetCreate(), ct.GetUpdate(), ct.GetDelete()}
		}
	}
	m.mu.Lock()
	m.resources = append(m.resources, r)
	m.mu.Unlock()
	return id, out, nil
}

// Call answers a look-up (invoke) the way the simulated account would.
func (m *Account) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	m.mu.Lock()
	m.calls = append(m.calls, args.Token)
	failure := m.FailCalls[args.Token]
	m.mu.Unlock()
	if failure != nil {
		return nil, failure
	}
	str := func(key string) string {
		if v, ok := args.Args[resource.PropertyKey(key)]; ok && v.IsString() {
			return v.StringValue()
		}
		return ""
	}
	switch args.Token {
	case "aws:index/getRegion:getRegion":
		return resource.NewPropertyMapFromMap(map[string]any{"name": simaccount.Region, "id": simaccount.Region}), nil
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.NewPropertyMapFromMap(map[string]any{"id": simaccount.AccountID, "accountId": simaccount.AccountID,
			"arn": "arn:aws:iam::" + simaccount.AccountID + ":user/offline", "userId": "AIDAOFFLINE"}), nil
	case "aws:index/getAvailabilityZones:getAvailabilityZones":
		return resource.NewPropertyMapFromMap(map[string]any{"names": toAny(simaccount.Zones), "id": simaccount.Region}), nil
	case "aws:ec2/getVpcEndpointService:getVpcEndpointService":
		return resource.NewPropertyMapFromMap(map[string]any{"serviceName": str("serviceName"), "availabilityZones": toAny(simaccount.ServiceZones)}), nil
	case "aws:ec2/getVpc:getVpc":
		if out, ok := m.stackNetwork(args.Token, args.Args, str); ok {
			return out, nil
		}
		if id := str("id"); id != "" && id != simaccount.DefaultVPCID {
			return m.userVPC().vpc(id)
		}
		return resource.NewPropertyMapFromMap(map[string]any{"id": simaccount.DefaultVPCID, "default": true, "cidrBlock": simaccount.DefaultVPCCidr, "ownerId": simaccount.AccountID,
			"enableDnsSupport": true, "enableDnsHostnames": !m.DefaultVPCDNSHostnamesOff}), nil
	case "aws:ec2/getSubnet:getSubnet", "aws:vpc/getSecurityGroupRules:getSecurityGroupRules", "aws:vpc/getSecurityGroupRule:getSecurityGroupRule":
		if out, ok := m.stackNetwork(args.Token, args.Args, str); ok {
			return out, nil
		}
		if out, ok := m.defaultVPC(args.Token, args.Args, str); ok {
			return out, nil
		}
		return m.userVPC().call(args.Token, args.Args)
	case "aws:ec2/getRouteTables:getRouteTables", "aws:ec2/getRouteTable:getRouteTable":
		return m.userVPC().call(args.Token, args.Args)
	case "aws:ec2/getSubnets:getSubnets":
		if out, ok := m.stackNetwork(args.Token, args.Args, str); ok {
			return out, nil
		}
		zones := simaccount.Zones
		for _, f := range args.Args["filters"].ArrayValue() {
			if strings.HasPrefix(f.ObjectValue()["name"].StringValue(), "tag:") {
				// The program's look-up of its own earlier network: the offline account holds none.
				return resource.NewPropertyMapFromMap(map[string]any{"ids": []any{}, "id": simaccount.Region}), nil
			}
			if f.ObjectValue()["name"].StringValue() == "availability-zone" {
				zones = nil
				for _, z := range f.ObjectValue()["values"].ArrayValue() {
					zones = append(zones, z.StringValue())
				}
			}
		}
		var ids []any
		for _, z := range zones {
			ids = append(ids, simaccount.DefaultSubnetID(z))
		}
		return resource.NewPropertyMapFromMap(map[string]any{"ids": ids, "id": simaccount.Region}), nil
	case "aws:ec2/getSecurityGroup:getSecurityGroup":
		g, ok := simaccount.FindDefaultGroup(str("vpcId"))
		if !ok || str("name") != "default" {
			return nil, fmt.Errorf("offline account: getSecurityGroup is answered for a VPC's default group only")
		}
		return resource.NewPropertyMapFromMap(map[string]any{"id": g.ID, "name": "default", "vpcId": g.VPC}), nil
	case "aws:ec2/getVpcEndpoint:getVpcEndpoint", "aws:ec2/getNetworkInterfaces:getNetworkInterfaces",
		"aws:ec2/getNetworkInterface:getNetworkInterface":
		return m.endpointCall(args.Token, args.Args)
	case "aws:mq/getBroker:getBroker":
		if m.Broker == nil {
			return nil, fmt.Errorf("reading MQ Broker: empty result")
		}
		return resource.NewPropertyMapFromMap(m.Broker), nil
	case "aws:route53/getZone:getZone":
		svc, _, _ := strings.Cut(str("name"), ".")
		if !slices.Contains(m.PrivateZones, svc) {
			return nil, fmt.Errorf("no matching Route 53 Hosted Zone found")
		}
		return resource.NewPropertyMapFromMap(map[string]any{"id": "Z0PRIVATE" + svc, "zoneId": "Z0PRIVATE" + svc, "name": str("name"),
			"privateZone": true}), nil
	}
	return nil, fmt.Errorf("offline account: unexpected invoke %s: add it to the mocks and assert it", args.Token)
}

// StackNetwork is a VPC of the stack's with its subnets, each named as awsx names them.
type StackNetwork struct {
	VpcID, CIDR string
	Subnets     []StackSubnet
}

// StackSubnet is one subnet of a StackNetwork; Name empty: not the stack's.
type StackSubnet struct{ ID, Name, Zone, CIDR string }

// stackNetwork answers the look-ups of the stack's own earlier network; false for others.
func (m *Account) stackNetwork(token string, args resource.PropertyMap, str func(string) string) (resource.PropertyMap, bool) {
	n := m.StackNetwork
	if n == nil {
		return nil, false
	}
	switch token {
	case "aws:ec2/getSubnets:getSubnets":
		var ids []any
		for _, f := range args["filters"].ArrayValue() {
			name, values := f.ObjectValue()["name"].StringValue(), f.ObjectValue()["values"].ArrayValue()
			if name == "tag:stack" || (name == "vpc-id" && len(values) == 1 && values[0].StringValue() == n.VpcID) {
				for _, s := range n.Subnets {
					if s.Name != "" || name == "vpc-id" {
						ids = append(ids, s.ID)
					}
				}
				return resource.NewPropertyMapFromMap(map[string]any{"id": simaccount.Region, "ids": ids}), true
			}
		}
	case "aws:ec2/getSubnet:getSubnet":
		for _, s := range n.Subnets {
			if s.ID == str("id") {
				tags := map[string]any{}
				if s.Name != "" {
					tags = map[string]any{"Name": s.Name, "project": "rabbitmq-esm"}
				}
				return resource.NewPropertyMapFromMap(map[string]any{"id": s.ID, "vpcId": n.VpcID, "availabilityZone": s.Zone,
					"cidrBlock": s.CIDR, "tags": tags}), true
			}
		}
	case "aws:ec2/getVpc:getVpc":
		if str("id") == n.VpcID {
			return resource.NewPropertyMapFromMap(map[string]any{"id": n.VpcID, "cidrBlock": n.CIDR, "enableDnsSupport": true, "enableDnsHostnames": true}), true
		}
	}
	return nil, false
}

// defaultVPC answers the look-ups of the default VPC's subnets and default group's rules;
// false for another subnet or group.
func (m *Account) defaultVPC(token string, args resource.PropertyMap, str func(string) string) (resource.PropertyMap, bool) {
	rules := m.DefaultGroupRules
	if rules == nil {
		g, _ := simaccount.FindDefaultGroup(simaccount.DefaultVPCID)
		rules = g.Rules
	}
	switch token {
	case "aws:ec2/getSubnet:getSubnet":
		s, ok := simaccount.FindSubnet(str("id"))
		if !ok || !s.Default {
			return nil, false
		}
		return resource.NewPropertyMapFromMap(map[string]any{"id": s.ID, "vpcId": s.VPC, "availabilityZone": s.Zone,
			"cidrBlock": s.CIDR, "defaultForAz": true}), true
	case "aws:vpc/getSecurityGroupRules:getSecurityGroupRules":
		// The program asks for one group at a time.
		for _, f := range args["filters"].ArrayValue() {
			if vs := f.ObjectValue()["values"].ArrayValue(); f.ObjectValue()["name"].StringValue() == "group-id" && len(vs) == 1 && vs[0].StringValue() == simaccount.DefaultSGID {
				var ids []any
				for _, r := range rules {
					ids = append(ids, r.ID)
				}
				return resource.NewPropertyMapFromMap(map[string]any{"id": simaccount.Region, "ids": ids}), true
			}
		}
		return nil, false
	case "aws:vpc/getSecurityGroupRule:getSecurityGroupRule":
		for _, r := range rules {
			if r.ID == str("securityGroupRuleId") {
				return resource.NewPropertyMapFromMap(map[string]any{"id": r.ID, "securityGroupRuleId": r.ID, "securityGroupId": simaccount.DefaultSGID,
					"isEgress": r.Egress, "ipProtocol": r.Protocol, "fromPort": r.From, "toPort": r.To,
					"cidrIpv4": r.CIDR, "referencedSecurityGroupId": r.Group}), true
			}
		}
	}
	return nil, false
}

// userVPC is the account's user VPC.
func (m *Account) userVPC() *UserVPC {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.UserVPC == nil {
		m.UserVPC = NewUserVPC()
	}
	return m.UserVPC
}

func toAny(values []string) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out
}

// Calls returns the tokens of the look-ups made, in order.
func (m *Account) Calls() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.calls)
}

// ByType returns the registered resources of a type, in registration order.
func (m *Account) ByType(typ string) []Resource {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Resource
	for _, r := range m.resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// One returns the single resource of a type and name suffix, or fails.
func (m *Account) One(typ, nameSuffix string) (Resource, error) {
	var found []Resource
	for _, r := range m.ByType(typ) {
		if strings.HasSuffix(r.Name, nameSuffix) {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		return Resource{}, fmt.Errorf("want exactly one %s named *%s, found %d", typ, nameSuffix, len(found))
	}
	return found[0], nil
}

// All returns every registered resource.
func (m *Account) All() []Resource {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.resources)
}

// URN is the resource's URN, derived from its parent's the way the engine derives it.
func (r Resource) URN() string {
	parent := resource.URN(r.Parent)
	parentType := tokens.Type("")
	if parent.QualifiedType() != resource.RootStackType {
		parentType = parent.QualifiedType()
	}
	return string(resource.NewURN(parent.Stack(), parent.Project(), parentType, tokens.Type(r.Type), r.Name))
}

// URNName splits a URN into its (last) type and name.
func URNName(urn string) (typ, name string) {
	parts := strings.Split(urn, "::")
	if len(parts) < 4 {
		return "", urn
	}
	qualified := parts[len(parts)-2]
	return qualified[strings.LastIndex(qualified, "$")+1:], parts[len(parts)-1]
}

// DependsOnResource says whether r was registered to wait for the resource of that type and
// name ("aws:iam/role:Role", "rabbitmq-esm-events-listener").
func (r Resource) DependsOnResource(typ, name string) bool {
	return slices.ContainsFunc(r.DependsOn, func(urn string) bool {
		gotType, gotName := URNName(urn)
		return gotType == typ && gotName == name
	})
}

// Strings reads a list of strings from an input, secret or not; nil if it is no list.
func Strings(v resource.PropertyValue) []string {
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	if !v.IsArray() {
		return nil
	}
	var out []string
	for _, e := range v.ArrayValue() {
		out = append(out, e.StringValue())
	}
	return out
}
