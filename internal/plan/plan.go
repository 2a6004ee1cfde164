// Package plan runs the real Pulumi program for a stack against a simulated AWS account (no
// AWS, no Pulumi CLI, no network) and describes what it would build: the resource tree with the
// properties that matter for networking and security, the ESM's path to each dependency, what
// bills by the hour, and a Mermaid diagram.
package plan

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/rabbitmq-esm/rabbitmq-esm/infra"
	"github.com/rabbitmq-esm/rabbitmq-esm/infra/reach"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/offline"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/simaccount"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/stackconfig"
)

// Plan is what one stack would build.
type Plan struct {
	Stack       string `json:"stack"`
	NetworkMode string `json:"networkMode"`
	// ServiceRoute carries the mapping's calls to STS, Secrets Manager and Lambda, in the
	// serviceRoute setting's words.
	ServiceRoute string          `json:"serviceRoute"`
	Summary      string          `json:"summary"`
	Region       string          `json:"region"`
	Resources    []*Node         `json:"resources"`
	Paths        []reach.Verdict `json:"paths"`
	Hourly       []BillingItem   `json:"billedHourly"`
	Assumptions  []string        `json:"assumptions"`
	// Warnings are what a deploy would warn of before creating anything.
	Warnings []string `json:"warnings,omitempty"`
	Mermaid  string   `json:"mermaid"`
}

// Node is one resource and its children.
type Node struct {
	Type       string            `json:"type"`
	Name       string            `json:"name"`
	Properties map[string]string `json:"properties,omitempty"`
	Children   []*Node           `json:"children,omitempty"`
}

// BillingItem is something billed by the hour.
type BillingItem struct {
	What  string `json:"what"`
	Count int    `json:"count"`
	Note  string `json:"note"`
}

// Run runs the program for stack, with its configuration as shipped in projectDir, against the
// simulated account, and returns what the program built and what it registered.
func Run(projectDir, stack string) (*infra.Stack, []offline.Resource, error) {
	raw, err := stackconfig.Read(projectDir, stack)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := infra.ParseConfig(stack, raw)
	if err != nil {
		return nil, nil, err
	}
	account := &offline.Account{}
	var st *infra.Stack
	err = pulumi.RunErr(func(ctx *pulumi.Context) error {
		st, err = infra.Deploy(ctx, cfg, infra.Env{ProjectDir: projectDir})
		return err
	}, pulumi.WithMocks(infra.ProjectName, stack, account))
	if err != nil {
		return nil, nil, err
	}
	return st, account.All(), nil
}

// Make plans stack: Run, then the tree, the paths, the hourly bill and the diagram.
func Make(projectDir, stack string) (*Plan, error) {
	st, resources, err := Run(projectDir, stack)
	if err != nil {
		return nil, err
	}
	return build(stack, st, resources), nil
}

// build makes the plan of what Run returned. The program registers resources concurrently, so
// the order they arrive in changes from run to run: build puts them in order first
// (sortResources), so that a plan is the same text and the same JSON on every run.
func build(stack string, st *infra.Stack, resources []offline.Resource) *Plan {
	resources = sortResources(resources)
	cfg := st.Config
	opt := cfg.Option()
	p := &Plan{
		Stack: stack, NetworkMode: string(cfg.NetworkMode), ServiceRoute: string(opt.ServiceRoute), Summary: opt.Summary, Region: st.Facts.Region,
		Resources:   tree(resources),
		Paths:       reach.Verify(ModelFromResources(resources, st.Facts)),
		Hourly:      hourly(resources),
		Assumptions: assumptions(cfg),
		Warnings:    st.Facts.Warnings(),
	}
	p.Mermaid = Mermaid(p, resources, st.Facts)
	return p
}

// order is the order a plan shows resources in: the components as the program builds them, and
// in each the pieces in the order a reader meets them (roughly the order they are created).
// Types not listed come after, by type. Resources of one type go by name.
var order = []string{
	"rabbitmq-esm:infra:Network",
	"rabbitmq-esm:infra:Broker",
	"rabbitmq-esm:infra:Endpoints",
	"rabbitmq-esm:infra:Provisioner",
	"rabbitmq-esm:infra:EventSource",
	"awsx:ec2:Vpc",
	"random:index/randomPassword:RandomPassword",
	"aws:secretsmanager/secret:Secret",
	"aws:secretsmanager/secretVersion:SecretVersion",
	"aws:ec2/securityGroup:SecurityGroup",
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
	"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
	"aws:mq/broker:Broker",
	"aws:ec2/vpcEndpoint:VpcEndpoint",
	"aws:cloudwatch/logGroup:LogGroup",
	"aws:iam/role:Role",
	"aws:iam/rolePolicy:RolePolicy",
	"aws:lambda/function:Function",
	"aws:lambda/eventSourceMapping:EventSourceMapping",
	"aws:lambda/invocation:Invocation",
}

