package plan

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/rabbitmq-esm/rabbitmq-esm/infra"
	"github.com/rabbitmq-esm/rabbitmq-esm/infra/reach"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/offline"
)

var serviceLabels = map[string]string{"sts": "STS", "secretsmanager": "Secrets Manager", "lambda": "Lambda API"}

// Mermaid draws the ESM's paths as the verifier found them: where its interfaces sit and what
// carries each dependency. docs/options.md's diagrams are generated from it (make docs).
func Mermaid(p *Plan, resources []offline.Resource, facts infra.Facts) string {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	via := map[string]reach.Verdict{}
	for _, v := range p.Paths {
		via[v.Dependency] = v
	}
	b.WriteString("  subgraph aws[\"AWS side\"]\n")
	for _, svc := range []string{"sts", "secretsmanager", "lambda"} {
		fmt.Fprintf(&b, "    %s[\"%s\"]\n", svc, serviceLabels[svc])
	}
	b.WriteString("    listener[\"listener function\"]\n")
	if via["broker"].Via == "AWS side" {
		b.WriteString("    esm[\"ESM poller\"]\n    broker[\"Amazon MQ broker<br/>public endpoint\"]\n  end\n")
		b.WriteString("  esm -- \"AMQPS 5671\" --> broker\n")
		for _, svc := range []string{"sts", "secretsmanager", "lambda"} {
			fmt.Fprintf(&b, "  esm -- \"HTTPS 443\" --> %s\n", svc)
		}
		b.WriteString("  lambda -- \"invoke\" --> listener\n")
		return b.String()
	}
	b.WriteString("  end\n")

	vpc, tier, nat := describeNetwork(resources, facts)
	fmt.Fprintf(&b, "  subgraph vpc[\"%s\"]\n", vpc)
	fmt.Fprintf(&b, "    subgraph subnets[\"%s\"]\n", tier)
	b.WriteString("      eni[\"ESM interfaces<br/>private addresses only\"]\n")
	b.WriteString("      broker[\"broker endpoint\"]\n")
	endpoints := false
	for _, svc := range []string{"sts", "secretsmanager", "lambda"} {
		if strings.HasPrefix(via[svc].Via, "interface endpoint") {
			endpoints = true
		}
	}
	if endpoints {
		b.WriteString("      vpce[\"interface endpoints<br/>sts · secretsmanager · lambda<br/>private DNS\"]\n")
	}
	b.WriteString("    end\n")
	switch {
	case !nat || endpoints:
		// The endpoints answer for the services (private DNS), whatever the default route.
	case facts.ExistingVPC != nil:
		b.WriteString("    natgw[\"your NAT gateway\"]\n")
	default:
		b.WriteString("    natgw[\"NAT gateway<br/>(public subnet)\"]\n")
	}
	b.WriteString("  end\n")

	edge := func(from, label, to string, v reach.Verdict) {
		arrow := "-->"
		if !v.Reachable {
			label += " ✗ missing: " + strings.Join(v.Missing, "; ")
			arrow = "-.->"
		}
		fmt.Fprintf(&b, "  %s -- \"%s\" %s %s\n", from, label, arrow, to)
	}
	edge("eni", "AMQPS 5671<br/>security group self-reference", "broker", via["broker"])
	switch {
	case endpoints:
		edge("eni", "HTTPS 443", "vpce", via["sts"])
		for _, svc := range []string{"sts", "secretsmanager", "lambda"} {
			fmt.Fprintf(&b, "  vpce --> %s\n", svc)
		}
	case nat:
		edge("eni", "HTTPS 443", "natgw", via["sts"])
		for _, svc := range []string{"sts", "secretsmanager", "lambda"} {
			fmt.Fprintf(&b, "  natgw --> %s\n", svc)
		}
	default:
		for _, svc := range []string{"sts", "secretsmanager", "lambda"} {
			edge("eni", "HTTPS 443", svc, via[svc])
		}
	}
	b.WriteString("  lambda -- \"invoke\" --> listener\n")
	return b.String()
}

