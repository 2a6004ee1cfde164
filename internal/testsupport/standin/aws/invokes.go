package aws

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/mq"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin/cloud"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/simaccount"
)

// invokes are the data sources the program calls, answered from the account. Filters the
// stand-in does not model are refused rather than ignored.
func invokes() map[string]*standin.Invoke {
	return map[string]*standin.Invoke{
		"aws:index/getRegion:getRegion": {Args: aws.GetRegionArgs{}, Call: func(*cloud.State, resource.PropertyMap) (map[string]any, error) {
			return map[string]any{"name": simaccount.Region, "id": simaccount.Region, "description": "US East (N. Virginia)",
				"endpoint": simaccount.ServiceHost("ec2")}, nil
		}},
		"aws:index/getAvailabilityZones:getAvailabilityZones": {Args: aws.GetAvailabilityZonesArgs{}, Call: getAvailabilityZones},
		// sts:GetCallerIdentity: the stand-in's credentials are the account's own user.
		"aws:index/getCallerIdentity:getCallerIdentity": {Args: aws.GetCallerIdentityArgs{}, Call: func(*cloud.State, resource.PropertyMap) (map[string]any, error) {
			return map[string]any{"id": simaccount.AccountID, "accountId": simaccount.AccountID, "arn": "arn:aws:iam::" + simaccount.AccountID + ":user/standin",
				"userId": "AIDASTANDIN000000000"}, nil
		}},
		"aws:ec2/getVpcEndpointService:getVpcEndpointService": {Args: ec2.LookupVpcEndpointServiceArgs{}, Call: getVpcEndpointService},
		"aws:ec2/getVpc:getVpc":                               {Args: ec2.LookupVpcArgs{}, Call: getVpc},
		"aws:ec2/getSubnets:getSubnets":                       {Args: ec2.GetSubnetsArgs{}, Call: getSubnets},
		"aws:ec2/getSecurityGroup:getSecurityGroup":           {Args: ec2.LookupSecurityGroupArgs{}, Call: getSecurityGroup},
		"aws:ec2/getVpcEndpoint:getVpcEndpoint":               {Args: ec2.LookupVpcEndpointArgs{}, Call: getVpcEndpoint},
		"aws:ec2/getSubnet:getSubnet":                         {Args: ec2.LookupSubnetArgs{}, Call: getSubnet},
		"aws:ec2/getRouteTables:getRouteTables":               {Args: ec2.GetRouteTablesArgs{}, Call: getRouteTables},
		"aws:ec2/getRouteTable:getRouteTable":                 {Args: ec2.LookupRouteTableArgs{}, Call: getRouteTable},
		"aws:vpc/getSecurityGroupRules:getSecurityGroupRules": {Args: vpc.GetSecurityGroupRulesArgs{}, Call: getSecurityGroupRules},
		"aws:vpc/getSecurityGroupRule:getSecurityGroupRule":   {Args: vpc.GetSecurityGroupRuleArgs{}, Call: getSecurityGroupRule},
		"aws:mq/getBroker:getBroker":                          {Args: mq.LookupBrokerArgs{}, Call: getBroker},
		"aws:route53/getZone:getZone":                         {Args: route53.LookupZoneArgs{}, Call: getZone},
		"aws:ec2/getNetworkInterfaces:getNetworkInterfaces":   {Args: ec2.GetNetworkInterfacesArgs{}, Call: getNetworkInterfaces},
		"aws:ec2/getNetworkInterface:getNetworkInterface":     {Args: ec2.LookupNetworkInterfaceArgs{}, Call: getNetworkInterface},
	}
}

