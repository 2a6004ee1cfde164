package rabbitops

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
)

// Topology is the queue the event source mapping consumes and its dead-lettering.
type Topology struct {
	// Queue is the main queue.
	Queue string
	// VHost is the virtual host of all three objects.
	VHost string
	// DeliveryLimit is how many times a message is delivered before it is dead-lettered.
	DeliveryLimit int
	// EngineVersion is the broker's RabbitMQ version, major.minor such as "3.13" or "4.2"
	// (the stack's engineVersion). The dead-letter queue's arguments depend on it: see
	// deadLetterQueueArguments. "" declares as for 3.x.
	EngineVersion string
}

// DeadLetterExchange receives the messages the main queue gives up on.
func (t Topology) DeadLetterExchange() string { return t.Queue + ".dlx" }

// DeadLetterQueue keeps them for inspection or replay.
func (t Topology) DeadLetterQueue() string { return t.Queue + ".dlq" }

// Validate checks the topology before anything is declared.
func (t Topology) Validate() error {
	var problems []string
	if p := contract.QueueNameProblem(t.Queue); p != "" {
		problems = append(problems, fmt.Sprintf("queue name %q %s", t.Queue, p))
	}
	if t.VHost == "" {
		problems = append(problems, "virtual host must not be empty")
	}
	if t.DeliveryLimit < 1 {
		problems = append(problems, fmt.Sprintf("delivery limit %d must be at least 1", t.DeliveryLimit))
	}
	if t.EngineVersion != "" {
		if _, _, err := ParseEngineVersion(t.EngineVersion); err != nil {
			problems = append(problems, "engine version "+err.Error())
		}
	}
	if len(problems) > 0 {
		return errors.New("invalid queue topology: " + strings.Join(problems, "; "))
	}
	return nil
}

// queueArguments of the main queue. A quorum queue counts deliveries itself, which is what
// lets a poison message leave the queue: with one poller per mapping, a message that fails
// every batch would otherwise block the queue forever. RabbitMQ's x-delivery-limit is the
// number of returns it tolerates, so a limit of N deliveries is N-1 returns.
func (t Topology) queueArguments() amqp.Table {
	return amqp.Table{
		"x-queue-type":              "quorum",
		"x-delivery-limit":          int64(t.DeliveryLimit - 1),
		"x-dead-letter-exchange":    t.DeadLetterExchange(),
		"x-dead-letter-routing-key": t.DeadLetterQueue(),
	}
}

// ParseEngineVersion reads a RabbitMQ version, major.minor with an optional patch ("3.13",
// "4.2", "3.13.7").
func ParseEngineVersion(v string) (major, minor int, err error) {
	m := engineVersionRE.FindStringSubmatch(v)
	if m == nil {
		return 0, 0, fmt.Errorf("%q: want a RabbitMQ version major.minor, such as 3.13 or 4.2", v)
	}
	major, _ = strconv.Atoi(m[1])
	minor, _ = strconv.Atoi(m[2])
	return major, minor, nil
}

var (
	engineVersionRE = regexp.MustCompile(`^(\d{1,4})\.(\d{1,4})(?:\.\d{1,4})?$`)
	// reportedVersionRE reads the version a broker reports in its connection properties,
	// which may carry a suffix after the patch ("4.2.1+…").
	reportedVersionRE = regexp.MustCompile(`^(\d{1,4})\.(\d{1,4})`)
)

// reportedMajor is the major version the broker reports when it opens the connection.
func reportedMajor(conn *amqp.Connection) (version string, major int, ok bool) {
	version, _ = conn.Properties["version"].(string)
	m := reportedVersionRE.FindStringSubmatch(version)
	if m == nil {
		return version, 0, false
	}
	major, _ = strconv.Atoi(m[1])
	return version, major, true
}

// engineMajor is the major version the topology is declared for; 3 when none is set.
func (t Topology) engineMajor() int {
	if major, _, err := ParseEngineVersion(t.EngineVersion); err == nil {
		return major
	}
	return 3
}

