package rabbitops

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
)

// RedriveOptions bound a redrive.
type RedriveOptions struct {
	// Max caps how many messages move; 0 moves every message the dead-letter queue held when
	// the redrive started.
	Max int
	// DryRun lists what would move and moves nothing. It takes the listed messages and returns
	// them, which can put them at the back of the dead-letter queue.
	DryRun bool
	// ConfirmTimeout bounds the wait for one publisher confirm. Default 10 s.
	ConfirmTimeout time.Duration
}

// Redrive moves dead-lettered messages from t's dead-letter queue back to t's queue, one at a
// time: it takes a message with manual acknowledgement, publishes a copy to the queue through
// the default exchange (mandatory, persistent, publisher confirms) and acknowledges the dead
// letter only once the broker has confirmed the copy. So no message is ever lost: a refused,
// unroutable or unconfirmed copy leaves the dead letter where it was, and the run stops with
// the error. A message returned to a quorum queue can go to its back (it does on RabbitMQ
// 3.10), so a failed run can change the dead letters' order, never their number.
//
// It moves at most the number of messages the dead-letter queue held when it started: a
// message that fails again during the run comes back behind them and is not moved again.
//
// Cancelling ctx stops the run after the message in flight has been confirmed and
// acknowledged, so a stopped run and its rerun never move a message twice. Two things can:
// losing the connection (or the process) between a confirm and its acknowledgement, and a
// confirm that times out although the broker did store the copy. Either leaves one message in
// both queues, with the same message id, for an idempotent consumer to absorb.
//
// Redrive puts ch in confirm mode and listens for its returns: give it a channel of its own.
// A dead-letter queue that does not exist closes ch, as any failed passive declaration does.
func Redrive(ctx context.Context, ch *amqp.Channel, t Topology, opts RedriveOptions) (contract.RedriveResult, error) {
	res := contract.RedriveResult{Queue: t.Queue, DeadLetterQueue: t.DeadLetterQueue(), DryRun: opts.DryRun, Messages: []contract.RedrivenMessage{}}
	if p := contract.QueueNameProblem(t.Queue); p != "" {
		return res, fmt.Errorf("redrive: queue name %q %s", t.Queue, p)
	}
	if opts.Max < 0 {
		return res, fmt.Errorf("redrive: max %d must be 0 (every dead letter) or more", opts.Max)
	}
	if opts.ConfirmTimeout == 0 {
		opts.ConfirmTimeout = 10 * time.Second
	}
	dlq, err := ch.QueueDeclarePassive(t.DeadLetterQueue(), true, false, false, false, nil)
	if err != nil {
		return res, fmt.Errorf("redrive: the dead-letter queue %s on vhost %q: %w", t.DeadLetterQueue(), t.VHost, err)
	}
	res.Found = dlq.Messages
	res.Remaining = dlq.Messages
	if opts.Max > 0 {
		res.Remaining = min(res.Remaining, opts.Max)
	}
	if opts.DryRun {
		err := list(ctx, ch, &res)
		return res, err
	}
	if err := ch.Confirm(false); err != nil {
		return res, fmt.Errorf("redrive: turning on publisher confirms: %w", err)
	}
	returns := ch.NotifyReturn(make(chan amqp.Return, 1))
	for res.Remaining > 0 {
		if ctx.Err() != nil {
			res.Stopped = true
			return res, nil //nolint:nilerr // a stop is not an error: the message in flight was finished, the rest waits
		}
		d, ok, err := ch.Get(t.DeadLetterQueue(), false)
		if err != nil {
			return res, fmt.Errorf("redrive: taking a message from %s: %w", t.DeadLetterQueue(), err)
		}
		if !ok { // another consumer took the rest
			res.Remaining = 0
			return res, nil
		}
		// The in-flight message is finished even when ctx ends meanwhile: only its own
		// timeout may cut it short.
		moveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opts.ConfirmTimeout)
		msg, err := move(moveCtx, ch, returns, t, d)
		cancel()
		if err != nil {
			return res, err
		}
		res.Moved++
		res.Remaining--
		if len(res.Messages) < contract.RedriveListLimit {
			res.Messages = append(res.Messages, msg)
		}
	}
	return res, nil
}

