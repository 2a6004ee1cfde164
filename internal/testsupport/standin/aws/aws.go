// Package aws is the stand-in of the aws provider (pulumi-aws v6.83.4) over the stand-in
// account: each resource type the program and awsx create, with the schema facts the engine's
// plans depend on (inputs, ForceNew, computed, auto-names) and the AWS behaviour the program
// must survive (broker names unique in the account, the default VPC's security group read
// back, a RabbitMQ broker refusing a security-group update, changes pending until the
// maintenance window, interfaces that outlive their mapping, DependencyViolation).
package aws

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin/cloud"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/simaccount"
)

// Version is the pulumi-aws version the program pins (go.mod).
const Version = "6.83.4"

// New returns the stand-in aws provider.
func New() *standin.Provider {
	return &standin.Provider{
		Package: "aws", Version: Version,
		Kinds:               kinds(),
		Invokes:             invokes(),
		CheckProviderConfig: checkRegion,
	}
}

func checkRegion(news resource.PropertyMap) []plugin.CheckFailure {
	if r := standin.Str(news, "region"); r != simaccount.Region {
		return []plugin.CheckFailure{{Property: "region", Reason: fmt.Sprintf("the stand-in account is in %s only, not %q", simaccount.Region, r)}}
	}
	return nil
}

func arn(service, resourcePart string) string {
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, simaccount.Region, simaccount.AccountID, resourcePart)
}

