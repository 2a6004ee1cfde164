package infra

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
)

// validate checks a parsed Config against AWS's and RabbitMQ's rules. It is pure: no I/O.
func (c Config) validate() []*SettingError {
	var p []*SettingError
	// bad records a problem; an empty one (a rule's "") is none.
	bad := func(key, value, allowed string) {
		if allowed != "" {
			p = append(p, &SettingError{Key: key, Value: value, Allowed: allowed})
		}
	}

	opt, known := Options[c.NetworkMode]
	switch {
	case c.NetworkMode == "":
		bad("networkMode", "", "is required: one of "+modeList()+" (each stack file sets it to the stack's name)")
	case !known:
		bad("networkMode", string(c.NetworkMode), "must be one of "+modeList())
	}
	if known {
		for _, s := range settings() {
			if value, set := c.given[s.key]; set && s.appliesTo != nil && !s.appliesTo(opt) {
				bad(s.key, value, fmt.Sprintf("applies only to networkMode %s, not to %s; remove it from this stack", s.appliesText, c.NetworkMode))
			}
		}
	}

	switch msg := deploymentModeProblem(c.DeploymentMode); {
	case msg != "":
		bad("deploymentMode", string(c.DeploymentMode), msg)
	case known && c.DeploymentMode == ClusterMultiAZ && opt.VPC == VPCDefault:
		// CreateBroker requires subnets for a private cluster, and this option gives none.
		bad("deploymentMode", string(c.DeploymentMode), "is not available with networkMode defaultvpc: it places the broker in one default "+
			"subnet with the default security group, and a cluster spans three zones; use SINGLE_INSTANCE, or networkMode isolated or nat for a cluster")
	}
	if msg := instanceTypeProblem(c.InstanceType, c.DeploymentMode, c.EngineVersion); msg != "" {
		bad("instanceType", c.InstanceType, msg+" (or leave instanceType unset: the program picks the cheapest type that fits)")
	}
	bad("engineVersion", c.EngineVersion, engineVersionProblem(c.EngineVersion))
	bad("brokerName", c.BrokerName, brokerNameProblem(c.BrokerName))
	bad("adminUsername", c.AdminUsername, usernameProblem(c.AdminUsername))
	p = append(p, brokerUserProblems(c.AdminUsername, c.MappingUsername, c.DeadLetterUsername, c.MonitorUsername)...)
	p = append(p, c.Alarms.problems()...)
	bad("credentialRotation", c.CredentialRotation, rotationScheduleProblem(c.CredentialRotation))
	bad("queueName", c.QueueName, contract.QueueNameProblem(c.QueueName))
	bad("virtualHost", c.VirtualHost, virtualHostProblem(c.VirtualHost))
	bad("batchSize", strconv.Itoa(c.BatchSize), batchSizeProblem(c.BatchSize))
	if w := c.MaxBatchingWindowSeconds; w != nil {
		bad("maxBatchingWindowSeconds", strconv.Itoa(*w), batchingWindowProblem(*w))
	}
	bad("vpcCidr", c.VPCCidr, vpcCidrProblem(c.VPCCidr))
	if c.AvailabilityZones < 1 || c.AvailabilityZones > 6 {
		bad("availabilityZones", strconv.Itoa(c.AvailabilityZones), "must be a whole number from 1 to 6")
	}
	if c.NATGateways != NATSingle && c.NATGateways != NATOnePerAZ {
		bad("natGateways", string(c.NATGateways), "must be Single (one NAT gateway) or OnePerAz (one per availability zone)")
	}
	if c.DefaultVPCEndpoints != EndpointsCreate && c.DefaultVPCEndpoints != EndpointsExisting {
		bad("defaultVpcEndpoints", string(c.DefaultVPCEndpoints), "must be create (the program creates the sts, secretsmanager and lambda "+
			"interface endpoints) or existing (the default VPC already has them; the program checks they exist)")
	}
	if !slices.Contains(contract.PrivateRoutes, c.ServiceRoute) {
		bad("serviceRoute", string(c.ServiceRoute), "must be nat (the subnets already route 0.0.0.0/0 to a NAT gateway; nothing is created for the path), "+
			"endpoints (the program creates the sts, secretsmanager and lambda interface endpoints), existing-endpoints (the VPC has them; the program "+
			"checks and uses them) or custom-egress (the subnets route 0.0.0.0/0 to a transit gateway, firewall or instance that reaches the internet)")
	}
	if known && opt.VPC == VPCExisting {
		p = append(p, existingVPCProblems(c)...)
	}
	bad("deliveryLimit", strconv.Itoa(c.DeliveryLimit), deliveryLimitProblem(c.DeliveryLimit))
	bad("logRetentionDays", strconv.Itoa(c.LogRetentionDays), logRetentionProblem(c.LogRetentionDays))
	if c.ENIWaitTimeoutMinutes < 1 || c.ENIWaitTimeoutMinutes > 120 {
		bad("eniWaitTimeoutMinutes", strconv.Itoa(c.ENIWaitTimeoutMinutes), "must be a whole number of minutes from 1 to 120")
	}
	p = append(p, tagProblems(c.Tags)...)
	for _, cidr := range c.AdminAccessCIDRs {
		bad("adminAccessCidrs", cidr, adminCIDRProblem(cidr))
	}
	return p
}

