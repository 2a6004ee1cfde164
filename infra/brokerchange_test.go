package infra

import (
	"strings"
	"testing"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/offline"
)

func TestBrokerChangesAmazonMQWouldRefuseHalfWay(t *testing.T) {
	on := func(version, instanceType string) *DeployedBroker {
		return &DeployedBroker{ID: "b-1", EngineVersion: version, InstanceType: instanceType, DeploymentMode: SingleInstance}
	}
	cases := []struct {
		name           string
		deployed       *DeployedBroker
		version, itype string
		mode           DeploymentMode
		want           []string // empty: allowed
	}{
		{"first up", nil, "4.2", "mq.m7g.medium", SingleInstance, nil},
		{"3.13 on t3.micro to 4.2 in one up", on("3.13", "mq.t3.micro"), "4.2", "mq.m7g.medium", SingleInstance,
			[]string{`engineVersion = "4.2"`, "runs RabbitMQ 3.13 on mq.t3.micro", "1. keep engineVersion 3.13, set instanceType mq.m7g.medium",
				"2. then set engineVersion 4.2", "no classic mirrored queues", `docs/operations.md, "Upgrading to RabbitMQ 4"`}},
		{"3.13 on m5 to 4.2 naming m7g.large", on("3.13", "mq.m5.large"), "4.2", "mq.m7g.large", SingleInstance,
			[]string{"set instanceType mq.m7g.large"}},
		{"step 1: 3.13 onto m7g", on("3.13", "mq.t3.micro"), "3.13", "mq.m7g.medium", SingleInstance, nil},
		{"step 2: 4.2 on m7g", on("3.13", "mq.m7g.medium"), "4.2", "mq.m7g.medium", SingleInstance, nil},
		{"patch versions reported", on("3.13.7", "mq.m7g.medium"), "4.2", "mq.m7g.medium", SingleInstance, nil},
		{"4.2 to 4.3", on("4.2", "mq.m7g.medium"), "4.3", "mq.m7g.medium", SingleInstance, nil},
		{"3.13 to 4.3", on("3.13", "mq.m7g.medium"), "4.3", "mq.m7g.medium", SingleInstance, []string{"to RabbitMQ 4.3 only from 4.2"}},
		{"downgrade", on("4.2", "mq.m7g.medium"), "3.13", "mq.m7g.medium", SingleInstance, []string{"does not downgrade", "Set engineVersion back to 4.2"}},
		{"m5 back to t3.micro", on("3.13", "mq.m5.large"), "3.13", "mq.t3.micro", SingleInstance,
			[]string{`instanceType = "mq.t3.micro"`, "cannot move a broker from mq.m5 or mq.m7g back to mq.t3.micro", "Keep instanceType mq.m5.large"}},
		{"m7g back to t3.micro", on("3.13", "mq.m7g.medium"), "3.13", "mq.t3.micro", SingleInstance, []string{"back to mq.t3.micro"}},
		{"up to m5", on("3.13", "mq.t3.micro"), "3.13", "mq.m5.large", SingleInstance, nil},
		// A new deployment mode replaces the broker: the new one is built on what is asked.
		{"replaced anyway", on("3.13", "mq.t3.micro"), "4.2", "mq.m7g.large", ClusterMultiAZ, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := brokerChangeProblem(tc.deployed, tc.version, tc.itype, tc.mode, false)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("allowed")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// The refusal comes before anything is registered; a teardown only warns.
func TestBrokerUpgradeRefusedBeforeAnythingAndNotOnTeardown(t *testing.T) {
	deployed := map[string]any{"brokerId": "b-1", "brokerName": "rabbitmq-esm-isolated", "engineVersion": "3.13",
		"hostInstanceType": "mq.t3.micro", "deploymentMode": "SINGLE_INSTANCE", "publiclyAccessible": false}
	m := &offline.Account{Broker: deployed}
	_, err := run(t, "isolated", withSettings(t, "isolated", map[string]string{"engineVersion": "4.2"}), m)
	if err == nil || !strings.Contains(err.Error(), "Upgrade in two ups") || !strings.Contains(err.Error(), "make destroy STACK=isolated") {
		t.Fatalf("want the two-step refusal, and how to tear down: %v", err)
	}
	if n := len(m.All()); n != 0 {
		t.Errorf("%d resources registered before the refusal", n)
	}

	t.Setenv(EnvTeardown, "1")
	m = &offline.Account{Broker: deployed}
	if _, err := run(t, "isolated", withSettings(t, "isolated", map[string]string{"engineVersion": "4.2"}), m); err != nil {
		t.Fatalf("a teardown was refused: %v", err)
	}
	if len(m.All()) == 0 {
		t.Error("the teardown registered nothing: the engine could run no deletion hook")
	}
}

// A new broker has the virtual host / only: another is refused before anything is registered,
// and taken on a deployed broker (where the provisioner checks it inside the network).
func TestAnotherVirtualHostNeedsADeployedBroker(t *testing.T) {
	settings := map[string]string{"virtualHost": "shop"}
	m := &offline.Account{}
	_, err := run(t, "isolated", withSettings(t, "isolated", settings), m)
	if err == nil || !strings.Contains(err.Error(), `virtualHost = "shop": the broker this up creates has only the virtual host /`) {
		t.Fatalf("a new broker with virtualHost shop: want the refusal, got %v", err)
	}
	if n := len(m.All()); n != 0 {
		t.Errorf("%d resources registered before the refusal", n)
	}
	replaced := map[string]any{"brokerId": "b-1", "brokerName": "rabbitmq-esm-isolated", "engineVersion": "3.13",
		"hostInstanceType": "mq.m5.large", "deploymentMode": "CLUSTER_MULTI_AZ", "publiclyAccessible": false}
	if _, err := run(t, "isolated", withSettings(t, "isolated", settings), &offline.Account{Broker: replaced}); err == nil {
		t.Error("a broker the up replaces (another deployment mode) with virtualHost shop: not refused")
	}
	deployed := map[string]any{"brokerId": "b-1", "brokerName": "rabbitmq-esm-isolated", "engineVersion": "3.13",
		"hostInstanceType": "mq.t3.micro", "deploymentMode": "SINGLE_INSTANCE", "publiclyAccessible": false}
	if _, err := run(t, "isolated", withSettings(t, "isolated", settings), &offline.Account{Broker: deployed}); err != nil {
		t.Errorf("virtualHost shop on the deployed broker: %v", err)
	}
}
