package deadletter_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/deadletter"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/localesm"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rabbitadmin"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rabbitops"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/brokertest"
	"github.com/rabbitmq-esm/rabbitmq-esm/listener/handler"
)

// The shipped defaults (Pulumi.yaml): batchSize 100, deliveryLimit 5.
const (
	shippedBatchSize     = 100
	shippedDeliveryLimit = 5
)

// dataPath is one queue on the real broker with the listener's dead-letter store on it. The
// store logs in as the stack's dead-letter user and the local mapping as the mapping's user,
// each with exactly its grant (rabbitadmin.PermissionsFor); conn is the administrator's.
type dataPath struct {
	broker   brokertest.Broker
	conn     *amqp.Connection
	mapping  *amqp.Connection
	topology rabbitops.Topology
	store    *deadletter.Broker
}

var queueSeq sync.Mutex
var queueN int

func newDataPath(t testing.TB) *dataPath {
	t.Helper()
	b, mgmt := brokertest.RequireManagement(t)
	creds := rabbitops.Credentials{Username: b.Username, Password: b.Password}
	conn, err := rabbitops.Dial(context.Background(), b.TLSEndpoint, creds, "/", b.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	queueSeq.Lock()
	queueN++
	name := fmt.Sprintf("datapath-%d-%d", time.Now().UnixNano(), queueN)
	queueSeq.Unlock()
	top := rabbitops.Topology{Queue: name, VHost: "/", DeliveryLimit: shippedDeliveryLimit}
	ch := channel(t, conn)
	if err := rabbitops.Declare(ch, top); err != nil {
		t.Fatal(err)
	}
	admin, err := rabbitadmin.New(mgmt, b.Username, b.Password, b.Roots(t))
	if err != nil {
		t.Fatal(err)
	}
	objects := rabbitadmin.Objects{Queue: top.Queue, DeadLetterExchange: top.DeadLetterExchange()}
	users := map[rabbitadmin.Role]rabbitops.Credentials{}
	for _, role := range []rabbitadmin.Role{rabbitadmin.RoleMappingConsumer, rabbitadmin.RoleDeadLetterPublisher} {
		c := rabbitops.Credentials{Username: "esm-" + string(role) + "-" + name, Password: fmt.Sprintf("pw-%d", time.Now().UnixNano())}
		if _, err := admin.EnsureRole(context.Background(), "/", role, objects, c.Username, c.Password, ""); err != nil {
			t.Fatal(err)
		}
		users[role] = c
	}
	mapping, err := rabbitops.Dial(context.Background(), b.TLSEndpoint, users[rabbitadmin.RoleMappingConsumer], "/", b.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	store := &deadletter.Broker{Endpoint: b.TLSEndpoint, VHost: "/", SecretArn: "arn:test",
		Secrets: rabbitops.FixedCredentials(users[rabbitadmin.RoleDeadLetterPublisher]), CAFile: b.CAFile}
	t.Cleanup(func() {
		_ = store.Close()
		_ = mapping.Close()
		for _, c := range users {
			_ = admin.DeleteUser(context.Background(), c.Username)
		}
		if ch, err := conn.Channel(); err == nil {
			_, _ = ch.QueueDelete(top.Queue, false, false, false)
			_, _ = ch.QueueDelete(top.DeadLetterQueue(), false, false, false)
			_ = ch.ExchangeDelete(top.DeadLetterExchange(), false, false)
		}
		_ = conn.Close()
	})
	return &dataPath{broker: b, conn: conn, mapping: mapping, topology: top, store: store}
}

func channel(t testing.TB, conn *amqp.Connection) *amqp.Channel {
	t.Helper()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ch.Close() })
	return ch
}

