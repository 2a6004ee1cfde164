package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// endpointChoice names, for messages, the setting that says whether a VPC's interface
// endpoints are found or created: defaultVpcEndpoints (defaultvpc) or serviceRoute
// (existingvpc).
type endpointChoice struct {
	// vpc is how messages name the VPC ("the default VPC vpc-…", or "vpc-…").
	vpc string
	// key is the setting; found and create its values that use the VPC's endpoints and
	// create them.
	key, found, create string
	// alternative is what else the user can do when the VPC already answers for a service.
	alternative string
}

// lookupExistingEndpoints proves the claim that the VPC has the endpoints (defaultVpcEndpoints
// existing, serviceRoute existing-endpoints): each service has an available interface endpoint
// with private DNS, without which the ESM cannot resolve it.
func lookupExistingEndpoints(ctx *pulumi.Context, vpcID, region string, own map[string]string, c endpointChoice, refused *refusals) (map[string]*ec2.LookupVpcEndpointResult, error) {
	found := map[string]*ec2.LookupVpcEndpointResult{}
	for _, svc := range EndpointServices {
		ep, err := ec2.LookupVpcEndpoint(ctx, &ec2.LookupVpcEndpointArgs{
			VpcId:       pulumi.StringRef(vpcID),
			ServiceName: pulumi.StringRef(endpointServiceName(region, svc)),
			State:       pulumi.StringRef("available"),
		})
		if err != nil {
			refused.add(fmt.Errorf("%s is %s, but %s has no available %s interface endpoint (%v); "+
				"set %s:%s to %s, or create the endpoint", c.key, c.found, c.vpc, svc, err, ProjectName, c.key, c.create))
			continue
		}
		if hasTags(ep.Tags, own) {
			// This stack created it while the setting said create: switching would delete the
			// endpoints the mapping relies on.
			refused.add(fmt.Errorf("%s is %s, but the %s endpoint %s in %s is this stack's own, created while it "+
				"was %s; switching would delete it and cut the ESM off %s: set %s:%s back to %s", c.key, c.found, svc, ep.Id, vpcID, c.create, svc,
				ProjectName, c.key, c.create))
			continue
		}
		if !ep.PrivateDnsEnabled {
			refused.add(fmt.Errorf("%s is %s, but the %s endpoint %s in %s has private DNS off, so the ESM "+
				"would resolve the public %s address it cannot reach; turn private DNS on for it", c.key, c.found, svc, ep.Id, vpcID, svc))
		}
		found[svc] = ep
	}
	return found, nil
}

// refuseConflictingDNS checks, before anything is created, that the program can create the
// endpoints with private DNS: AWS refuses one when the VPC already answers for the service's
// name — through an endpoint with private DNS, or a private hosted zone of that name
// ("private-dns-enabled cannot be set because there is already a conflicting DNS domain",
// hashicorp/terraform-provider-aws#17535) — and would do so with the broker half built. The
// stack's own endpoints, from an earlier up, carry its tags and are no conflict.
func refuseConflictingDNS(ctx *pulumi.Context, vpcID, region string, own map[string]string, c endpointChoice, refused *refusals) error {
	for _, svc := range EndpointServices {
		ep, err := ec2.LookupVpcEndpoint(ctx, &ec2.LookupVpcEndpointArgs{
			VpcId:       pulumi.StringRef(vpcID),
			ServiceName: pulumi.StringRef(endpointServiceName(region, svc)),
		})
		switch {
		case err != nil && !isNotFound(err):
			return fmt.Errorf("looking for an existing %s endpoint in %s: %w", svc, c.vpc, err)
		case err == nil && ep.PrivateDnsEnabled && !hasTags(ep.Tags, own):
			refused.add(fmt.Errorf("%s already has a %s interface endpoint with private DNS (%s), so creating another would fail "+
				"with a DNS conflict: set %s:%s to %s to use it", c.vpc, svc, ep.Id, ProjectName, c.key, c.found))
		}
		zoneName := svc + "." + region + ".amazonaws.com"
		zone, err := route53.LookupZone(ctx, &route53.LookupZoneArgs{
			Name: pulumi.StringRef(zoneName), PrivateZone: pulumi.BoolRef(true), VpcId: pulumi.StringRef(vpcID),
		})
		switch {
		case err != nil && !isNotFound(err):
			return fmt.Errorf("looking for a private hosted zone %s in %s: %w", zoneName, c.vpc, err)
		case err == nil:
			refused.add(fmt.Errorf("%s is associated with a private hosted zone for %s (%s), which conflicts with the private DNS "+
				"of the endpoint the program would create; point the zone at an endpoint and set %s:%s to %s, "+
				"or %s", c.vpc, zoneName, zone.ZoneId, ProjectName, c.key, c.found, c.alternative))
		}
	}
	return nil
}
