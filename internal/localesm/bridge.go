package localesm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
	amqp "github.com/rabbitmq/amqp091-go"
)

// MaxPayloadBytes is Lambda's synchronous invocation payload limit, which bounds a batch.
const MaxPayloadBytes = 6 * 1024 * 1024

// Handler is a listener: the same signature the Lambda handler has.
type Handler func(ctx context.Context, ev events.RabbitMQEvent) error

// Config is one mapping.
type Config struct {
	Queue, VHost string
	// BatchSize is the most messages per invocation, 1-10000 (the mapping's limit).
	BatchSize int
	// BatchingWindow is the longest a batch waits to fill after its first message, 0-300 s.
	BatchingWindow time.Duration
	// EventSourceARN goes into every event. Default: a local placeholder.
	EventSourceARN string
	// Logf reports each batch, and each lost connection or failed attempt to connect. Default:
	// silent.
	Logf func(format string, args ...any)
}

func (c *Config) validate() error {
	switch {
	case c.Queue == "" || c.VHost == "":
		return errors.New("queue and vhost are required")
	case c.BatchSize < 1 || c.BatchSize > 10000:
		return fmt.Errorf("batch size %d: must be 1-10000", c.BatchSize)
	case c.BatchingWindow < 0 || c.BatchingWindow > 300*time.Second:
		return fmt.Errorf("batching window %s: must be 0-300s", c.BatchingWindow)
	}
	if c.EventSourceARN == "" {
		c.EventSourceARN = "arn:aws:mq:local:000000000000:broker:local:b-local"
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	return nil
}

// Run consumes cfg.Queue on ch until ctx ends, invoking handler once per batch. Like the
// mapping, it is one poller: batches are handled one at a time, in order. It returns nil when ctx
// ends, and an error that says why when it loses ch — the broker closed it or its connection, or
// cancelled the consumer. Serve connects again on such an error.
func Run(ctx context.Context, ch *amqp.Channel, cfg Config, handler Handler) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	// Registered before the first call that can fail, so that the broker's reason for closing
	// the channel is never missed.
	closed := ch.NotifyClose(make(chan *amqp.Error, 1))
	// The prefetch bounds unacknowledged messages to one batch, as the mapping does.
	if err := ch.Qos(cfg.BatchSize, 0, false); err != nil {
		return fmt.Errorf("setting the prefetch: %w", err)
	}
	// The consumer is cancelled here, synchronously, when Run ends: amqp091's
	// ConsumeWithContext cancels from a goroutine of its own, which can race a Close of the
	// channel by the caller and leave that Close waiting forever.
	const tag = "rabbitmq-esm-localesm"
	deliveries, err := ch.Consume(cfg.Queue, tag, false, false, false, false, nil)
	if err != nil {
		return fmt.Errorf("consuming %s on vhost %s: %w", cfg.Queue, cfg.VHost, err)
	}
	cfg.Logf("consuming %s on vhost %s", cfg.Queue, cfg.VHost)
	b := batcher{cfg: cfg, deliveries: deliveries}
	for {
		batch, err := b.next(ctx)
		switch {
		case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
			// Unacknowledged deliveries go back to the queue with the consumer.
			_ = ch.Cancel(tag, false)
			return nil
		case errors.Is(err, errDeliveriesClosed):
			if !ch.IsClosed() {
				// The queue was deleted, say: the channel is open, but nothing comes.
				return fmt.Errorf("%w: the broker cancelled it", errLost)
			}
			return lostChannel(closed, err)
		case err != nil:
			return err
		}
		// The channel can close after the batch's last delivery arrived. The broker has then
		// taken the batch back and will deliver it again: handing it over now would only
		// process it twice.
		if ch.IsClosed() {
			return fmt.Errorf("discarding a gathered batch of %d: %w", len(batch), lostChannel(closed, amqp.ErrClosed))
		}
		if err := deliver(ctx, cfg, handler, batch); err != nil {
			// A settlement fails only when the connection does, and then the broker takes the
			// batch back: why the channel closed is the news, not the failed write.
			return fmt.Errorf("settling a batch of %d, which the broker will deliver again: %w", len(batch), lostChannel(closed, err))
		}
	}
}

// errLost means Run lost its channel or its consumer; the broker takes back every
// unacknowledged delivery when the channel closes.
var errLost = errors.New("lost the consumer")

// closeWait bounds the wait for amqp091 to report why a channel closed.
const closeWait = 5 * time.Second

