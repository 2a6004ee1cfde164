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

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin/cloud"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/simaccount"
)

// brokerKind is aws_mq_broker as terraform-provider-aws v5 declares it
// (internal/service/mq/broker.go, resourceBroker; the v4-era and the current file agree on
// every attribute below).
func brokerKind() *standin.Kind {
	return &standin.Kind{
		Args: mq.BrokerArgs{},
		// ForceNew: broker_name, deployment_mode, encryption_options, engine_type,
		// ldap_server_metadata, publicly_accessible, subnet_ids, data_replication_primary_broker_arn.
		// authentication_strategy and storage_type are Optional+Computed without ForceNew, and
		// resourceBrokerUpdate sends neither: a change to them plans an update that changes nothing.
		ForceNew: []string{"brokerName", "deploymentMode", "encryptionOptions", "engineType", "ldapServerMetadata",
			"publiclyAccessible", "subnetIds", "dataReplicationPrimaryBrokerArn"},
		// subnet_ids is Optional+Computed; security_groups is not: Amazon MQ reading back the
		// default security group of a broker created without one is a diff on the next plan.
		// logs carries verify.SuppressMissingOptionalConfigurationBlock: removing the block is no change.
		Computed: []string{"subnetIds", "storageType", "authenticationStrategy", "maintenanceWindowStartTime", "configuration",
			"encryptionOptions", "dataReplicationMode", "logs"},
		// RabbitMQ users are not returned by the API; the provider ignores changes to them.
		Suppressed: []string{"users"},
		Required:   []string{"brokerName", "engineType", "engineVersion", "hostInstanceType", "users"},
		// Default: deployment_mode SINGLE_INSTANCE; publicly_accessible, auto_minor_version_upgrade
		// and apply_immediately false.
		Defaults: map[string]any{"deploymentMode": "SINGLE_INSTANCE", "publiclyAccessible": false, "autoMinorVersionUpgrade": false,
			"applyImmediately": false},
		Outputs:  []string{"arn", "instances"},
		Validate: validateBroker,
		Create:   createBroker,
		Update:   updateBroker,
		Refresh:  refreshBroker,
		// resourceBrokerUpdate does not set d.Partial: a refused call leaves the planned state.
		PlannedOnFailure: true,
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
	// Source: developer guide, "Quotas in Amazon MQ" (broker name "Must be unique in your AWS
	// account"); the ConflictException text is the stand-in's.
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
	if err := checkAutoMinor(standin.Str(in, "engineType"), standin.Str(in, "engineVersion"), standin.Bool(in, "autoMinorVersionUpgrade")); err != nil {
		return err
	}
	subnets, groups := standin.Strs(in, "subnetIds"), standin.Strs(in, "securityGroups")
	if standin.Bool(in, "publiclyAccessible") {
		if len(groups) > 0 {
			return standin.Errorf("BadRequestException", "Security groups are not supported for publicly accessible RabbitMQ brokers.")
		}
	} else {
		switch {
		// Source: Amazon MQ API reference, CreateBroker, subnetIds (a private CLUSTER_MULTI_AZ
		// RabbitMQ broker needs at least one subnet; SINGLE_INSTANCE takes one). Texts: stand-in's.
		case len(subnets) == 0 && mode == "CLUSTER_MULTI_AZ":
			return standin.Errorf("BadRequestException", "A private CLUSTER_MULTI_AZ broker requires subnetIds.")
		case len(subnets) == 0:
			// No subnets given: Amazon MQ uses a default subnet of the default VPC and, with no
			// group given either, the VPC's default security group, and reports both.
			subnets = []string{simaccount.DefaultSubnetID(simaccount.ServiceZones[0])}
			op.Set("subnetIds", toAny(subnets))
			if len(groups) == 0 {
				groups = []string{simaccount.DefaultSGID}
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
	host := op.ID + ".mq." + simaccount.Region + ".on.aws"
	op.Set("arn", arn("mq", "broker:"+name+":"+op.ID))
	op.Set("instances", []any{map[string]any{
		"consoleUrl": "https://" + host,
		"endpoints":  []any{"amqps://" + host + ":5671"},
		"ipAddress":  "",
	}})
	op.Set("authenticationStrategy", "simple")
	op.Set("storageType", "ebs")
	op.Set("deploymentMode", mode)
	if generalLogs(in) {
		op.St.AddBrokerLogGroup(op.ID)
	}
	return nil
}

// generalLogs says whether the inputs turn on the broker's general logs (logs.general).
func generalLogs(in resource.PropertyMap) bool {
	logs, _ := standin.Plain(in["logs"]).(map[string]any)
	on, _ := logs["general"].(bool)
	return on
}

// checkAutoMinor: RabbitMQ 3.13 and later needs auto minor version upgrades. The wording is
// Amazon MQ's, quoted in hashicorp/terraform-provider-aws#42516 ("BadRequestException: Brokers
// on [RabbitMQ] version [3.13] must have [autoMinorVersionUpgrade] set to [true].").
func checkAutoMinor(engine, version string, on bool) error {
	if engine == "RabbitMQ" && !on && versionAtLeast(version, "3.13") {
		return standin.Errorf("BadRequestException", "Brokers on [RabbitMQ] version [%s] must have [autoMinorVersionUpgrade] set to [true].", majorMinor(version))
	}
	return nil
}

// checkEngineAndInstance applies Amazon MQ's rules: mq.t3.micro runs a single instance only,
// and RabbitMQ 4 runs only on mq.m7g instances (developer guide, "Managing Amazon MQ for
// RabbitMQ engine versions": "Amazon MQ supports RabbitMQ 4.2 ... only on the mq.m7g instance
// type"). No source quotes Amazon MQ's wording of either refusal: the texts are the stand-in's.
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

// updateBroker is resourceBrokerUpdate (terraform-provider-aws v5, internal/service/mq/broker.go)
// meeting Amazon MQ: each group of changed attributes is its own UpdateBroker call, in the
// provider's order, and a refused call ends the update with the calls before it made, as in AWS:
//
//  1. security_groups
//  2. configuration, logs and engine_version (one call)
//  3. user (never for RabbitMQ: the provider suppresses its diff)
//  4. host_instance_type
//  5. auto_minor_version_upgrade, 6. maintenance_window_start_time, 7. data_replication_mode
//
// then one RebootBroker when apply_immediately and call 2, 4 or 7 was made. Calls 2, 4 and 7
// are pending modifications until a reboot (or the maintenance window): until then the broker
// runs, and a refresh reports, the old values. Amazon MQ judges each call
// against what the broker runs, not against what is pending. "Changes" are the provider's
// HasChange: the new inputs against the engine's state (op.Olds), not against the account.
func updateBroker(op *standin.Op, old *cloud.Resource) error {
	in, olds := op.Inputs, op.Olds
	rabbit := old.Str("engineType") == "RabbitMQ"
	running := func(key string) string { return old.Str(key) }
	call := func(detail string) { op.St.Record("call", cloud.TypeBroker, old.ID, detail) }
	changed := func(key string, computed bool) bool {
		nv, given := in[resource.PropertyKey(key)]
		ov := olds[resource.PropertyKey(key)]
		if !given || nv.IsNull() {
			return !computed && !standin.IsEmpty(ov)
		}
		return !standin.Equal(nv, ov) && (!standin.IsEmpty(nv) || !standin.IsEmpty(ov))
	}
	reboot := false

	// 1. Security groups (a set: order is no change). Amazon MQ refuses any change for
	// RabbitMQ, quoted in hashicorp/terraform-provider-aws#33514.
	newGroups, oldGroups := standin.Strs(in, "securityGroups"), standin.Strs(olds, "securityGroups")
	slices.Sort(newGroups)
	slices.Sort(oldGroups)
	if !slices.Equal(newGroups, oldGroups) {
		if rabbit {
			return standin.Errorf("BadRequestException", "Changing security groups is not supported for RabbitMQ brokers.")
		}
		call("UpdateBroker securityGroups")
		old.Props["securityGroups"] = toAny(newGroups)
	}

	// 2. Configuration, logs and engine version, in one call.
	if changed("configuration", true) || changed("logs", true) || changed("engineVersion", false) {
		version := standin.Str(in, "engineVersion")
		if rabbit && majorMinor(version) != majorMinor(running("engineVersion")) {
			if err := checkEngineUpgrade(running("engineVersion"), version); err != nil {
				return err
			}
			if err := checkEngineAndInstance(version, running("hostInstanceType"), running("deploymentMode")); err != nil {
				return err
			}
		}
		call("UpdateBroker configuration,logs,engineVersion")
		old.Props["pendingEngineVersion"] = version
		if logs := standin.Plain(in["logs"]); logs != nil {
			old.Props["pendingLogs"] = logs
		}
		reboot = true
	}

	// 4. Host instance type. Amazon MQ's refusal of a move back to mq.t3.micro is quoted in
	// alphagov/govuk-infrastructure#1858; the developer guide ("Amazon MQ for RabbitMQ sizing
	// guidelines") states the rule.
	if changed("hostInstanceType", false) {
		instance, current := standin.Str(in, "hostInstanceType"), running("hostInstanceType")
		if rabbit && instance == "mq.t3.micro" && current != "mq.t3.micro" {
			return standin.Errorf("BadRequestException", "Downgrading from current instance type [%s] to requested instance type [%s] is not supported for RabbitMQ brokers.",
				current, instance)
		}
		// Judged against the running version and a pending one (accepted at call 2 or before):
		// the reboot would apply both.
		for _, version := range []string{running("engineVersion"), old.Str("pendingEngineVersion")} {
			if err := checkEngineAndInstance(version, instance, running("deploymentMode")); err != nil {
				return err
			}
		}
		call("UpdateBroker hostInstanceType")
		old.Props["pendingHostInstanceType"] = instance
		reboot = true
	}

	// 5-7: applied at once, except the replication mode, which waits for a reboot.
	if changed("autoMinorVersionUpgrade", false) {
		on := standin.Bool(in, "autoMinorVersionUpgrade")
		if err := checkAutoMinor(old.Str("engineType"), running("engineVersion"), on); err != nil {
			return err
		}
		call("UpdateBroker autoMinorVersionUpgrade")
		old.Props["autoMinorVersionUpgrade"] = on
	}
	if changed("maintenanceWindowStartTime", true) {
		call("UpdateBroker maintenanceWindowStartTime")
		old.Props["maintenanceWindowStartTime"] = standin.Plain(in["maintenanceWindowStartTime"])
	}
	if changed("dataReplicationMode", true) {
		call("UpdateBroker dataReplicationMode")
		reboot = true
	}

	if reboot && standin.Bool(in, "applyImmediately") {
		call("RebootBroker")
		rebootBroker(op.St, old)
	}

	// resourceBrokerUpdate ends without reading the broker back: the engine records the planned
	// values (the new inputs), while the broker runs what it ran until a reboot, and the
	// provider sends neither storage_type nor authentication_strategy. The account keeps what
	// AWS holds; a refresh (refreshBroker) shows the difference.
	for _, key := range brokerHeld {
		if v, ok := old.Props[key]; ok {
			op.Keep[key] = v
		}
	}
	return nil
}

// brokerHeld are the properties the account holds for a broker independently of the
// provider's planned values: what DescribeBroker reports, and the pending modifications.
var brokerHeld = append(slices.Clone(brokerReported), "pendingEngineVersion", "pendingHostInstanceType", "pendingLogs")

// brokerReported are what DescribeBroker reports as the broker runs it.
var brokerReported = []string{"engineVersion", "hostInstanceType", "logs", "storageType", "authenticationStrategy", "securityGroups",
	"autoMinorVersionUpgrade", "maintenanceWindowStartTime"}

// refreshBroker is resourceBrokerRead: DescribeBroker's engine version, instance type, logs,
// security groups, storage type and authentication strategy, as the broker runs them.
func refreshBroker(r *cloud.Resource, state resource.PropertyMap) resource.PropertyMap {
	for _, key := range brokerReported {
		if v, ok := r.Props[key]; ok {
			state[resource.PropertyKey(key)] = resource.NewPropertyValue(v)
		}
	}
	return state
}

// rebootBroker applies the pending modifications (RebootBroker, or the maintenance window).
// Logs turned on now make Amazon MQ create the general log group.
func rebootBroker(st *cloud.State, b *cloud.Resource) {
	for pending, key := range map[string]string{"pendingEngineVersion": "engineVersion", "pendingHostInstanceType": "hostInstanceType", "pendingLogs": "logs"} {
		if v, ok := b.Props[pending]; ok {
			b.Props[key] = v
			delete(b.Props, pending)
		}
	}
	if logs, _ := b.Props["logs"].(map[string]any); logs["general"] == true {
		st.AddBrokerLogGroup(b.ID)
	}
}

// rabbitVersions are the RabbitMQ versions Amazon MQ has offered, in order. RabbitMQ upgrades
// one version at a time ("Managing Amazon MQ for RabbitMQ engine versions": "RabbitMQ only
// allows incremental version updates ... You can't skip minor versions"); 3.13 goes to 4.2 in
// place ("In-place upgrade from RabbitMQ 3 to 4"); 4.3 only from 4.2 (DESIGN.md, the project's
// summary of the version pages).
var rabbitVersions = []string{"3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "4.2", "4.3"}

// checkEngineUpgrade refuses a downgrade and a skipped version. No source quotes Amazon MQ's
// wording: the texts follow the shape of its instance-type refusal.
func checkEngineUpgrade(current, requested string) error {
	from, to := majorMinor(current), majorMinor(requested)
	if versionAtLeast(from, to) {
		return standin.Errorf("BadRequestException", "Downgrading from current engine version [%s] to requested engine version [%s] is not supported for RabbitMQ brokers.",
			current, requested)
	}
	if i := slices.Index(rabbitVersions, from); i >= 0 && (i+1 >= len(rabbitVersions) || rabbitVersions[i+1] != to) {
		next := "none"
		if i+1 < len(rabbitVersions) {
			next = rabbitVersions[i+1]
		}
		return standin.Errorf("BadRequestException", "Upgrading from current engine version [%s] to requested engine version [%s] is not supported for RabbitMQ brokers: the next version is [%s].",
			current, requested, next)
	}
	return nil
}

// majorMinor is "3.13" of "3.13.7".
func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}

// versionAtLeast compares major.minor numerically.
func versionAtLeast(v, min string) bool {
	num := func(s string) (int, int) {
		var a, b int
		_, _ = fmt.Sscanf(majorMinor(s), "%d.%d", &a, &b)
		return a, b
	}
	va, vb := num(v)
	ma, mb := num(min)
	return va > ma || (va == ma && vb >= mb)
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
		if !slices.Contains(simaccount.ServiceZones, zone) {
			return standin.Errorf("InvalidParameter", "The Vpc Endpoint Service '%s' does not support the availability zone of the subnet: %s", service, id)
		}
		if slices.Contains(zones, zone) {
			return standin.Errorf("DuplicateSubnetsInSameZone", "Found another VPC endpoint subnet in the availability zone of %s", id)
		}
		zones = append(zones, zone)
	}
	if standin.Bool(in, "privateDnsEnabled") {
		// Source: EC2 API Reference, CreateVpcEndpoint, PrivateDnsEnabled (enableDnsHostnames and
		// enableDnsSupport must be true). The one-subnet-per-zone rule above has no named source.
		if !v.Bool("enableDnsSupport") || !v.Bool("enableDnsHostnames") {
			return standin.Errorf("InvalidParameter", "Private DNS can't be enabled because the VPC %s does not have DNS hostnames and DNS resolution enabled", vpcID)
		}
		if other := op.St.FindOne(cloud.TypeVPCEndpoint, func(r *cloud.Resource) bool {
			return r.Str("vpcId") == vpcID && r.Str("serviceName") == service && r.Bool("privateDnsEnabled")
		}); other != nil {
			return standin.Errorf("InvalidParameter", "private-dns-enabled cannot be set because there is already a conflicting DNS domain for %s in the VPC %s (%s)",
				endpointServices[service], vpcID, other.ID)
		}
		// A private hosted zone of the service's domain associated with the VPC, whoever owns
		// it, conflicts the same way (hashicorp/terraform-provider-aws#17269, #17535 for the wording).
		for _, z := range op.St.PrivateZonesOf(vpcID) {
			if z.Str("name") == endpointServices[service] {
				return standin.Errorf("InvalidParameter", "private-dns-enabled cannot be set because there is already a conflicting DNS domain for %s in the VPC %s (hosted zone %s)",
					endpointServices[service], vpcID, z.ID)
			}
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
var endpointServices = func() map[string]string {
	out := map[string]string{}
	for _, svc := range simaccount.Services {
		out[simaccount.ServiceName(svc)] = simaccount.ServiceHost(svc)
	}
	return out
}()

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
