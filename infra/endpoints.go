package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// EndpointsArgs configure the Endpoints component.
type EndpointsArgs struct {
	// Region of the endpoint services (com.amazonaws.<region>.<service>). Required.
	Region string
	// VpcID is the VPC the endpoints go in. Required.
	VpcID pulumi.StringInput
	// SubnetIDs hold the endpoints' interfaces: at most one per zone (an interface endpoint
	// takes no more), the zones of the broker's tier. Required.
	SubnetIDs pulumi.StringArrayInput
	// ClientSecurityGroupID is the group the ESM's interfaces carry (the broker's group). Required.
	ClientSecurityGroupID pulumi.StringInput
	// VpcCIDRs are the VPC's IPv4 blocks, which the endpoints admit HTTPS from: with private
	// DNS an endpoint answers for the whole VPC, so every workload in it (not only the ESM)
	// now reaches STS, Secrets Manager and Lambda through it. Required.
	VpcCIDRs []string
	// ManageClientEgress adds the client group's HTTPS egress to the endpoints. False for the
	// default VPC's default group, which already allows all egress and is not ours to change.
	// Default: false.
	ManageClientEgress bool
	// Existing are the VPC's own endpoints, by service, and ExistingGroups their security
	// groups: the component then creates no endpoint and no group, only the client group's
	// HTTPS egress to those groups (with ManageClientEgress). Default: none (it creates them).
	Existing       map[string]string
	ExistingGroups []string
	// Tags for every taggable child. Default: none.
	Tags pulumi.StringMap
}

// Endpoints are the sts, secretsmanager and lambda interface endpoints, with private DNS, that
// carry the ESM's AWS calls where its interfaces have no NAT route: created here, or the VPC's
// own, found, which the component only lets the ESM's interfaces reach.
type Endpoints struct {
	pulumi.ResourceState

	// SecurityGroupID is the endpoints' group; empty for endpoints found in the VPC.
	SecurityGroupID pulumi.StringOutput `pulumi:"securityGroupId"`
	// EndpointIDs maps each service (sts, secretsmanager, lambda) to its endpoint id.
	EndpointIDs pulumi.StringMapOutput `pulumi:"endpointIds"`

	// members: the endpoints and the rules that admit the ESM to them.
	members
}

// NewEndpoints creates the endpoints and the security group rules that let the ESM use them.
func NewEndpoints(ctx *pulumi.Context, name string, args *EndpointsArgs, opts ...pulumi.ResourceOption) (*Endpoints, error) {
	e := &Endpoints{}
	if err := ctx.RegisterComponentResource(typeToken("Endpoints"), name, e, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(e)
	if args.Existing != nil {
		if err := e.useExisting(ctx, name, args, parent); err != nil {
			return nil, err
		}
		return e, nil
	}
	sg, err := ec2.NewSecurityGroup(ctx, name+"-sg", &ec2.SecurityGroupArgs{
		VpcId:       args.VpcID,
		Description: pulumi.String("Interface endpoints for STS, Secrets Manager and Lambda, used by the Lambda ESM"),
		Tags:        args.Tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	rules := []rule{{name: name + "-https-from-clients", group: sg.ID(), ingress: true, port: HTTPSPort, peerGroup: args.ClientSecurityGroupID,
		description: "HTTPS from the ESM's interfaces (they carry the broker's group)"}}
	for i, cidr := range args.VpcCIDRs {
		rules = append(rules, rule{name: fmt.Sprintf("%s-https-from-vpc-%d", name, i+1), group: sg.ID(), ingress: true, port: HTTPSPort, peerCIDR: cidr,
			description: "HTTPS from every workload of the VPC: private DNS sends all its STS, Secrets Manager and Lambda calls here"})
	}
	if args.ManageClientEgress {
		rules = append(rules, rule{name: name + "-https-to-endpoints", group: args.ClientSecurityGroupID, port: HTTPSPort, peerGroup: sg.ID(),
			description: "HTTPS from the ESM's interfaces to the STS, Secrets Manager and Lambda endpoints"})
	}
	for _, r := range rules {
		created, err := r.create(ctx, args.Tags, parent)
		if err != nil {
			return nil, err
		}
		e.track(created)
	}

	ids := pulumi.StringMap{}
	for _, svc := range EndpointServices {
		ep, err := ec2.NewVpcEndpoint(ctx, name+"-"+svc, &ec2.VpcEndpointArgs{
			VpcId:             args.VpcID,
			ServiceName:       pulumi.String(endpointServiceName(args.Region, svc)),
			VpcEndpointType:   pulumi.String("Interface"),
			PrivateDnsEnabled: pulumi.Bool(true),
			SubnetIds:         args.SubnetIDs,
			SecurityGroupIds:  pulumi.StringArray{sg.ID()},
			Tags:              args.Tags,
		}, parent)
		if err != nil {
			return nil, err
		}
		ids[svc] = ep.ID().ToStringOutput()
		e.track(ep)
	}
	e.SecurityGroupID = sg.ID().ToStringOutput()
	e.EndpointIDs = ids.ToStringMapOutput()
	return e, ctx.RegisterResourceOutputs(e, pulumi.Map{
		"securityGroupId": e.SecurityGroupID,
		"endpointIds":     e.EndpointIDs,
	})
}

// useExisting records the VPC's own endpoints and lets the client group out to their groups:
// the program creates the broker's group, so nothing in the VPC references it yet.
func (e *Endpoints) useExisting(ctx *pulumi.Context, name string, args *EndpointsArgs, parent pulumi.ResourceOption) error {
	if args.ManageClientEgress {
		for i, g := range args.ExistingGroups {
			created, err := rule{name: fmt.Sprintf("%s-https-to-existing-%d", name, i+1), group: args.ClientSecurityGroupID, port: HTTPSPort,
				peerGroup: pulumi.String(g), description: "HTTPS from the ESM's interfaces to the VPC's own STS, Secrets Manager and Lambda endpoints"}.
				create(ctx, args.Tags, parent)
			if err != nil {
				return err
			}
			e.track(created)
		}
	}
	e.SecurityGroupID = pulumi.String("").ToStringOutput()
	e.EndpointIDs = pulumi.ToStringMap(args.Existing).ToStringMapOutput()
	return ctx.RegisterResourceOutputs(e, pulumi.Map{
		"securityGroupId": e.SecurityGroupID,
		"endpointIds":     e.EndpointIDs,
	})
}
