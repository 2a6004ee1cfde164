package offline

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/simaccount"
)

// endpoint is an interface endpoint of the account, as the listing finds it.
type endpoint struct {
	UserEndpoint
	VPC string
}

// endpoints are the account's interface endpoints: the default VPC's (ExistingEndpoints) and
// the user VPC's, deleted ones included (EC2 lists them as deleted for a while).
func (m *Account) endpoints() []endpoint {
	var out []endpoint
	if m.ExistingEndpoints {
		for _, svc := range simaccount.Services {
			out = append(out, endpoint{VPC: simaccount.DefaultVPCID, UserEndpoint: UserEndpoint{ID: "vpce-existing-" + svc, Service: svc,
				PrivateDNS: !slices.Contains(m.NoPrivateDNS, svc), Groups: []string{simaccount.DefaultSGID},
				Subnets: []string{simaccount.DefaultSubnetID(simaccount.ServiceZones[0])}}})
		}
	}
	u := m.userVPC()
	for _, svc := range simaccount.Services {
		if ep, ok := u.Endpoints[svc]; ok {
			ep.Service = svc
			out = append(out, endpoint{VPC: u.ID, UserEndpoint: ep})
		}
	}
	for _, ep := range u.More {
		out = append(out, endpoint{VPC: u.ID, UserEndpoint: ep})
	}
	return out
}

// interfaces are an endpoint's network interfaces, one per subnet, described as EC2 describes
// them; a deleted endpoint has none (deleting an interface endpoint deletes them).
func (e endpoint) interfaces() []map[string]any {
	if e.state() == "deleted" {
		return nil
	}
	subnets := e.Subnets
	if len(subnets) == 0 {
		subnets = []string{simaccount.UserSubnetA}
	}
	var out []map[string]any
	for i, subnet := range subnets {
		out = append(out, map[string]any{"id": fmt.Sprintf("eni-%s-%d", strings.TrimPrefix(e.ID, "vpce-"), i+1), "vpcId": e.VPC, "subnetId": subnet,
			"description": "VPC Endpoint Interface " + e.ID, "interfaceType": "vpc_endpoint", "requesterId": "727180483921",
			"securityGroups": toAny(e.Groups)})
	}
	return out
}

func (e endpoint) state() string {
	if e.State == "" {
		return "available"
	}
	return e.State
}

// endpointCall answers the endpoint listing: the VPC's endpoint interfaces (filters vpc-id,
// description and interface-type, with EC2's * wildcards), one interface by id, one endpoint
// by id. An endpoint looked up by anything but its id is refused: that look-up fails in AWS
// when several match, and the program no longer makes it.
func (m *Account) endpointCall(token string, args resource.PropertyMap) (resource.PropertyMap, error) {
	str := func(key string) string {
		if v, ok := args[resource.PropertyKey(key)]; ok && v.IsString() {
			return v.StringValue()
		}
		return ""
	}
	var interfaces []map[string]any
	for _, e := range m.endpoints() {
		interfaces = append(interfaces, e.interfaces()...)
	}
	switch token {
	case "aws:ec2/getNetworkInterfaces:getNetworkInterfaces":
		var ids []any
		for _, eni := range interfaces {
			ok := true
			for _, f := range args["filters"].ArrayValue() {
				name := f.ObjectValue()["name"].StringValue()
				key := map[string]string{"vpc-id": "vpcId", "description": "description", "interface-type": "interfaceType"}[name]
				if key == "" {
					return nil, fmt.Errorf("offline account: getNetworkInterfaces filter %q is not modelled", name)
				}
				ok = ok && slices.ContainsFunc(f.ObjectValue()["values"].ArrayValue(), func(v resource.PropertyValue) bool {
					match, _ := path.Match(v.StringValue(), eni[key].(string))
					return match
				})
			}
			if ok {
				ids = append(ids, eni["id"])
			}
		}
		return resource.NewPropertyMapFromMap(map[string]any{"id": simaccount.Region, "ids": ids}), nil
	case "aws:ec2/getNetworkInterface:getNetworkInterface":
		for _, eni := range interfaces {
			if eni["id"] == str("id") {
				return resource.NewPropertyMapFromMap(eni), nil
			}
		}
		return nil, fmt.Errorf("no matching EC2 Network Interface found")
	}
	if str("id") == "" || str("vpcId") != "" || str("serviceName") != "" {
		return nil, fmt.Errorf("offline account: getVpcEndpoint is answered by id only (by VPC and service it fails in AWS when several match)")
	}
	for _, e := range m.endpoints() {
		if e.ID == str("id") {
			return resource.NewPropertyMapFromMap(map[string]any{"id": e.ID, "vpcId": e.VPC, "serviceName": simaccount.ServiceName(e.Service),
				"state": e.state(), "privateDnsEnabled": e.PrivateDNS, "securityGroupIds": toAny(e.Groups), "vpcEndpointType": "Interface",
				"tags": e.Tags}), nil
		}
	}
	return nil, fmt.Errorf("no matching EC2 VPC Endpoint found")
}
