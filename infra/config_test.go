package infra

import (
	"errors"
	"strings"
	"testing"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/offline"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/stackconfig"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// invalidConfigs are configurations a user could write that the program must refuse before it
// registers anything, each with the key and the value the message must name.
var invalidConfigs = []struct {
	name  string
	stack string
	set   map[string]string // keys without the project prefix; networkMode defaults to stack
	key   string
	value string
}{
	{"missing networkMode", "nat", map[string]string{"networkMode": ""}, "networkMode", `""`},
	{"unknown networkMode", "nat", map[string]string{"networkMode": "private"}, "networkMode", "private"},
	{"networkMode in wrong case", "nat", map[string]string{"networkMode": "NAT"}, "networkMode", "NAT"},
	{"cluster in the default VPC", "defaultvpc", map[string]string{"deploymentMode": "CLUSTER_MULTI_AZ"}, "deploymentMode", "CLUSTER_MULTI_AZ"},
	{"unknown deploymentMode", "nat", map[string]string{"deploymentMode": "ACTIVE_STANDBY_MULTI_AZ"}, "deploymentMode", "ACTIVE_STANDBY_MULTI_AZ"},
	{"t3.micro cluster", "nat", map[string]string{"deploymentMode": "CLUSTER_MULTI_AZ", "instanceType": "mq.t3.micro"}, "instanceType", "mq.t3.micro"},
	{"instance type without mq prefix", "public", map[string]string{"instanceType": "t3.micro"}, "instanceType", "t3.micro"},
	{"RabbitMQ 4 on t3.micro", "public", map[string]string{"engineVersion": "4.2", "instanceType": "mq.t3.micro"}, "instanceType", "mq.t3.micro"},
	{"RabbitMQ 4 on m5", "nat", map[string]string{"engineVersion": "4.3", "instanceType": "mq.m5.large"}, "instanceType", "mq.m5.large"},
	{"engine version too old", "public", map[string]string{"engineVersion": "3.12"}, "engineVersion", "3.12"},
	{"engine version with patch", "public", map[string]string{"engineVersion": "3.13.7"}, "engineVersion", "3.13.7"},
	{"engine version not a number", "public", map[string]string{"engineVersion": "latest"}, "engineVersion", "latest"},
	{"broker name too long", "public", map[string]string{"brokerName": strings.Repeat("b", 51)}, "brokerName", strings.Repeat("b", 51)},
	{"broker name with a dot", "public", map[string]string{"brokerName": "my.broker"}, "brokerName", "my.broker"},
	{"username guest", "public", map[string]string{"adminUsername": "guest"}, "adminUsername", "guest"},
	{"username too short", "public", map[string]string{"adminUsername": "a"}, "adminUsername", `"a"`},
	{"username with a colon", "public", map[string]string{"adminUsername": "ad:min"}, "adminUsername", "ad:min"},
	// Each job logs in as users of its own: no pair (<name>, <name>-clone) meets another.
	{"mapping user is the admin", "public", map[string]string{"mappingUsername": "esmadmin"}, "mappingUsername", "esmadmin"},
	{"mapping user is the admin's clone", "public", map[string]string{"mappingUsername": "esmadmin-clone"}, "mappingUsername", "esmadmin-clone"},
	{"dead-letter user is the mapping's", "public", map[string]string{"deadLetterUsername": "esm-mapping"}, "deadLetterUsername", "esm-mapping"},
	{"dead-letter user is the mapping's clone", "public", map[string]string{"deadLetterUsername": "esm-mapping-clone"}, "deadLetterUsername", "esm-mapping-clone"},
	{"mapping user guest", "public", map[string]string{"mappingUsername": "guest"}, "mappingUsername", "guest"},
	{"mapping user too long for its pair", "public", map[string]string{"mappingUsername": strings.Repeat("m", 95)}, "mappingUsername", strings.Repeat("m", 95)},
	// Secrets Manager's range: every 4 hours at most, 1000 days at least.
	{"rotation every 3 hours", "public", map[string]string{"credentialRotation": "rate(3 hours)"}, "credentialRotation", "rate(3 hours)"},           //nolint:gosec // G101: a schedule, not a credential
	{"rotation every 1001 days", "public", map[string]string{"credentialRotation": "rate(1001 days)"}, "credentialRotation", "rate(1001 days)"},     //nolint:gosec // G101: a schedule, not a credential
	{"rotation in weeks", "public", map[string]string{"credentialRotation": "rate(2 weeks)"}, "credentialRotation", "rate(2 weeks)"},                //nolint:gosec // G101: a schedule, not a credential
	{"rotation cron of five fields", "public", map[string]string{"credentialRotation": "cron(0 4 * * ?)"}, "credentialRotation", "cron(0 4 * * ?)"}, //nolint:gosec // G101: a schedule, not a credential
	{"rotation disabled by a typo", "public", map[string]string{"credentialRotation": "none"}, "credentialRotation", "none"},
	{"queue name reserved", "public", map[string]string{"queueName": "amq.events"}, "queueName", "amq.events"},
	{"queue name empty", "public", map[string]string{"queueName": ""}, "queueName", `""`},
	// The provisioner names the dead-letter exchange and queue <queue>.dlx and <queue>.dlq.
	{"queue name too long for its dead-letter names", "public", map[string]string{"queueName": strings.Repeat("q", 252)}, "queueName", strings.Repeat("q", 252)},
	{"virtual host empty", "public", map[string]string{"virtualHost": ""}, "virtualHost", `""`},
	{"batch size zero", "public", map[string]string{"batchSize": "0"}, "batchSize", `"0"`},
	{"batch size too large", "public", map[string]string{"batchSize": "10001"}, "batchSize", "10001"},
	{"batch size not a number", "public", map[string]string{"batchSize": "many"}, "batchSize", "many"},
	{"batching window too long", "public", map[string]string{"maxBatchingWindowSeconds": "301"}, "maxBatchingWindowSeconds", "301"},
	{"batching window negative", "public", map[string]string{"maxBatchingWindowSeconds": "-1"}, "maxBatchingWindowSeconds", "-1"},
	{"vpcCidr on public", "public", map[string]string{"vpcCidr": "10.1.0.0/16"}, "vpcCidr", "10.1.0.0/16"},
	{"vpcCidr on defaultvpc", "defaultvpc", map[string]string{"vpcCidr": "10.1.0.0/16"}, "vpcCidr", "10.1.0.0/16"},
	{"vpcCidr not a CIDR", "isolated", map[string]string{"vpcCidr": "10.0.0.0"}, "vpcCidr", "10.0.0.0"},
	{"vpcCidr with host bits", "isolated", map[string]string{"vpcCidr": "10.0.1.0/16"}, "vpcCidr", "10.0.1.0/16"},
	{"vpcCidr too small", "isolated", map[string]string{"vpcCidr": "10.0.0.0/26"}, "vpcCidr", "10.0.0.0/26"},
	{"vpcCidr public range", "nat", map[string]string{"vpcCidr": "8.8.0.0/16"}, "vpcCidr", "8.8.0.0/16"},
	{"availabilityZones on public", "public", map[string]string{"availabilityZones": "3"}, "availabilityZones", `"3"`},
	{"availabilityZones zero", "isolated", map[string]string{"availabilityZones": "0"}, "availabilityZones", `"0"`},
	{"availabilityZones more than the region offers", "isolated", map[string]string{"availabilityZones": "6"}, "availabilityZones", `"6"`},
	{"nat zones beyond those with the services", "nat", map[string]string{"availabilityZones": "6"}, "availabilityZones", `"6"`},
	{"adminAccessCidrs on defaultvpc", "defaultvpc", map[string]string{"adminAccessCidrs": `["10.20.0.0/16"]`}, "adminAccessCidrs", "10.20.0.0/16"},
	{"adminAccessCidrs not a CIDR", "isolated", map[string]string{"adminAccessCidrs": `["bastion"]`}, "adminAccessCidrs", "bastion"},
	{"adminAccessCidrs open to the world", "nat", map[string]string{"adminAccessCidrs": `["0.0.0.0/0"]`}, "adminAccessCidrs", "0.0.0.0/0"},
	{"adminAccessCidrs not a list", "nat", map[string]string{"adminAccessCidrs": `"10.20.0.0/16"`}, "adminAccessCidrs", "10.20.0.0/16"},
	{"natGateways on isolated", "isolated", map[string]string{"natGateways": "OnePerAz"}, "natGateways", "OnePerAz"},
	{"natGateways unknown", "nat", map[string]string{"natGateways": "Two"}, "natGateways", "Two"},
	{"defaultVpcEndpoints on nat", "nat", map[string]string{"defaultVpcEndpoints": "existing"}, "defaultVpcEndpoints", "existing"},
	{"defaultVpcEndpoints unknown", "defaultvpc", map[string]string{"defaultVpcEndpoints": "false"}, "defaultVpcEndpoints", "false"},
	{"delivery limit zero", "public", map[string]string{"deliveryLimit": "0"}, "deliveryLimit", `"0"`},
	{"eni wait too long", "nat", map[string]string{"eniWaitTimeoutMinutes": "600"}, "eniWaitTimeoutMinutes", "600"},
	{"log retention not offered", "public", map[string]string{"logRetentionDays": "10"}, "logRetentionDays", `"10"`},
	{"logMessageBodies not a bool", "public", map[string]string{"logMessageBodies": "sometimes"}, "logMessageBodies", "sometimes"},
	{"tags not an object", "public", map[string]string{"tags": `["a"]`}, "tags", `[\"a\"]`},
	{"tag key reserved", "public", map[string]string{"tags": `{"aws:owner": "me"}`}, "tags", "aws:owner"},
	{"tag key the program sets", "public", map[string]string{"tags": `{"stack": "other"}`}, "tags", "stack"},
	{"misspelt key", "public", map[string]string{"batchsize": "10"}, "batchsize", "batchSize"},
}

func TestInvalidConfigRegistersNothing(t *testing.T) {
	if len(invalidConfigs) < 25 {
		t.Fatalf("only %d invalid-config cases", len(invalidConfigs))
	}
	for _, tc := range invalidConfigs {
		t.Run(tc.name, func(t *testing.T) {
			raw := map[string]string{"aws:region": "us-east-1", ProjectName + ":networkMode": tc.stack}
			for k, v := range tc.set {
				raw[ProjectName+":"+k] = v
			}
			m := &offline.Account{}
			_, err := run(t, tc.stack, raw, m)
			if err == nil {
				t.Fatal("the program accepted the configuration")
			}
			msg := err.Error()
			if !strings.Contains(msg, ProjectName+":"+tc.key) || !strings.Contains(msg, tc.value) {
				t.Errorf("the message does not name %s:%s and %s:\n%s", ProjectName, tc.key, tc.value, msg)
			}
			var cfgErr *ConfigError
			if !errors.As(err, &cfgErr) {
				t.Errorf("want a *ConfigError, got %T", err)
			}
			if n := len(m.All()); n != 0 {
				t.Errorf("%d resources were registered before the error", n)
			}
		})
	}
}

// TestHookIdentityMustBeTheProviders: the deletion hooks call EC2 with the environment's
// credentials and aws:profile; provider settings that would give the provider another identity
// are refused before anything is registered.
func TestHookIdentityMustBeTheProviders(t *testing.T) {
	for key, value := range map[string]string{
		"aws:assumeRoles": `[{"roleArn":"arn:aws:iam::123456789012:role/deployer"}]`,
		"aws:accessKey":   "AKIAEXAMPLE",
		"aws:secretKey":   "do-not-print-me",
	} {
		_, err := ParseConfig("nat", map[string]string{ProjectName + ":networkMode": "nat", key: value})
		if err == nil || !strings.Contains(err.Error(), key+" = ") || !strings.Contains(err.Error(), "AWS_PROFILE") {
			t.Errorf("%s accepted or not named: %v", key, err)
		}
		if err != nil && strings.Contains(err.Error(), "do-not-print-me") {
			t.Error("the error prints the secret key")
		}
	}
	if _, err := ParseConfig("nat", map[string]string{ProjectName + ":networkMode": "nat", "aws:profile": "deploy", "aws:region": "eu-west-1"}); err != nil {
		t.Errorf("aws:profile and aws:region, which the hooks honour, were refused: %v", err)
	}
}

func TestAllProblemsReportedAtOnce(t *testing.T) {
	_, err := ParseConfig("nat", map[string]string{
		ProjectName + ":networkMode": "nat",
		ProjectName + ":batchSize":   "0",
		ProjectName + ":vpcCidr":     "nonsense",
	})
	var cfgErr *ConfigError
	if !errors.As(err, &cfgErr) || len(cfgErr.Problems) != 2 {
		t.Fatalf("want both problems in one error, got %v", err)
	}
}

func TestDefaults(t *testing.T) {
	cfg, err := ParseConfig("isolated", map[string]string{ProjectName + ":networkMode": "isolated"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DeploymentMode != SingleInstance || cfg.InstanceType != "mq.t3.micro" || cfg.EngineVersion != "3.13" ||
		cfg.BrokerName != "rabbitmq-esm-isolated" || cfg.AdminUsername != "esmadmin" || cfg.QueueName != "events" ||
		cfg.VirtualHost != "/" || cfg.BatchSize != 100 || cfg.MaxBatchingWindowSeconds != nil || cfg.VPCCidr != "10.0.0.0/16" ||
		cfg.AvailabilityZones != 2 || cfg.NATGateways != NATSingle || cfg.DefaultVPCEndpoints != EndpointsCreate ||
		cfg.LogRetentionDays != 14 || cfg.LogMessageBodies || len(cfg.Tags) != 0 || cfg.ENIWaitTimeoutMinutes != 45 {
		t.Errorf("unexpected defaults: %+v", cfg)
	}
	// The default instance type follows the deployment mode and the engine version.
	for _, tc := range []struct{ mode, engine, want string }{
		{"SINGLE_INSTANCE", "3.13", "mq.t3.micro"}, {"CLUSTER_MULTI_AZ", "3.13", "mq.m5.large"},
		{"SINGLE_INSTANCE", "4.2", "mq.m7g.medium"}, {"CLUSTER_MULTI_AZ", "4.3", "mq.m7g.large"},
	} {
		cfg, err := ParseConfig("nat", map[string]string{ProjectName + ":networkMode": "nat",
			ProjectName + ":deploymentMode": tc.mode, ProjectName + ":engineVersion": tc.engine})
		if err != nil || cfg.InstanceType != tc.want {
			t.Errorf("%s on RabbitMQ %s: default instance type %q (%v), want %s", tc.mode, tc.engine, cfg.InstanceType, err, tc.want)
		}
	}
}

func TestValidSettingsAccepted(t *testing.T) {
	cfg, err := ParseConfig("nat", map[string]string{
		ProjectName + ":networkMode":              "nat",
		ProjectName + ":deploymentMode":           "CLUSTER_MULTI_AZ",
		ProjectName + ":instanceType":             "mq.m7g.large",
		ProjectName + ":engineVersion":            "4.2",
		ProjectName + ":batchSize":                "10000",
		ProjectName + ":maxBatchingWindowSeconds": "300",
		ProjectName + ":vpcCidr":                  "172.20.0.0/20",
		ProjectName + ":availabilityZones":        "3",
		ProjectName + ":natGateways":              "OnePerAz",
		ProjectName + ":tags":                     `{"team":"payments"}`,
		"aws:region":                              "eu-west-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxBatchingWindowSeconds == nil || *cfg.MaxBatchingWindowSeconds != 300 || cfg.Tags["team"] != "payments" || cfg.NATGateways != NATOnePerAZ {
		t.Errorf("settings not applied: %+v", cfg)
	}
}

// TestSchemaDefaultsOfOtherOptionsAccepted: the Pulumi CLI gives every stack the schema default
// of each key it leaves unset, those of other options included. The program must accept them,
// and must still resolve the automatic defaults (instance type, broker name, batching window).
func TestSchemaDefaultsOfOtherOptionsAccepted(t *testing.T) {
	for _, mode := range ModeNames() {
		raw := map[string]string{"aws:region": "us-east-1"}
		for _, s := range settings() {
			raw[ProjectName+":"+s.key] = s.schemaDefault
		}
		raw[ProjectName+":networkMode"] = string(mode)
		// What an option cannot do without (existingvpc's VPC and subnets) comes from its
		// stack file, as the CLI overlays it.
		file, err := stackconfig.Read("..", string(mode))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range settings() {
			if v, ok := file[ProjectName+":"+s.key]; ok && v != s.schemaDefault {
				raw[ProjectName+":"+s.key] = v
			}
		}
		cfg, err := ParseConfig(string(mode), raw)
		if err != nil {
			t.Errorf("%s with every schema default: %v", mode, err)
			continue
		}
		if cfg.InstanceType != "mq.t3.micro" || cfg.BrokerName != "rabbitmq-esm-"+string(mode) || cfg.MaxBatchingWindowSeconds != nil {
			t.Errorf("%s: automatic defaults not resolved: instanceType %q, brokerName %q, maxBatchingWindowSeconds %v",
				mode, cfg.InstanceType, cfg.BrokerName, cfg.MaxBatchingWindowSeconds)
		}
	}
}

// TestRunReadsPulumiConfig goes through the entry point pulumi runs, with the configuration
// in PULUMI_CONFIG as the Pulumi CLI passes it.
func TestRunReadsPulumiConfig(t *testing.T) {
	t.Setenv(pulumi.EnvConfig, `{"aws:region":"us-east-1","rabbitmq-esm:networkMode":"public","rabbitmq-esm:batchSize":"0"}`)
	m := &offline.Account{}
	err := pulumi.RunErr(Run, pulumi.WithMocks(ProjectName, "public", m))
	if err == nil || !strings.Contains(err.Error(), "rabbitmq-esm:batchSize") {
		t.Fatalf("want the batchSize error, got %v", err)
	}
	if len(m.All()) != 0 {
		t.Error("resources registered despite the invalid configuration")
	}
}

// TestOneZoneRuleForEveryOption: whatever carries the ESM's calls, a new VPC's subnets go only
// in zones that offer every service the ESM calls (us-east-1e offers none in the simulation).
func TestOneZoneRuleForEveryOption(t *testing.T) {
	for _, mode := range []string{"nat", "isolated", "publicsubnet"} {
		m := &offline.Account{}
		raw := map[string]string{"aws:region": "us-east-1", ProjectName + ":networkMode": mode, ProjectName + ":availabilityZones": "5"}
		if _, err := run(t, mode, raw, m); err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		vpc, err := m.One("awsx:ec2:Vpc", "network")
		if err != nil {
			t.Fatal(err)
		}
		for _, z := range vpc.Inputs["availabilityZoneNames"].ArrayValue() {
			if z.StringValue() == "us-east-1e" {
				t.Errorf("%s places subnets in us-east-1e, which offers none of the services", mode)
			}
		}
	}
}

// TestOptionResolvesTheServiceRoute: the settings that choose the route give the option the
// route in their own words, and the endpoints are created exactly where the route says so.
func TestOptionResolvesTheServiceRoute(t *testing.T) {
	cases := []struct {
		stack    string
		settings map[string]string
		want     ServiceRoute
	}{
		{"public", nil, RouteAWSSide},
		{"nat", nil, RouteNAT},
		{"isolated", nil, RouteEndpoints},
		{"defaultvpc", nil, RouteEndpoints},
		{"defaultvpc", map[string]string{"defaultVpcEndpoints": "existing"}, RouteExistingEndpoints},
		{"existingvpc", nil, RouteEndpoints},
		{"existingvpc", map[string]string{"serviceRoute": "nat"}, RouteNAT},
		{"existingvpc", map[string]string{"serviceRoute": "existing-endpoints"}, RouteExistingEndpoints},
		{"existingvpc", map[string]string{"serviceRoute": "custom-egress"}, RouteCustomEgress},
	}
	for _, tc := range cases {
		cfg, err := ParseConfig(tc.stack, withSettings(t, tc.stack, tc.settings))
		if err != nil {
			t.Fatal(err)
		}
		o := cfg.Option()
		if o.ServiceRoute != tc.want || o.CreatesEndpoints() != (tc.want == RouteEndpoints) || o.EndpointsFound() != (tc.want == RouteExistingEndpoints) {
			t.Errorf("%s %v: route %q (creates endpoints %v, finds them %v), want %q",
				tc.stack, tc.settings, o.ServiceRoute, o.CreatesEndpoints(), o.EndpointsFound(), tc.want)
		}
	}
}