// sortResources returns the resources in a plan's order, which does not depend on the order
// they were registered in: by type as in order, then by name, then by URN.
func sortResources(resources []offline.Resource) []offline.Resource {
	rank := func(typ string) int {
		if i := slices.Index(order, typ); i >= 0 {
			return i
		}
		return len(order)
	}
	sorted := slices.Clone(resources)
	slices.SortFunc(sorted, func(a, b offline.Resource) int {
		return cmp.Or(cmp.Compare(rank(a.Type), rank(b.Type)), cmp.Compare(a.Type, b.Type),
			cmp.Compare(a.Name, b.Name), cmp.Compare(a.URN(), b.URN()))
	})
	return sorted
}

func assumptions(cfg infra.Config) []string {
	out := []string{"offline: the account is simulated (us-east-1, six zones of which us-east-1e offers no endpoint services, a default VPC)"}
	if cfg.Option().VPC == infra.VPCExisting {
		out = append(out, "the user's VPC is the simulated account's "+simaccount.UserVPCID+" (the placeholder the stack file ships with): private subnets "+
			"in us-east-1a, b and c routing 0.0.0.0/0 to a NAT gateway, DNS support and hostnames on, no interface endpoints; "+
			"a real deployment looks up yours and refuses what would not work")
	}
	if cfg.Option().VPC == infra.VPCDefault {
		out = append(out, "the default VPC's default security group keeps AWS's default rules (all traffic from itself, all egress), DNS support and "+
			"hostnames are on, and its default subnets route to the internet gateway; a real deployment reads the group's rules and the VPC's "+
			"attributes and refuses what would not work")
		if cfg.DefaultVPCEndpoints == infra.EndpointsExisting {
			out = append(out, "the existing endpoints' security groups admit 443 from the default group (private DNS is checked at look-up)")
		}
	}
	return out
}

// ModelFromResources builds the verifier's model from what the program registered, the other
// way to the program's own PlannedNetwork: the two must agree.
func ModelFromResources(resources []offline.Resource, facts infra.Facts) reach.Model {
	var broker, vpc *offline.Resource
	for i := range resources {
		switch resources[i].Type {
		case "aws:mq/broker:Broker":
			broker = &resources[i]
		case "awsx:ec2:Vpc":
			vpc = &resources[i]
		}
	}
	if broker == nil || broker.Inputs["publiclyAccessible"].BoolValue() {
		return reach.Model{PublicBroker: true}
	}
	groups := groupsOf(resources)
	m := reach.Model{Endpoints: map[string]reach.Endpoint{}}
	if dv := facts.DefaultVPC; dv != nil {
		m.VPCDNS = true
		m.Group = reach.Group{ID: dv.SecurityGroupID,
			Ingress: []reach.Rule{{Port: reach.AllPorts, Peer: dv.SecurityGroupID}},
			Egress:  []reach.Rule{{Port: reach.AllPorts, Peer: "0.0.0.0/0"}}}
		for _, id := range strs(broker.Outputs["subnetIds"]) {
			m.Subnets = append(m.Subnets, reach.Subnet{ID: id, Route: reach.RouteInternetGateway})
		}
		for svc, id := range dv.ExistingEndpoints {
			m.Endpoints[svc] = reach.Endpoint{Service: svc, ID: id, PrivateDNS: true,
				Group: reach.Group{ID: "existing-" + svc, Ingress: []reach.Rule{{Port: 443, Peer: dv.SecurityGroupID}}}}
		}
	} else if ev := facts.ExistingVPC; ev != nil {
		// The user's VPC: its subnets' routes, DNS and endpoints are what the look-ups found;
		// the group is the one the program registered.
		m = ev.Model(strs(broker.Inputs["subnetIds"]))
		m.Group = groups[strs(broker.Inputs["securityGroups"])[0]]
	} else if vpc != nil {
		in := vpc.Inputs
		m.VPCDNS = in["enableDnsSupport"].BoolValue() && in["enableDnsHostnames"].BoolValue()
		m.Group = groups[strs(broker.Inputs["securityGroups"])[0]]
		natStrategy := in["natGateways"].ObjectValue()["strategy"].StringValue()
		routeOf := map[string]reach.Route{}
		for _, id := range strs(vpc.Outputs["publicSubnetIds"]) {
			routeOf[id] = reach.RouteInternetGateway
		}
		for _, id := range strs(vpc.Outputs["privateSubnetIds"]) {
			routeOf[id] = reach.RouteNone
			if natStrategy != "None" {
				routeOf[id] = reach.RouteNATGateway
			}
		}
		for _, id := range strs(vpc.Outputs["isolatedSubnetIds"]) {
			routeOf[id] = reach.RouteNone
		}
		for _, id := range strs(broker.Inputs["subnetIds"]) {
			m.Subnets = append(m.Subnets, reach.Subnet{ID: id, Route: routeOf[id]})
		}
	}
	for _, r := range resources {
		if r.Type != "aws:ec2/vpcEndpoint:VpcEndpoint" {
			continue
		}
		name := r.Inputs["serviceName"].StringValue()
		svc := name[strings.LastIndex(name, ".")+1:]
		var group reach.Group
		if ids := strs(r.Inputs["securityGroupIds"]); len(ids) > 0 {
			group = groups[ids[0]]
		}
		m.Endpoints[svc] = reach.Endpoint{Service: svc, ID: r.ID, PrivateDNS: r.Inputs["privateDnsEnabled"].BoolValue(), Group: group}
	}
	return m
}