// publish sends the bodies in order, persistent, with ids msg-<index>, confirmed.
func (d *dataPath) publish(t testing.TB, bodies []string) {
	t.Helper()
	msgs := make([]amqp.Publishing, len(bodies))
	for i, body := range bodies {
		msgs[i] = amqp.Publishing{ContentType: "application/json", DeliveryMode: amqp.Persistent, MessageId: messageID(i),
			Headers: amqp.Table{"tenant": "t-1"}, Body: []byte(body)}
	}
	ch := channel(t, d.conn)
	for start := 0; start < len(msgs); start += 1000 {
		if err := rabbitops.PublishConfirmed(context.Background(), ch, "", d.topology.Queue, msgs[start:min(start+1000, len(msgs))]); err != nil {
			t.Fatal(err)
		}
	}
}

// sequence is n small JSON bodies, {"seq":<i>}.
func sequence(n int) []string {
	bodies := make([]string, n)
	for i := range bodies {
		bodies[i] = fmt.Sprintf(`{"seq":%d}`, i)
	}
	return bodies
}

func messageID(i int) string { return fmt.Sprintf("msg-%05d", i) }

// ledger records every processing of every message.
type ledger struct {
	mu    sync.Mutex
	count map[string]int
	total int
}

func (l *ledger) record(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.count == nil {
		l.count = map[string]int{}
	}
	l.count[id]++
	l.total++
}

func (l *ledger) snapshot() (unique, total int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.count), l.total
}

// run consumes the queue with the local mapping, at the shipped batch size, until done says
// so or the timeout passes.
func (d *dataPath) run(t testing.TB, process handler.Process, done func() bool, timeout time.Duration) {
	t.Helper()
	h := handler.New(handler.Options{Process: process, DeadLetters: d.store, DeliveryLimit: shippedDeliveryLimit, Output: io.Discard})
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := d.mapping.Channel()
	if err != nil {
		t.Fatal(err)
	}
	finished := make(chan error, 1)
	go func() {
		finished <- localesm.Run(ctx, ch, localesm.Config{Queue: d.topology.Queue, VHost: "/", BatchSize: shippedBatchSize,
			BatchingWindow: 20 * time.Millisecond}, h.Handle)
	}()
	deadline := time.Now().Add(timeout)
	for !done() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-finished; err != nil {
		t.Fatalf("the local mapping stopped: %v", err)
	}
	_ = ch.Close()
	if !done() {
		t.Fatalf("not done after %s", timeout)
	}
}

// depth is how many messages queue holds now.
func (d *dataPath) depth(t testing.TB, queue string) int {
	t.Helper()
	// Closed at once, not at the test's end: the tests poll it.
	ch, err := d.conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	q, err := ch.QueueDeclarePassive(queue, true, false, false, false, amqp.Table{"x-queue-type": "quorum"})
	if err != nil {
		t.Fatal(err)
	}
	return q.Messages
}

// drainDeadLetters takes every message of the dead-letter queue.
func (d *dataPath) drainDeadLetters(t testing.TB) map[string]amqp.Delivery {
	t.Helper()
	ch := channel(t, d.conn)
	out := map[string]amqp.Delivery{}
	for {
		m, ok, err := ch.Get(d.topology.DeadLetterQueue(), true)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return out
		}
		out[m.MessageId] = m
	}
}