// unlimitedDeliveries is the x-delivery-limit that turns RabbitMQ 4's default limit off. On
// 3.x a negative limit is not "unlimited": the queue dead-letters (or, without a dead-letter
// exchange, drops) a message at its first return. Never declare it there.
const unlimitedDeliveries = -1

// deadLetterQueueArguments of the dead-letter queue, which has no dead-letter exchange of its
// own: a message it gives up on is gone. RabbitMQ 3.x has no default delivery limit, so the
// queue declares none. RabbitMQ 4.0+ gives every quorum queue a default limit of 20 returns
// (every nack or reject with requeue, every closed channel holding the message — a redrive's
// dry run or failed move returns messages), so on 4.x the queue turns it off explicitly.
// (Unit-tested only for 4.x: the broker the tests run on here is 3.10.)
func (t Topology) deadLetterQueueArguments() amqp.Table {
	args := amqp.Table{"x-queue-type": "quorum"}
	if t.engineMajor() >= 4 {
		args["x-delivery-limit"] = int64(unlimitedDeliveries)
	}
	return args
}

// ErrQueueConflict means the main queue exists with other arguments; nothing was changed.
var ErrQueueConflict = errors.New("the queue exists with different arguments")

// Declare is strict: any conflict, the dead-letter queue's included, is an error. The
// provisioner uses DeclareOn, which keeps an existing dead-letter queue with a warning.
//
// Declare creates the dead-letter exchange and queue and the main quorum queue, or checks that
// they are already there as wanted: declaring is idempotent. A main queue that exists with
// other arguments is left untouched and reported with RabbitMQ's description of the
// difference (RabbitMQ closes the channel on such a conflict; ch is unusable afterwards).
func Declare(ch *amqp.Channel, t Topology) error {
	if err := t.Validate(); err != nil {
		return err
	}
	return declare(ch, t, func() error {
		if _, err := ch.QueueDeclare(t.DeadLetterQueue(), true, false, false, false, t.deadLetterQueueArguments()); err != nil {
			return describe(err, "declaring the dead-letter queue "+t.DeadLetterQueue(), t)
		}
		return nil
	})
}

// declare runs the steps Declare and DeclareOn share, in order, with deadLetterQueue as the
// step that differs between them.
func declare(ch *amqp.Channel, t Topology, deadLetterQueue func() error) error {
	if err := ch.ExchangeDeclare(t.DeadLetterExchange(), amqp.ExchangeDirect, true, false, false, false, nil); err != nil {
		return describe(err, "declaring the dead-letter exchange "+t.DeadLetterExchange(), t)
	}
	if err := deadLetterQueue(); err != nil {
		return err
	}
	if err := ch.QueueBind(t.DeadLetterQueue(), t.DeadLetterQueue(), t.DeadLetterExchange(), false, nil); err != nil {
		return describe(err, "binding the dead-letter queue", t)
	}
	if _, err := ch.QueueDeclare(t.Queue, true, false, false, false, t.queueArguments()); err != nil {
		return describe(err, "declaring the queue "+t.Queue, t)
	}
	return nil
}

// DeclareOn declares the topology as Declare does, each step on a channel of conn, except that
// a dead-letter queue that exists with other arguments is kept: a stack deployed before the
// queue's arguments depended on the engine version, or a broker upgraded in place from 3.13 to
// 4.x, has one, and failing the deployment for it would help nobody. The queue is checked to
// exist and the declaration goes on; warnings says what is at risk and how to fix it. A main
// queue that exists with other arguments is an error, as in Declare.
//
// The dead-letter queue is declared for the version the broker reports when it reports one
// (a major upgrade may wait for the maintenance window; a negative limit on 3.x drops a
// message at its first return), else for t.EngineVersion; a difference is a warning.
func DeclareOn(conn *amqp.Connection, t Topology) (warnings []string, err error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if reported, major, ok := reportedMajor(conn); ok && major != t.engineMajor() {
		configured := t.EngineVersion
		if configured == "" {
			configured = "unset"
		}
		warnings = append(warnings, fmt.Sprintf("the broker reports RabbitMQ %s but the engine version is %s: the dead-letter queue %s "+
			"is declared for the broker's version (on RabbitMQ 4 with x-delivery-limit -1, on 3.x without). If an engine upgrade is "+
			"still pending, declare again once the broker runs it: %s", reported, configured, t.DeadLetterQueue(), redeclareHint))
		t.EngineVersion = fmt.Sprintf("%d.0", major)
	}
	ch, err := conn.Channel()
	if err != nil {
		return warnings, err
	}
	defer ch.Close()
	err = declare(ch, t, func() error {
		warning, err := declareDeadLetterQueue(conn, t)
		if warning != "" {
			warnings = append(warnings, warning)
		}
		return err
	})
	return warnings, err
}