var (
	vpcIDPattern    = regexp.MustCompile(`^vpc-([0-9a-f]{8}|[0-9a-f]{17})$`)
	subnetIDPattern = regexp.MustCompile(`^subnet-([0-9a-f]{8}|[0-9a-f]{17})$`)
)

// existingVPCProblems checks existingvpc's placement as far as it can without AWS; what the ids
// name is looked up later, still before anything is created. SINGLE_INSTANCE takes exactly one
// subnet, as Amazon MQ does, so that every subnet listed is one that is checked. A cluster
// takes at least two: Amazon MQ accepts one, but then its endpoints and the mapping's
// interfaces would all sit in one zone.
func existingVPCProblems(c Config) []*SettingError {
	var p []*SettingError
	bad := func(key, value, allowed string) {
		p = append(p, &SettingError{Key: key, Value: value, Allowed: allowed})
	}
	switch {
	case c.VPCID == "":
		bad("vpcId", "", "is required with networkMode existingvpc: the id of your VPC (vpc-…), as "+
			"`aws ec2 describe-vpcs --query 'Vpcs[].[VpcId,CidrBlock,IsDefault]' --output table` lists them")
	case !vpcIDPattern.MatchString(c.VPCID):
		bad("vpcId", c.VPCID, "must be a VPC id: vpc- and 8 or 17 lowercase hexadecimal digits, e.g. vpc-0123456789abcdef0")
	}
	if len(c.SubnetIDs) == 0 {
		bad("subnetIds", "[]", "is required with networkMode existingvpc: the subnets of your VPC that hold the broker's endpoint and the mapping's "+
			"interfaces, one per zone (one for SINGLE_INSTANCE), e.g. [\"subnet-0123456789abcdef1\"]; "+
			"`aws ec2 describe-subnets --filters Name=vpc-id,Values=<vpcId> --query 'Subnets[].[SubnetId,AvailabilityZone,CidrBlock]' --output table` lists them")
		return p
	}
	seen := map[string]bool{}
	for _, id := range c.SubnetIDs {
		switch {
		case !subnetIDPattern.MatchString(id):
			bad("subnetIds", id, "must be a subnet id: subnet- and 8 or 17 lowercase hexadecimal digits, e.g. subnet-0123456789abcdef1")
		case seen[id]:
			bad("subnetIds", id, "is listed twice; list each subnet once, one per zone")
		}
		seen[id] = true
	}
	p = append(p, endpointSubnetProblems(c)...)
	list := "[" + strings.Join(c.SubnetIDs, ", ") + "]"
	switch {
	case c.DeploymentMode == SingleInstance && len(c.SubnetIDs) != 1:
		bad("subnetIds", list, fmt.Sprintf("lists %d subnets, but SINGLE_INSTANCE places the broker, and with it the mapping's interfaces, in exactly one: "+
			"list one (or set deploymentMode to CLUSTER_MULTI_AZ, which takes one per zone)", len(c.SubnetIDs)))
	case c.DeploymentMode == ClusterMultiAZ && len(c.SubnetIDs) < 2:
		bad("subnetIds", list, "lists one subnet, but CLUSTER_MULTI_AZ spreads the broker across zones: list one subnet per zone, "+
			"at least two (or set deploymentMode to SINGLE_INSTANCE)")
	}
	return p
}

// endpointSubnetProblems checks endpointSubnetIds without AWS. Only serviceRoute endpoints
// creates endpoints, and subnetIds' subnets hold them already.
func endpointSubnetProblems(c Config) []*SettingError {
	var p []*SettingError
	if len(c.EndpointSubnetIDs) > 0 && c.ServiceRoute != RouteEndpoints {
		p = append(p, &SettingError{Key: "endpointSubnetIds", Value: "[" + strings.Join(c.EndpointSubnetIDs, ", ") + "]",
			Allowed: fmt.Sprintf("applies only with serviceRoute endpoints, which creates the interface endpoints; serviceRoute is %s: "+
				"remove endpointSubnetIds", c.ServiceRoute)})
	}
	seen := map[string]bool{}
	for _, id := range c.EndpointSubnetIDs {
		switch {
		case !subnetIDPattern.MatchString(id):
			p = append(p, &SettingError{Key: "endpointSubnetIds", Value: id, Allowed: "must be a subnet id: subnet- and 8 or 17 lowercase hexadecimal digits"})
		case seen[id]:
			p = append(p, &SettingError{Key: "endpointSubnetIds", Value: id, Allowed: "is listed twice; list each subnet once, one per zone"})
		case slices.Contains(c.SubnetIDs, id):
			p = append(p, &SettingError{Key: "endpointSubnetIds", Value: id, Allowed: "is in subnetIds, whose subnets hold the endpoints already; " +
				"list subnets of the other zones only"})
		}
		seen[id] = true
	}
	return p
}

func modeList() string {
	names := make([]string, 0, len(Options))
	for _, m := range ModeNames() {
		names = append(names, string(m))
	}
	return strings.Join(names, ", ")
}
