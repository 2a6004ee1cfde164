package rabbitops

import (
	"errors"
	"fmt"
	"strings"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Topology is the queue the event source mapping consumes and its dead-lettering.
type Topology struct {
	// Queue is the main queue.
	Queue string
	// VHost is the virtual host of all three objects.
	VHost string
	// DeliveryLimit is how many times a message is delivered before it is dead-lettered.
	DeliveryLimit int
}

// DeadLetterExchange receives the messages the main queue gives up on.
func (t Topology) DeadLetterExchange() string { return t.Queue + ".dlx" }

// DeadLetterQueue keeps them for inspection or replay.
func (t Topology) DeadLetterQueue() string { return t.Queue + ".dlq" }

// MaxQueueName is the longest queue name the topology takes: RabbitMQ's limit of 255 bytes,
// less the suffix of the dead-letter exchange and queue named after it.
const MaxQueueName = 255 - len(".dlx")

// QueueNameProblem says what is wrong with a queue name, or "". The Pulumi program checks it
// before it creates anything and the provisioner before it declares anything: one rule.
func QueueNameProblem(name string) string {
	switch {
	case name == "" || len(name) > MaxQueueName:
		return fmt.Sprintf("must be 1-%d bytes (RabbitMQ allows 255, and the dead-letter exchange and queue add .dlx and .dlq)", MaxQueueName)
	case strings.HasPrefix(name, "amq."):
		return "must not start with amq. (RabbitMQ reserves that prefix)"
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "must not contain control characters"
	}
	return ""
}

// Validate checks the topology before anything is declared.
func (t Topology) Validate() error {
	var problems []string
	if p := QueueNameProblem(t.Queue); p != "" {
		problems = append(problems, fmt.Sprintf("queue name %q %s", t.Queue, p))
	}
	if t.VHost == "" {
		problems = append(problems, "virtual host must not be empty")
	}
	if t.DeliveryLimit < 1 {
		problems = append(problems, fmt.Sprintf("delivery limit %d must be at least 1", t.DeliveryLimit))
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

// ErrQueueConflict means the main queue exists with other arguments; nothing was changed.
var ErrQueueConflict = errors.New("the queue exists with different arguments")

// Declare creates the dead-letter exchange and queue and the main quorum queue, or checks that
// they are already there as wanted: declaring is idempotent. A main queue that exists with
// other arguments is left untouched and reported with RabbitMQ's description of the
// difference (RabbitMQ closes the channel on such a conflict; ch is unusable afterwards).
func Declare(ch *amqp.Channel, t Topology) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if err := ch.ExchangeDeclare(t.DeadLetterExchange(), amqp.ExchangeDirect, true, false, false, false, nil); err != nil {
		return describe(err, "declaring the dead-letter exchange "+t.DeadLetterExchange(), t)
	}
	if _, err := ch.QueueDeclare(t.DeadLetterQueue(), true, false, false, false, amqp.Table{"x-queue-type": "quorum"}); err != nil {
		return describe(err, "declaring the dead-letter queue "+t.DeadLetterQueue(), t)
	}
	if err := ch.QueueBind(t.DeadLetterQueue(), t.DeadLetterQueue(), t.DeadLetterExchange(), false, nil); err != nil {
		return describe(err, "binding the dead-letter queue", t)
	}
	if _, err := ch.QueueDeclare(t.Queue, true, false, false, false, t.queueArguments()); err != nil {
		return describe(err, "declaring the queue "+t.Queue, t)
	}
	return nil
}

func describe(err error, doing string, t Topology) error {
	var amqpErr *amqp.Error
	if errors.As(err, &amqpErr) && amqpErr.Code == amqp.PreconditionFailed {
		return fmt.Errorf("%w: %s on vhost %q: %s. Nothing was deleted or changed: delete the queue (losing its messages) "+
			"or set a different queueName", ErrQueueConflict, doing, t.VHost, amqpErr.Reason)
	}
	return fmt.Errorf("%s on vhost %q: %w", doing, t.VHost, err)
}
