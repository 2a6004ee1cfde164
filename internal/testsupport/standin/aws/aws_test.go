package aws

import (
	"context"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin/cloud"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/simaccount"
)

func provider(t *testing.T) *standin.Provider {
	t.Helper()
	t.Setenv(cloud.EnvDir, t.TempDir())
	return New()
}

func props(m map[string]any) resource.PropertyMap { return resource.NewPropertyMapFromMap(m) }

func create(t *testing.T, p *standin.Provider, typ, name string, in map[string]any) (string, resource.PropertyMap, error) {
	t.Helper()
	checked, err := p.Check(context.Background(), plugin.CheckRequest{Type: tokens.Type("aws:" + typ), Name: name, News: props(in), RandomSeed: []byte(name)})
	if err != nil {
		return "", nil, err
	}
	if len(checked.Failures) > 0 {
		return "", nil, &checkError{checked.Failures}
	}
	res, err := p.Create(context.Background(), plugin.CreateRequest{Type: tokens.Type("aws:" + typ), Name: name, Properties: checked.Properties})
	return string(res.ID), res.Properties, err
}

type checkError struct{ failures []plugin.CheckFailure }

func (e *checkError) Error() string {
	var parts []string
	for _, f := range e.failures {
		parts = append(parts, string(f.Property)+": "+f.Reason)
	}
	return strings.Join(parts, "; ")
}

// rabbit is a valid private broker in the default VPC, as defaultvpc creates it.
func rabbit(name string) map[string]any {
	return map[string]any{"brokerName": name, "engineType": "RabbitMQ", "engineVersion": "3.13", "hostInstanceType": "mq.t3.micro",
		"deploymentMode": "SINGLE_INSTANCE", "publiclyAccessible": false, "autoMinorVersionUpgrade": true,
		"users": []any{map[string]any{"username": "esmadmin", "password": "Aa1!aaaaaaaaaaaa"}}}
}