// TestPoisonMessagesDeadLetterOnlyThemselves is issue 12's case at the shipped defaults: 10,000
// messages with poison messages spread in — invalid JSON, a panic, a refusal — through the
// local mapping (batches of 100) and the listener (delivery limit 5). Exactly the poison
// messages are dead-lettered, with their error, body and properties; every good one is
// processed; no batch fails, so no good message is processed twice.
func TestPoisonMessagesDeadLetterOnlyThemselves(t *testing.T) {
	d := newDataPath(t)
	const total = 10000
	poison := map[int]string{}
	bodies := sequence(total)
	for k, i := range []int{7, 1234, 1250, 3333, 5000, 5001, 6789, 8080, 9998, 9999} {
		switch k % 3 {
		case 0:
			bodies[i], poison[i] = fmt.Sprintf(`{"seq":%d,`, i), "not valid JSON"
		case 1:
			bodies[i], poison[i] = fmt.Sprintf(`{"seq":%d,"panic":true}`, i), "panicked: poison"
		case 2:
			bodies[i], poison[i] = fmt.Sprintf(`{"seq":%d,"refuse":true}`, i), "order refused"
		}
	}
	d.publish(t, bodies)

	var seen ledger
	process := func(ctx context.Context, m handler.Message) (string, error) {
		switch {
		case strings.Contains(string(m.Body), `"panic"`):
			panic("poison")
		case strings.Contains(string(m.Body), `"refuse"`):
			return "", fmt.Errorf("order refused")
		}
		summary, err := handler.Summarise(ctx, m)
		if err == nil {
			seen.record(m.MessageID)
		}
		return summary, err
	}
	start := time.Now()
	good := total - len(poison)
	d.run(t, process, func() bool {
		unique, _ := seen.snapshot()
		return unique == good && d.depth(t, d.topology.DeadLetterQueue()) == len(poison)
	}, 2*time.Minute)
	elapsed := time.Since(start)

	// The dead letters are confirmed before their batch is acknowledged: all are there.
	letters := d.drainDeadLetters(t)
	unique, processings := seen.snapshot()
	t.Logf("%d messages (%d poison) at batch size %d, delivery limit %d: %d good processed, %d processings (%d duplicates), %d dead-lettered, in %s (%.0f messages/s)",
		total, len(poison), shippedBatchSize, shippedDeliveryLimit, unique, processings, processings-unique, len(letters), elapsed.Round(time.Millisecond),
		float64(total)/elapsed.Seconds())
	if len(letters) != len(poison) {
		t.Errorf("%d dead letters, want exactly the %d poison messages", len(letters), len(poison))
	}
	for i, reason := range poison {
		l, ok := letters[messageID(i)]
		if !ok {
			t.Errorf("poison message %s was not dead-lettered", messageID(i))
			continue
		}
		if got, _ := l.Headers[rabbitops.HeaderError].(string); !strings.Contains(got, reason) {
			t.Errorf("%s: error header %q lacks %q", messageID(i), got, reason)
		}
		if string(l.Body) != bodies[i] || l.ContentType != "application/json" || l.DeliveryMode != amqp.Persistent {
			t.Errorf("%s: body %q, content type %q, mode %d: the original is not kept", messageID(i), l.Body, l.ContentType, l.DeliveryMode)
		}
		if tenant, _ := l.Headers["tenant"].([]byte); string(tenant) != "t-1" {
			t.Errorf("%s: header tenant = %#v, want the original's", messageID(i), l.Headers["tenant"])
		}
		if l.Headers[rabbitops.HeaderQueue] != d.topology.Queue || l.Headers[rabbitops.HeaderFailedAt] == nil {
			t.Errorf("%s: headers %v", messageID(i), l.Headers)
		}
	}
	if processings != unique {
		t.Errorf("%d duplicate processings: no batch should have failed", processings-unique)
	}
	if n := d.depth(t, d.topology.Queue); n != 0 {
		t.Errorf("%d messages left in the queue", n)
	}
}