// groupsOf assembles each created security group with its rules.
func groupsOf(resources []offline.Resource) map[string]reach.Group {
	groups := map[string]reach.Group{}
	for _, r := range resources {
		if r.Type == "aws:ec2/securityGroup:SecurityGroup" {
			groups[r.ID] = reach.Group{ID: r.ID}
		}
	}
	for _, r := range resources {
		ingress := r.Type == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
		if !ingress && r.Type != "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule" {
			continue
		}
		id := r.Inputs["securityGroupId"].StringValue()
		g, ok := groups[id]
		if !ok {
			continue // a rule on a group the program does not own
		}
		rule := reach.Rule{Port: int(r.Inputs["fromPort"].NumberValue()), Peer: str(r.Inputs["referencedSecurityGroupId"]) + str(r.Inputs["cidrIpv4"])}
		if ingress {
			g.Ingress = append(g.Ingress, rule)
		} else {
			g.Egress = append(g.Egress, rule)
		}
		groups[id] = g
	}
	return groups
}

func hourly(resources []offline.Resource) []BillingItem {
	var items []BillingItem
	for _, r := range resources {
		switch r.Type {
		case "aws:mq/broker:Broker":
			n := 1
			if r.Inputs["deploymentMode"].StringValue() == string(infra.ClusterMultiAZ) {
				n = 3
			}
			items = append(items, BillingItem{What: "Amazon MQ broker instance", Count: n,
				Note: r.Inputs["hostInstanceType"].StringValue() + ", " + r.Inputs["deploymentMode"].StringValue()})
		case "awsx:ec2:Vpc":
			zones := len(strs(r.Inputs["availabilityZoneNames"]))
			n := map[string]int{"None": 0, "Single": 1, "OnePerAz": zones}[r.Inputs["natGateways"].ObjectValue()["strategy"].StringValue()]
			if n > 0 {
				items = append(items, BillingItem{What: "NAT gateway", Count: n, Note: "plus data processed"})
			}
		}
	}
	endpointENIs, services := 0, 0
	for _, r := range resources {
		if r.Type == "aws:ec2/vpcEndpoint:VpcEndpoint" {
			services++
			endpointENIs += len(strs(r.Inputs["subnetIds"]))
		}
	}
	if endpointENIs > 0 {
		items = append(items, BillingItem{What: "interface endpoint, per zone", Count: endpointENIs,
			Note: fmt.Sprintf("%d services × %d zones, plus data processed", services, endpointENIs/services)})
	}
	return items
}

// tree nests the resources under their parents, keeping their order.
func tree(resources []offline.Resource) []*Node {
	nodes := map[string]*Node{}
	var roots []*Node
	for _, r := range resources {
		nodes[r.URN()] = &Node{Type: r.Type, Name: r.Name, Properties: properties(r)}
	}
	for _, r := range resources {
		n := nodes[r.URN()]
		if parent, ok := nodes[r.Parent]; ok {
			parent.Children = append(parent.Children, n)
		} else {
			roots = append(roots, n)
		}
	}
	return roots
}