// filters reads the filters argument, refusing names outside allowed.
func filters(args resource.PropertyMap, allowed ...string) (map[string][]string, error) {
	out := map[string][]string{}
	list, _ := standin.Plain(args["filters"]).([]any)
	for _, f := range list {
		m, _ := f.(map[string]any)
		name, _ := m["name"].(string)
		tagFilter := strings.HasPrefix(name, "tag:") && slices.Contains(allowed, "tag:*")
		if !slices.Contains(allowed, name) && !tagFilter {
			return nil, fmt.Errorf("the stand-in does not model the filter %q (modelled: %s)", name, strings.Join(allowed, ", "))
		}
		values, _ := m["values"].([]any)
		out[name] = append(out[name], strs(values)...)
	}
	return out, nil
}

func getAvailabilityZones(_ *cloud.State, args resource.PropertyMap) (map[string]any, error) {
	f, err := filters(args, "opt-in-status")
	if err != nil {
		return nil, err
	}
	if s := standin.Str(args, "state"); s != "" && s != "available" {
		return map[string]any{"id": simaccount.Region, "names": []any{}}, nil
	}
	if v, ok := f["opt-in-status"]; ok && !slices.Contains(v, "opt-in-not-required") {
		return map[string]any{"id": simaccount.Region, "names": []any{}}, nil
	}
	return map[string]any{"id": simaccount.Region, "names": toAny(simaccount.Zones), "zoneIds": toAny(simaccount.ZoneIDs), "groupNames": []any{simaccount.Region}}, nil
}

func getVpcEndpointService(_ *cloud.State, args resource.PropertyMap) (map[string]any, error) {
	name := standin.Str(args, "serviceName")
	dns, ok := endpointServices[name]
	if !ok {
		return nil, fmt.Errorf("no matching EC2 VPC Endpoint Service found (%s)", name)
	}
	if t := standin.Str(args, "serviceType"); t != "" && t != "Interface" {
		return nil, fmt.Errorf("no matching EC2 VPC Endpoint Service found (%s, type %s)", name, t)
	}
	return map[string]any{"id": name, "serviceName": name, "serviceType": "Interface", "serviceId": "vpce-svc-" + standin.Hash(name)[:12],
		"availabilityZones": toAny(simaccount.ServiceZones), "privateDnsName": dns, "owner": "amazon", "acceptanceRequired": false,
		"baseEndpointDnsNames": []any{dns}, "vpcEndpointPolicySupported": true}, nil
}

func getVpc(st *cloud.State, args resource.PropertyMap) (map[string]any, error) {
	if _, err := filters(args); err != nil {
		return nil, err
	}
	var v *cloud.Resource
	switch {
	case standin.Bool(args, "default"):
		v = st.FindOne(cloud.TypeVPC, func(r *cloud.Resource) bool { return r.Bool("default") })
	case standin.Str(args, "id") != "":
		v = st.Get(standin.Str(args, "id"))
	default:
		return nil, fmt.Errorf("the stand-in models getVpc by default or id only")
	}
	if v == nil || v.Type != cloud.TypeVPC {
		return nil, fmt.Errorf("no matching EC2 VPC found")
	}
	return map[string]any{"id": v.ID, "arn": arn("ec2", "vpc/"+v.ID), "cidrBlock": v.Str("cidrBlock"), "default": v.Bool("default"),
		"enableDnsSupport": v.Bool("enableDnsSupport"), "enableDnsHostnames": v.Bool("enableDnsHostnames"), "state": "available",
		"mainRouteTableId": mainRouteTable(st, v.ID), "ownerId": cmp.Or(v.Str("ownerId"), simaccount.AccountID)}, nil
}

func mainRouteTable(st *cloud.State, vpcID string) string {
	if t := st.FindOne(cloud.TypeRouteTable, func(r *cloud.Resource) bool { return r.Str("vpcId") == vpcID && r.Bool("main") }); t != nil {
		return t.ID
	}
	return ""
}