// describeNetwork labels the VPC and the broker's subnets, and says whether NAT exists.
func describeNetwork(resources []offline.Resource, facts infra.Facts) (vpc, tier string, nat bool) {
	if ev := facts.ExistingVPC; ev != nil {
		routes := map[string]bool{}
		other := "other"
		if ev.StatedEgress != "" {
			other = "egress stated by " + ev.StatedEgress + ", not followed"
		}
		for _, s := range ev.Subnets {
			routes[map[reach.Route]string{reach.RouteNATGateway: "NAT gateway", reach.RouteInternetGateway: "internet gateway",
				reach.RouteNone: "none", reach.RouteOther: other}[s.DefaultRoute]] = true
		}
		var names []string
		for r := range routes {
			names = append(names, r)
		}
		slices.Sort(names)
		nat = len(names) == 1 && names[0] == "NAT gateway"
		added := "security groups added"
		if slices.ContainsFunc(resources, func(r offline.Resource) bool { return r.Type == "aws:ec2/vpcEndpoint:VpcEndpoint" }) {
			added = "security groups and interface endpoints added"
		}
		return fmt.Sprintf("your VPC %s: only %s", ev.ID, added),
			fmt.Sprintf("your subnets (subnetIds), broker security group<br/>default route: %s", strings.Join(names, ", ")), nat
	}
	for _, r := range resources {
		if r.Type != "awsx:ec2:Vpc" {
			continue
		}
		in := r.Inputs
		var tiers []string
		for _, s := range in["subnetSpecs"].ArrayValue() {
			tiers = append(tiers, s.ObjectValue()["type"].StringValue())
		}
		nat = in["natGateways"].ObjectValue()["strategy"].StringValue() != "None"
		vpc = fmt.Sprintf("new VPC %s: %s subnets", str(in["cidrBlock"]), strings.ToLower(strings.Join(tiers, " + ")))
		if !slices.Contains(tiers, "Public") {
			// awsx attaches one to every VPC (awsx/ec2/vpc.ts); no subnet of these tiers routes to it.
			vpc += ", an internet gateway no subnet routes to"
		}
		brokerTier := tiers[len(tiers)-1]
		route := map[string]string{"Public": "internet gateway (unusable without public addresses)", "Private": "NAT gateway", "Isolated": "none"}[brokerTier]
		tier = fmt.Sprintf("%s subnets, broker security group<br/>default route: %s", strings.ToLower(brokerTier), route)
		return vpc, tier, nat
	}
	return "the account's default VPC", "a checked default subnet, default security group<br/>default route: internet gateway (unusable without public addresses)", false
}

// Text writes the plan for a terminal.
func Text(w io.Writer, p *Plan) {
	fmt.Fprintf(w, "Stack %s (networkMode %s, serviceRoute %s, %s)\n%s\n\n", p.Stack, p.NetworkMode, p.ServiceRoute, p.Region, p.Summary)
	fmt.Fprintln(w, "Resources:")
	for _, n := range p.Resources {
		writeNode(w, n, "  ")
	}
	fmt.Fprintln(w, "\nThe event source mapping's path to each dependency:")
	for _, v := range p.Paths {
		if v.Reachable {
			fmt.Fprintf(w, "  %-15s reachable via %s\n", v.Dependency, v.Via)
		} else {
			fmt.Fprintf(w, "  %-15s UNREACHABLE: missing %s\n", v.Dependency, strings.Join(v.Missing, "; "))
		}
		fmt.Fprintf(w, "  %-15s (%s)\n", "", v.Reason)
	}
	fmt.Fprintln(w, "\nBilled by the hour:")
	for _, item := range p.Hourly {
		fmt.Fprintf(w, "  %d × %s (%s)\n", item.Count, item.What, item.Note)
	}
	fmt.Fprintln(w, "\nAssumptions:")
	for _, a := range p.Assumptions {
		fmt.Fprintf(w, "  - %s\n", a)
	}
	if len(p.Warnings) > 0 {
		fmt.Fprintln(w, "\nWarnings (a deploy shows them before creating anything):")
		for _, msg := range p.Warnings {
			fmt.Fprintf(w, "  - %s\n", msg)
		}
	}
	fmt.Fprintf(w, "\nDiagram (Mermaid):\n```mermaid\n%s```\n", p.Mermaid)
}

func writeNode(w io.Writer, n *Node, indent string) {
	fmt.Fprintf(w, "%s%s %s\n", indent, n.Type, n.Name)
	for _, k := range sortedKeys(n.Properties) {
		fmt.Fprintf(w, "%s    %s: %s\n", indent, k, n.Properties[k])
	}
	for _, c := range n.Children {
		writeNode(w, c, indent+"  ")
	}
}
