package infra

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// rule is one TCP security group rule, created as its own resource so that two groups can
// reference each other without a cycle.
type rule struct {
	name        string
	group       pulumi.StringInput // the group the rule belongs to
	ingress     bool
	port        int
	peerGroup   pulumi.StringInput
	peerCIDR    string
	description string
}

func (r rule) create(ctx *pulumi.Context, tags pulumi.StringMap, opts ...pulumi.ResourceOption) (pulumi.Resource, error) {
	var peerGroup pulumi.StringPtrInput
	if r.peerGroup != nil {
		peerGroup = r.peerGroup.ToStringOutput().ToStringPtrOutput()
	}
	var peerCIDR pulumi.StringPtrInput
	if r.peerCIDR != "" {
		peerCIDR = pulumi.String(r.peerCIDR)
	}
	if r.ingress {
		return vpc.NewSecurityGroupIngressRule(ctx, r.name, &vpc.SecurityGroupIngressRuleArgs{
			SecurityGroupId: r.group, IpProtocol: pulumi.String("tcp"),
			FromPort: pulumi.Int(r.port), ToPort: pulumi.Int(r.port),
			ReferencedSecurityGroupId: peerGroup, CidrIpv4: peerCIDR,
			Description: pulumi.String(r.description), Tags: tags,
		}, opts...)
	}
	return vpc.NewSecurityGroupEgressRule(ctx, r.name, &vpc.SecurityGroupEgressRuleArgs{
		SecurityGroupId: r.group, IpProtocol: pulumi.String("tcp"),
		FromPort: pulumi.Int(r.port), ToPort: pulumi.Int(r.port),
		ReferencedSecurityGroupId: peerGroup, CidrIpv4: peerCIDR,
		Description: pulumi.String(r.description), Tags: tags,
	}, opts...)
}
