// Package deadletter stores the messages the listener gives up on in the queue's own
// dead-letter exchange on the broker — where RabbitMQ's delivery limit puts the rest — so that
// every failed message is in one place, the dead-letter queue, from which a redrive moves it
// back once its cause is fixed.
//
// Reaching the broker is why the listener runs where the mapping's interfaces are, in the
// broker's subnets with its security group, for a private broker.
package deadletter

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rabbitops"
	"github.com/rabbitmq-esm/rabbitmq-esm/listener/handler"
)

// maxErrorHeader bounds the error kept with a dead letter: a panic's stack can run to many
// kilobytes, and the whole header table must fit the broker's frame.
const maxErrorHeader = 4096

// Broker publishes dead letters to <queue>.dlx with routing key <queue>.dlq, with publisher
// confirms. It connects on first use, with the credentials the mapping uses, and keeps the
// connection for later batches of a warm function.
type Broker struct {
	// Endpoint is the broker's amqps://host:5671. Required.
	Endpoint string
	// VHost is the virtual host the mapping consumes; dead letters of another are refused.
	// Required.
	VHost string
	// SecretArn names the dead-letter user's secret (DEAD_LETTER_SECRET_ARN). Required.
	SecretArn string
	// Secrets reads it. Required.
	Secrets rabbitops.SecretReader
	// CAFile verifies the broker's certificate; "" uses the system roots (Amazon MQ).
	CAFile string

	mu   sync.Mutex
	conn *amqp.Connection
}

// Validate names every required setting that is missing, by its environment variable.
func (b *Broker) Validate() error {
	var missing []string
	for name, value := range map[string]string{
		contract.EnvBrokerEndpoint: b.Endpoint, contract.EnvBrokerVHost: b.VHost, contract.EnvDeadLetterSecretArn: b.SecretArn,
	} {
		if value == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("dead-letter store: %s not set (the listener dead-letters on the broker it reads from)", strings.Join(missing, ", "))
	}
	return nil
}

// DeadLetter stores letters, or returns an error and the listener fails their batch.
func (b *Broker) DeadLetter(ctx context.Context, letters []handler.DeadLetter) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	byQueue := map[string][]amqp.Publishing{}
	var queues []string
	for _, l := range letters {
		if l.Message.VHost != b.VHost {
			return fmt.Errorf("dead letter %s is from vhost %q; the listener connects to %q only", l.Message.ID, l.Message.VHost, b.VHost)
		}
		if _, seen := byQueue[l.Message.Queue]; !seen {
			queues = append(queues, l.Message.Queue)
		}
		byQueue[l.Message.Queue] = append(byQueue[l.Message.Queue], Publishing(l))
	}
	conn, err := b.connection(ctx)
	if err != nil {
		return err
	}
	for _, q := range queues {
		if err := b.publish(ctx, conn, rabbitops.Topology{Queue: q, VHost: b.VHost}, byQueue[q]); err != nil {
			return err
		}
	}
	return nil
}

func (b *Broker) publish(ctx context.Context, conn *amqp.Connection, t rabbitops.Topology, msgs []amqp.Publishing) error {
	ch, err := conn.Channel()
	if err != nil {
		b.drop()
		return fmt.Errorf("opening a channel to dead-letter %d messages of %s: %w", len(msgs), t.Queue, err)
	}
	defer ch.Close()
	if err := rabbitops.PublishConfirmed(ctx, ch, t.DeadLetterExchange(), t.DeadLetterQueue(), msgs); err != nil {
		if conn.IsClosed() {
			b.drop()
		}
		return fmt.Errorf("dead-lettering %d messages of %s to %s: %w", len(msgs), t.Queue, t.DeadLetterExchange(), err)
	}
	return nil
}

// connection returns the open connection, or dials with freshly read credentials (they may
// have been rotated since the last one).
func (b *Broker) connection(ctx context.Context) (*amqp.Connection, error) {
	if b.conn != nil && !b.conn.IsClosed() {
		return b.conn, nil
	}
	creds, err := rabbitops.ReadCredentials(ctx, b.Secrets, b.SecretArn)
	if err != nil {
		return nil, err
	}
	conn, err := rabbitops.Dial(ctx, b.Endpoint, creds, b.VHost, b.CAFile)
	if err != nil {
		return nil, err
	}
	b.conn = conn
	return conn, nil
}

func (b *Broker) drop() {
	if b.conn != nil {
		_ = b.conn.Close()
		b.conn = nil
	}
}

// Close closes the connection, if any.
func (b *Broker) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conn == nil {
		return nil
	}
	err := b.conn.Close()
	b.conn = nil
	if errors.Is(err, amqp.ErrClosed) {
		return nil
	}
	return err
}

// Publishing is the dead letter as it goes to the broker: the message's body and properties
// as the listener received them, persistent, with the rabbitops.Header* headers added. Two
// properties are not kept: the expiration (a dead letter must not expire) and the user id
// (RabbitMQ refuses a user id other than the publishing connection's).
func Publishing(l handler.DeadLetter) amqp.Publishing {
	m := l.Message
	headers := amqp.Table{}
	for k, v := range m.Headers.Map() {
		headers[k] = tableValue(v)
	}
	reason := l.Err.Error()
	if len(reason) > maxErrorHeader {
		reason = reason[:maxErrorHeader] + "…"
	}
	headers[rabbitops.HeaderError] = reason
	headers[rabbitops.HeaderFailedAt] = l.FailedAt.UTC().Format(time.RFC3339Nano)
	headers[rabbitops.HeaderQueue] = m.Queue
	headers[rabbitops.HeaderVHost] = m.VHost
	return amqp.Publishing{
		Headers:         headers,
		ContentType:     m.ContentType,
		ContentEncoding: m.ContentEncoding,
		DeliveryMode:    amqp.Persistent,
		Priority:        m.Priority,
		CorrelationId:   m.CorrelationID,
		ReplyTo:         m.ReplyTo,
		MessageId:       m.MessageID,
		Timestamp:       m.Timestamp,
		Type:            m.Type,
		AppId:           m.AppID,
		Body:            m.Body,
	}
}

// tableValue turns a decoded header value into one AMQP accepts: nested tables become
// amqp.Table. Numbers stay float64: the event's JSON does not say whether they were integers.
func tableValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		t := amqp.Table{}
		for k, e := range v {
			t[k] = tableValue(e)
		}
		return t
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = tableValue(e)
		}
		return out
	}
	return v
}
