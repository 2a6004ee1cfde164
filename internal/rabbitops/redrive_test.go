package rabbitops

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
)

// deadLetter publishes, with confirms, what the listener publishes for a message it gives up
// on: the message with the listener's headers, straight into the dead-letter queue.
func deadLetter(t *testing.T, ch *amqp.Channel, top Topology, msgs ...amqp.Publishing) {
	t.Helper()
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		dc, err := ch.PublishWithDeferredConfirmWithContext(context.Background(), "", top.DeadLetterQueue(), true, false, m)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := dc.WaitContext(context.Background()); !ok || err != nil {
			t.Fatalf("dead letter %s not confirmed: %v", m.MessageId, err)
		}
	}
}

// failed is message i as the listener dead-letters it.
func failed(i int) amqp.Publishing {
	return amqp.Publishing{
		MessageId: fmt.Sprintf("m-%03d", i), DeliveryMode: amqp.Persistent, Body: []byte(fmt.Sprintf(`{"n":%d}`, i)),
		Headers: amqp.Table{HeaderError: "validation failed", HeaderFailedAt: "2026-11-29T10:00:00Z", HeaderQueue: "events", HeaderVHost: "/"},
	}
}

func failedMessages(n int) []amqp.Publishing {
	msgs := make([]amqp.Publishing, n)
	for i := range msgs {
		msgs[i] = failed(i)
	}
	return msgs
}

// drain takes every message from queue and returns them in order.
func drain(t *testing.T, conn *amqp.Connection, queue string) []amqp.Delivery {
	t.Helper()
	ch := channel(t, conn)
	var out []amqp.Delivery
	for {
		d, ok, err := ch.Get(queue, true)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return out
		}
		out = append(out, d)
	}
}

func ids(ds []amqp.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.MessageId
	}
	return out
}

// sorted orders ids: a message returned to a quorum queue goes to its back (RabbitMQ 3.10).
func sorted(ids []string) []string {
	slices.Sort(ids)
	return ids
}

func redriveFixture(t *testing.T) (*amqp.Connection, Topology) {
	t.Helper()
	conn, _, _ := connect(t)
	top := topology(t, conn, 5)
	if err := Declare(channel(t, conn), top); err != nil {
		t.Fatal(err)
	}
	return conn, top
}