func getSubnet(st *cloud.State, args resource.PropertyMap) (map[string]any, error) {
	if _, err := filters(args); err != nil {
		return nil, err
	}
	id := standin.Str(args, "id")
	if id == "" {
		return nil, fmt.Errorf("the stand-in models getSubnet by id only")
	}
	s := st.Get(id)
	if s == nil || s.Type != cloud.TypeSubnet {
		return nil, fmt.Errorf("no matching EC2 Subnet found")
	}
	return map[string]any{"id": s.ID, "arn": arn("ec2", "subnet/"+s.ID), "vpcId": s.Str("vpcId"), "availabilityZone": s.Str("availabilityZone"),
		"cidrBlock": s.Str("cidrBlock"), "defaultForAz": s.Bool("defaultForAz"), "mapPublicIpOnLaunch": s.Bool("mapPublicIpOnLaunch"),
		"state": "available", "ownerId": cmp.Or(s.Str("ownerId"), simaccount.AccountID), "tags": s.Obj("tags")}, nil
}

// getRouteTables finds the tables explicitly associated with subnets (a subnet without one
// follows its VPC's main table, which this filter does not return, as in EC2).
// Source: EC2 API Reference, DescribeRouteTables (the subnet ID of an implicit association with
// the main table is not returned): only explicit associations match association.subnet-id.
func getRouteTables(st *cloud.State, args resource.PropertyMap) (map[string]any, error) {
	f, err := filters(args, "association.subnet-id")
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, a := range st.Find(cloud.TypeRouteTableAssociation, func(r *cloud.Resource) bool {
		return matches(f["association.subnet-id"], r.Str("subnetId"))
	}) {
		t := st.Get(a.Str("routeTableId"))
		if t != nil && matches(optional(standin.Str(args, "vpcId")), t.Str("vpcId")) && !slices.Contains(ids, t.ID) {
			ids = append(ids, t.ID)
		}
	}
	return map[string]any{"id": simaccount.Region, "ids": toAny(ids)}, nil
}

func optional(value string) []string {
	if value == "" {
		return nil
	}
	return []string{value}
}

func getRouteTable(st *cloud.State, args resource.PropertyMap) (map[string]any, error) {
	if _, err := filters(args); err != nil {
		return nil, err
	}
	id := standin.Str(args, "routeTableId")
	t := st.Get(id)
	if id == "" || t == nil || t.Type != cloud.TypeRouteTable {
		return nil, fmt.Errorf("the stand-in models getRouteTable by routeTableId only, and %q is no route table: query returned no results", id)
	}
	routes := []any{}
	if v := st.Get(t.Str("vpcId")); v != nil {
		routes = append(routes, map[string]any{"cidrBlock": v.Str("cidrBlock"), "gatewayId": "local"})
	}
	for _, r := range st.Find(cloud.TypeRoute, func(r *cloud.Resource) bool { return r.Str("routeTableId") == t.ID }) {
		routes = append(routes, map[string]any{"cidrBlock": r.Str("destinationCidrBlock"), "natGatewayId": r.Str("natGatewayId"),
			"gatewayId": r.Str("gatewayId"), "transitGatewayId": r.Str("transitGatewayId")})
	}
	var associations []any
	for _, a := range st.Find(cloud.TypeRouteTableAssociation, func(r *cloud.Resource) bool { return r.Str("routeTableId") == t.ID }) {
		associations = append(associations, map[string]any{"routeTableAssociationId": a.ID, "routeTableId": t.ID, "subnetId": a.Str("subnetId"), "main": false})
	}
	return map[string]any{"id": t.ID, "routeTableId": t.ID, "arn": arn("ec2", "route-table/"+t.ID), "vpcId": t.Str("vpcId"),
		"routes": routes, "associations": associations, "ownerId": simaccount.AccountID}, nil
}

func getSecurityGroupRules(st *cloud.State, args resource.PropertyMap) (map[string]any, error) {
	f, err := filters(args, "group-id")
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, typ := range []string{cloud.TypeIngressRule, cloud.TypeEgressRule} {
		for _, r := range st.Find(typ, func(r *cloud.Resource) bool { return matches(f["group-id"], r.Str("securityGroupId")) }) {
			ids = append(ids, r.ID)
		}
	}
	return map[string]any{"id": simaccount.Region, "ids": toAny(ids)}, nil
}