// lostChannel says why the channel closed or is closing: the broker's reason, when it closed the
// channel or the connection, which amqp091 sends on closed before it closes closed; or fallback
// when the closing takes longer than closeWait.
func lostChannel(closed <-chan *amqp.Error, fallback error) error {
	select {
	case reason, ok := <-closed:
		if ok {
			return fmt.Errorf("%w: the channel closed: %w", errLost, reason)
		}
		return fmt.Errorf("%w: the channel closed", errLost)
	case <-time.After(closeWait):
		return fmt.Errorf("%w: %w", errLost, fallback)
	}
}

// deliver invokes the handler with one batch and settles it: all acked, or all returned to
// the queue (where the quorum queue counts the delivery) — never a partial batch.
func deliver(ctx context.Context, cfg Config, handler Handler, batch []amqp.Delivery) error {
	list := make([]events.RabbitMQMessage, len(batch))
	for i := range batch {
		list[i] = Message(&batch[i])
	}
	ev := events.RabbitMQEvent{
		EventSource:     "aws:rmq",
		EventSourceARN:  cfg.EventSourceARN,
		MessagesByQueue: map[string][]events.RabbitMQMessage{QueueKey(cfg.Queue, cfg.VHost): list},
	}
	// The handler gets the event as a function does: decoded from the JSON the mapping sends,
	// so header numbers are float64 and byte arrays lists of numbers, exactly as in AWS.
	delivered, err := asSent(ev)
	if err != nil {
		return err
	}
	last := batch[len(batch)-1]
	if herr := handler(ctx, delivered); herr != nil {
		cfg.Logf("batch of %d failed, returned to the queue: %v", len(batch), herr)
		if err := last.Nack(true, true); err != nil {
			return fmt.Errorf("returning a failed batch: %w", err)
		}
		return nil
	}
	cfg.Logf("batch of %d processed", len(batch))
	if err := last.Ack(true); err != nil {
		return fmt.Errorf("acknowledging a batch: %w", err)
	}
	return nil
}

func asSent(ev events.RabbitMQEvent) (events.RabbitMQEvent, error) {
	raw, err := json.Marshal(ev)
	if err != nil {
		return events.RabbitMQEvent{}, fmt.Errorf("encoding the event: %w", err)
	}
	var out events.RabbitMQEvent
	if err := json.Unmarshal(raw, &out); err != nil {
		return events.RabbitMQEvent{}, fmt.Errorf("decoding the event: %w", err)
	}
	return out, nil
}

// batcher gathers deliveries into batches.
type batcher struct {
	cfg        Config
	deliveries <-chan amqp.Delivery
	// carry is a delivery that did not fit the previous batch's payload.
	carry *amqp.Delivery
}

// errDeliveriesClosed means the consumer's deliveries stopped: its channel closed, or the
// broker cancelled it.
var errDeliveriesClosed = errors.New("the consumer's deliveries stopped")

// next returns the next batch: it waits for a first message, then fills the batch until it is
// full, its payload would pass 6 MB, or the window since the first message has passed. When the
// deliveries stop, it drops the batch it was gathering: the broker takes those messages back
// when their channel closes, and delivers them again.
func (b *batcher) next(ctx context.Context) ([]amqp.Delivery, error) {
	var batch []amqp.Delivery
	size := 0
	add := func(d amqp.Delivery) bool {
		n := payloadSize(d)
		if len(batch) > 0 && size+n > MaxPayloadBytes {
			b.carry = &d
			return false
		}
		batch, size = append(batch, d), size+n
		return len(batch) < b.cfg.BatchSize
	}
	if b.carry != nil {
		d := *b.carry
		b.carry = nil
		if !add(d) {
			return batch, nil
		}
	} else {
		select {
		case d, ok := <-b.deliveries:
			if !ok {
				return nil, errDeliveriesClosed
			}
			if !add(d) {
				return batch, nil
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	window := time.NewTimer(b.cfg.BatchingWindow)
	defer window.Stop()
	for {
		select {
		case d, ok := <-b.deliveries:
			if !ok {
				return nil, errDeliveriesClosed
			}
			if !add(d) {
				return batch, nil
			}
		case <-window.C:
			return batch, nil
		case <-ctx.Done():
			// Unhandled deliveries return to the queue when the channel closes.
			return nil, ctx.Err()
		}
	}
}

// payloadSize estimates a message's share of the invocation payload: base64 grows the body
// by a third, and the properties add a few hundred bytes.
func payloadSize(d amqp.Delivery) int {
	return (len(d.Body)+2)/3*4 + 512
}