func kinds() map[string]*standin.Kind {
	return map[string]*standin.Kind{
		cloud.TypeVPC: {Args: ec2.VpcArgs{}, ForceNew: []string{"cidrBlock", "instanceTenancy"},
			Computed: []string{"enableDnsSupport", "enableDnsHostnames"}, Outputs: []string{"arn", "mainRouteTableId"},
			Create: createVPC, Delete: deleteVPC},
		cloud.TypeSubnet: {Args: ec2.SubnetArgs{}, ForceNew: []string{"vpcId", "cidrBlock", "availabilityZone"},
			Computed: []string{"availabilityZone"}, Required: []string{"vpcId"}, Outputs: []string{"arn"},
			Create: createSubnet, Delete: deleteSubnet},
		cloud.TypeRouteTable: {Args: ec2.RouteTableArgs{}, ForceNew: []string{"vpcId"}, Computed: []string{"routes"},
			Required: []string{"vpcId"}, Outputs: []string{"arn"}, Create: inVPC("rtb-")},
		cloud.TypeRouteTableAssociation: {Args: ec2.RouteTableAssociationArgs{}, ForceNew: []string{"subnetId", "gatewayId"},
			Required: []string{"routeTableId"}, Create: createRouteTableAssociation},
		cloud.TypeRoute: {Args: ec2.RouteArgs{}, ForceNew: []string{"routeTableId", "destinationCidrBlock"},
			Required: []string{"routeTableId"}, Create: createRoute},
		cloud.TypeInternetGateway: {Args: ec2.InternetGatewayArgs{}, Outputs: []string{"arn"}, Create: inVPC("igw-")},
		cloud.TypeEIP: {Args: ec2.EipArgs{}, ForceNew: []string{"domain"}, Computed: []string{"domain"},
			Outputs: []string{"publicIp", "allocationId"}, Create: createEIP},
		cloud.TypeNATGateway: {Args: ec2.NatGatewayArgs{}, ForceNew: []string{"subnetId", "allocationId", "connectivityType"},
			Computed: []string{"connectivityType"}, Required: []string{"subnetId"}, Outputs: []string{"publicIp"}, Create: createNATGateway},
		cloud.TypeSecurityGroup: {Args: ec2.SecurityGroupArgs{}, ForceNew: []string{"name", "namePrefix", "description", "vpcId"},
			Computed: []string{"ingress", "egress", "vpcId", "description"}, AutoName: "name", AutoNameMax: 255,
			Outputs: []string{"arn", "ownerId"}, Create: createSecurityGroup, Delete: deleteSecurityGroup},
		cloud.TypeIngressRule: {Args: vpc.SecurityGroupIngressRuleArgs{}, ForceNew: []string{"securityGroupId"},
			Required: []string{"securityGroupId", "ipProtocol"}, Validate: validateRule, Outputs: []string{"arn", "securityGroupRuleId"},
			Create: createRule},
		cloud.TypeEgressRule: {Args: vpc.SecurityGroupEgressRuleArgs{}, ForceNew: []string{"securityGroupId"},
			Required: []string{"securityGroupId", "ipProtocol"}, Validate: validateRule, Outputs: []string{"arn", "securityGroupRuleId"},
			Create: createRule},
		cloud.TypeVPCEndpoint: {Args: ec2.VpcEndpointArgs{}, ForceNew: []string{"vpcId", "serviceName", "vpcEndpointType"},
			Computed: []string{"securityGroupIds", "subnetIds", "policy", "ipAddressType", "privateDnsEnabled"},
			Required: []string{"vpcId", "serviceName"}, Outputs: []string{"arn", "dnsEntries", "networkInterfaceIds", "state"},
			Create: createEndpoint, Update: updateEndpoint, Delete: deleteEndpoint},
		cloud.TypeBroker: brokerKind(),
		// Source: terraform-provider-aws internal/service/secretsmanager/validate.go
		// (validSecretName: at most 512 characters).
		cloud.TypeSecret: {Args: secretsmanager.SecretArgs{}, ForceNew: []string{"name", "namePrefix"}, AutoName: "name", AutoNameMax: 512,
			Outputs: []string{"arn"}, Create: createSecret},
		cloud.TypeSecretVersion: {Args: secretsmanager.SecretVersionArgs{}, ForceNew: []string{"secretId", "secretString", "secretBinary"},
			Computed: []string{"versionStages"}, Required: []string{"secretId"}, Outputs: []string{"arn", "versionId"},
			Create: createSecretVersion},
		cloud.TypeLogGroup: {Args: cloudwatch.LogGroupArgs{}, ForceNew: []string{"name", "namePrefix", "logGroupClass"},
			Computed: []string{"name", "logGroupClass"}, Validate: validateLogGroup, Outputs: []string{"arn", "name"}, Create: createLogGroup},
		// Source: terraform-provider-aws internal/service/iam/role.go (roleNameMaxLen = 64;
		// assume_role_policy validated as JSON).
		cloud.TypeRole: {Args: iam.RoleArgs{}, ForceNew: []string{"name", "namePrefix", "path"}, AutoName: "name", AutoNameMax: 64,
			Required: []string{"assumeRolePolicy"}, Validate: validatePolicyJSON("assumeRolePolicy"),
			Outputs: []string{"arn", "uniqueId"}, Create: createRole, Delete: deleteRole},
		// Source: terraform-provider-aws internal/service/iam/role_policy.go
		// (rolePolicyNameMaxLen = 128).
		cloud.TypeRolePolicy: {Args: iam.RolePolicyArgs{}, ForceNew: []string{"name", "namePrefix", "role"}, AutoName: "name", AutoNameMax: 128,
			Required: []string{"role", "policy"}, Validate: validatePolicyJSON("policy"), Create: createRolePolicy},
		cloud.TypeFunction:           functionKind(),
		cloud.TypeEventSourceMapping: mappingKind(),
		cloud.TypeInvocation: {Args: lambda.InvocationArgs{}, ForceNew: []string{"functionName", "qualifier", "input", "triggers"},
			Required: []string{"functionName", "input"}, Outputs: []string{"result"}, Create: createInvocation},
		cloud.TypePermission:        permissionKind(),
		cloud.TypeSecretRotation:    secretRotationKind(),
		cloud.TypeEventRule:         eventRuleKind(),
		cloud.TypeEventTarget:       eventTargetKind(),
		cloud.TypeMetricAlarm:       metricAlarmKind(),
		cloud.TypeDashboard:         dashboardKind(),
		cloud.TypeTopic:             topicKind(),
		cloud.TypeTopicSubscription: topicSubscriptionKind(),
	}
}