// TestTransientFailureClears: a message whose dependency is down twice comes back with its
// batch and is processed on its third delivery; nothing is dead-lettered, and the duplicates
// are the messages of its two returned batches at most.
func TestTransientFailureClears(t *testing.T) {
	d := newDataPath(t)
	const total = 500
	bodies := sequence(total)
	d.publish(t, bodies)
	var seen ledger
	var mu sync.Mutex
	attempts := map[int]int{}
	flaky := messageID(250)
	process := func(ctx context.Context, m handler.Message) (string, error) {
		if m.MessageID == flaky {
			mu.Lock()
			attempts[m.Attempt]++
			n := len(attempts)
			mu.Unlock()
			if n < 3 {
				return "", handler.Retry(fmt.Errorf("inventory service unavailable"))
			}
		}
		seen.record(m.MessageID)
		return handler.Summarise(ctx, m)
	}
	d.run(t, process, func() bool { unique, _ := seen.snapshot(); return unique == total }, time.Minute)
	unique, processings := seen.snapshot()
	t.Logf("%d messages, one failing twice with Retry: %d processings (%d duplicates), attempts seen %v", total, processings, processings-unique, attempts)
	if letters := d.drainDeadLetters(t); len(letters) != 0 {
		t.Errorf("%d dead letters: a transient failure that clears must dead-letter nothing", len(letters))
	}
	if dup := processings - unique; dup > 2*shippedBatchSize {
		t.Errorf("%d duplicates: more than two returned batches' worth", dup)
	}
	if attempts[1] != 1 || attempts[2] != 1 || attempts[3] != 1 {
		t.Errorf("the flaky message's attempts = %v, want 1, 2 and 3 once each (from the quorum queue's x-delivery-count)", attempts)
	}
}

// TestTransientFailureThatNeverClears is dead-lettered by the listener at its last delivery,
// with its error, and no other message goes with it.
func TestTransientFailureThatNeverClears(t *testing.T) {
	d := newDataPath(t)
	const total = 300
	bodies := sequence(total)
	d.publish(t, bodies)
	var seen ledger
	stuck := messageID(120)
	process := func(ctx context.Context, m handler.Message) (string, error) {
		if m.MessageID == stuck {
			return "", handler.Retry(fmt.Errorf("inventory service unavailable"))
		}
		seen.record(m.MessageID)
		return handler.Summarise(ctx, m)
	}
	d.run(t, process, func() bool {
		unique, _ := seen.snapshot()
		return unique == total-1 && d.depth(t, d.topology.DeadLetterQueue()) == 1
	}, time.Minute)
	letters := d.drainDeadLetters(t)
	l, ok := letters[stuck]
	if len(letters) != 1 || !ok {
		t.Fatalf("dead letters %v, want only %s", keys(letters), stuck)
	}
	if got, _ := l.Headers[rabbitops.HeaderError].(string); !strings.Contains(got, "inventory service unavailable") ||
		!strings.Contains(got, fmt.Sprintf("delivery %d of %d", shippedDeliveryLimit, shippedDeliveryLimit)) {
		t.Errorf("error header %q", got)
	}
	unique, processings := seen.snapshot()
	t.Logf("%d messages, one never clearing: %d processings (%d duplicates)", total, processings, processings-unique)
	if dup := processings - unique; dup > (shippedDeliveryLimit-1)*shippedBatchSize {
		t.Errorf("%d duplicates: more than the %d returned batches' worth", dup, shippedDeliveryLimit-1)
	}
}

func keys(m map[string]amqp.Delivery) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// BenchmarkDataPath is what the data path costs end to end: the local mapping consuming a
// real broker over TLS in batches of 100, the listener decoding and handling each batch,
// and the acknowledgements. It reports messages per second.
func BenchmarkDataPath(b *testing.B) {
	const perRound = 5000
	bodies := make([]string, perRound)
	for i := range bodies {
		bodies[i] = fmt.Sprintf(`{"seq":%d,"pad":%q}`, i, strings.Repeat("x", 1000))
	}
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		d := newDataPath(b)
		d.publish(b, bodies)
		var seen ledger
		process := func(ctx context.Context, m handler.Message) (string, error) {
			seen.record(m.MessageID)
			return handler.Summarise(ctx, m)
		}
		b.StartTimer()
		start := time.Now()
		d.run(b, process, func() bool { unique, _ := seen.snapshot(); return unique == perRound }, 2*time.Minute)
		elapsed += time.Since(start)
	}
	b.ReportMetric(float64(perRound*b.N)/elapsed.Seconds(), "msgs/s")
}