// properties picks what matters for networking and security, per type.
func properties(r offline.Resource) map[string]string {
	in := r.Inputs
	p := map[string]string{}
	set := func(key, value string) {
		if value != "" && value != "[]" {
			p[key] = value
		}
	}
	switch r.Type {
	case "awsx:ec2:Vpc":
		set("cidr", str(in["cidrBlock"]))
		set("zones", strings.Join(strs(in["availabilityZoneNames"]), ","))
		var tiers, blocks []string
		for _, s := range in["subnetSpecs"].ArrayValue() {
			tier := s.ObjectValue()["type"].StringValue()
			tiers = append(tiers, tier)
			blocks = append(blocks, strings.ToLower(tier)+" "+strings.Join(strs(s.ObjectValue()["cidrBlocks"]), ","))
		}
		set("tiers", strings.Join(tiers, ","))
		// The program lays the blocks out (infra/subnetlayout.go) so that later changes move none.
		set("subnets", strings.Join(blocks, "; "))
		set("natGateways", in["natGateways"].ObjectValue()["strategy"].StringValue())
		set("dns", fmt.Sprintf("support=%v hostnames=%v", in["enableDnsSupport"].BoolValue(), in["enableDnsHostnames"].BoolValue()))
	case "aws:mq/broker:Broker":
		set("publiclyAccessible", fmt.Sprint(in["publiclyAccessible"].BoolValue()))
		set("deploymentMode", str(in["deploymentMode"]))
		set("instanceType", str(in["hostInstanceType"]))
		set("engine", "RabbitMQ "+str(in["engineVersion"]))
		set("subnets", strings.Join(strs(in["subnetIds"]), ","))
		set("securityGroups", strings.Join(strs(in["securityGroups"]), ","))
		set("ignoreChanges", strings.Join(r.IgnoreChanges, ","))
	case "aws:ec2/securityGroup:SecurityGroup":
		set("id", r.ID)
		set("beforeDeleteHooks", strings.Join(r.BeforeDeleteHooks, ","))
	case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
		set("rule", fmt.Sprintf("%s ingress tcp/%v from %s", str(in["securityGroupId"]), in["fromPort"].NumberValue(), str(in["referencedSecurityGroupId"])+str(in["cidrIpv4"])))
	case "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":
		set("rule", fmt.Sprintf("%s egress tcp/%v to %s", str(in["securityGroupId"]), in["fromPort"].NumberValue(), str(in["referencedSecurityGroupId"])+str(in["cidrIpv4"])))
	case "aws:ec2/vpcEndpoint:VpcEndpoint":
		set("service", str(in["serviceName"]))
		set("privateDns", fmt.Sprint(in["privateDnsEnabled"].BoolValue()))
		set("subnets", strings.Join(strs(in["subnetIds"]), ","))
		set("securityGroups", strings.Join(strs(in["securityGroupIds"]), ","))
	case "aws:lambda/function:Function":
		set("runtime", str(in["runtime"])+"/"+strings.Join(strs(in["architectures"]), ","))
		if v, ok := in["vpcConfig"]; ok && v.IsObject() {
			set("vpcSubnets", strings.Join(strs(v.ObjectValue()["subnetIds"]), ","))
			set("vpcSecurityGroups", strings.Join(strs(v.ObjectValue()["securityGroupIds"]), ","))
		}
		set("afterDeleteHooks", strings.Join(r.AfterDeleteHooks, ","))
	case "aws:iam/rolePolicy:RolePolicy":
		set("policy", str(in["policy"]))
		set("beforeDeleteHooks", strings.Join(r.BeforeDeleteHooks, ","))
	case "aws:iam/role:Role":
		set("beforeDeleteHooks", strings.Join(r.BeforeDeleteHooks, ","))
	case "aws:lambda/eventSourceMapping:EventSourceMapping":
		set("queue", str(in["queues"]))
		set("batchSize", fmt.Sprint(in["batchSize"].NumberValue()))
		var access []string
		for _, c := range in["sourceAccessConfigurations"].ArrayValue() {
			access = append(access, c.ObjectValue()["type"].StringValue())
		}
		set("access", strings.Join(access, ","))
		set("afterDeleteHooks", strings.Join(r.AfterDeleteHooks, ","))
		set("deleteBeforeReplace", fmt.Sprint(r.DeleteBeforeReplace))
	case "aws:lambda/invocation:Invocation":
		set("input", str(in["input"]))
	}
	return p
}

func str(v resource.PropertyValue) string {
	if v.IsSecret() {
		return "[secret]"
	}
	if v.IsString() {
		return v.StringValue()
	}
	return ""
}

func strs(v resource.PropertyValue) []string {
	if !v.IsArray() {
		return nil
	}
	var out []string
	for _, e := range v.ArrayValue() {
		if e.IsString() {
			out = append(out, e.StringValue())
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