// inVPC creates a plain resource of a VPC, checking the VPC exists.
func inVPC(prefix string) func(op *standin.Op) error {
	return func(op *standin.Op) error {
		if v := standin.Str(op.Inputs, "vpcId"); v != "" && op.St.Get(v) == nil {
			return standin.Errorf("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", v)
		}
		op.ID = op.St.NewID(prefix)
		op.Set("arn", arn("ec2", strings.TrimSuffix(prefix, "-")+"/"+op.ID))
		return nil
	}
}

func createVPC(op *standin.Op) error {
	cidr, err := netip.ParsePrefix(standin.Str(op.Inputs, "cidrBlock"))
	if err != nil || cidr.Bits() < 16 || cidr.Bits() > 28 {
		return standin.Errorf("InvalidVpc.Range", "The CIDR '%s' is invalid.", standin.Str(op.Inputs, "cidrBlock"))
	}
	op.ID = op.St.NewID("vpc-")
	// Every VPC comes with a main route table holding only the local route.
	// Source: Amazon VPC User Guide, "Configure route tables" ("When you create a VPC, we also
	// create the main route table") and "Subnet route tables" (every table's local route).
	main := op.St.NewID("rtb-")
	op.St.Resources[main] = &cloud.Resource{Type: cloud.TypeRouteTable, ID: main, Props: map[string]any{"vpcId": op.ID, "main": true}}
	op.Set("arn", arn("ec2", "vpc/"+op.ID))
	op.Set("mainRouteTableId", main)
	op.Set("enableDnsSupport", !standin.Has(op.Inputs, "enableDnsSupport") || standin.Bool(op.Inputs, "enableDnsSupport"))
	op.Set("enableDnsHostnames", standin.Bool(op.Inputs, "enableDnsHostnames"))
	return nil
}

// Source: EC2 API Reference, "Error codes for the Amazon EC2 API" (DependencyViolation); the
// text "The vpc '…' has dependencies and cannot be deleted" is AWS's as quoted in public
// CloudFormation and boto logs; the parenthesised detail is the stand-in's. See BEHAVIOURS.md.
func deleteVPC(op *standin.Op, old *cloud.Resource) error {
	for _, r := range op.St.Resources {
		if r.Str("vpcId") == old.ID && !r.Bool("main") {
			return standin.Errorf("DependencyViolation", "The vpc '%s' has dependencies and cannot be deleted (%s %s).", old.ID, r.Type, r.ID)
		}
	}
	for id, r := range op.St.Resources {
		if r.Str("vpcId") == old.ID {
			delete(op.St.Resources, id)
		}
	}
	return nil
}

// createSubnet is EC2 CreateSubnet. A subnet's block lies inside its VPC's block, is /16 to
// /28 (Amazon VPC User Guide, "Subnet CIDR blocks"), and overlaps no other subnet of the VPC
// (EC2 API Reference, "Error codes": InvalidSubnet.Range, "The CIDR block you've specified for
// the subnet is not within the CIDR range of the VPC"; InvalidSubnet.Conflict, "The specified
// CIDR block conflicts with that of another subnet in your VPC"). The old subnet of a
// replacement still exists when Pulumi creates the new one (create before delete), so a
// subnet moved onto addresses it overlaps is refused as in AWS. The messages are those AWS
// returns as reported by the Terraform provider ("The CIDR '10.0.0.0/24' conflicts with
// another subnet"); the Range message's wording is the stand-in's. See cloud.CheckSubnetBlock.
func createSubnet(op *standin.Op) error {
	v := op.St.Get(standin.Str(op.Inputs, "vpcId"))
	if v == nil {
		return standin.Errorf("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", standin.Str(op.Inputs, "vpcId"))
	}
	given := standin.Str(op.Inputs, "cidrBlock")
	if err := cloud.CheckSubnetBlock(op.St, v.ID, given); err != nil {
		return err
	}
	zone := standin.Str(op.Inputs, "availabilityZone")
	if zone == "" {
		zone = simaccount.Zones[0]
		op.Set("availabilityZone", zone)
	}
	if !slices.Contains(simaccount.Zones, zone) {
		return standin.Errorf("InvalidParameterValue", "Value (%s) for parameter availabilityZone is invalid.", zone)
	}
	op.ID = op.St.NewID("subnet-")
	op.Set("arn", arn("ec2", "subnet/"+op.ID))
	return nil
}

