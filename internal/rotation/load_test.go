package rotation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/deadletter"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/localesm"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rabbitops"
	"github.com/rabbitmq-esm/rabbitmq-esm/listener/handler"
)

// TestRotationUnderLoad publishes 10,000 messages while every secret rotates, the mapping's
// four times: the local bridge consumes as the mapping's user and reads its secret at every
// connection, as the mapping does; the handler dead-letters one message in 500 as the
// dead-letter user; each rotation's setSecret closes the connections of the user whose password
// it changed. Nothing may be lost; a duplicate may only come from the batch in flight when a
// connection closed — the last its connection handled, whose acknowledgement (written or not:
// amqp091 does not wait for the broker) never took effect; the bridge must never be refused a
// login.
func TestRotationUnderLoad(t *testing.T) {
	f := NewFixture(t)
	began := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()

	const chunks, perChunk = 20, 500
	const n = chunks * perChunk
	poison := func(id string) bool { return strings.HasSuffix(id, rabbitops.MessageID("", perChunk-1)) }

	store := &deadletter.Broker{Endpoint: f.B.TLSEndpoint, VHost: "/", SecretArn: f.R.Env.DeadLetterSecretArn, Secrets: f.Secrets, CAFile: f.B.CAFile}
	defer store.Close()
	var mu sync.Mutex
	seen := map[string]int{}
	deadLetterFailures := 0
	lastCall := time.Now()
	// Which batch first handled each message, which connection each batch came on, and each
	// connection's last batch: a duplicate is explained only if its first handling was the last
	// batch of a connection that closed (its acknowledgement, written or not, never reached the
	// broker).
	var connection atomic.Int32
	batches := 0
	firstBatch := map[string]int{}
	batchConnection := map[int]int32{}
	lastBatchOf := map[int32]int{}
	h := func(ctx context.Context, ev events.RabbitMQEvent) error {
		var letters []handler.DeadLetter
		var ids []string
		for _, list := range ev.MessagesByQueue {
			for i := range list {
				id := *list[i].BasicProperties.MessageID
				ids = append(ids, id)
				if poison(id) {
					letters = append(letters, handler.DeadLetter{Message: handler.Message{Queue: f.Top.Queue, VHost: "/", MessageID: id, ID: id,
						Body: []byte("poison")}, Err: errors.New("poison"), FailedAt: time.Now()})
				}
			}
		}
		if len(letters) > 0 {
			if err := store.DeadLetter(ctx, letters); err != nil {
				mu.Lock()
				deadLetterFailures++
				mu.Unlock()
				return err // the batch comes again, as the listener's does
			}
		}
		mu.Lock()
		defer mu.Unlock()
		batches++
		conn := connection.Load()
		batchConnection[batches], lastBatchOf[conn] = conn, batches
		for _, id := range ids {
			if seen[id]++; seen[id] == 1 {
				firstBatch[id] = batches
			}
		}
		lastCall = time.Now()
		return nil
	}
	var logMu sync.Mutex
	var logged []string
	cfg := localesm.Config{Queue: f.Top.Queue, VHost: "/", BatchSize: 100, BatchingWindow: 20 * time.Millisecond,
		Logf: func(format string, args ...any) {
			line := fmt.Sprintf(format, args...)
			if strings.HasPrefix(line, "consuming ") {
				connection.Add(1) // before the connection's first delivery
			}
			logMu.Lock()
			defer logMu.Unlock()
			logged = append(logged, line)
		}}
	dial := localesm.SecretDialer(f.B.TLSEndpoint, "/", f.B.CAFile, f.Secrets, f.R.Env.MappingSecretArn)
	served := make(chan error, 1)
	go func() { served <- localesm.Serve(ctx, dial, cfg, h) }()

	// The publisher: the provisioner's role, as the broker's administrator.
	published := make(chan error, 1)
	go func() {
		conn, err := rabbitops.Dial(ctx, f.B.TLSEndpoint, rabbitops.Credentials{Username: f.B.Username, Password: f.B.Password}, "/", f.B.CAFile)
		if err != nil {
			published <- err
			return
		}
		defer conn.Close()
		ch, err := conn.Channel()
		if err != nil {
			published <- err
			return
		}
		for c := range chunks {
			if _, err := rabbitops.Publish(ctx, ch, f.Top, fmt.Sprintf("load%02d", c), perChunk); err != nil {
				published <- err
				return
			}
			time.Sleep(800 * time.Millisecond)
		}
		published <- nil
	}()

	// The rotations. The mapping's second closes the bridge's first connection, which then
	// reads AWSCURRENT (by then, almost always, the user that rotation just set); the third
	// sets the other user; the fourth closes the bridge's second connection. Between the second
	// and the fourth lie more than 5 s: a connection is listed, and so closed, only once the
	// broker's statistics (every 5 s by default) have seen it.
	plan := []struct {
		at  time.Duration
		arn string
	}{
		{500 * time.Millisecond, f.R.Env.MappingSecretArn}, {2 * time.Second, f.R.Env.DeadLetterSecretArn},
		{3500 * time.Millisecond, f.R.Env.AdminSecretArn}, {6 * time.Second, f.R.Env.MappingSecretArn},
		{9 * time.Second, f.R.Env.MappingSecretArn}, {10 * time.Second, f.R.Env.DeadLetterSecretArn},
		{14 * time.Second, f.R.Env.MappingSecretArn},
	}
	names := map[string]string{f.R.Env.MappingSecretArn: "mapping", f.R.Env.DeadLetterSecretArn: "dead-letter", f.R.Env.AdminSecretArn: "administrator"}
	quiet := *f.R
	quiet.Logf = func(format string, args ...any) {
		if line := fmt.Sprintf(format, args...); strings.HasPrefix(line, "setSecret: user") {
			t.Logf("%5.1fs %s", time.Since(began).Seconds(), line)
		}
	}
	rotations := 0
	for _, p := range plan {
		time.Sleep(time.Until(began.Add(p.at)))
		if _, err := f.Secrets.RotateSecret(ctx, p.arn, "", f.step(&quiet)); err != nil {
			t.Fatalf("rotating the %s secret: %v", names[p.arn], err)
		}
		rotations++
		t.Logf("%5.1fs rotated the %s secret: AWSCURRENT names %s", time.Since(began).Seconds(), names[p.arn], f.Stage(t, p.arn, "AWSCURRENT").Username)
	}
	if err := <-published; err != nil {
		t.Fatal(err)
	}
	waitUntil(ctx, t, func() bool {
		mu.Lock()
		all, still := len(seen) == n, time.Since(lastCall) > time.Second
		mu.Unlock()
		q, _, err := f.Root.GetQueue(ctx, "/", f.Top.Queue)
		drained := q.MessagesReady != nil && q.MessagesUnacknowledged != nil && *q.MessagesReady+*q.MessagesUnacknowledged == 0
		return all && still && err == nil && drained
	})
	cancel()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(began)

	mu.Lock()
	defer mu.Unlock()
	logMu.Lock()
	defer logMu.Unlock()
	lost, duplicates, unexplained := 0, 0, 0
	inFlightBatches := map[int]bool{}
	for c := range chunks {
		for i := range perChunk {
			id := rabbitops.MessageID(fmt.Sprintf("load%02d", c), i)
			switch k := seen[id]; {
			case k == 0:
				lost++
			case k > 1:
				duplicates += k - 1
				b := firstBatch[id]
				if conn := batchConnection[b]; lastBatchOf[conn] == b && conn < connection.Load() {
					inFlightBatches[b] = true
				} else {
					unexplained += k - 1
				}
			}
		}
	}
	inFlight, connects, forced, refused := 0, 0, 0, 0
	var connections []string
	for _, line := range logged {
		var size int
		if _, err := fmt.Sscanf(line, "settling a batch of %d", &size); err == nil {
			inFlight += size
		}
		switch {
		case strings.HasPrefix(line, "batch of "):
			continue
		case strings.HasPrefix(line, "consuming "):
			connects++
		}
		if strings.Contains(line, "CONNECTION_FORCED") && strings.Contains(line, "rotation") {
			forced++
		}
		if strings.Contains(line, "access refused") || strings.Contains(line, "ACCESS_REFUSED") || strings.Contains(line, "not allowed") {
			refused++
		}
		connections = append(connections, line)
	}
	t.Logf("the bridge logged, besides its batches:\n%s", strings.Join(connections, "\n"))
	dlq := drain(t, f, f.Top.DeadLetterQueue())
	t.Logf("ROTATION UNDER LOAD: %d messages, %d rotations (mapping 4, dead-letter 2, administrator 1) in %s: %d lost, %d duplicates "+
		"(from %d batches, each the last a connection handled before it closed; %d messages in batches whose settlement failed), "+
		"%d connections of the bridge (%d closed by rotation), %d authentication failures, %d dead-lettered (%d distinct) with %d failed dead-letter attempts",
		n, rotations, elapsed.Round(100*time.Millisecond), lost, duplicates, len(inFlightBatches), inFlight, connects, forced, refused,
		dlq.total, len(dlq.ids), deadLetterFailures)
	if lost > 0 {
		t.Errorf("%d messages lost", lost)
	}
	if unexplained > 0 {
		t.Errorf("%d duplicates first handled in a batch other than the last of a connection that closed", unexplained)
	}
	if refused > 0 {
		t.Errorf("the bridge was refused a login %d times", refused)
	}
	if forced < 2 || connects < 3 {
		t.Errorf("the bridge connected %d times, %d of them after a rotation closed its connection: want the second and fourth mapping rotations to move it", connects, forced)
	}
	if len(dlq.ids) != chunks {
		t.Errorf("the dead-letter queue holds %d distinct messages, want the %d poison ones", len(dlq.ids), chunks)
	}
}

func waitUntil(ctx context.Context, t *testing.T, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatal("timed out waiting for every message to be processed and the queue drained")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

type drained struct {
	total int
	ids   map[string]bool
}

// drain empties queue as the broker's administrator and returns what it held.
func drain(t *testing.T, f *Fixture, queue string) drained {
	t.Helper()
	conn, err := rabbitops.Dial(context.Background(), f.B.TLSEndpoint, rabbitops.Credentials{Username: f.B.Username, Password: f.B.Password}, "/", f.B.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	d := drained{ids: map[string]bool{}}
	for {
		var msg amqp.Delivery
		var ok bool
		if msg, ok, err = ch.Get(queue, true); err != nil {
			t.Fatal(err)
		} else if !ok {
			return d
		}
		d.total++
		d.ids[msg.MessageId] = true
	}
}
