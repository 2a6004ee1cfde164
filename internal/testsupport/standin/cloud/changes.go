package cloud

import (
	"fmt"
	"strings"
	"time"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/simaccount"
)

// Changes to the account under a deployed stack, made out of band (by a person, a remediation,
// another team): tests call them inside Store.Update between commands.

// TypeHostedZone is a Route 53 hosted zone (Pulumi's aws:route53/zone:Zone).
const TypeHostedZone = "aws:route53/zone:Zone"

// EmptyDefaultSecurityGroup removes every ingress and egress rule of the VPC's default security
// group, as the CIS AWS Foundations Benchmark (5.4, "Ensure the default security group of every
// VPC restricts all traffic") and Security Hub control EC2.2 ("VPC default security groups
// should not allow inbound or outbound traffic"; AWS Config rule
// vpc-default-security-group-closed) have accounts remediated. It returns the removed rules.
func (st *State) EmptyDefaultSecurityGroup(vpcID string) ([]string, error) {
	sg := st.FindOne(TypeSecurityGroup, func(r *Resource) bool { return r.Str("vpcId") == vpcID && r.Str("name") == "default" })
	if sg == nil {
		return nil, fmt.Errorf("the VPC %s has no default security group", vpcID)
	}
	var removed []string
	for _, typ := range []string{TypeIngressRule, TypeEgressRule} {
		for _, r := range st.Find(typ, func(r *Resource) bool { return r.Str("securityGroupId") == sg.ID }) {
			delete(st.Resources, r.ID)
			removed = append(removed, r.ID)
		}
	}
	st.Record("change", TypeSecurityGroup, sg.ID, "emptied: "+strings.Join(removed, ","))
	return removed, nil
}

// SetDNSHostnames turns the VPC's enableDnsHostnames on or off (EC2 ModifyVpcAttribute).
func (st *State) SetDNSHostnames(vpcID string, on bool) error {
	v := st.Get(vpcID)
	if v == nil || v.Type != TypeVPC {
		return fmt.Errorf("InvalidVpcID.NotFound: The vpc ID '%s' does not exist", vpcID)
	}
	v.Props["enableDnsHostnames"] = on
	st.Record("change", TypeVPC, vpcID, fmt.Sprintf("enableDnsHostnames=%v", on))
	return nil
}

// AssociatePrivateZone creates a private hosted zone of this account named name and associates
// it with the VPC (Route 53 CreateHostedZone with a VPC). It returns the zone's id.
func (st *State) AssociatePrivateZone(name, vpcID string) (string, error) {
	return st.addZone(name, vpcID, simaccount.AccountID)
}

// AssociateSharedZone associates with this account's VPC a private hosted zone that another
// account owns (simaccount.OtherAccountID): CreateVPCAssociationAuthorization there,
// AssociateVPCWithHostedZone here. The zone resolves in the VPC, but this account's
// ListHostedZones and GetHostedZone do not return it; only ListHostedZonesByVPC does ("Lists all
// the private hosted zones that a specified VPC is associated with, regardless of which AWS
// account ... owns the hosted zones").
func (st *State) AssociateSharedZone(name, vpcID string) (string, error) {
	return st.addZone(name, vpcID, simaccount.OtherAccountID)
}

func (st *State) addZone(name, vpcID, owner string) (string, error) {
	if v := st.Get(vpcID); v == nil || v.Type != TypeVPC {
		return "", fmt.Errorf("InvalidVPCId: The VPC %s does not exist", vpcID)
	}
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	// A VPC takes one private zone per domain, and an interface endpoint with private DNS holds
	// its service's domain (hashicorp/terraform-provider-aws#37783 quotes Route 53's refusal).
	for _, z := range st.PrivateZonesOf(vpcID) {
		if z.Str("name") == name {
			return "", fmt.Errorf("ConflictingDomainExists: The VPC %s in region %s has already been associated with the hosted zone %s with the same domain name.", vpcID, simaccount.Region, z.ID) //nolint:revive,staticcheck // AWS's own text
		}
	}
	service, isService := strings.CutSuffix(name, "."+simaccount.Region+".amazonaws.com")
	if ep := st.FindOne(TypeVPCEndpoint, func(r *Resource) bool {
		return isService && r.Str("vpcId") == vpcID && r.Bool("privateDnsEnabled") && r.Str("serviceName") == simaccount.ServiceName(service)
	}); ep != nil {
		return "", fmt.Errorf("ConflictingDomainExists: The VPC %s in region %s has already been associated with the hosted zone of endpoint %s with the same domain name.", vpcID, simaccount.Region, ep.ID) //nolint:revive,staticcheck // AWS's own text
	}
	st.Seq++
	id := fmt.Sprintf("Z%019X", st.Seq)
	st.Resources[id] = &Resource{Type: TypeHostedZone, ID: id, Props: map[string]any{
		"name": name, "privateZone": true, "vpcIds": []any{vpcID}, "ownerAccount": owner,
		"comment": "", "callerReference": "standin-" + id,
	}}
	st.Record("change", TypeHostedZone, id, fmt.Sprintf("%s (owner %s) associated with %s", name, owner, vpcID))
	return id, nil
}

// PrivateZonesOf lists the private hosted zones associated with the VPC whatever their owner,
// as ListHostedZonesByVPC does.
func (st *State) PrivateZonesOf(vpcID string) []*Resource {
	return st.Find(TypeHostedZone, func(r *Resource) bool {
		if !r.Bool("privateZone") {
			return false
		}
		for _, v := range r.Strs("vpcIds") {
			if v == vpcID {
				return true
			}
		}
		return false
	})
}

// RemoveRoute deletes the route to destination from the route table (EC2 DeleteRoute).
func (st *State) RemoveRoute(routeTableID, destination string) error {
	r := st.FindOne(TypeRoute, func(r *Resource) bool {
		return r.Str("routeTableId") == routeTableID && r.Str("destinationCidrBlock") == destination
	})
	if r == nil {
		return fmt.Errorf("InvalidRoute.NotFound: no route with destination-cidr-block %s in route table %s", destination, routeTableID)
	}
	delete(st.Resources, r.ID)
	st.Record("change", TypeRoute, r.ID, "deleted out of band")
	return nil
}

// DeleteEndpoint deletes an interface VPC endpoint (EC2 DeleteVpcEndpoints): it and its network
// interfaces are gone.
func (st *State) DeleteEndpoint(id string, now time.Time) error {
	ep := st.Get(id)
	if ep == nil || ep.Type != TypeVPCEndpoint {
		return fmt.Errorf("InvalidVpcEndpointId.NotFound: The VpcEndpoint Id '%s' does not exist", id)
	}
	st.ReleaseENIs(id, now, 0)
	delete(st.Resources, id)
	st.Record("change", TypeVPCEndpoint, id, "deleted out of band")
	return nil
}