// Source: as deleteVPC (DependencyViolation); hashicorp/terraform-provider-aws commit 922037e7
// names it as what a subnet delete returns while Lambda's interfaces remain. The text is the
// stand-in's.
func deleteSubnet(op *standin.Op, old *cloud.Resource) error {
	for _, e := range op.St.LiveENIs(op.Now) {
		if e.SubnetID == old.ID {
			return standin.Errorf("DependencyViolation", "The subnet '%s' has dependencies and cannot be deleted (network interface %s, %q).",
				old.ID, e.ID, e.Description)
		}
	}
	return nil
}

func createRouteTableAssociation(op *standin.Op) error {
	subnet := standin.Str(op.Inputs, "subnetId")
	if op.St.Get(subnet) == nil || op.St.Get(standin.Str(op.Inputs, "routeTableId")) == nil {
		return standin.Errorf("InvalidParameterValue", "subnet %s or route table %s does not exist", subnet, standin.Str(op.Inputs, "routeTableId"))
	}
	if op.St.FindOne(cloud.TypeRouteTableAssociation, func(r *cloud.Resource) bool { return r.Str("subnetId") == subnet }) != nil {
		return standin.Errorf("Resource.AlreadyAssociated", "the subnet %s already has a route table", subnet)
	}
	op.ID = op.St.NewID("rtbassoc-")
	return nil
}

func createRoute(op *standin.Op) error {
	table, dest := standin.Str(op.Inputs, "routeTableId"), standin.Str(op.Inputs, "destinationCidrBlock")
	if op.St.Get(table) == nil {
		return standin.Errorf("InvalidRouteTableID.NotFound", "The routeTable ID '%s' does not exist", table)
	}
	for _, target := range []string{"natGatewayId", "gatewayId"} {
		if t := standin.Str(op.Inputs, target); t != "" && op.St.Get(t) == nil {
			return standin.Errorf("InvalidParameterValue", "%s %s does not exist", target, t)
		}
	}
	op.ID = "r-" + table + standin.Hash(dest)[:8]
	if op.St.Get(op.ID) != nil {
		return standin.Errorf("RouteAlreadyExists", "The route identified by %s already exists.", dest)
	}
	return nil
}

func createEIP(op *standin.Op) error {
	op.ID = op.St.NewID("eipalloc-")
	op.Set("allocationId", op.ID)
	op.Set("publicIp", fmt.Sprintf("3.%d.%d.%d", op.St.Seq%250, op.St.Seq/250%250, 7))
	op.Set("domain", "vpc")
	return nil
}

func createNATGateway(op *standin.Op) error {
	if op.St.Get(standin.Str(op.Inputs, "subnetId")) == nil {
		return standin.Errorf("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", standin.Str(op.Inputs, "subnetId"))
	}
	eip := op.St.Get(standin.Str(op.Inputs, "allocationId"))
	if eip == nil {
		return standin.Errorf("InvalidAllocationID.NotFound", "The allocation ID '%s' does not exist", standin.Str(op.Inputs, "allocationId"))
	}
	op.ID = op.St.NewID("nat-")
	op.Set("publicIp", eip.Str("publicIp"))
	op.Set("connectivityType", "public")
	return nil
}

func createSecurityGroup(op *standin.Op) error {
	vpcID := standin.Str(op.Inputs, "vpcId")
	if vpcID == "" {
		vpcID = simaccount.DefaultVPCID
		op.Set("vpcId", vpcID)
	}
	if op.St.Get(vpcID) == nil {
		return standin.Errorf("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", vpcID)
	}
	name := standin.Str(op.Inputs, "name")
	if op.St.FindOne(cloud.TypeSecurityGroup, func(r *cloud.Resource) bool { return r.Str("vpcId") == vpcID && r.Str("name") == name }) != nil {
		return standin.Errorf("InvalidGroup.Duplicate", "The security group '%s' already exists for VPC '%s'", name, vpcID)
	}
	if !standin.Has(op.Inputs, "description") {
		op.Set("description", "Managed by Pulumi")
	}
	// The provider removes the default egress rule AWS adds: a group declared without rules
	// lets nothing out.
	op.ID = op.St.NewID("sg-")
	op.Set("arn", arn("ec2", "security-group/"+op.ID))
	op.Set("ownerId", simaccount.AccountID)
	return nil
}

