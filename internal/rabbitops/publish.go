package rabbitops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
)

// PublishedBody is the JSON body of a message Publish sends.
type PublishedBody struct {
	RunID       string    `json:"runId"`
	Seq         int       `json:"seq"`
	PublishedAt time.Time `json:"publishedAt"`
}

// MessageID is the id Publish gives message seq of a run.
func MessageID(runID string, seq int) string { return fmt.Sprintf("%s-%06d", runID, seq) }

// Publish sends count persistent JSON messages to t's queue through the default exchange and
// waits until the broker has confirmed every one (see PublishConfirmed).
func Publish(ctx context.Context, ch *amqp.Channel, t Topology, runID string, count int) ([]contract.PublishedMessage, error) {
	if count < 1 {
		return nil, fmt.Errorf("publish count %d must be at least 1", count)
	}
	msgs := make([]amqp.Publishing, 0, count)
	out := make([]contract.PublishedMessage, 0, count)
	for seq := range count {
		now := time.Now().UTC()
		body, err := json.Marshal(PublishedBody{RunID: runID, Seq: seq, PublishedAt: now})
		if err != nil {
			return nil, err
		}
		id := MessageID(runID, seq)
		msgs = append(msgs, amqp.Publishing{
			ContentType:  "application/json",
			DeliveryMode: amqp.Persistent,
			MessageId:    id,
			Timestamp:    now,
			Body:         body,
		})
		out = append(out, contract.PublishedMessage{MessageID: id, PublishedAt: now})
	}
	if err := PublishConfirmed(ctx, ch, "", t.Queue, msgs); err != nil {
		return nil, fmt.Errorf("%w (queue %q on vhost %q)", err, t.Queue, t.VHost)
	}
	return out, nil
}

// PublishConfirmed publishes msgs to exchange with routing key and waits until the broker has
// confirmed every one: a confirmed message is on disk (quorum queues: on a majority of nodes).
// Messages are mandatory, so one that reaches no queue is an error rather than a silent drop.
// It puts ch in confirm mode and listens for returns, so give it a channel of its own.
func PublishConfirmed(ctx context.Context, ch *amqp.Channel, exchange, key string, msgs []amqp.Publishing) error {
	if err := ch.Confirm(false); err != nil {
		return fmt.Errorf("turning on publisher confirms: %w", err)
	}
	// Room for every message, so the connection never blocks handing a return over.
	returns := ch.NotifyReturn(make(chan amqp.Return, len(msgs)))
	confirms := make([]*amqp.DeferredConfirmation, 0, len(msgs))
	for i := range msgs {
		dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, exchange, key, true, false, msgs[i])
		if err != nil {
			return fmt.Errorf("publishing message %s: %w", msgs[i].MessageId, err)
		}
		confirms = append(confirms, dc)
	}
	for i, dc := range confirms {
		acked, err := dc.WaitContext(ctx)
		if err != nil {
			return fmt.Errorf("waiting for the confirm of %s: %w", msgs[i].MessageId, err)
		}
		if !acked {
			return fmt.Errorf("the broker refused (nacked) message %s", msgs[i].MessageId)
		}
	}
	// A return arrives before its message's confirm, so every return is here by now.
	select {
	case r := <-returns:
		return fmt.Errorf("%w: message %s to exchange %q with key %q came back: %s", ErrUnroutable, r.MessageId, exchange, key, r.ReplyText)
	default:
	}
	return nil
}

// ErrUnroutable means a message reached no queue (the queue does not exist).
var ErrUnroutable = errors.New("message unroutable")