func TestBrokerNamesAreUniqueInTheAccount(t *testing.T) {
	p := provider(t)
	if _, _, err := create(t, p, "mq/broker:Broker", "a", rabbit("orders")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := create(t, p, "mq/broker:Broker", "b", rabbit("orders")); err == nil || !strings.Contains(err.Error(), "ConflictException") {
		t.Fatalf("a second broker named orders: %v", err)
	}
}

// TestDefaultVPCBrokerDrifts models the day-two trap: the default group read back is a diff on
// the next plan unless ignored, and the update it plans is refused.
func TestDefaultVPCBrokerDrifts(t *testing.T) {
	p := provider(t)
	in := rabbit("orders")
	id, outs, err := create(t, p, "mq/broker:Broker", "b", in)
	if err != nil {
		t.Fatal(err)
	}
	if got := standin.Strs(outs, "securityGroups"); len(got) != 1 || got[0] != simaccount.DefaultSGID {
		t.Fatalf("securityGroups read back: %v", got)
	}
	diff := func(ignore ...string) plugin.DiffResult {
		d, err := p.Diff(context.Background(), plugin.DiffRequest{Type: cloud.TypeBroker, ID: resource.ID(id),
			OldInputs: props(in), OldOutputs: outs, NewInputs: props(in), IgnoreChanges: ignore})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := diff(); d.Changes != plugin.DiffSome || len(d.ChangedKeys) != 1 || d.ChangedKeys[0] != "securityGroups" || len(d.ReplaceKeys) != 0 {
		t.Fatalf("second plan: %+v; want an update of securityGroups", d)
	}
	if d := diff("securityGroups"); d.Changes != plugin.DiffNone {
		t.Fatalf("second plan with ignoreChanges: %+v", d)
	}
	_, err = p.Update(context.Background(), plugin.UpdateRequest{Type: cloud.TypeBroker, ID: resource.ID(id), OldInputs: props(in), OldOutputs: outs, NewInputs: props(in)})
	if err == nil || !strings.Contains(err.Error(), "Changing security groups is not supported for RabbitMQ brokers") {
		t.Fatalf("the update was not refused: %v", err)
	}
}

func TestDiffFollowsTheProviderSchema(t *testing.T) {
	p := provider(t)
	base := rabbit("orders")
	_, outs, err := create(t, p, "mq/broker:Broker", "b", base)
	if err != nil {
		t.Fatal(err)
	}
	changed := func(key string, v any) plugin.DiffResult {
		news := props(base)
		news["securityGroups"] = outs["securityGroups"]
		news[resource.PropertyKey(key)] = resource.NewPropertyValue(v)
		d, err := p.Diff(context.Background(), plugin.DiffRequest{Type: cloud.TypeBroker, OldOutputs: outs, NewInputs: news})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := changed("brokerName", "other"); len(d.ReplaceKeys) != 1 {
		t.Errorf("a new broker name does not replace: %+v", d)
	}
	if d := changed("hostInstanceType", "mq.m5.large"); d.Changes != plugin.DiffSome || len(d.ReplaceKeys) != 0 {
		t.Errorf("a new instance type is not an update: %+v", d)
	}
	if d := changed("users", []any{map[string]any{"username": "esmadmin", "password": "Bb2!bbbbbbbbbbbb"}}); d.Changes != plugin.DiffNone {
		t.Errorf("a new password shows a diff, but the provider ignores RabbitMQ users: %+v", d)
	}
}

func TestUnknownInputsAndTypesFailLoudly(t *testing.T) {
	p := provider(t)
	in := rabbit("orders")
	in["brokerNmae"] = "typo"
	if _, _, err := create(t, p, "mq/broker:Broker", "b", in); err == nil || !strings.Contains(err.Error(), "brokerNmae is not an input") {
		t.Errorf("an unknown input passed Check: %v", err)
	}
	if _, _, err := create(t, p, "sqs/queue:Queue", "q", map[string]any{}); err == nil || !strings.Contains(err.Error(), "not modelled") {
		t.Errorf("an unknown type passed: %v", err)
	}
	if _, err := p.Invoke(context.Background(), plugin.InvokeRequest{Tok: "aws:iam/getRole:getRole"}); err == nil {
		t.Error("an unknown data source was answered")
	}
}

// TestPendingChangesWaitForTheMaintenanceWindow: resourceBrokerUpdate does not read the broker
// back, so the engine records the new instance type at once; the broker runs the old one until
// a reboot, which only a refresh shows (and then the next plan shows the change again).
func TestPendingChangesWaitForTheMaintenanceWindow(t *testing.T) {
	p := provider(t)
	in := rabbit("orders")
	id, outs, err := create(t, p, "mq/broker:Broker", "b", in)
	if err != nil {
		t.Fatal(err)
	}
	news := props(in)
	news["securityGroups"] = outs["securityGroups"]
	news["hostInstanceType"] = resource.NewStringProperty("mq.m5.large")
	up, err := p.Update(context.Background(), plugin.UpdateRequest{Type: cloud.TypeBroker, ID: resource.ID(id), OldOutputs: outs, NewInputs: news})
	if err != nil {
		t.Fatal(err)
	}
	if got := standin.Str(up.Properties, "hostInstanceType"); got != "mq.m5.large" {
		t.Errorf("the update reports %s, not the planned mq.m5.large", got)
	}
	refresh := func(state resource.PropertyMap) resource.PropertyMap {
		t.Helper()
		r, err := p.Read(context.Background(), plugin.ReadRequest{Type: cloud.TypeBroker, ID: resource.ID(id), Inputs: news, State: state})
		if err != nil {
			t.Fatal(err)
		}
		return r.Outputs
	}
	refreshed := refresh(up.Properties)
	if got := standin.Str(refreshed, "hostInstanceType"); got != "mq.t3.micro" {
		t.Errorf("without applyImmediately a refresh reports %s", got)
	}
	if d, err := p.Diff(context.Background(), plugin.DiffRequest{Type: cloud.TypeBroker, ID: resource.ID(id), OldOutputs: refreshed, NewInputs: news}); err != nil ||
		d.Changes != plugin.DiffSome {
		t.Errorf("after the refresh the change is not planned again: %+v %v", d, err)
	}
	news["applyImmediately"] = resource.NewBoolProperty(true)
	up, err = p.Update(context.Background(), plugin.UpdateRequest{Type: cloud.TypeBroker, ID: resource.ID(id), OldOutputs: refreshed, NewInputs: news})
	if err != nil || standin.Str(refresh(up.Properties), "hostInstanceType") != "mq.m5.large" {
		t.Errorf("with applyImmediately: %v, %v", standin.Str(refresh(up.Properties), "hostInstanceType"), err)
	}
}

// TestDataSourcesReportWhatIsMissing: a look-up that finds nothing fails as the provider's
// does ("no matching ..."), which the program tells from a real failure.
func TestDataSourcesReportWhatIsMissing(t *testing.T) {
	p := provider(t)
	_, err := p.Invoke(context.Background(), plugin.InvokeRequest{Tok: "aws:ec2/getVpcEndpoint:getVpcEndpoint",
		Args: props(map[string]any{"vpcId": simaccount.DefaultVPCID, "serviceName": "com.amazonaws.us-east-1.sts"})})
	if err == nil || !strings.Contains(err.Error(), "no matching") {
		t.Errorf("an endpoint the account lacks was found: %v", err)
	}
	res, err := p.Invoke(context.Background(), plugin.InvokeRequest{Tok: "aws:ec2/getVpc:getVpc", Args: props(map[string]any{"default": true})})
	if err != nil || standin.Str(res.Properties, "id") != simaccount.DefaultVPCID {
		t.Errorf("the default VPC: %v, %v", res.Properties, err)
	}
}

// TestTheUserVPCAsLookedUp: existingvpc's look-ups find each subnet's route table — its
// explicit association, or none (then the VPC's main table) — and the 0.0.0.0/0 target there.
func TestTheUserVPCAsLookedUp(t *testing.T) {
	p := provider(t)
	invoke := func(tok string, args map[string]any) resource.PropertyMap {
		t.Helper()
		res, err := p.Invoke(context.Background(), plugin.InvokeRequest{Tok: tokens.ModuleMember(tok), Args: props(args)})
		if err != nil {
			t.Fatalf("%s: %v", tok, err)
		}
		return res.Properties
	}
	vpc := invoke("aws:ec2/getVpc:getVpc", map[string]any{"id": simaccount.UserVPCID})
	if standin.Str(vpc, "mainRouteTableId") != simaccount.UserMainRouteTable || !standin.Bool(vpc, "enableDnsHostnames") {
		t.Errorf("the user's VPC: %v", vpc)
	}
	if s := invoke("aws:ec2/getSubnet:getSubnet", map[string]any{"id": simaccount.UserSubnetB}); standin.Str(s, "availabilityZone") != "us-east-1b" ||
		standin.Str(s, "vpcId") != simaccount.UserVPCID {
		t.Errorf("subnet B: %v", s)
	}
	defaultRoute := func(table string) map[string]any {
		for _, r := range standin.Plain(invoke("aws:ec2/getRouteTable:getRouteTable", map[string]any{"routeTableId": table})["routes"]).([]any) {
			if r.(map[string]any)["cidrBlock"] == "0.0.0.0/0" {
				return r.(map[string]any)
			}
		}
		return nil
	}
	tables := func(subnet string) []any {
		return standin.Plain(invoke("aws:ec2/getRouteTables:getRouteTables",
			map[string]any{"filters": []any{map[string]any{"name": "association.subnet-id", "values": []any{subnet}}}})["ids"]).([]any)
	}
	if got := tables(simaccount.UserSubnetA); len(got) != 1 || got[0] != simaccount.UserPrivateTable || defaultRoute(simaccount.UserPrivateTable)["natGatewayId"] != simaccount.UserNATGateway {
		t.Errorf("subnet A's table %v, its default route %v", got, defaultRoute(simaccount.UserPrivateTable))
	}
	if got := tables(simaccount.UserPublicSubnet); len(got) != 1 || defaultRoute(got[0].(string))["gatewayId"] != simaccount.UserIGW {
		t.Errorf("the public subnet's table %v", got)
	}
	if got := tables(simaccount.UserMainSubnet); len(got) != 0 || defaultRoute(simaccount.UserMainRouteTable) != nil {
		t.Errorf("the main-table subnet: tables %v, main default route %v", got, defaultRoute(simaccount.UserMainRouteTable))
	}
	ids := standin.Plain(invoke("aws:vpc/getSecurityGroupRules:getSecurityGroupRules",
		map[string]any{"filters": []any{map[string]any{"name": "group-id", "values": []any{simaccount.UserDefaultSG}}}})["ids"]).([]any)
	if len(ids) != 2 {
		t.Fatalf("the user's default group has rules %v", ids)
	}
	for _, id := range ids {
		r := invoke("aws:vpc/getSecurityGroupRule:getSecurityGroupRule", map[string]any{"securityGroupRuleId": id})
		if standin.Str(r, "securityGroupId") != simaccount.UserDefaultSG || standin.Str(r, "ipProtocol") != "-1" {
			t.Errorf("rule %s: %v", id, r)
		}
	}
}

// TestSubnetBlocksAsEC2ChecksThem: a subnet outside its VPC's block is InvalidSubnet.Range, one
// overlapping another subnet of the VPC InvalidSubnet.Conflict — the old subnet of a
// replacement included, since Pulumi creates the new one first (cloud.CheckSubnetBlock).
func TestSubnetBlocksAsEC2ChecksThem(t *testing.T) {
	p := provider(t)
	vpcID, _, err := create(t, p, "ec2/vpc:Vpc", "v", map[string]any{"cidrBlock": "10.0.0.0/16"})
	if err != nil {
		t.Fatal(err)
	}
	subnet := func(name, cidr string) error {
		_, _, err := create(t, p, "ec2/subnet:Subnet", name, map[string]any{"vpcId": vpcID, "cidrBlock": cidr, "availabilityZone": "us-east-1a"})
		return err
	}
	if err := subnet("isolated-1", "10.0.0.0/17"); err != nil {
		t.Fatal(err)
	}
	for cidr, code := range map[string]string{
		"10.0.0.0/18":   "InvalidSubnet.Conflict: The CIDR '10.0.0.0/18' conflicts with another subnet", // the 3-zone layout's isolated-1
		"10.0.64.0/24":  "InvalidSubnet.Conflict",
		"10.1.0.0/24":   "InvalidSubnet.Range",
		"10.0.128.0/29": "InvalidSubnet.Range",
		"10.0.0.0/15":   "InvalidSubnet.Range",
	} {
		if err := subnet("replacement", cidr); err == nil || !strings.Contains(err.Error(), code) {
			t.Errorf("%s: %v, want %s", cidr, err, code)
		}
	}
	if err := subnet("isolated-2", "10.0.128.0/17"); err != nil {
		t.Errorf("the free half: %v", err)
	}
}

// TestEndpointsAsListed: an interface endpoint has one network interface per subnet, described
// and typed as EC2 does; once deleted it has none, and DescribeVpcEndpoints lists it as deleted
// for a while, so the singular look-up by VPC and service then matches two.
func TestEndpointsAsListed(t *testing.T) {
	p := provider(t)
	invoke := func(tok string, args map[string]any) (resource.PropertyMap, error) {
		res, err := p.Invoke(context.Background(), plugin.InvokeRequest{Tok: tokens.ModuleMember(tok), Args: props(args)})
		return res.Properties, err
	}
	endpoint := func(name string) string {
		t.Helper()
		id, _, err := create(t, p, "ec2/vpcEndpoint:VpcEndpoint", name, map[string]any{"vpcId": simaccount.UserVPCID, "serviceName": "com.amazonaws.us-east-1.sts",
			"vpcEndpointType": "Interface", "privateDnsEnabled": true, "subnetIds": []any{simaccount.UserSubnetA, simaccount.UserSubnetB}})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	listed := func() []any {
		t.Helper()
		res, err := invoke("aws:ec2/getNetworkInterfaces:getNetworkInterfaces", map[string]any{"filters": []any{
			map[string]any{"name": "vpc-id", "values": []any{simaccount.UserVPCID}},
			map[string]any{"name": "description", "values": []any{"VPC Endpoint Interface*"}}}})
		if err != nil {
			t.Fatal(err)
		}
		return standin.Plain(res["ids"]).([]any)
	}
	first := endpoint("first")
	enis := listed()
	if len(enis) != 2 {
		t.Fatalf("an endpoint in two subnets has %d interfaces listed", len(enis))
	}
	eni, err := invoke("aws:ec2/getNetworkInterface:getNetworkInterface", map[string]any{"id": enis[0]})
	if err != nil || standin.Str(eni, "description") != "VPC Endpoint Interface "+first || standin.Str(eni, "interfaceType") != "vpc_endpoint" {
		t.Errorf("the endpoint's interface: %v, %v", eni, err)
	}
	if _, err := p.Delete(context.Background(), plugin.DeleteRequest{Type: cloud.TypeVPCEndpoint, ID: resource.ID(first)}); err != nil {
		t.Fatal(err)
	}
	if got := listed(); len(got) != 0 {
		t.Errorf("the deleted endpoint's interfaces are still listed: %v", got)
	}
	ep, err := invoke("aws:ec2/getVpcEndpoint:getVpcEndpoint", map[string]any{"id": first})
	if err != nil || standin.Str(ep, "state") != "deleted" {
		t.Errorf("the deleted endpoint by id: %v, %v", ep, err)
	}
	endpoint("second")
	byService := map[string]any{"vpcId": simaccount.UserVPCID, "serviceName": "com.amazonaws.us-east-1.sts"}
	if _, err := invoke("aws:ec2/getVpcEndpoint:getVpcEndpoint", byService); err == nil || !strings.Contains(err.Error(), "multiple EC2 VPC Endpoints matched") {
		t.Errorf("a deleted endpoint beside a live one: %v", err)
	}
	byService["state"] = "available"
	if _, err := invoke("aws:ec2/getVpcEndpoint:getVpcEndpoint", byService); err != nil {
		t.Errorf("the live one by state: %v", err)
	}
	if _, err := invoke("aws:ec2/getNetworkInterfaces:getNetworkInterfaces", map[string]any{"filters": []any{
		map[string]any{"name": "requester-managed", "values": []any{"true"}}}}); err == nil {
		t.Error("a filter the stand-in does not model was accepted")
	}
}

// TestSharedVPCAsSeen: a VPC shared through AWS RAM is visible with its owner's account, which
// differs from the caller's.
func TestSharedVPCAsSeen(t *testing.T) {
	p := provider(t)
	vpc, err := p.Invoke(context.Background(), plugin.InvokeRequest{Tok: "aws:ec2/getVpc:getVpc", Args: props(map[string]any{"id": simaccount.SharedVPCID})})
	if err != nil || standin.Str(vpc.Properties, "ownerId") != simaccount.SharedVPCOwner {
		t.Errorf("the shared VPC: %v, %v", vpc.Properties, err)
	}
	own, err := p.Invoke(context.Background(), plugin.InvokeRequest{Tok: "aws:ec2/getVpc:getVpc", Args: props(map[string]any{"id": simaccount.UserVPCID})})
	if err != nil || standin.Str(own.Properties, "ownerId") != simaccount.AccountID {
		t.Errorf("the user's own VPC: %v, %v", own.Properties, err)
	}
	caller, err := p.Invoke(context.Background(), plugin.InvokeRequest{Tok: "aws:index/getCallerIdentity:getCallerIdentity", Args: props(map[string]any{})})
	if err != nil || standin.Str(caller.Properties, "accountId") != simaccount.AccountID {
		t.Errorf("the caller: %v, %v", caller.Properties, err)
	}
}
