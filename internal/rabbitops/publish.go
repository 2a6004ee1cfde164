package rabbitops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Published is one message Publish sent and the broker confirmed.
type Published struct {
	MessageID   string    `json:"messageId"`
	PublishedAt time.Time `json:"publishedAt"`
}

// PublishedBody is the JSON body of a message Publish sends.
type PublishedBody struct {
	RunID       string    `json:"runId"`
	Seq         int       `json:"seq"`
	PublishedAt time.Time `json:"publishedAt"`
}

// MessageID is the id Publish gives message seq of a run.
func MessageID(runID string, seq int) string { return fmt.Sprintf("%s-%06d", runID, seq) }

// Publish sends count persistent JSON messages to t's queue through the default exchange and
// waits until the broker has confirmed every one: a confirmed message is on disk (quorum
// queues: on a majority of nodes). Messages are mandatory, so a missing queue is an error
// rather than a silent drop.
func Publish(ctx context.Context, ch *amqp.Channel, t Topology, runID string, count int) ([]Published, error) {
	if count < 1 {
		return nil, fmt.Errorf("publish count %d must be at least 1", count)
	}
	if err := ch.Confirm(false); err != nil {
		return nil, fmt.Errorf("turning on publisher confirms: %w", err)
	}
	returns := ch.NotifyReturn(make(chan amqp.Return, count))
	confirms := make([]*amqp.DeferredConfirmation, 0, count)
	out := make([]Published, 0, count)
	for seq := range count {
		now := time.Now().UTC()
		body, err := json.Marshal(PublishedBody{RunID: runID, Seq: seq, PublishedAt: now})
		if err != nil {
			return nil, err
		}
		id := MessageID(runID, seq)
		dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", t.Queue, true, false, amqp.Publishing{
			ContentType:  "application/json",
			DeliveryMode: amqp.Persistent,
			MessageId:    id,
			Timestamp:    now,
			Body:         body,
		})
		if err != nil {
			return nil, fmt.Errorf("publishing message %s: %w", id, err)
		}
		confirms = append(confirms, dc)
		out = append(out, Published{MessageID: id, PublishedAt: now})
	}
	for i, dc := range confirms {
		acked, err := dc.WaitContext(ctx)
		if err != nil {
			return nil, fmt.Errorf("waiting for the confirm of %s: %w", out[i].MessageID, err)
		}
		if !acked {
			return nil, fmt.Errorf("the broker refused (nacked) message %s", out[i].MessageID)
		}
	}
	select {
	case r := <-returns:
		return nil, fmt.Errorf("%w: message %s to queue %q on vhost %q came back: %s", ErrUnroutable, r.MessageId, t.Queue, t.VHost, r.ReplyText)
	default:
	}
	return out, nil
}

// ErrUnroutable means a message reached no queue (the queue does not exist).
var ErrUnroutable = errors.New("message unroutable")
