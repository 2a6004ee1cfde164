package infra

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// EndpointServices are the AWS services the ESM calls from its network interfaces, in the
// order of its poll loop: assume the listener's role, read the broker credentials, invoke.
var EndpointServices = []string{"sts", "secretsmanager", "lambda"}

// Facts are what the program learns from the account before it registers any resource, so
// that a problem with the account (no default VPC, too few zones) stops the run with a clear
// message while nothing has been created yet.
type Facts struct {
	Region string
	// Zones are the availability zones a new VPC spans: the first ones in which every
	// interface endpoint service the option needs is offered.
	Zones []string
	// DefaultVPC is set for the defaultvpc option only.
	DefaultVPC *DefaultVPC
	// ExistingVPC is set for the existingvpc option only.
	ExistingVPC *ExistingVPC

	// refused are the checks of the account that failed and guard a deploy only (refusals).
	refused refusals
}

// DefaultVPC is the account's default VPC as the defaultvpc option uses it.
type DefaultVPC struct {
	ID string
	// SubnetIDs are the default subnets (one per zone) in zones where the endpoint services
	// are offered; the interface endpoints go there.
	SubnetIDs []string
	// CIDRs are the VPC's IPv4 blocks.
	CIDRs []string
	// SecurityGroupID is the VPC's default security group, which Amazon MQ gives the broker
	// (and the ESM its interfaces) when the broker is created without security groups.
	SecurityGroupID string
	// ExistingEndpoints maps each endpoint service to the id of the endpoint the VPC already
	// has (defaultVpcEndpoints = existing).
	ExistingEndpoints map[string]string
}

func lookupFacts(ctx *pulumi.Context, cfg Config) (Facts, error) {
	opt := cfg.Option()
	region, err := aws.GetRegion(ctx, &aws.GetRegionArgs{})
	if err != nil {
		return Facts{}, fmt.Errorf("looking up the AWS region (set aws:region in the stack file): %w", err)
	}
	facts := Facts{Region: region.Name}
	if opt.VPC == VPCNone {
		return facts, nil
	}

	// One rule for every option with a VPC, whatever carries the ESM's calls: its subnets go
	// only in zones that offer every service it calls. A zone without them may also lack
	// Lambda's VPC networking, and with NAT it would hold an interface endpoint nobody can add
	// later.
	serviceZones, err := endpointServiceZones(ctx, region.Name)
	if err != nil {
		return Facts{}, err
	}

	switch opt.VPC {
	case VPCNew:
		facts.Zones, err = chooseZones(ctx, cfg, serviceZones, &facts.refused)
	case VPCDefault:
		facts.DefaultVPC, err = lookupDefaultVPC(ctx, cfg, region.Name, serviceZones, &facts.refused)
	case VPCExisting:
		facts.ExistingVPC, err = lookupExistingVPC(ctx, cfg, region.Name, serviceZones, &facts.refused)
	}
	return facts, err
}

// endpointServiceZones returns the zones in which every endpoint service is offered. Not every
// zone offers every service (us-east-1 has zones that lack some), and an endpoint subnet in
// such a zone fails the deployment.
func endpointServiceZones(ctx *pulumi.Context, region string) ([]string, error) {
	var common []string
	for i, svc := range EndpointServices {
		res, err := ec2.LookupVpcEndpointService(ctx, &ec2.LookupVpcEndpointServiceArgs{
			ServiceName: pulumi.StringRef(endpointServiceName(region, svc)),
			ServiceType: pulumi.StringRef("Interface"),
		})
		if err != nil {
			return nil, fmt.Errorf("looking up the %s interface endpoint service in %s: %w", svc, region, err)
		}
		if i == 0 {
			common = slices.Clone(res.AvailabilityZones)
			continue
		}
		common = slices.DeleteFunc(common, func(z string) bool { return !slices.Contains(res.AvailabilityZones, z) })
	}
	return common, nil
}