// move publishes d's copy to t's queue and acknowledges d once the copy is confirmed, or
// returns d to the dead-letter queue. basic.nack rather than basic.reject: from RabbitMQ 4.3
// a rejected message counts a failed delivery against the quorum queue's delivery limit, and
// a message that could not be moved has not failed.
func move(ctx context.Context, ch *amqp.Channel, returns <-chan amqp.Return, t Topology, d amqp.Delivery) (contract.RedrivenMessage, error) {
	msg := describeDeadLetter(d)
	msg.RedriveCount++
	giveBack := func(err error) (contract.RedrivenMessage, error) {
		if nackErr := d.Nack(false, true); nackErr != nil {
			// The channel is gone; the broker returns the unacknowledged message itself.
			err = errors.Join(err, nackErr)
		}
		return msg, fmt.Errorf("redrive: message %q stays in %s: %w", msg.MessageID, t.DeadLetterQueue(), err)
	}
	dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", t.Queue, true, false, redriven(d, msg.RedriveCount))
	if err != nil {
		return giveBack(fmt.Errorf("publishing to %s: %w", t.Queue, err))
	}
	acked, err := dc.WaitContext(ctx)
	if err != nil {
		return giveBack(fmt.Errorf("no publisher confirm from the broker within the timeout "+
			"(if the broker stored the copy after all, the message is now in both queues): %w", err))
	}
	if !acked {
		if ch.IsClosed() {
			return giveBack(fmt.Errorf("the channel closed before the broker confirmed the copy"))
		}
		return giveBack(fmt.Errorf("the broker refused (nacked) the copy for queue %s", t.Queue))
	}
	// The broker sends a mandatory message's return before its confirm, and the client
	// hands it over before it reads the confirm: it is here by now if there is one.
	select {
	case r, ok := <-returns:
		if ok {
			return giveBack(fmt.Errorf("%w: queue %q on vhost %q: %s", ErrUnroutable, t.Queue, t.VHost, r.ReplyText))
		}
	default:
	}
	if err := d.Ack(false); err != nil {
		return msg, fmt.Errorf("redrive: message %q was copied to %s but its acknowledgement failed, "+
			"so it is also back in %s (the same message id: an idempotent consumer absorbs it): %w",
			msg.MessageID, t.Queue, t.DeadLetterQueue(), err)
	}
	return msg, nil
}

// list takes up to contract.RedriveListLimit of the messages a redrive would move without
// acknowledging them, then returns them all to the dead-letter queue in their order. On
// RabbitMQ 4.0-4.2 every return counts a delivery against a quorum queue's delivery limit
// (default 20), so a dry run is not free there.
func list(ctx context.Context, ch *amqp.Channel, res *contract.RedriveResult) error {
	var last uint64
	for len(res.Messages) < min(res.Remaining, contract.RedriveListLimit) && ctx.Err() == nil {
		d, ok, err := ch.Get(res.DeadLetterQueue, false)
		if err != nil || !ok {
			if err != nil {
				err = fmt.Errorf("redrive: dry run: taking a message from %s: %w", res.DeadLetterQueue, err)
			}
			return errors.Join(err, giveBackAll(ch, last))
		}
		last = d.DeliveryTag
		res.Messages = append(res.Messages, describeDeadLetter(d))
	}
	return giveBackAll(ch, last)
}

func giveBackAll(ch *amqp.Channel, last uint64) error {
	if last == 0 {
		return nil
	}
	if err := ch.Nack(last, true, true); err != nil {
		return fmt.Errorf("redrive: dry run: returning the listed messages (closing the channel returns them too): %w", err)
	}
	return nil
}

// describeDeadLetter reads a dead letter's id, cause and redrive count.
func describeDeadLetter(d amqp.Delivery) contract.RedrivenMessage {
	m := contract.RedrivenMessage{MessageID: d.MessageId, RedriveCount: redriveCount(d.Headers[HeaderRedriveCount])}
	if e := headerString(d.Headers[HeaderError]); e != "" {
		m.Error = e
	} else if reason := headerString(d.Headers["x-first-death-reason"]); reason != "" {
		m.Error = "dead-lettered by RabbitMQ: " + reason
	}
	return m
}

func headerString(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case []byte:
		return string(s)
	}
	return ""
}

// redriveCount reads the count whatever number type the last writer chose: a redrive writes
// an int64, the listener dead-letters a message with the float64 the event's JSON gave it.
func redriveCount(v any) int64 {
	switch n := reflect.ValueOf(v); {
	case n.CanInt():
		return n.Int()
	case n.CanUint():
		return int64(n.Uint()) //nolint:gosec // G115: a count of moves
	case n.CanFloat():
		return int64(n.Float())
	}
	return 0
}

// redriven is d as its queue's consumer should see it again: same body and properties,
// without the dead-letter headers, with the redrive counted. Left out on purpose: the
// expiration, which would start the original time-to-live afresh and could expire the message
// on arrival (RabbitMQ's own dead-lettering drops it for that reason), and the user id, which
// RabbitMQ refuses unless it is the publishing connection's user.
func redriven(d amqp.Delivery, count int64) amqp.Publishing {
	headers := amqp.Table{}
	for k, v := range d.Headers {
		if !slices.Contains(DeadLetterHeaders, k) {
			headers[k] = v
		}
	}
	headers[HeaderRedriveCount] = count
	return amqp.Publishing{
		Headers:         headers,
		ContentType:     d.ContentType,
		ContentEncoding: d.ContentEncoding,
		DeliveryMode:    amqp.Persistent,
		Priority:        d.Priority,
		CorrelationId:   d.CorrelationId,
		ReplyTo:         d.ReplyTo,
		MessageId:       d.MessageId,
		Timestamp:       d.Timestamp,
		Type:            d.Type,
		AppId:           d.AppId,
		Body:            d.Body,
	}
}