func deleteSecurityGroup(op *standin.Op, old *cloud.Resource) error {
	for _, e := range op.St.LiveENIs(op.Now) {
		if slices.Contains(e.Groups, old.ID) {
			return standin.Errorf("DependencyViolation", "resource %s has a dependent object (network interface %s, %q)", old.ID, e.ID, e.Description)
		}
	}
	for _, typ := range []string{cloud.TypeIngressRule, cloud.TypeEgressRule} {
		if r := op.St.FindOne(typ, func(r *cloud.Resource) bool {
			return r.Str("referencedSecurityGroupId") == old.ID && r.Str("securityGroupId") != old.ID
		}); r != nil {
			return standin.Errorf("DependencyViolation", "resource %s has a dependent object (rule %s of %s refers to it)", old.ID, r.ID, r.Str("securityGroupId"))
		}
	}
	for _, b := range op.St.Find(cloud.TypeBroker, func(r *cloud.Resource) bool { return slices.Contains(r.Strs("securityGroups"), old.ID) }) {
		return standin.Errorf("DependencyViolation", "resource %s has a dependent object (broker %s)", old.ID, b.ID)
	}
	for id, r := range op.St.Resources {
		if (r.Type == cloud.TypeIngressRule || r.Type == cloud.TypeEgressRule) && r.Str("securityGroupId") == old.ID {
			delete(op.St.Resources, id)
		}
	}
	return nil
}

func validateRule(news resource.PropertyMap) []plugin.CheckFailure {
	var f []plugin.CheckFailure
	peers := 0
	for _, k := range []string{"cidrIpv4", "cidrIpv6", "prefixListId", "referencedSecurityGroupId"} {
		if standin.Has(news, k) {
			peers++
		}
	}
	if peers != 1 {
		f = append(f, plugin.CheckFailure{Property: "cidrIpv4", Reason: "exactly one of cidrIpv4, cidrIpv6, prefixListId, referencedSecurityGroupId must be set"})
	}
	if p := standin.Str(news, "ipProtocol"); p == "tcp" || p == "udp" {
		if !standin.Has(news, "fromPort") || !standin.Has(news, "toPort") {
			f = append(f, plugin.CheckFailure{Property: "fromPort", Reason: "fromPort and toPort are required for " + p})
		}
	}
	return f
}

func createRule(op *standin.Op) error {
	if op.St.Get(standin.Str(op.Inputs, "securityGroupId")) == nil {
		return standin.Errorf("InvalidGroup.NotFound", "The security group '%s' does not exist", standin.Str(op.Inputs, "securityGroupId"))
	}
	if ref := standin.Str(op.Inputs, "referencedSecurityGroupId"); ref != "" && op.St.Get(ref) == nil {
		return standin.Errorf("InvalidGroup.NotFound", "The security group '%s' does not exist", ref)
	}
	op.ID = op.St.NewID("sgr-")
	op.Set("securityGroupRuleId", op.ID)
	op.Set("arn", arn("ec2", "security-group-rule/"+op.ID))
	return nil
}