func chooseZones(ctx *pulumi.Context, cfg Config, serviceZones []string, refused *refusals) ([]string, error) {
	azs, err := aws.GetAvailabilityZones(ctx, &aws.GetAvailabilityZonesArgs{
		State: pulumi.StringRef("available"),
		Filters: []aws.GetAvailabilityZonesFilter{
			{Name: "opt-in-status", Values: []string{"opt-in-not-required"}},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("looking up availability zones: %w", err)
	}
	zones := slices.DeleteFunc(slices.Clone(azs.Names), func(z string) bool { return !slices.Contains(serviceZones, z) })
	if len(zones) < cfg.AvailabilityZones {
		refused.add(&ConfigError{Stack: cfg.Stack, Problems: []*SettingError{{
			Key: "availabilityZones", Value: fmt.Sprint(cfg.AvailabilityZones),
			Allowed: fmt.Sprintf("must be at most %d here: only %s offer what the %s option needs", len(zones), strings.Join(zones, ", "), cfg.NetworkMode),
		}}})
		return zones, nil
	}
	return zones[:cfg.AvailabilityZones], nil
}

func lookupDefaultVPC(ctx *pulumi.Context, cfg Config, region string, serviceZones []string, refused *refusals) (*DefaultVPC, error) {
	vpc, err := ec2.LookupVpc(ctx, &ec2.LookupVpcArgs{Default: pulumi.BoolRef(true)})
	if err != nil {
		return nil, fmt.Errorf("networkMode defaultvpc needs the account's default VPC, and none was found in %s (%v). "+
			"Create one with `aws ec2 create-default-vpc --region %s`, or use networkMode isolated, which builds its own VPC", region, err, region)
	}
	filters := []ec2.GetSubnetsFilter{
		{Name: "vpc-id", Values: []string{vpc.Id}},
		{Name: "default-for-az", Values: []string{"true"}},
		{Name: "availability-zone", Values: serviceZones},
	}
	subnets, err := ec2.GetSubnets(ctx, &ec2.GetSubnetsArgs{Filters: filters})
	if err != nil {
		return nil, fmt.Errorf("looking up the default subnets of %s: %w", vpc.Id, err)
	}
	if len(subnets.Ids) == 0 {
		return nil, fmt.Errorf("the default VPC %s in %s has no default subnet in a zone that offers %s endpoints; "+
			"recreate them with `aws ec2 create-default-subnet --availability-zone <zone>` or use networkMode isolated",
			vpc.Id, region, strings.Join(EndpointServices, ", "))
	}
	sg, err := ec2.LookupSecurityGroup(ctx, &ec2.LookupSecurityGroupArgs{
		VpcId: pulumi.StringRef(vpc.Id),
		Name:  pulumi.StringRef("default"),
	})
	if err != nil {
		return nil, fmt.Errorf("looking up the default security group of %s: %w", vpc.Id, err)
	}
	dv := &DefaultVPC{ID: vpc.Id, SubnetIDs: slices.Sorted(slices.Values(subnets.Ids)), SecurityGroupID: sg.Id, CIDRs: []string{vpc.CidrBlock}}
	for _, a := range vpc.CidrBlockAssociations {
		if !slices.Contains(dv.CIDRs, a.CidrBlock) {
			dv.CIDRs = append(dv.CIDRs, a.CidrBlock)
		}
	}
	choice := endpointChoice{vpc: "the default VPC " + vpc.Id, key: "defaultVpcEndpoints", found: string(EndpointsExisting),
		create: string(EndpointsCreate), alternative: "use networkMode isolated"}
	if cfg.Option().EndpointsFound {
		found, err := lookupExistingEndpoints(ctx, vpc.Id, region, stackTags(ctx, cfg), choice, refused)
		if err != nil {
			return nil, err
		}
		dv.ExistingEndpoints = map[string]string{}
		for svc, ep := range found {
			dv.ExistingEndpoints[svc] = ep.Id
		}
		return dv, nil
	}
	return dv, refuseConflictingDNS(ctx, vpc.Id, region, stackTags(ctx, cfg), choice, refused)
}

func hasTags(tags, want map[string]string) bool {
	for k, v := range want {
		if tags[k] != v {
			return false
		}
	}
	return true
}

// isNotFound tells a look-up that found nothing (the data sources fail with "no matching ...")
// from one that failed.
func isNotFound(err error) bool {
	return strings.Contains(err.Error(), "no matching")
}

func endpointServiceName(region, service string) string {
	return "com.amazonaws." + region + "." + service
}