func getSecurityGroupRule(st *cloud.State, args resource.PropertyMap) (map[string]any, error) {
	if _, err := filters(args); err != nil {
		return nil, err
	}
	r := st.Get(standin.Str(args, "securityGroupRuleId"))
	if r == nil || (r.Type != cloud.TypeIngressRule && r.Type != cloud.TypeEgressRule) {
		return nil, fmt.Errorf("no matching Security Group Rule found")
	}
	from, to := r.Props["fromPort"], r.Props["toPort"]
	if from == nil {
		from, to = -1.0, -1.0
	}
	return map[string]any{"id": r.ID, "securityGroupRuleId": r.ID, "arn": arn("ec2", "security-group-rule/"+r.ID),
		"securityGroupId": r.Str("securityGroupId"), "isEgress": r.Type == cloud.TypeEgressRule, "ipProtocol": r.Str("ipProtocol"),
		"fromPort": from, "toPort": to, "cidrIpv4": r.Str("cidrIpv4"), "referencedSecurityGroupId": r.Str("referencedSecurityGroupId"),
		"description": r.Str("description")}, nil
}

// getSubnets answers DescribeSubnets' filters vpc-id, default-for-az, availability-zone and
// tag:<key> (EC2 API reference, DescribeSubnets: "tag:<key> - The key/value combination of a tag
// assigned to the resource").
func getSubnets(st *cloud.State, args resource.PropertyMap) (map[string]any, error) {
	f, err := filters(args, "vpc-id", "default-for-az", "availability-zone", "tag:*")
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, s := range st.Find(cloud.TypeSubnet, nil) {
		if matches(f["vpc-id"], s.Str("vpcId")) && matches(f["availability-zone"], s.Str("availabilityZone")) &&
			matches(f["default-for-az"], fmt.Sprint(s.Bool("defaultForAz"))) && matchesTags(f, s.Obj("tags")) {
			ids = append(ids, s.ID)
		}
	}
	slices.Sort(ids)
	return map[string]any{"id": simaccount.Region, "ids": toAny(ids)}, nil
}

// matchesTags holds a resource's tags to the tag:<key> filters.
func matchesTags(f map[string][]string, tags map[string]any) bool {
	for name, values := range f {
		if key, ok := strings.CutPrefix(name, "tag:"); ok {
			have, set := tags[key].(string)
			if !set || !slices.Contains(values, have) {
				return false
			}
		}
	}
	return true
}

func matches(values []string, have string) bool {
	return values == nil || slices.Contains(values, have)
}

func getSecurityGroup(st *cloud.State, args resource.PropertyMap) (map[string]any, error) {
	if _, err := filters(args); err != nil {
		return nil, err
	}
	sg := st.FindOne(cloud.TypeSecurityGroup, func(r *cloud.Resource) bool {
		return (standin.Str(args, "vpcId") == "" || r.Str("vpcId") == standin.Str(args, "vpcId")) &&
			(standin.Str(args, "name") == "" || r.Str("name") == standin.Str(args, "name")) &&
			(standin.Str(args, "id") == "" || r.ID == standin.Str(args, "id"))
	})
	if sg == nil {
		return nil, fmt.Errorf("no matching EC2 Security Group found")
	}
	return map[string]any{"id": sg.ID, "arn": arn("ec2", "security-group/"+sg.ID), "name": sg.Str("name"), "vpcId": sg.Str("vpcId"),
		"description": sg.Str("description")}, nil
}

