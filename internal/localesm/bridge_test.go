package localesm

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rabbitadmin"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rabbitops"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/brokertest"
	"github.com/rabbitmq-esm/rabbitmq-esm/listener/handler"
)

func connect(t *testing.T) *amqp.Connection {
	t.Helper()
	b := brokertest.Require(t)
	conn, err := rabbitops.Dial(context.Background(), b.TLSEndpoint, rabbitops.Credentials{Username: b.Username, Password: b.Password}, "/", b.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// mappingUser creates the stack's mapping user on the broker whose management API is mgmt,
// with exactly its grant (rabbitadmin.PermissionsFor: read on top's queue, nothing else), as the
// provisioner's users action does; it is deleted when the test ends.
func mappingUser(t *testing.T, b brokertest.Broker, mgmt string, top rabbitops.Topology) rabbitops.Credentials {
	t.Helper()
	admin, err := rabbitadmin.New(mgmt, b.Username, b.Password, b.Roots(t))
	if err != nil {
		t.Fatal(err)
	}
	creds := rabbitops.Credentials{Username: "esm-bridge-" + top.Queue, Password: fmt.Sprintf("pw-%d", time.Now().UnixNano())}
	objects := rabbitadmin.Objects{Queue: top.Queue, DeadLetterExchange: top.DeadLetterExchange()}
	if _, err := admin.EnsureRole(context.Background(), top.VHost, rabbitadmin.RoleMappingConsumer, objects, creds.Username, creds.Password, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.DeleteUser(context.Background(), creds.Username) })
	return creds
}

// asMapping connects as the stack's mapping user: the bridge consumes with the mapping's
// permissions, which proves they are enough.
func asMapping(t *testing.T, top rabbitops.Topology) *amqp.Connection {
	t.Helper()
	b, mgmt := brokertest.RequireManagement(t)
	conn, err := rabbitops.Dial(context.Background(), b.TLSEndpoint, mappingUser(t, b, mgmt, top), top.VHost, b.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func channel(t *testing.T, conn *amqp.Connection) *amqp.Channel {
	t.Helper()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// declared creates a fresh dead-lettering topology, deleted when the test ends.
func declared(t *testing.T, conn *amqp.Connection, limit int) rabbitops.Topology {
	t.Helper()
	top := rabbitops.Topology{Queue: fmt.Sprintf("bridge-%d", time.Now().UnixNano()), VHost: "/", DeliveryLimit: limit}
	if err := rabbitops.Declare(channel(t, conn), top); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ch := channel(t, conn)
		_, _ = ch.QueueDelete(top.Queue, false, false, false)
		_, _ = ch.QueueDelete(top.DeadLetterQueue(), false, false, false)
		_ = ch.ExchangeDelete(top.DeadLetterExchange(), false, false)
	})
	return top
}

func depth(t *testing.T, conn *amqp.Connection, queue string) int {
	t.Helper()
	q, err := channel(t, conn).QueueDeclarePassive(queue, true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	return q.Messages
}

// runBridge runs the bridge until stop returns true or the timeout passes.
func runBridge(t *testing.T, conn *amqp.Connection, cfg Config, h Handler, stop func() bool, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ch := channel(t, conn)
	defer ch.Close()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, ch, cfg, h) }()
	for !stop() {
		select {
		case err := <-done:
			t.Fatalf("bridge stopped: %v", err)
		case <-ctx.Done():
			t.Fatalf("timed out after %s", timeout)
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func ids(ev events.RabbitMQEvent) []string {
	var out []string
	for _, list := range ev.MessagesByQueue {
		for i := range list {
			out = append(out, *list[i].BasicProperties.MessageID)
		}
	}
	return out
}

// TestTenThousandMessagesNoneLostNoneDuplicated runs 10,000 confirmed messages through the
// bridge into a succeeding handler: each must be processed exactly once.
func TestTenThousandMessagesNoneLostNoneDuplicated(t *testing.T) {
	conn := connect(t)
	top := declared(t, conn, 5)
	const n = 10000
	if _, err := rabbitops.Publish(context.Background(), channel(t, conn), top, "bulk", n); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	largest := 0
	h := func(_ context.Context, ev events.RabbitMQEvent) error {
		mu.Lock()
		defer mu.Unlock()
		batch := ids(ev)
		largest = max(largest, len(batch))
		for _, id := range batch {
			seen[id]++
		}
		return nil
	}
	processed := func() bool { mu.Lock(); defer mu.Unlock(); return len(seen) == n }
	runBridge(t, asMapping(t, top), Config{Queue: top.Queue, VHost: "/", BatchSize: 500, BatchingWindow: 50 * time.Millisecond}, h, processed, 60*time.Second)

	for i := range n {
		id := rabbitops.MessageID("bulk", i)
		if seen[id] != 1 {
			t.Fatalf("message %s processed %d times", id, seen[id])
		}
	}
	if largest > 500 {
		t.Errorf("a batch held %d messages, over the batch size of 500", largest)
	}
	deadLettered := depth(t, conn, top.DeadLetterQueue())
	if processedCount := len(seen); n != processedCount+deadLettered || depth(t, conn, top.Queue) != 0 {
		t.Errorf("published %d != processed %d + dead-lettered %d (queue still holds %d)", n, processedCount, deadLettered, depth(t, conn, top.Queue))
	}
}

// TestPoisonMessageIsDeadLettered: a message the handler always rejects is delivered exactly
// DeliveryLimit times, then dead-lettered, while every other message is processed.
func TestPoisonMessageIsDeadLettered(t *testing.T) {
	conn := connect(t)
	const limit, good = 3, 200
	top := declared(t, conn, limit)
	ch := channel(t, conn)
	if _, err := rabbitops.Publish(context.Background(), ch, top, "good", good/2); err != nil {
		t.Fatal(err)
	}
	if err := ch.PublishWithContext(context.Background(), "", top.Queue, true, false,
		amqp.Publishing{MessageId: "poison", DeliveryMode: amqp.Persistent, Body: []byte("not what the handler expects")}); err != nil {
		t.Fatal(err)
	}
	if _, err := rabbitops.Publish(context.Background(), ch, top, "later", good/2); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	processed := map[string]bool{}
	poisonDeliveries := 0
	h := func(_ context.Context, ev events.RabbitMQEvent) error {
		mu.Lock()
		defer mu.Unlock()
		batch := ids(ev)
		for _, id := range batch {
			if id == "poison" {
				poisonDeliveries++
				return fmt.Errorf("cannot process %s", id)
			}
		}
		for _, id := range batch {
			processed[id] = true
		}
		return nil
	}
	done := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(processed) == good && depth(t, conn, top.DeadLetterQueue()) == 1
	}
	// Batch size 1: as with one message per invocation, the poison fails alone; with larger
	// batches its neighbours would be returned with it and count deliveries too.
	runBridge(t, asMapping(t, top), Config{Queue: top.Queue, VHost: "/", BatchSize: 1}, h, done, 60*time.Second)

	if poisonDeliveries != limit {
		t.Errorf("poison delivered %d times, want exactly %d", poisonDeliveries, limit)
	}
	dlq := depth(t, conn, top.DeadLetterQueue())
	if published := good + 1; published != len(processed)+dlq {
		t.Errorf("published %d != processed %d + dead-lettered %d", published, len(processed), dlq)
	}
	msg, ok, err := channel(t, conn).Get(top.DeadLetterQueue(), true)
	if err != nil || !ok || msg.MessageId != "poison" {
		t.Errorf("dead-letter queue holds %q (%v, %v), want the poison", msg.MessageId, ok, err)
	}
}

// TestBatchingWindowGathersAndListenerAccepts: messages published together arrive in one
// batch within the window, in AWS's event shape, which the real listener accepts.
func TestBatchingWindowGathersAndListenerAccepts(t *testing.T) {
	conn := connect(t)
	top := declared(t, conn, 5)
	ch := channel(t, conn)
	table := amqp.Table{"tenant": "acme", "attempt": int32(2), "raw": []byte{0xff, 0x01}, "nested": amqp.Table{"ok": true}}
	for i := range 5 {
		if err := ch.PublishWithContext(context.Background(), "", top.Queue, true, false, amqp.Publishing{
			MessageId: fmt.Sprint("w", i), ContentType: "application/json", Headers: table,
			Timestamp: time.Date(2026, 11, 24, 13, 5, 9, 0, time.UTC), Body: []byte(fmt.Sprintf(`{"i":%d}`, i)),
		}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var batches []events.RabbitMQEvent
	var out strings.Builder
	listener := handler.New(handler.Options{Output: &out})
	h := func(ctx context.Context, ev events.RabbitMQEvent) error {
		mu.Lock()
		defer mu.Unlock()
		batches = append(batches, ev)
		return listener.Handle(ctx, ev)
	}
	runBridge(t, asMapping(t, top), Config{Queue: top.Queue, VHost: "/", BatchSize: 10, BatchingWindow: 500 * time.Millisecond}, h,
		func() bool { mu.Lock(); defer mu.Unlock(); return len(batches) > 0 }, 20*time.Second)

	ev := batches[0]
	list := ev.MessagesByQueue[top.Queue+"::/"]
	if ev.EventSource != "aws:rmq" || len(list) != 5 {
		t.Fatalf("first batch: source %q, %d messages under %q (keys %v)", ev.EventSource, len(list), top.Queue+"::/", ev.MessagesByQueue)
	}
	m := list[0]
	body, _ := base64.StdEncoding.DecodeString(m.Data)
	if string(body) != `{"i":0}` || m.BasicProperties.Timestamp != "Nov 24, 2026, 1:05:09 PM" || m.BasicProperties.BodySize != 7 {
		t.Errorf("message = %+v", m)
	}
	if got := fmt.Sprint(m.BasicProperties.Headers["raw"]); got != "map[bytes:[-1 1]]" {
		t.Errorf("byte header = %s, want AWS's signed {\"bytes\":[...]}", got)
	}
	if got := fmt.Sprint(m.BasicProperties.Headers["tenant"]); got != "map[bytes:[97 99 109 101]]" {
		t.Errorf("string header = %s, want AWS's LongString form", got)
	}
	if strings.Count(out.String(), `"outcome":"processed"`) != 6 { // 5 messages + the batch line
		t.Errorf("listener log:\n%s", out.String())
	}
}

func TestConfigValidation(t *testing.T) {
	for _, c := range []Config{{VHost: "/", BatchSize: 1}, {Queue: "q", VHost: "/", BatchSize: 0}, {Queue: "q", VHost: "/", BatchSize: 10001},
		{Queue: "q", VHost: "/", BatchSize: 1, BatchingWindow: 301 * time.Second}} {
		if err := c.validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

func TestBatchesSplitAtSixMegabytes(t *testing.T) {
	deliveries := make(chan amqp.Delivery, 10)
	big := make([]byte, 2<<20) // 2 MiB: about 2.7 MiB in base64
	for i := range 4 {
		deliveries <- amqp.Delivery{MessageId: fmt.Sprint(i), Body: big}
	}
	b := batcher{cfg: Config{BatchSize: 10, BatchingWindow: 50 * time.Millisecond}, deliveries: deliveries}
	var sizes []int
	for range 2 {
		batch, err := b.next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(batch))
		total := 0
		for _, d := range batch {
			total += payloadSize(d)
		}
		if total > MaxPayloadBytes {
			t.Errorf("a batch of %d bytes passes the 6 MB limit", total)
		}
	}
	if fmt.Sprint(sizes) != "[2 2]" {
		t.Errorf("batch sizes %v, want [2 2]", sizes)
	}
}

// TestStoppedDeliveriesDropThePartialBatch: deliveries that stop while a batch is gathered
// mean the channel closed, and the broker took the batch back: it must not be handed over.
func TestStoppedDeliveriesDropThePartialBatch(t *testing.T) {
	deliveries := make(chan amqp.Delivery, 2)
	deliveries <- amqp.Delivery{MessageId: "0"}
	deliveries <- amqp.Delivery{MessageId: "1"}
	close(deliveries)
	b := batcher{cfg: Config{BatchSize: 10, BatchingWindow: time.Minute}, deliveries: deliveries}
	batch, err := b.next(context.Background())
	if !errors.Is(err, errDeliveriesClosed) || batch != nil {
		t.Errorf("next = %d deliveries, %v; want none and %v", len(batch), err, errDeliveriesClosed)
	}
}

// TestBatchGatheredWhenItsChannelClosesIsNotHandled: the broker closes the channel while a
// batch waits for its window. Run must drop the batch, say why, and the broker must have the
// messages back.
func TestBatchGatheredWhenItsChannelClosesIsNotHandled(t *testing.T) {
	conn := connect(t)
	top := declared(t, conn, 5)
	if _, err := rabbitops.Publish(context.Background(), channel(t, conn), top, "gathered", 3); err != nil {
		t.Fatal(err)
	}
	var handled atomic.Int32
	h := func(context.Context, events.RabbitMQEvent) error { handled.Add(1); return nil }
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ch := channel(t, conn)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, ch, Config{Queue: top.Queue, VHost: "/", BatchSize: 10, BatchingWindow: time.Minute}, h)
	}()
	waitFor(ctx, t, "the consumer to take the 3 messages", func() bool { return depth(t, conn, top.Queue) == 0 })
	time.Sleep(200 * time.Millisecond) // for the batcher to gather them

	// A channel error makes the broker close the channel, as its going away would.
	if _, err := ch.QueueDeclarePassive(top.Queue+".missing", true, false, false, false, nil); err == nil {
		t.Fatal("declaring a missing queue passively succeeded")
	}
	select {
	case err := <-done:
		if !errors.Is(err, errLost) || !strings.Contains(err.Error(), "NOT_FOUND") {
			t.Errorf("Run = %v, want the lost consumer and the broker's reason (NOT_FOUND)", err)
		}
	case <-ctx.Done():
		t.Fatal("Run went on after its channel closed")
	}
	if n := handled.Load(); n != 0 {
		t.Errorf("the handler got %d batches after the channel closed", n)
	}
	waitFor(ctx, t, "the broker to take the 3 messages back", func() bool { return depth(t, conn, top.Queue) == 3 })
}

// waitFor polls cond until it holds, or fails the test when ctx ends.
func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
