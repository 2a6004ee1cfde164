package rabbitops

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/brokertest"
)

// connect dials the local broker the way the provisioner dials Amazon MQ: endpoint without
// credentials, credentials apart, TLS verified against the test CA.
func connect(t *testing.T) (*amqp.Connection, Credentials, string) {
	t.Helper()
	b := brokertest.Require(t)
	creds := Credentials{Username: b.Username, Password: b.Password}
	endpoint := b.TLSEndpoint
	conn, err := Dial(context.Background(), endpoint, creds, "/", b.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn, creds, endpoint
}

var queueSeq atomic.Int64

// topology returns a fresh topology whose queues are deleted when the test ends.
func topology(t *testing.T, conn *amqp.Connection, limit int) Topology {
	t.Helper()
	top := Topology{Queue: fmt.Sprintf("test-%s-%d-%d", strings.ToLower(t.Name()[:min(len(t.Name()), 20)]), time.Now().UnixNano(), queueSeq.Add(1)), VHost: "/", DeliveryLimit: limit}
	top.Queue = strings.NewReplacer("/", "-", " ", "-").Replace(top.Queue)
	t.Cleanup(func() {
		ch, err := conn.Channel()
		if err != nil {
			return
		}
		defer ch.Close()
		_, _ = ch.QueueDelete(top.Queue, false, false, false)
		_, _ = ch.QueueDelete(top.DeadLetterQueue(), false, false, false)
		_ = ch.ExchangeDelete(top.DeadLetterExchange(), false, false)
	})
	return top
}

func channel(t *testing.T, conn *amqp.Connection) *amqp.Channel {
	t.Helper()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ch.Close() })
	return ch
}

func depth(t *testing.T, conn *amqp.Connection, queue string) int {
	t.Helper()
	q, err := channel(t, conn).QueueDeclarePassive(queue, true, false, false, false, nil)
	if err != nil {
		t.Fatalf("queue %s: %v", queue, err)
	}
	return q.Messages
}

func TestDeclareIsIdempotent(t *testing.T) {
	conn, _, _ := connect(t)
	top := topology(t, conn, 5)
	for i := range 3 {
		if err := Declare(channel(t, conn), top); err != nil {
			t.Fatalf("declaration %d: %v", i+1, err)
		}
	}
	// A passive declaration with other arguments would fail; this one names the queue only,
	// so check the arguments by re-declaring with exactly what Declare uses.
	if _, err := channel(t, conn).QueueDeclare(top.Queue, true, false, false, false, top.queueArguments()); err != nil {
		t.Errorf("the queue does not carry Declare's arguments: %v", err)
	}
}

func TestDeclareRefusesConflictingQueueAndDeletesNothing(t *testing.T) {
	conn, _, _ := connect(t)
	top := topology(t, conn, 5)
	ch := channel(t, conn)
	if _, err := ch.QueueDeclare(top.Queue, true, false, false, false, nil); err != nil { // a classic queue
		t.Fatal(err)
	}
	if err := ch.PublishWithContext(context.Background(), "", top.Queue, false, false, amqp.Publishing{Body: []byte("keep me")}); err != nil {
		t.Fatal(err)
	}
	waitDepth(t, conn, top.Queue, 1)

	err := Declare(channel(t, conn), top)
	if !errors.Is(err, ErrQueueConflict) {
		t.Fatalf("want ErrQueueConflict, got %v", err)
	}
	if !strings.Contains(err.Error(), top.Queue) || !strings.Contains(err.Error(), "inequivalent arg") || !strings.Contains(err.Error(), "Nothing was deleted") {
		t.Errorf("the message does not explain the conflict: %v", err)
	}
	if got := depth(t, conn, top.Queue); got != 1 {
		t.Errorf("the existing queue holds %d messages after the failed declaration, want 1", got)
	}
}