// getVpcEndpoint answers as the provider's singular data source does over
// DescribeVpcEndpoints: by id, VPC, service and state, among the live endpoints and the
// deleted ones EC2 still lists (cloud.DeletedEndpoint); several matches fail
// (terraform-provider-aws, vpc_endpoint_data_source.go through
// tfresource.SingularDataSourceFindError).
func getVpcEndpoint(st *cloud.State, args resource.PropertyMap) (map[string]any, error) {
	if _, err := filters(args); err != nil {
		return nil, err
	}
	candidates := append(st.Find(cloud.TypeVPCEndpoint, nil), st.ListedDeletedEndpoints(time.Now())...)
	stateOf := func(ep *cloud.Resource) string { return cmp.Or(ep.Str("state"), "available") }
	var found []*cloud.Resource
	for _, ep := range candidates {
		if matches(optional(standin.Str(args, "id")), ep.ID) && matches(optional(standin.Str(args, "vpcId")), ep.Str("vpcId")) &&
			matches(optional(standin.Str(args, "serviceName")), ep.Str("serviceName")) && matches(optional(standin.Str(args, "state")), stateOf(ep)) {
			found = append(found, ep)
		}
	}
	switch {
	case len(found) == 0:
		return nil, fmt.Errorf("no matching EC2 VPC Endpoint found")
	case len(found) > 1:
		return nil, fmt.Errorf("multiple EC2 VPC Endpoints matched; use additional constraints to reduce matches to a single EC2 VPC Endpoint")
	}
	ep := found[0]
	return map[string]any{"id": ep.ID, "arn": arn("ec2", "vpc-endpoint/"+ep.ID), "vpcId": ep.Str("vpcId"), "serviceName": ep.Str("serviceName"),
		"state": stateOf(ep), "privateDnsEnabled": ep.Bool("privateDnsEnabled"), "vpcEndpointType": "Interface", "ownerId": simaccount.AccountID,
		"securityGroupIds": toAny(ep.Strs("securityGroupIds")), "subnetIds": toAny(ep.Strs("subnetIds")), "tags": ep.Obj("tags"),
		"networkInterfaceIds": toAny(eniIDs(st, ep.ID))}, nil
}

// getNetworkInterfaces answers DescribeNetworkInterfaces' filters vpc-id, subnet-id,
// description and interface-type, values with EC2's * and ? wildcards, over the interfaces
// that exist now: an interface endpoint's (one per subnet, described "VPC Endpoint Interface
// vpce-…", type vpc_endpoint: EC2 user guide, "Requester-managed network interfaces") and
// Lambda's. No match is an empty list, as the provider's plural data sources answer.
func getNetworkInterfaces(st *cloud.State, args resource.PropertyMap) (map[string]any, error) {
	f, err := filters(args, "vpc-id", "subnet-id", "description", "interface-type")
	if err != nil {
		return nil, err
	}
	if standin.Has(args, "tags") {
		return nil, fmt.Errorf("the stand-in does not model getNetworkInterfaces by tags")
	}
	var ids []string
	for _, e := range st.LiveENIs(time.Now()) {
		if wildcard(f["vpc-id"], e.VpcID) && wildcard(f["subnet-id"], e.SubnetID) && wildcard(f["description"], e.Description) &&
			wildcard(f["interface-type"], e.InterfaceType) {
			ids = append(ids, e.ID)
		}
	}
	return map[string]any{"id": simaccount.Region, "ids": toAny(ids)}, nil
}

// wildcard is an EC2 filter's match: no values match all; a value may hold * and ?.
func wildcard(values []string, have string) bool {
	return values == nil || slices.ContainsFunc(values, func(pattern string) bool { ok, _ := path.Match(pattern, have); return ok })
}