func validateLogGroup(news resource.PropertyMap) []plugin.CheckFailure {
	allowed := []float64{0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
	if d := standin.Num(news, "retentionInDays"); !slices.Contains(allowed, d) {
		return []plugin.CheckFailure{{Property: "retentionInDays", Reason: fmt.Sprintf("expected retentionInDays to be one of %v, got %v", allowed, d)}}
	}
	return nil
}

func createLogGroup(op *standin.Op) error {
	name := standin.Str(op.Inputs, "name")
	if name == "" {
		op.St.Seq++
		name = fmt.Sprintf("%s%026d", standin.Str(op.Inputs, "namePrefix"), op.St.Seq)
		op.Set("name", name)
	}
	if op.St.Get(name) != nil {
		return standin.Errorf("ResourceAlreadyExistsException", "The specified log group already exists: %s", name)
	}
	op.ID = name
	op.Set("arn", arn("logs", "log-group:"+name))
	return nil
}

func validatePolicyJSON(key string) func(resource.PropertyMap) []plugin.CheckFailure {
	return func(news resource.PropertyMap) []plugin.CheckFailure {
		doc := standin.Str(news, key)
		if doc == "" {
			return nil // unknown during a preview
		}
		var parsed struct {
			Version   string
			Statement []json.RawMessage
		}
		if err := json.Unmarshal([]byte(doc), &parsed); err != nil || parsed.Version != "2012-10-17" || len(parsed.Statement) == 0 {
			return []plugin.CheckFailure{{Property: resource.PropertyKey(key), Reason: fmt.Sprintf("%q contains an invalid JSON policy: %v", doc, err)}}
		}
		return nil
	}
}

var roleNamePattern = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

func createRole(op *standin.Op) error {
	name := standin.Str(op.Inputs, "name")
	if !roleNamePattern.MatchString(name) {
		return standin.Errorf("ValidationError", "role name %q is invalid", name)
	}
	if op.St.Get(name) != nil {
		return standin.Errorf("EntityAlreadyExists", "Role with name %s already exists.", name)
	}
	op.ID = name
	op.Set("arn", "arn:aws:iam::"+simaccount.AccountID+":role/"+name)
	op.Set("uniqueId", "AROA"+strings.ToUpper(standin.Hash(name)))
	return nil
}

// deleteRole models the deletion race: interfaces Lambda still has to remove with this role
// are orphaned when it goes.
func deleteRole(op *standin.Op, old *cloud.Resource) error {
	if ids := op.St.OrphanENIs(old.Str("arn"), op.Now); len(ids) > 0 {
		op.St.Record("orphan", cloud.TypeRole, old.ID, strings.Join(ids, ","))
	}
	for id, r := range op.St.Resources {
		if r.Type == cloud.TypeRolePolicy && r.Str("role") == old.ID {
			delete(op.St.Resources, id)
		}
	}
	return nil
}

func createRolePolicy(op *standin.Op) error {
	role := standin.Str(op.Inputs, "role")
	if op.St.Get(role) == nil {
		return standin.Errorf("NoSuchEntity", "The role with name %s cannot be found.", role)
	}
	op.ID = role + ":" + standin.Str(op.Inputs, "name")
	return nil
}

func createSecret(op *standin.Op) error {
	name := standin.Str(op.Inputs, "name")
	if op.St.FindOne(cloud.TypeSecret, func(r *cloud.Resource) bool { return r.Str("name") == name }) != nil {
		return standin.Errorf("ResourceExistsException", "The operation failed because the secret %s already exists.", name)
	}
	op.ID = arn("secretsmanager", "secret:"+name+"-"+standin.Hash(name)[:6])
	op.Set("arn", op.ID)
	return nil
}

func createSecretVersion(op *standin.Op) error {
	secret := standin.Str(op.Inputs, "secretId")
	if op.St.Get(secret) == nil {
		return standin.Errorf("ResourceNotFoundException", "Secrets Manager can't find the specified secret %s.", secret)
	}
	version := op.St.NewID("")
	op.ID = secret + "|" + version
	op.Set("arn", secret)
	op.Set("versionId", version)
	op.Set("versionStages", []any{"AWSCURRENT"})
	return nil
}

// functionRole returns the role of a function, and whether its inline policies grant action.
func functionRole(st *cloud.State, roleArn, action string) (*cloud.Resource, bool) {
	role := st.FindOne(cloud.TypeRole, func(r *cloud.Resource) bool { return r.Str("arn") == roleArn })
	if role == nil {
		return nil, false
	}
	for _, p := range st.Find(cloud.TypeRolePolicy, func(r *cloud.Resource) bool { return r.Str("role") == role.ID }) {
		if strings.Contains(p.Str("policy"), `"`+action+`"`) {
			return role, true
		}
	}
	return role, false
}
