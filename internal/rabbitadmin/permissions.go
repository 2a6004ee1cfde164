package rabbitadmin

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
)

// Permissions are a user's three regular expressions in one virtual host. RabbitMQ matches each
// against the name of the queue or exchange an operation touches (the default exchange is
// named "amq.default" for the check), unanchored: an expression must carry its own ^ and $.
// "" is RabbitMQ's synonym of "^$" and grants nothing.
type Permissions struct {
	Configure string `json:"configure"`
	Write     string `json:"write"`
	Read      string `json:"read"`
}

func (p Permissions) String() string {
	return fmt.Sprintf("configure %q write %q read %q", p.Configure, p.Write, p.Read)
}

// Nothing is the permission that matches no name. It still gives a user access to the
// virtual host: a connection to it opens, and every operation on a queue or exchange is
// refused.
const Nothing = ""

// Exact is the permission expression that matches name and nothing else: anchored, with every
// regular-expression character escaped. Queue names may hold dots, + and *.
func Exact(name string) string { return "^" + regexp.QuoteMeta(name) + "$" }

// Role is what a user of the stack does on the broker.
type Role string

const (
	// RoleMappingConsumer is the event source mapping's user (and the local bridge's, which
	// plays the mapping): it consumes the stack's queue and acknowledges or rejects what it
	// got. Consuming needs read on the queue; the passive queue.declare, basic.qos and
	// basic.ack/nack/reject a consumer sends need no permission.
	RoleMappingConsumer Role = "mapping-consumer"
	// RoleDeadLetterPublisher is the listener's user for dead-lettering: it publishes to the
	// dead-letter exchange. Publishing needs write on the exchange and nothing on the queue it
	// routes to; publisher confirms and mandatory returns need no permission.
	RoleDeadLetterPublisher Role = "dead-letter-publisher"
	// RoleMonitor reads the queue and dead-letter queue's figures from the management API: the
	// monitoring tag, and a permission entry in the virtual host that grants nothing (without
	// one the API refuses the virtual host's queues; with it, an AMQP connection opens and can
	// do nothing).
	RoleMonitor Role = "monitor"
)

// Roles lists the roles PermissionsFor knows.
var Roles = []Role{RoleMappingConsumer, RoleDeadLetterPublisher, RoleMonitor}

// Objects are the broker objects of one stack that its users are granted.
type Objects struct {
	// Queue is the queue the mapping consumes.
	Queue string
	// DeadLetterExchange is where the listener dead-letters (the queue's x-dead-letter-exchange).
	DeadLetterExchange string
}

// Grant is what a role gets: its management tags and its permissions in the stack's virtual
// host.
type Grant struct {
	Tags        []string
	Permissions Permissions
}

// PermissionsFor is the grant of role on o's objects. It is the one place the rule lives;
// docs/broker-users.md gives the reasons.
func PermissionsFor(role Role, o Objects) (Grant, error) {
	var problems []string
	queue := func() {
		if p := contract.QueueNameProblem(o.Queue); p != "" {
			problems = append(problems, fmt.Sprintf("queue name %q %s", o.Queue, p))
		}
	}
	var g Grant
	switch role {
	case RoleMappingConsumer:
		queue()
		g.Permissions = Permissions{Configure: Nothing, Write: Nothing, Read: Exact(o.Queue)}
	case RoleDeadLetterPublisher:
		if o.DeadLetterExchange == "" || strings.HasPrefix(o.DeadLetterExchange, "amq.") {
			problems = append(problems, fmt.Sprintf("dead-letter exchange %q must be a name of the stack's own, not empty nor amq.*", o.DeadLetterExchange))
		}
		g.Permissions = Permissions{Configure: Nothing, Write: Exact(o.DeadLetterExchange), Read: Nothing}
	case RoleMonitor:
		g = Grant{Tags: []string{"monitoring"}, Permissions: Permissions{Configure: Nothing, Write: Nothing, Read: Nothing}}
	default:
		return Grant{}, fmt.Errorf("broker user role %q: want one of %v", role, Roles)
	}
	if len(problems) > 0 {
		return Grant{}, errors.New("broker user role " + string(role) + ": " + strings.Join(problems, "; "))
	}
	return g, nil
}
