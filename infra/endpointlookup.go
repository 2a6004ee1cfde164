package infra

import (
	"fmt"
	"slices"
	"strings"

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

// endpointENIDescription begins the description EC2 gives an interface endpoint's network
// interfaces: "VPC Endpoint Interface vpce-…" (EC2 user guide, "Requester-managed network
// interfaces", which also shows the older form with a colon, "VPC Endpoint Interface: vpce-…",
// and both interface types, vpc_endpoint and interface — so the listing filters on neither
// the colon nor the type).
const endpointENIDescription = "VPC Endpoint Interface"

// goneStates are the states of an endpoint on its way out or never in: DescribeVpcEndpoints
// goes on listing an endpoint as deleted for a while after its deletion (VpcEndpoint.State:
// PendingAcceptance | Pending | Available | Deleting | Deleted | Rejected | Failed | Expired;
// EC2 API reference), and none of these answers for a service.
var goneStates = []string{"deleting", "deleted", "rejected", "failed", "expired"}

// listEndpoints returns the VPC's interface endpoints for the EndpointServices that are not
// gone, by service, each service's sorted by id. It lists them through their network
// interfaces because the only endpoint data source of pulumi-aws v6 (getVpcEndpoint) is
// singular: it fails when several match — a deleted endpoint beside a live one, or two
// endpoints of one service ("multiple EC2 VPC Endpoints matched; use additional constraints
// …": terraform-provider-aws, internal/service/ec2/vpc_endpoint_data_source.go through
// tfresource.SingularDataSourceFindError). Deleting an interface endpoint deletes its interfaces (PrivateLink guide,
// "Delete an interface endpoint"), so a deleted one is not listed; its id is then looked up
// alone. An endpoint without a subnet has no interface and is not seen.
func listEndpoints(ctx *pulumi.Context, vpcID, region string) (map[string][]*ec2.LookupVpcEndpointResult, error) {
	enis, err := ec2.GetNetworkInterfaces(ctx, &ec2.GetNetworkInterfacesArgs{Filters: []ec2.GetNetworkInterfacesFilter{
		{Name: "vpc-id", Values: []string{vpcID}},
		{Name: "description", Values: []string{endpointENIDescription + "*"}},
	}})
	if err != nil && !isNotFound(err) {
		return nil, fmt.Errorf("listing the interface endpoints' network interfaces in %s: %w", vpcID, err)
	}
	var ids []string
	if enis != nil {
		for _, eniID := range slices.Sorted(slices.Values(enis.Ids)) {
			eni, err := ec2.LookupNetworkInterface(ctx, &ec2.LookupNetworkInterfaceArgs{Id: pulumi.StringRef(eniID)})
			switch {
			case err != nil && isNotFound(err):
				continue // gone since the listing
			case err != nil:
				return nil, fmt.Errorf("looking up the network interface %s in %s: %w", eniID, vpcID, err)
			}
			rest, ok := strings.CutPrefix(eni.Description, endpointENIDescription)
			id := strings.TrimSpace(strings.TrimPrefix(rest, ":"))
			if ok && strings.HasPrefix(id, "vpce-") && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	found := map[string][]*ec2.LookupVpcEndpointResult{}
	for _, id := range ids {
		ep, err := ec2.LookupVpcEndpoint(ctx, &ec2.LookupVpcEndpointArgs{Id: pulumi.StringRef(id)})
		switch {
		case err != nil && isNotFound(err):
			continue // deleted since the listing
		case err != nil:
			return nil, fmt.Errorf("looking up the interface endpoint %s in %s: %w", id, vpcID, err)
		}
		for _, svc := range EndpointServices {
			if ep.ServiceName == endpointServiceName(region, svc) && ep.VpcId == vpcID && !slices.Contains(goneStates, strings.ToLower(ep.State)) {
				found[svc] = append(found[svc], ep)
			}
		}
	}
	return found, nil
}

// answering is the endpoint of a service that answers for it in the VPC: the available one
// with private DNS. AWS lets at most one endpoint of a service in a VPC have private DNS (a
// second one is refused with a DNS conflict), so there is one or none.
func answering(eps []*ec2.LookupVpcEndpointResult) *ec2.LookupVpcEndpointResult {
	for _, ep := range eps {
		if ep.PrivateDnsEnabled && strings.EqualFold(ep.State, "available") {
			return ep
		}
	}
	return nil
}

func endpointIDs(eps []*ec2.LookupVpcEndpointResult) string {
	ids := make([]string, len(eps))
	for i, ep := range eps {
		ids[i] = ep.Id
		if !strings.EqualFold(ep.State, "available") {
			ids[i] += " (" + ep.State + ")"
		}
	}
	return strings.Join(ids, ", ")
}

// lookupExistingEndpoints proves the claim that the VPC has the endpoints (defaultVpcEndpoints
// existing, serviceRoute existing-endpoints): each service has an available interface endpoint
// with private DNS, without which the ESM cannot resolve it. Of several endpoints of a service
// it uses the one with private DNS.
func lookupExistingEndpoints(ctx *pulumi.Context, vpcID, region string, own map[string]string, c endpointChoice, refused *refusals) (map[string]*ec2.LookupVpcEndpointResult, error) {
	all, err := listEndpoints(ctx, vpcID, region)
	if err != nil {
		return nil, err
	}
	found := map[string]*ec2.LookupVpcEndpointResult{}
	for _, svc := range EndpointServices {
		eps := all[svc]
		if i := slices.IndexFunc(eps, func(ep *ec2.LookupVpcEndpointResult) bool { return hasTags(ep.Tags, own) }); i >= 0 {
			// This stack created it while the setting said create: switching would delete the
			// endpoints the mapping relies on.
			refused.add(fmt.Errorf("%s is %s, but the %s endpoint %s in %s is this stack's own, created while it "+
				"was %s; switching would delete it and cut the ESM off %s: set %s:%s back to %s", c.key, c.found, svc, eps[i].Id, vpcID, c.create, svc,
				ProjectName, c.key, c.create))
			continue
		}
		ep := answering(eps)
		switch {
		case ep != nil:
			found[svc] = ep
		case len(eps) == 0:
			refused.add(fmt.Errorf("%s is %s, but %s has no available %s interface endpoint; "+
				"set %s:%s to %s, or create the endpoint", c.key, c.found, c.vpc, svc, ProjectName, c.key, c.create))
		case !slices.ContainsFunc(eps, func(ep *ec2.LookupVpcEndpointResult) bool { return strings.EqualFold(ep.State, "available") }):
			refused.add(fmt.Errorf("%s is %s, but the %s interface endpoints of %s are not available: %s; "+
				"wait until one is, or set %s:%s to %s", c.key, c.found, svc, c.vpc, endpointIDs(eps), ProjectName, c.key, c.create))
		default:
			refused.add(fmt.Errorf("%s is %s, but the %s endpoint %s in %s has private DNS off, so the ESM "+
				"would resolve the public %s address it cannot reach; turn private DNS on for one of them", c.key, c.found, svc, endpointIDs(eps), vpcID, svc))
		}
	}
	return found, nil
}

// refuseConflictingDNS checks, before anything is created, that the program can create the
// endpoints with private DNS: AWS refuses one when the VPC already answers for the service's
// name — through an endpoint with private DNS, or a private hosted zone of that name
// ("private-dns-enabled cannot be set because there is already a conflicting DNS domain",
// hashicorp/terraform-provider-aws#17535) — and would do so with the broker half built. The
// stack's own endpoints, from an earlier up, carry its tags and are no conflict; nor are
// endpoints on their way out (goneStates). A private hosted zone shared from another account
// and associated with the VPC is invisible to the zone look-up (it lists the account's own
// zones), so the run says what it could not check and how to.
func refuseConflictingDNS(ctx *pulumi.Context, vpcID, region string, own map[string]string, c endpointChoice, refused *refusals) error {
	all, err := listEndpoints(ctx, vpcID, region)
	if err != nil {
		return err
	}
	var names []string
	for _, svc := range EndpointServices {
		for _, ep := range all[svc] {
			if ep.PrivateDnsEnabled && !hasTags(ep.Tags, own) {
				refused.add(fmt.Errorf("%s already has a %s interface endpoint with private DNS (%s), so creating another would fail "+
					"with a DNS conflict: set %s:%s to %s to use it", c.vpc, svc, endpointIDs([]*ec2.LookupVpcEndpointResult{ep}), ProjectName, c.key, c.found))
			}
		}
		zoneName := svc + "." + region + ".amazonaws.com"
		names = append(names, zoneName)
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
	// ListHostedZonesByVPC lists the zones associated with a VPC whatever account owns them
	// (Route 53 API reference); the provider's zone look-up lists only this account's.
	refused.warn(fmt.Sprintf("not checked: a private hosted zone for %s shared from another account and associated with %s "+
		"would make AWS refuse the endpoints' private DNS, and this account cannot list it; check with "+
		"`aws route53 list-hosted-zones-by-vpc --vpc-id %s --vpc-region %s` (a zone of one of those names there: set %s:%s to %s, or %s)",
		strings.Join(names, ", "), c.vpc, vpcID, region, ProjectName, c.key, c.found, c.alternative))
	return nil
}
