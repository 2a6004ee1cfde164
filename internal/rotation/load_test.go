package rotation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
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
// it changed. Nothing may be lost, a duplicate may only come from a batch whose settlement a
// closed connection lost, and the bridge must never be refused a login.
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
		for _, id := range ids {
			seen[id]++
		}
		lastCall = time.Now()
		return nil
	}
	var logMu sync.Mutex
	var logged []string
	cfg := localesm.Config{Queue: f.Top.Queue, VHost: "/", BatchSize: 100, BatchingWindow: 20 * time.Millisecond,
		Logf: func(format string, args ...any) {
			logMu.Lock()
			defer logMu.Unlock()
			logged = append(logged, fmt.Sprintf(format, args...))
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
		return all && still && err == nil && q.MessagesReady+q.MessagesUnacknowledged == 0
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
	lost, duplicates := 0, 0
	for c := range chunks {
		for i := range perChunk {
			switch k := seen[rabbitops.MessageID(fmt.Sprintf("load%02d", c), i)]; {
			case k == 0:
				lost++
			case k > 1:
				duplicates += k - 1
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
		"(%d messages were in batches whose settlement a closed connection lost), %d connections of the bridge (%d closed by rotation), "+
		"%d authentication failures, %d dead-lettered (%d distinct) with %d failed dead-letter attempts",
		n, rotations, elapsed.Round(100*time.Millisecond), lost, duplicates, inFlight, connects, forced, refused, dlq.total, len(dlq.ids), deadLetterFailures)
	if lost > 0 {
		t.Errorf("%d messages lost", lost)
	}
	if duplicates > inFlight {
		t.Errorf("%d duplicates, more than the %d messages of the batches in flight when a connection closed", duplicates, inFlight)
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