func getNetworkInterface(st *cloud.State, args resource.PropertyMap) (map[string]any, error) {
	if _, err := filters(args); err != nil {
		return nil, err
	}
	id := standin.Str(args, "id")
	if id == "" {
		return nil, fmt.Errorf("the stand-in models getNetworkInterface by id only")
	}
	for _, e := range st.LiveENIs(time.Now()) {
		if e.ID != id {
			continue
		}
		zone := ""
		if s := st.Get(e.SubnetID); s != nil {
			zone = s.Str("availabilityZone")
		}
		requester := "AROAEXAMPLE:lambda"
		if e.InterfaceType == "vpc_endpoint" {
			requester = "727180483921" // the account of the service's requester, not the user's
		}
		return map[string]any{"id": e.ID, "arn": arn("ec2", "network-interface/"+e.ID), "description": e.Description, "interfaceType": e.InterfaceType,
			"vpcId": e.VpcID, "subnetId": e.SubnetID, "availabilityZone": zone, "securityGroups": toAny(e.Groups), "ownerId": simaccount.AccountID,
			"requesterId": requester, "tags": map[string]any{}}, nil
	}
	return nil, fmt.Errorf("no matching EC2 Network Interface found")
}

// getZone is the aws_route53_zone data source (terraform-provider-aws v5,
// internal/service/route53/zone_data_source.go): by zone_id (GetHostedZone), or by listing
// this account's hosted zones (ListHostedZones: "the public and private hosted zones that are
// associated with the current AWS account") and keeping those of the name, of the type
// (private_zone, implied by vpc_id) and associated with vpc_id; exactly one must remain. A zone
// another account owns is in neither answer, even when it is associated with this account's
// VPC. The failures are tfresource.SingularDataSourceFindError's for "Route 53 Hosted Zone".
func getZone(st *cloud.State, args resource.PropertyMap) (map[string]any, error) {
	zoneID, name, vpcID := standin.Str(args, "zoneId"), standin.Str(args, "name"), standin.Str(args, "vpcId")
	if zoneID != "" && name != "" {
		// The provider returns a warning and no zone; the stand-in fails instead.
		return nil, fmt.Errorf("only one of `zone_id` or `name` may be set")
	}
	private := vpcID != "" || standin.Bool(args, "privateZone")
	if standin.Has(args, "tags") {
		return nil, fmt.Errorf("the stand-in does not model getZone's tags argument")
	}
	own := func(r *cloud.Resource) bool { return r.Str("ownerAccount") == simaccount.AccountID }
	var zone *cloud.Resource
	if zoneID != "" {
		zone = st.Get(zoneID)
		if zone == nil || zone.Type != cloud.TypeHostedZone || !own(zone) {
			return nil, fmt.Errorf("NoSuchHostedZone: No hosted zone found with ID: %s", zoneID)
		}
	} else {
		found := st.Find(cloud.TypeHostedZone, func(r *cloud.Resource) bool {
			return own(r) && (name == "" || normalizeDomain(r.Str("name")) == normalizeDomain(name)) && r.Bool("privateZone") == private &&
				(vpcID == "" || slices.Contains(r.Strs("vpcIds"), vpcID))
		})
		switch len(found) {
		case 0:
			return nil, fmt.Errorf("no matching Route 53 Hosted Zone found")
		case 1:
			zone = found[0]
		default:
			return nil, fmt.Errorf("multiple Route 53 Hosted Zones matched; use additional constraints to reduce matches to a single Route 53 Hosted Zone")
		}
	}
	ns := []any{"ns-0.awsdns-00.com.", "ns-512.awsdns-00.net.", "ns-1024.awsdns-00.org.", "ns-1536.awsdns-00.co.uk."}
	return map[string]any{"id": zone.ID, "zoneId": zone.ID, "arn": "arn:aws:route53:::hostedzone/" + zone.ID,
		"name": normalizeDomain(zone.Str("name")), "privateZone": zone.Bool("privateZone"), "callerReference": zone.Str("callerReference"),
		"comment": zone.Str("comment"), "linkedServiceDescription": "", "linkedServicePrincipal": "", "nameServers": ns,
		"primaryNameServer": ns[0], "resourceRecordSetCount": 2.0, "tags": map[string]any{}, "vpcId": vpcID}, nil
}

// normalizeDomain is the provider's normalizeDomainName in effect: lower case, no trailing dot.
func normalizeDomain(name string) string {
	return strings.TrimSuffix(strings.ToLower(name), ".")
}
