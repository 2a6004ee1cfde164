package infra

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Fixed answers of the mocked account: us-east-1 with six zones, of which us-east-1e offers
// none of the endpoint services (as in the real region), and a default VPC with a default
// subnet per zone.
var (
	mockZones         = []string{"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"}
	mockServiceZones  = []string{"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1f"}
	mockDefaultVPCID  = "vpc-default"
	mockDefaultSGID   = "sg-default"
	mockAccountID     = "123456789012"
	mockBrokerID      = "b-1234abcd-56ef-78ab-90cd-ef1234567890"
	mockAdminPassword = "mock-generated-password-Aa1!"
)

// registered is one resource the program registered, as the engine would see it.
type registered struct {
	Type      string
	Name      string
	Custom    bool
	Inputs    resource.PropertyMap
	Outputs   resource.PropertyMap
	Parent    string   // URN
	DependsOn []string // URNs
}

// mocks answers the program's resource registrations and invokes like the AWS account above.
// It fails on any type or function it does not know, so that a new resource or look-up
// cannot slip past the tests unasserted.
type mocks struct {
	mu        sync.Mutex
	resources []registered
	calls     []string
	// failCalls makes an invoke fail, by token, to simulate an account without something.
	failCalls map[string]error
	// noPrivateDNS lists endpoint services whose existing endpoint has private DNS off.
	noPrivateDNS []string
}

func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	out := args.Inputs.Copy()
	id := args.Name + "-id"
	set := func(key string, v any) { out[resource.PropertyKey(key)] = resource.NewPropertyValue(v) }
	arn := func(service, suffix string) string {
		return fmt.Sprintf("arn:aws:%s:us-east-1:%s:%s", service, mockAccountID, suffix)
	}

	switch args.TypeToken {
	case "rabbitmq-esm:infra:Network", "rabbitmq-esm:infra:Broker", "rabbitmq-esm:infra:Endpoints", "rabbitmq-esm:infra:EventSource",
		"rabbitmq-esm:infra:Provisioner":
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
		out["result"] = resource.MakeSecret(resource.NewStringProperty(mockAdminPassword))
	case "aws:secretsmanager/secret:Secret":
		set("arn", arn("secretsmanager", "secret:"+args.Name+"-AbCdEf"))
	case "aws:secretsmanager/secretVersion:SecretVersion":
	case "aws:mq/broker:Broker":
		id = mockBrokerID
		set("arn", arn("mq", "broker:"+args.Inputs["brokerName"].StringValue()+":"+mockBrokerID))
		set("instances", []any{map[string]any{
			"consoleUrl": "https://" + mockBrokerID + ".mq.us-east-1.amazonaws.com",
			"endpoints":  []any{"amqps://" + mockBrokerID + ".mq.us-east-1.amazonaws.com:5671"},
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
		set("arn", "arn:aws:iam::"+mockAccountID+":role/"+args.Name)
		set("name", args.Name)
	case "aws:iam/rolePolicy:RolePolicy":
	case "aws:lambda/function:Function":
		set("name", args.Name+"-fn")
		set("arn", arn("lambda", "function:"+args.Name+"-fn"))
	case "aws:lambda/eventSourceMapping:EventSourceMapping":
		id = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
		set("uuid", id)
	case "aws:lambda/invocation:Invocation":
		set("result", `{"ok":true}`)
	default:
		return "", nil, fmt.Errorf("mocks: unexpected resource type %s (%s): add it to the mocks and assert it", args.TypeToken, args.Name)
	}

	r := registered{Type: args.TypeToken, Name: args.Name, Custom: args.Custom, Inputs: args.Inputs, Outputs: out}
	if rpc := args.RegisterRPC; rpc != nil {
		r.Parent = rpc.GetParent()
		r.DependsOn = rpc.GetDependencies()
	}
	m.mu.Lock()
	m.resources = append(m.resources, r)
	m.mu.Unlock()
	return id, out, nil
}

func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	m.mu.Lock()
	m.calls = append(m.calls, args.Token)
	failure := m.failCalls[args.Token]
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
		return resource.NewPropertyMapFromMap(map[string]any{"name": "us-east-1", "id": "us-east-1"}), nil
	case "aws:index/getAvailabilityZones:getAvailabilityZones":
		return resource.NewPropertyMapFromMap(map[string]any{"names": toAny(mockZones), "id": "us-east-1"}), nil
	case "aws:ec2/getVpcEndpointService:getVpcEndpointService":
		return resource.NewPropertyMapFromMap(map[string]any{"serviceName": str("serviceName"), "availabilityZones": toAny(mockServiceZones)}), nil
	case "aws:ec2/getVpc:getVpc":
		return resource.NewPropertyMapFromMap(map[string]any{"id": mockDefaultVPCID, "default": true, "cidrBlock": "172.31.0.0/16"}), nil
	case "aws:ec2/getSubnets:getSubnets":
		zones := mockZones
		for _, f := range args.Args["filters"].ArrayValue() {
			if f.ObjectValue()["name"].StringValue() == "availability-zone" {
				zones = nil
				for _, z := range f.ObjectValue()["values"].ArrayValue() {
					zones = append(zones, z.StringValue())
				}
			}
		}
		var ids []any
		for _, z := range zones {
			ids = append(ids, "subnet-default-"+z)
		}
		return resource.NewPropertyMapFromMap(map[string]any{"ids": ids, "id": "us-east-1"}), nil
	case "aws:ec2/getSecurityGroup:getSecurityGroup":
		return resource.NewPropertyMapFromMap(map[string]any{"id": mockDefaultSGID, "name": "default", "vpcId": str("vpcId")}), nil
	case "aws:ec2/getVpcEndpoint:getVpcEndpoint":
		svc := str("serviceName")[strings.LastIndex(str("serviceName"), ".")+1:]
		return resource.NewPropertyMapFromMap(map[string]any{
			"id": "vpce-existing-" + svc, "serviceName": str("serviceName"), "vpcId": str("vpcId"),
			"privateDnsEnabled": !slices.Contains(m.noPrivateDNS, svc),
		}), nil
	}
	return nil, fmt.Errorf("mocks: unexpected invoke %s: add it to the mocks and assert it", args.Token)
}

func toAny(values []string) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out
}

// byType returns the registered resources of a type, in registration order.
func (m *mocks) byType(typ string) []registered {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []registered
	for _, r := range m.resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// one returns the single resource of a type and name suffix, or fails.
func (m *mocks) one(typ, nameSuffix string) (registered, error) {
	var found []registered
	for _, r := range m.byType(typ) {
		if strings.HasSuffix(r.Name, nameSuffix) {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		return registered{}, fmt.Errorf("want exactly one %s named *%s, found %d", typ, nameSuffix, len(found))
	}
	return found[0], nil
}

// all returns every registered resource.
func (m *mocks) all() []registered {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.resources)
}

// urnName splits a URN into its (last) type and name.
func urnName(urn string) (typ, name string) {
	parts := strings.Split(urn, "::")
	if len(parts) < 4 {
		return "", urn
	}
	qualified := parts[len(parts)-2]
	return qualified[strings.LastIndex(qualified, "$")+1:], parts[len(parts)-1]
}