// declareDeadLetterQueue declares the dead-letter queue on a channel of its own, which a
// conflict closes; on a conflict it checks passively, on another channel, that the queue is
// there and returns the warning.
func declareDeadLetterQueue(conn *amqp.Connection, t Topology) (warning string, err error) {
	doing := "declaring the dead-letter queue " + t.DeadLetterQueue()
	throwaway, err := conn.Channel()
	if err != nil {
		return "", err
	}
	_, declareErr := throwaway.QueueDeclare(t.DeadLetterQueue(), true, false, false, false, t.deadLetterQueueArguments())
	_ = throwaway.Close() // already closed by the broker after a conflict
	var amqpErr *amqp.Error
	if declareErr == nil {
		return "", nil
	}
	if !errors.As(declareErr, &amqpErr) || amqpErr.Code != amqp.PreconditionFailed {
		return "", describe(declareErr, doing, t)
	}
	check, err := conn.Channel()
	if err != nil {
		return "", err
	}
	defer check.Close()
	if _, err := check.QueueDeclarePassive(t.DeadLetterQueue(), true, false, false, false, nil); err != nil {
		return "", fmt.Errorf("%s on vhost %q: it exists with other arguments (%s), then checking it failed: %w", doing, t.VHost, amqpErr.Reason, err)
	}
	risk := "if it carries a delivery limit, RabbitMQ drops a dead letter once it has been returned that many times"
	if t.engineMajor() >= 4 {
		risk = "on RabbitMQ 4, a quorum queue has a delivery limit unless its x-delivery-limit is -1 (20 when the argument is absent): messages in " +
			t.DeadLetterQueue() + " are DROPPED once returned that many times (after 20 returns by default; a redrive's dry run or failed move returns them)"
	}
	return fmt.Sprintf("the dead-letter queue %s on vhost %q exists with other arguments than the provisioner declares (%s) and was kept as it is; "+
		"%s. To fix it, with the event source mapping disabled (until the queue is declared again, dead letters have nowhere to go): "+
		"drain it with the redrive (make redrive), delete it, and declare again: %s",
		t.DeadLetterQueue(), t.VHost, amqpErr.Reason, risk, redeclareHint), nil
}

// redeclareHint says how to run the declaration again: the deploy-time invocation reruns only
// when its triggers change (infra/provisioner.go), so invoking the provisioner is the direct way.
const redeclareHint = "invoke the provisioner with {\"action\":\"declare\"} (aws lambda invoke --function-name " +
	"\"$(pulumi stack output provisionerFunctionName)\" --cli-binary-format raw-in-base64-out --payload '{\"action\":\"declare\"}' out.json), " +
	"or run `pulumi up` with a change that reruns the declaration (the provisioner's code, the broker, its engine version or the queue's settings)"

func describe(err error, doing string, t Topology) error {
	var amqpErr *amqp.Error
	if errors.As(err, &amqpErr) && amqpErr.Code == amqp.PreconditionFailed {
		return fmt.Errorf("%w: %s on vhost %q: %s. Nothing was deleted or changed: delete the queue (losing its messages) "+
			"or set a different queueName", ErrQueueConflict, doing, t.VHost, amqpErr.Reason)
	}
	return fmt.Errorf("%s on vhost %q: %w", doing, t.VHost, err)
}
