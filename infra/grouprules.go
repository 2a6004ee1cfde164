package infra

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/rabbitmq-esm/rabbitmq-esm/infra/reach"
)

// lookupGroup reads a security group's rules on the ports the mapping uses (AMQPS and HTTPS), as
// the verifier reads them: from a group or an IPv4 block, a rule for every protocol as all ports.
// Rules from prefix lists or IPv6 blocks are left out (the mapping's interfaces have IPv4
// addresses; prefix lists are not followed), so a path open only through them is reported closed.
func lookupGroup(ctx *pulumi.Context, group string) (reach.Group, error) {
	g := reach.Group{ID: group}
	ids, err := vpc.GetSecurityGroupRules(ctx, &vpc.GetSecurityGroupRulesArgs{
		Filters: []vpc.GetSecurityGroupRulesFilter{{Name: "group-id", Values: []string{group}}},
	})
	if err != nil {
		return g, fmt.Errorf("looking up the rules of security group %s: %w", group, err)
	}
	for _, id := range slices.Sorted(slices.Values(ids.Ids)) {
		r, err := vpc.GetSecurityGroupRule(ctx, &vpc.GetSecurityGroupRuleArgs{SecurityGroupRuleId: pulumi.StringRef(id)})
		if err != nil {
			return g, fmt.Errorf("looking up the security group rule %s of %s: %w", id, group, err)
		}
		peer := cmp.Or(r.ReferencedSecurityGroupId, r.CidrIpv4)
		if peer == "" {
			continue
		}
		var rules []reach.Rule
		switch r.IpProtocol {
		case "-1":
			rules = append(rules, reach.Rule{Port: reach.AllPorts, Peer: peer})
		case "tcp", "6":
			for _, port := range []int{AMQPSPort, HTTPSPort} {
				if r.FromPort <= port && port <= r.ToPort {
					rules = append(rules, reach.Rule{Port: port, Peer: peer})
				}
			}
		}
		if r.IsEgress {
			g.Egress = append(g.Egress, rules...)
		} else {
			g.Ingress = append(g.Ingress, rules...)
		}
	}
	return g, nil
}
