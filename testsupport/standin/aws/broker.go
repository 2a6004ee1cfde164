package aws

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/mq"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"

	"rabbitmq-esm/testsupport/standin"
	"rabbitmq-esm/testsupport/standin/cloud"
)

func brokerKind() *standin.Kind {
	return &standin.Kind{
		Args: mq.BrokerArgs{},
		// The Terraform provider's ForceNew attributes of aws_mq_broker.
		ForceNew: []string{"brokerName", "deploymentMode", "engineType", "publiclyAccessible", "subnetIds",
			"encryptionOptions", "storageType", "authenticationStrategy"},
		// subnet_ids is Optional+Computed; security_groups is not: Amazon MQ reading back the
		// default security group of a broker created without one is a diff on the next plan.
		Computed: []string{"subnetIds", "storageType", "authenticationStrategy", "maintenanceWindowStartTime", "configuration",
			"encryptionOptions", "dataReplicationMode"},
		// RabbitMQ users are not returned by the API; the provider ignores changes to them.
		Suppressed: []string{"users"},
		Required:   []string{"brokerName", "engineType", "engineVersion", "hostInstanceType", "users"},
		Outputs:    []string{"arn", "instances"},
		Validate:   validateBroker,
		Create:     createBroker,
		Update:     updateBroker,
	}
}