func TestRedriveMovesEveryMessageAsItWas(t *testing.T) {
	conn, top := redriveFixture(t)
	stamp := time.Date(2026, 11, 29, 9, 30, 0, 0, time.UTC)
	full := amqp.Publishing{
		ContentType: "application/json", ContentEncoding: "gzip", MessageId: "full-1", CorrelationId: "corr-1",
		Timestamp: stamp, Type: "order.created", AppId: "shop", ReplyTo: "replies", Expiration: "60000",
		DeliveryMode: amqp.Persistent, Body: []byte(`{"order":1}`),
		Headers: amqp.Table{"tenant": "acme", HeaderRedriveCount: int32(2), HeaderError: "upstream 503",
			HeaderFailedAt: "2026-11-29T10:00:00Z", HeaderQueue: top.Queue, HeaderVHost: "/"},
	}
	deadLetter(t, channel(t, conn), top, full, failed(1))

	// And one RabbitMQ dead-letters itself: rejected without requeue, it gains x-death.
	if _, err := Publish(context.Background(), channel(t, conn), top, "rejected", 1); err != nil {
		t.Fatal(err)
	}
	d, ok, err := channel(t, conn).Get(top.Queue, false)
	if err != nil || !ok {
		t.Fatalf("get: %v %v", ok, err)
	}
	if err := d.Reject(false); err != nil {
		t.Fatal(err)
	}
	waitDepth(t, conn, top.DeadLetterQueue(), 3)

	res, err := Redrive(context.Background(), channel(t, conn), top, RedriveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Found != 3 || res.Moved != 3 || res.Remaining != 0 || res.Stopped {
		t.Errorf("result = %+v", res)
	}
	wantListed := []contract.RedrivenMessage{
		{MessageID: "full-1", Error: "upstream 503", RedriveCount: 3},
		{MessageID: "m-001", Error: "validation failed", RedriveCount: 1},
		{MessageID: "rejected-000000", Error: "dead-lettered by RabbitMQ: rejected", RedriveCount: 1},
	}
	if !slices.Equal(res.Messages, wantListed) {
		t.Errorf("listed %+v, want %+v", res.Messages, wantListed)
	}
	if n := depth(t, conn, top.DeadLetterQueue()); n != 0 {
		t.Errorf("the dead-letter queue still holds %d messages", n)
	}

	moved := drain(t, conn, top.Queue)
	if got := ids(moved); !slices.Equal(got, []string{"full-1", "m-001", "rejected-000000"}) {
		t.Fatalf("the queue holds %v", got)
	}
	for _, m := range moved {
		for _, h := range DeadLetterHeaders {
			// The main quorum queue counts its own deliveries afresh.
			if _, ok := m.Headers[h]; ok && (h != "x-delivery-count" || m.Headers[h] != int64(0)) {
				t.Errorf("%s still carries %s: %v", m.MessageId, h, m.Headers)
			}
		}
		if m.DeliveryMode != amqp.Persistent {
			t.Errorf("%s is not persistent", m.MessageId)
		}
	}
	got := moved[0]
	if string(got.Body) != `{"order":1}` || got.ContentType != full.ContentType || got.ContentEncoding != full.ContentEncoding ||
		got.CorrelationId != full.CorrelationId || !got.Timestamp.Equal(stamp) || got.Type != full.Type ||
		got.AppId != full.AppId || got.ReplyTo != full.ReplyTo {
		t.Errorf("properties not preserved: %+v", got)
	}
	if got.Expiration != "" {
		t.Errorf("expiration %q carried over: the time-to-live would start afresh", got.Expiration)
	}
	if got.Headers["tenant"] != "acme" || got.Headers[HeaderRedriveCount] != int64(3) || len(got.Headers) != 3 {
		t.Errorf("headers = %v, want tenant and %s=3 only", got.Headers, HeaderRedriveCount)
	}
	if moved[2].Headers[HeaderRedriveCount] != int64(1) || len(moved[2].Body) == 0 {
		t.Errorf("RabbitMQ's dead letter came back as %+v", moved[2])
	}
}

// stopAfter is a context that reports itself cancelled from its (n+1)th Err() on; Redrive
// asks once before each message, which makes "interrupted after n messages" exact.
type stopAfter struct {
	context.Context
	left atomic.Int64
}

func (s *stopAfter) Err() error {
	if s.left.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

func TestRedriveStoppedAndRerunMovesEachMessageOnce(t *testing.T) {
	conn, top := redriveFixture(t)
	const total, first = 40, 13
	deadLetter(t, channel(t, conn), top, failedMessages(total)...)

	ctx := &stopAfter{Context: context.Background()}
	ctx.left.Store(first)
	res, err := Redrive(ctx, channel(t, conn), top, RedriveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Moved != first || res.Remaining != total-first || !res.Stopped {
		t.Fatalf("interrupted run: %+v", res)
	}
	inQueue, inDLQ := depth(t, conn, top.Queue), depth(t, conn, top.DeadLetterQueue())
	if inQueue != first || inQueue+inDLQ != total {
		t.Fatalf("after the stop: %d in the queue, %d in the dead-letter queue; want %d and %d", inQueue, inDLQ, first, total-first)
	}

	rerun, err := Redrive(context.Background(), channel(t, conn), top, RedriveOptions{Max: res.Remaining})
	if err != nil {
		t.Fatal(err)
	}
	if rerun.Found != total-first || rerun.Moved != total-first || rerun.Remaining != 0 {
		t.Errorf("rerun: %+v", rerun)
	}
	got := ids(drain(t, conn, top.Queue))
	want := ids(nil)
	for _, m := range failedMessages(total) {
		want = append(want, m.MessageId)
	}
	if !slices.Equal(got, want) {
		t.Errorf("the queue holds %d messages %v, want each of the %d exactly once, in order", len(got), got, total)
	}
	if n := depth(t, conn, top.DeadLetterQueue()); n != 0 {
		t.Errorf("%d messages left in the dead-letter queue", n)
	}
}

// TestRedriveDoesNotLoopMessagesThatFailAgain runs a consumer that rejects everything while
// the redrive runs: the messages come back to the dead-letter queue and stay there.
func TestRedriveDoesNotLoopMessagesThatFailAgain(t *testing.T) {
	conn, top := redriveFixture(t)
	const total = 20
	deadLetter(t, channel(t, conn), top, failedMessages(total)...)
	consumer := channel(t, conn)
	deliveries, err := consumer.Consume(top.Queue, "", false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for d := range deliveries {
			_ = d.Reject(false)
		}
	}()

	res, err := Redrive(context.Background(), channel(t, conn), top, RedriveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Found != total || res.Moved != total {
		t.Errorf("result = %+v", res)
	}
	waitDepth(t, conn, top.DeadLetterQueue(), total)
	_ = consumer.Close()
	for _, d := range drain(t, conn, top.DeadLetterQueue()) {
		if d.Headers[HeaderRedriveCount] != int64(1) {
			t.Errorf("%s was moved %v times, want once", d.MessageId, d.Headers[HeaderRedriveCount])
		}
	}
}

func TestRedriveMax(t *testing.T) {
	conn, top := redriveFixture(t)
	deadLetter(t, channel(t, conn), top, failedMessages(10)...)
	res, err := Redrive(context.Background(), channel(t, conn), top, RedriveOptions{Max: 4})
	if err != nil {
		t.Fatal(err)
	}
	if res.Found != 10 || res.Moved != 4 || res.Remaining != 0 {
		t.Errorf("result = %+v", res)
	}
	if got := ids(drain(t, conn, top.Queue)); !slices.Equal(got, []string{"m-000", "m-001", "m-002", "m-003"}) {
		t.Errorf("moved %v, want the oldest four", got)
	}
	if n := depth(t, conn, top.DeadLetterQueue()); n != 6 {
		t.Errorf("%d left in the dead-letter queue, want 6", n)
	}
	if _, err := Redrive(context.Background(), channel(t, conn), top, RedriveOptions{Max: -1}); err == nil || !strings.Contains(err.Error(), "max -1") {
		t.Errorf("max -1: %v", err)
	}
}

// TestRedriveLeavesTheDeadLettersWhenTheCopyFails: a missing queue returns the copy, a full
// one refuses it; either way nothing moves and every dead letter stays.
func TestRedriveLeavesTheDeadLettersWhenTheCopyFails(t *testing.T) {
	for name, tc := range map[string]struct {
		queueArgs amqp.Table // nil: no queue
		want      string
		is        error
	}{
		"missing queue": {nil, "unroutable", ErrUnroutable},
		"queue refuses": {amqp.Table{"x-max-length": int64(0), "x-overflow": "reject-publish"}, "refused (nacked)", nil},
	} {
		t.Run(name, func(t *testing.T) {
			conn, _, _ := connect(t)
			top := topology(t, conn, 5)
			ch := channel(t, conn)
			if _, err := ch.QueueDeclare(top.DeadLetterQueue(), true, false, false, false, amqp.Table{"x-queue-type": "quorum"}); err != nil {
				t.Fatal(err)
			}
			if tc.queueArgs != nil {
				if _, err := ch.QueueDeclare(top.Queue, true, false, false, false, tc.queueArgs); err != nil {
					t.Fatal(err)
				}
			}
			deadLetter(t, ch, top, failedMessages(3)...)
			res, err := Redrive(context.Background(), channel(t, conn), top, RedriveOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"m-000" stays in `+top.DeadLetterQueue()) {
				t.Fatalf("want an error saying %q about m-000, got %v", tc.want, err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
			if res.Moved != 0 || res.Remaining != 3 {
				t.Errorf("result = %+v", res)
			}
			if got := sorted(ids(drain(t, conn, top.DeadLetterQueue()))); !slices.Equal(got, []string{"m-000", "m-001", "m-002"}) {
				t.Errorf("the dead-letter queue holds %v, want all three", got)
			}
		})
	}
}

func TestRedriveDryRunMovesNothing(t *testing.T) {
	conn, top := redriveFixture(t)
	deadLetter(t, channel(t, conn), top, failedMessages(5)...)
	res, err := Redrive(context.Background(), channel(t, conn), top, RedriveOptions{DryRun: true, Max: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !res.DryRun || res.Found != 5 || res.Moved != 0 || res.Remaining != 3 || len(res.Messages) != 3 ||
		res.Messages[2] != (contract.RedrivenMessage{MessageID: "m-002", Error: "validation failed"}) {
		t.Errorf("dry run = %+v", res)
	}
	if n := depth(t, conn, top.Queue); n != 0 {
		t.Errorf("a dry run moved %d messages", n)
	}
	if got := sorted(ids(drain(t, conn, top.DeadLetterQueue()))); !slices.Equal(got, []string{"m-000", "m-001", "m-002", "m-003", "m-004"}) {
		t.Errorf("after the dry run the dead-letter queue holds %v, want all five", got)
	}
}

func TestRedriveWithoutDeadLetterQueue(t *testing.T) {
	conn, _, _ := connect(t)
	top := topology(t, conn, 5) // never declared
	_, err := Redrive(context.Background(), channel(t, conn), top, RedriveOptions{})
	if err == nil || !strings.Contains(err.Error(), top.DeadLetterQueue()) || !strings.Contains(err.Error(), "NOT_FOUND") {
		t.Errorf("want an error naming the missing dead-letter queue, got %v", err)
	}
}

// TestRedrivenCopy checks the copy itself, beyond what a round trip through a quorum queue
// shows: that queue adds its own x-delivery-count.
func TestRedrivenCopy(t *testing.T) {
	headers := amqp.Table{"keep": "me", HeaderRedriveCount: uint8(4)}
	for _, h := range DeadLetterHeaders {
		headers[h] = "dead-letter history"
	}
	d := amqp.Delivery{Headers: headers, Expiration: "1000", UserId: "someone-else", DeliveryMode: amqp.Transient, Priority: 3, Body: []byte("x")}
	p := redriven(d, redriveCount(headers[HeaderRedriveCount])+1)
	if len(p.Headers) != 2 || p.Headers["keep"] != "me" || p.Headers[HeaderRedriveCount] != int64(5) {
		t.Errorf("headers = %v, want keep and %s=5", p.Headers, HeaderRedriveCount)
	}
	for _, count := range []any{int8(2), int32(2), int64(2), uint16(2), float64(2)} {
		if got := redriveCount(count); got != 2 {
			t.Errorf("redrive count %T(2) read as %d", count, got)
		}
	}
	if got := redriveCount("2"); got != 0 {
		t.Errorf("a non-number counts %d, want 0", got)
	}
	if p.Expiration != "" || p.UserId != "" || p.DeliveryMode != amqp.Persistent || p.Priority != 3 || string(p.Body) != "x" {
		t.Errorf("copy = %+v", p)
	}
}