func TestPublishWithConfirms(t *testing.T) {
	conn, _, _ := connect(t)
	top := topology(t, conn, 5)
	if err := Declare(channel(t, conn), top); err != nil {
		t.Fatal(err)
	}
	published, err := Publish(context.Background(), channel(t, conn), top, "run42", 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(published) != 50 || published[0].MessageID != "run42-000000" || published[49].MessageID != "run42-000049" {
		t.Errorf("published = %d messages, ids %s..%s", len(published), published[0].MessageID, published[len(published)-1].MessageID)
	}
	waitDepth(t, conn, top.Queue, 50)
}

func TestPublishToMissingQueueFails(t *testing.T) {
	conn, _, _ := connect(t)
	top := topology(t, conn, 5) // never declared
	_, err := Publish(context.Background(), channel(t, conn), top, "run", 3)
	if !errors.Is(err, ErrUnroutable) {
		t.Fatalf("want ErrUnroutable, got %v", err)
	}
}

func TestDialErrors(t *testing.T) {
	_, creds, endpoint := connect(t)
	b := brokertest.Require(t)
	ctx := context.Background()

	wrong := Credentials{Username: creds.Username, Password: "not-the-password-1234"}
	_, err := Dial(ctx, endpoint, wrong, "/", b.CAFile)
	if err == nil || !strings.Contains(err.Error(), "access refused") || strings.Contains(err.Error(), wrong.Password) {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := Dial(ctx, endpoint, creds, "/", ""); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("an unknown CA must fail verification, got %v", err)
	}
	if _, err := Dial(ctx, "amqps://user:pw@localhost:5671", creds, "/", b.CAFile); err == nil || strings.Contains(err.Error(), "pw@") {
		t.Errorf("credentials in the URL: %v", err)
	}
	if _, err := Dial(ctx, "amqps://127.0.0.1:1", creds, "/", b.CAFile); err == nil {
		t.Error("a closed port must fail")
	}
}

// TestDeliveryLimitDeadLetters establishes, on the real broker, that a message rejected on
// every delivery is delivered exactly DeliveryLimit times and then dead-lettered.
func TestDeliveryLimitDeadLetters(t *testing.T) {
	conn, _, _ := connect(t)
	for _, limit := range []int{1, 3} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			top := topology(t, conn, limit)
			if err := Declare(channel(t, conn), top); err != nil {
				t.Fatal(err)
			}
			if _, err := Publish(context.Background(), channel(t, conn), top, "poison", 1); err != nil {
				t.Fatal(err)
			}
			ch := channel(t, conn)
			deliveries, err := ch.Consume(top.Queue, "", false, false, false, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			count := 0
			deadline := time.After(20 * time.Second)
			for depthOf(ch, top.DeadLetterQueue()) == 0 {
				select {
				case d := <-deliveries:
					count++
					_ = d.Nack(false, true)
				case <-time.After(100 * time.Millisecond):
				case <-deadline:
					t.Fatalf("not dead-lettered after %d deliveries", count)
				}
			}
			if count != limit {
				t.Errorf("delivered %d times before dead-lettering, want exactly %d", count, limit)
			}
		})
	}
}

func depthOf(ch *amqp.Channel, queue string) int {
	q, err := ch.QueueDeclarePassive(queue, true, false, false, false, nil)
	if err != nil {
		return -1
	}
	return q.Messages
}

func waitDepth(t *testing.T, conn *amqp.Connection, queue string, want int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if depth(t, conn, queue) == want {
			return
		}
	}
	t.Fatalf("queue %s holds %d messages, want %d", queue, depth(t, conn, queue), want)
}

// TestQueueNameRule is the rule the program applies before deploying and the provisioner
// before declaring: the dead-letter names must fit RabbitMQ's 255 bytes too.
func TestQueueNameRule(t *testing.T) {
	for name, ok := range map[string]bool{
		"events": true, strings.Repeat("q", 251): true, strings.Repeat("q", 252): false,
		"": false, "amq.events": false, "ev\nents": false,
	} {
		if got := contract.QueueNameProblem(name) == ""; got != ok {
			t.Errorf("queue name %.20q (%d bytes): accepted %v, want %v", name, len(name), got, ok)
		}
		if err := (Topology{Queue: name, VHost: "/", DeliveryLimit: 5}).Validate(); (err == nil) != ok {
			t.Errorf("topology with queue %.20q: %v", name, err)
		}
	}
}

// TestAnotherDeliveryLimitIsAConflict backs docs/configuration.md's day-two row for deliveryLimit:
// RabbitMQ does not change an existing queue's x-delivery-limit, and the declaration refuses
// the difference instead of deleting the queue.
func TestAnotherDeliveryLimitIsAConflict(t *testing.T) {
	conn, _, _ := connect(t)
	top := topology(t, conn, 5)
	if err := Declare(channel(t, conn), top); err != nil {
		t.Fatal(err)
	}
	top.DeliveryLimit = 10
	if err := Declare(channel(t, conn), top); !errors.Is(err, ErrQueueConflict) {
		t.Fatalf("redeclaring with delivery limit 10 over 5: want ErrQueueConflict, got %v", err)
	}
}