var (
	brokerNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,50}$`)
	mqUserPattern     = regexp.MustCompile(`^[A-Za-z0-9._-]{2,100}$`)
)

func validateBroker(news resource.PropertyMap) []plugin.CheckFailure {
	var f []plugin.CheckFailure
	bad := func(key, reason string) {
		f = append(f, plugin.CheckFailure{Property: resource.PropertyKey(key), Reason: reason})
	}
	if n := standin.Str(news, "brokerName"); n != "" && !brokerNamePattern.MatchString(n) {
		bad("brokerName", fmt.Sprintf("invalid value for broker_name (%q)", n))
	}
	if e := standin.Str(news, "engineType"); e != "" && e != "RabbitMQ" && e != "ActiveMQ" {
		bad("engineType", "expected engine_type to be one of [ActiveMQ RabbitMQ], got "+e)
	}
	if users, ok := standin.Plain(news["users"]).([]any); ok {
		for _, u := range users {
			user, _ := u.(map[string]any)
			name, _ := user["username"].(string)
			pw, _ := user["password"].(string)
			if name != "" && !mqUserPattern.MatchString(name) {
				bad("users", "invalid username "+name)
			}
			if pw != "" && (len(pw) < 12 || strings.ContainsAny(pw, ",:=") || distinct(pw) < 4) {
				bad("users", "password must be at least 12 characters, 4 distinct, without , : or =")
			}
		}
	}
	return f
}

func distinct(s string) int {
	seen := map[rune]bool{}
	for _, r := range s {
		seen[r] = true
	}
	return len(seen)
}

func createBroker(op *standin.Op) error {
	in := op.Inputs
	name := standin.Str(in, "brokerName")
	if other := op.St.FindOne(cloud.TypeBroker, func(r *cloud.Resource) bool { return r.Str("brokerName") == name }); other != nil {
		return standin.Errorf("ConflictException", "Broker name %q is already used by broker %s in this account and region.", name, other.ID)
	}
	mode, instance := standin.Str(in, "deploymentMode"), standin.Str(in, "hostInstanceType")
	if mode == "" {
		mode = "SINGLE_INSTANCE"
	}
	if err := checkEngineAndInstance(standin.Str(in, "engineVersion"), instance, mode); err != nil {
		return err
	}
	if standin.Str(in, "engineType") == "RabbitMQ" && !standin.Bool(in, "autoMinorVersionUpgrade") {
		return standin.Errorf("BadRequestException", "autoMinorVersionUpgrade must be true for RabbitMQ 3.13 and later.")
	}
	subnets, groups := standin.Strs(in, "subnetIds"), standin.Strs(in, "securityGroups")
	if standin.Bool(in, "publiclyAccessible") {
		if len(groups) > 0 {
			return standin.Errorf("BadRequestException", "Security groups are not supported for publicly accessible RabbitMQ brokers.")
		}
	} else {
		switch {
		case len(subnets) == 0 && mode == "CLUSTER_MULTI_AZ":
			return standin.Errorf("BadRequestException", "A private CLUSTER_MULTI_AZ broker requires subnetIds.")
		case len(subnets) == 0:
			// No subnets given: Amazon MQ uses a default subnet of the default VPC and, with no
			// group given either, the VPC's default security group, and reports both.
			subnets = []string{cloud.DefaultSubnetID(cloud.ServiceZones[0])}
			op.Set("subnetIds", toAny(subnets))
			if len(groups) == 0 {
				groups = []string{cloud.DefaultSGID}
				op.Set("securityGroups", toAny(groups))
			}
		case mode == "SINGLE_INSTANCE" && len(subnets) != 1:
			return standin.Errorf("BadRequestException", "A SINGLE_INSTANCE broker takes exactly one subnet, got %d.", len(subnets))
		}
		if err := checkPlacement(op.St, subnets, groups); err != nil {
			return err
		}
	}
	op.ID = "b-" + uuidFrom(op.St.NewID(""))
	host := op.ID + ".mq." + cloud.Region + ".on.aws"
	op.Set("arn", arn("mq", "broker:"+name+":"+op.ID))
	op.Set("instances", []any{map[string]any{
		"consoleUrl": "https://" + host,
		"endpoints":  []any{"amqps://" + host + ":5671"},
		"ipAddress":  "",
	}})
	op.Set("authenticationStrategy", "simple")
	op.Set("storageType", "ebs")
	op.Set("deploymentMode", mode)
	return nil
}

// checkEngineAndInstance applies Amazon MQ's rules: mq.t3.micro runs a single instance only,
// and RabbitMQ 4 runs only on mq.m7g instances.
func checkEngineAndInstance(version, instance, mode string) error {
	if instance == "mq.t3.micro" && mode != "SINGLE_INSTANCE" {
		return standin.Errorf("BadRequestException", "mq.t3.micro supports SINGLE_INSTANCE only.")
	}
	if strings.HasPrefix(version, "4.") && !strings.HasPrefix(instance, "mq.m7g.") {
		return standin.Errorf("BadRequestException", "RabbitMQ %s is supported on mq.m7g instance types only, not %s.", version, instance)
	}
	return nil
}

// checkPlacement: subnets exist in distinct zones of one VPC; groups exist in that VPC.
func checkPlacement(st *cloud.State, subnets, groups []string) error {
	var zones []string
	vpcID := ""
	for _, id := range subnets {
		s := st.Get(id)
		if s == nil {
			return standin.Errorf("BadRequestException", "The subnet %s does not exist.", id)
		}
		if slices.Contains(zones, s.Str("availabilityZone")) {
			return standin.Errorf("BadRequestException", "The subnets must be in distinct availability zones (%s twice).", s.Str("availabilityZone"))
		}
		zones = append(zones, s.Str("availabilityZone"))
		vpcID = s.Str("vpcId")
	}
	for _, id := range groups {
		g := st.Get(id)
		if g == nil || g.Str("vpcId") != vpcID {
			return standin.Errorf("BadRequestException", "The security group %s does not exist in the broker's VPC %s.", id, vpcID)
		}
	}
	return nil
}

// updateBroker refuses what Amazon MQ refuses, and leaves pending what waits for the
// maintenance window: without applyImmediately, the broker keeps reporting its old engine
// version, instance type and logs until then, so every plan shows the same change again.
func updateBroker(op *standin.Op, old *cloud.Resource) error {
	oldGroups, newGroups := old.Strs("securityGroups"), standin.Strs(op.Inputs, "securityGroups")
	if !slices.Equal(oldGroups, newGroups) {
		return standin.Errorf("BadRequestException", "Changing security groups is not supported for RabbitMQ brokers.")
	}
	if err := checkEngineAndInstance(standin.Str(op.Inputs, "engineVersion"), standin.Str(op.Inputs, "hostInstanceType"),
		old.Str("deploymentMode")); err != nil {
		return err
	}
	if !standin.Bool(op.Inputs, "applyImmediately") {
		for _, key := range []string{"engineVersion", "hostInstanceType", "logs"} {
			if v, ok := old.Props[key]; ok {
				op.Set(key, v)
			}
		}
	}
	return nil
}

func createEndpoint(op *standin.Op) error {
	in := op.Inputs
	vpcID, service := standin.Str(in, "vpcId"), standin.Str(in, "serviceName")
	v := op.St.Get(vpcID)
	if v == nil {
		return standin.Errorf("InvalidVpcId.NotFound", "The Vpc Id %s does not exist", vpcID)
	}
	if _, ok := endpointServices[service]; !ok {
		return standin.Errorf("InvalidServiceName", "The Vpc Endpoint Service '%s' does not exist", service)
	}
	if t := standin.Str(in, "vpcEndpointType"); t != "Interface" {
		return standin.Errorf("InvalidParameter", "the stand-in models Interface endpoints only, not %q", t)
	}
	subnets := standin.Strs(in, "subnetIds")
	var zones []string
	for _, id := range subnets {
		s := op.St.Get(id)
		if s == nil || s.Str("vpcId") != vpcID {
			return standin.Errorf("InvalidSubnetId.NotFound", "The subnet %s does not exist in %s", id, vpcID)
		}
		zone := s.Str("availabilityZone")
		if !slices.Contains(cloud.ServiceZones, zone) {
			return standin.Errorf("InvalidParameter", "The Vpc Endpoint Service '%s' does not support the availability zone of the subnet: %s", service, id)
		}
		if slices.Contains(zones, zone) {
			return standin.Errorf("DuplicateSubnetsInSameZone", "Found another VPC endpoint subnet in the availability zone of %s", id)
		}
		zones = append(zones, zone)
	}
	if standin.Bool(in, "privateDnsEnabled") {
		if !v.Bool("enableDnsSupport") || !v.Bool("enableDnsHostnames") {
			return standin.Errorf("InvalidParameter", "Private DNS can't be enabled because the VPC %s does not have DNS hostnames and DNS resolution enabled", vpcID)
		}
		if other := op.St.FindOne(cloud.TypeVPCEndpoint, func(r *cloud.Resource) bool {
			return r.Str("vpcId") == vpcID && r.Str("serviceName") == service && r.Bool("privateDnsEnabled")
		}); other != nil {
			return standin.Errorf("InvalidParameter", "private-dns-enabled cannot be set because there is already a conflicting DNS domain for %s in the VPC %s (%s)",
				endpointServices[service], vpcID, other.ID)
		}
	}
	groups := standin.Strs(in, "securityGroupIds")
	if len(groups) == 0 {
		sg := op.St.FindOne(cloud.TypeSecurityGroup, func(r *cloud.Resource) bool { return r.Str("vpcId") == vpcID && r.Str("name") == "default" })
		if sg != nil {
			groups = []string{sg.ID}
			op.Set("securityGroupIds", toAny(groups))
		}
	}
	op.ID = op.St.NewID("vpce-")
	op.St.AddENIs(op.ID, "VPC Endpoint Interface "+op.ID, "vpc_endpoint", "", subnets, groups)
	op.Set("arn", arn("ec2", "vpc-endpoint/"+op.ID))
	op.Set("state", "available")
	op.Set("dnsEntries", []any{map[string]any{"dnsName": op.ID + "." + endpointServices[service], "hostedZoneId": "Z7HUB22UULQXV"}})
	op.Set("networkInterfaceIds", toAny(eniIDs(op.St, op.ID)))
	return nil
}

func updateEndpoint(op *standin.Op, old *cloud.Resource) error {
	op.St.ReleaseENIs(old.ID, op.Now, 0)
	op.St.AddENIs(old.ID, "VPC Endpoint Interface "+old.ID, "vpc_endpoint", "", standin.Strs(op.Inputs, "subnetIds"), standin.Strs(op.Inputs, "securityGroupIds"))
	op.Set("networkInterfaceIds", toAny(eniIDs(op.St, old.ID)))
	return nil
}

// deleteEndpoint deletes the endpoint's interfaces with it ("Deleting an interface endpoint
// also deletes its endpoint network interfaces": PrivateLink guide, "Delete an interface
// endpoint"), and leaves it listed as deleted for a while (cloud.DeletedEndpoint).
func deleteEndpoint(op *standin.Op, old *cloud.Resource) error {
	op.St.ReleaseENIs(old.ID, op.Now, 0)
	gone := &cloud.Resource{Type: old.Type, ID: old.ID, Props: maps.Clone(old.Props)}
	gone.Props["state"] = "deleted"
	op.St.DeletedEndpoints = append(op.St.DeletedEndpoints, cloud.DeletedEndpoint{Endpoint: gone, DeletedAt: op.Now})
	return nil
}

func eniIDs(st *cloud.State, owner string) []string {
	var ids []string
	for _, e := range st.ENIs {
		if e.Owner == owner && e.VanishAt == nil {
			ids = append(ids, e.ID)
		}
	}
	return ids
}

// endpointServices maps the interface endpoint services the account offers to their DNS names.
var endpointServices = map[string]string{
	"com.amazonaws." + cloud.Region + ".sts":            "sts." + cloud.Region + ".amazonaws.com",
	"com.amazonaws." + cloud.Region + ".secretsmanager": "secretsmanager." + cloud.Region + ".amazonaws.com",
	"com.amazonaws." + cloud.Region + ".lambda":         "lambda." + cloud.Region + ".amazonaws.com",
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// uuidFrom formats an id as a UUID, for broker and mapping ids.
func uuidFrom(seed string) string {
	h := standin.Hash(seed) + standin.Hash(seed+"x")
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
