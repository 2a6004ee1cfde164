package infra

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/mq"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// DeployedBroker is the stack's broker as Amazon MQ reports it, before this up changes it.
type DeployedBroker struct {
	ID, EngineVersion, InstanceType string
	DeploymentMode                  DeploymentMode
	PubliclyAccessible              bool
	SubnetIDs, SecurityGroups       []string
}

// lookupDeployedBroker finds the broker of the configured name: nil when there is none (the
// first up, or a new brokerName, which makes a new broker).
func lookupDeployedBroker(ctx *pulumi.Context, name string) (*DeployedBroker, error) {
	b, err := mq.LookupBroker(ctx, &mq.LookupBrokerArgs{BrokerName: pulumi.StringRef(name)})
	switch {
	case err != nil && isBrokerNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("looking up the broker %s: %w", name, err)
	}
	return &DeployedBroker{ID: b.BrokerId, EngineVersion: b.EngineVersion, InstanceType: b.HostInstanceType,
		DeploymentMode: DeploymentMode(b.DeploymentMode), PubliclyAccessible: b.PubliclyAccessible,
		SubnetIDs: b.SubnetIds, SecurityGroups: b.SecurityGroups}, nil
}

// isBrokerNotFound tells the provider's answer for no broker of that name (the data source of
// terraform-provider-aws, internal/service/mq/broker_data_source.go, fails with "empty result"
// or the generic "no matching" of other data sources) from a failed look-up.
func isBrokerNotFound(err error) bool {
	return isNotFound(err) || strings.Contains(err.Error(), "empty result") || strings.Contains(err.Error(), "NotFoundException")
}

// brokerChangeProblem refuses, before anything changes, an in-place change of the broker that
// Amazon MQ would refuse half way. The provider updates a broker in a fixed order — security
// groups, then engine version (with configuration and logs), then users, then host instance
// type (terraform-provider-aws internal/service/mq/broker.go, resourceBrokerUpdate) — each as
// its own UpdateBroker call, and AWS refuses:
//   - RabbitMQ 4 on any instance type but mq.m7g: so 3.13 on mq.t3.micro or mq.m5 cannot reach
//     4.x in one up (the engine call comes first), but can in two;
//   - a move from mq.m5 or mq.m7g back to mq.t3.micro;
//   - a lower engine version; 4.3 from anything but 4.2.
//
// A change that replaces the broker anyway (another deployment mode or accessibility) builds a
// new broker and is not refused here.
func brokerChangeProblem(d *DeployedBroker, engineVersion, instanceType string, mode DeploymentMode, public bool) error {
	if d == nil || d.DeploymentMode != mode || d.PubliclyAccessible != public {
		return nil
	}
	have, want := majorMinor(d.EngineVersion), majorMinor(engineVersion)
	upgrade := fmt.Sprintf("%s → %s", d.EngineVersion, engineVersion)
	switch {
	case less(want, have):
		return fmt.Errorf("%s:engineVersion = %q: the broker %s runs RabbitMQ %s, and Amazon MQ does not downgrade a broker. "+
			"Set engineVersion back to %s; a broker on %s is a new broker (set brokerName to a new name: the old broker and "+
			"every message in it are deleted, so drain the queue first)", ProjectName, engineVersion, d.ID, d.EngineVersion, d.EngineVersion, engineVersion)
	case want[0] >= 4 && have[0] < 4 && !strings.HasPrefix(d.InstanceType, "mq.m7g."):
		return fmt.Errorf("%s:engineVersion = %q: the broker %s runs RabbitMQ %s on %s, and RabbitMQ 4 runs on mq.m7g only. "+
			"The provider changes the engine version before the instance type, so Amazon MQ would refuse the upgrade %s half way. "+
			"Upgrade in two ups:\n  1. keep engineVersion %s, set instanceType %s, and run up;\n  2. then set engineVersion %s and run up.\n"+
			"See docs/operations.md, \"Upgrading to RabbitMQ 4\": an in-place major upgrade needs no classic mirrored queues and stops the broker's traffic while it runs",
			ProjectName, engineVersion, d.ID, d.EngineVersion, d.InstanceType, upgrade, d.EngineVersion, m7gFor(instanceType, mode), engineVersion)
	case want == [2]int{4, 3} && have != [2]int{4, 2} && have != [2]int{4, 3}:
		return fmt.Errorf("%s:engineVersion = %q: Amazon MQ upgrades a broker to RabbitMQ 4.3 only from 4.2, and the broker %s runs %s: "+
			"upgrade to 4.2 first (one up), then to 4.3", ProjectName, engineVersion, d.ID, d.EngineVersion)
	case instanceType == "mq.t3.micro" && d.InstanceType != "mq.t3.micro":
		return fmt.Errorf("%s:instanceType = %q: the broker %s runs on %s, and Amazon MQ cannot move a broker from mq.m5 or mq.m7g "+
			"back to mq.t3.micro. Keep instanceType %s (or another mq.m5/mq.m7g type); a broker on mq.t3.micro is a new broker "+
			"(set brokerName to a new name: the old broker and every message in it are deleted, so drain the queue first)",
			ProjectName, instanceType, d.ID, d.InstanceType, d.InstanceType)
	}
	return nil
}

// m7gFor is the mq.m7g type the first step of a 4.x upgrade names: the one given, or the one
// engineVersion 4 resolves an empty instanceType to.
func m7gFor(instanceType string, mode DeploymentMode) string {
	if strings.HasPrefix(instanceType, "mq.m7g.") {
		return instanceType
	}
	return defaultInstanceType(mode, "4")
}

// majorMinor reads "3.13" or "3.13.7" as {3, 13}; what does not parse is {0, 0}.
func majorMinor(version string) [2]int {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return [2]int{}
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return [2]int{}
	}
	return [2]int{major, minor}
}

func less(a, b [2]int) bool { return a[0] < b[0] || (a[0] == b[0] && a[1] < b[1]) }

// newBrokerVirtualHostProblem refuses, before anything is created, a virtual host other than /
// on a broker the up creates (none of the name yet, or one it replaces): Amazon MQ creates a
// RabbitMQ broker with the virtual host / only, and the queue, its users' grants and the mapping
// all need the stack's virtual host to exist. A deployed broker's virtual hosts cannot be listed
// from outside its network; the provisioner checks them there (the users action).
func newBrokerVirtualHostProblem(d *DeployedBroker, vhost string, mode DeploymentMode, public bool) error {
	if vhost == "/" || d != nil && d.DeploymentMode == mode && d.PubliclyAccessible == public {
		return nil
	}
	return fmt.Errorf("%s:virtualHost = %q: the broker this up creates has only the virtual host / (Amazon MQ creates no other), "+
		"so the queue, its users and the mapping would have nowhere to go. Deploy with virtualHost /, create %q on the broker "+
		"(its console, or the management API), then set virtualHost %q and run up again", ProjectName, vhost, vhost, vhost)
}
