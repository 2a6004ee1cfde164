package rabbitops

import (
	"context"
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

func TestParseEngineVersion(t *testing.T) {
	for v, want := range map[string][2]int{"3.13": {3, 13}, "4.2": {4, 2}, "4.3": {4, 3}, "3.13.7": {3, 13}, "4.0.10": {4, 0}} {
		major, minor, err := ParseEngineVersion(v)
		if err != nil || major != want[0] || minor != want[1] {
			t.Errorf("ParseEngineVersion(%q) = %d, %d, %v; want %d.%d", v, major, minor, err, want[0], want[1])
		}
	}
	for _, v := range []string{"", "4", "latest", "4.x", "-4.2", "+4.2", "4.2.", "4.2.1.0", " 4.2", "4.2-rc1"} {
		if _, _, err := ParseEngineVersion(v); err == nil {
			t.Errorf("ParseEngineVersion(%q) accepted it", v)
		}
	}
	if err := (Topology{Queue: "events", VHost: "/", DeliveryLimit: 5, EngineVersion: "four"}).Validate(); err == nil ||
		!strings.Contains(err.Error(), "engine version") {
		t.Errorf("a topology with engine version \"four\": %v", err)
	}
}

// TestDeadLetterQueueArgumentsPerVersion checks the table a 4.x declaration sends, unit-level:
// the broker here is Debian's RabbitMQ 3.10, so no test in this repository runs RabbitMQ 4.
// On 4.0+ a quorum queue without x-delivery-limit gets the default limit of 20 and, having
// no dead-letter exchange of its own, the dead-letter queue would drop a dead letter at its
// 20th return; -1 turns the limit off. On 3.x there is no default and a negative limit drops
// a message at its first return (TestNegativeDeliveryLimitDropsOn3x), so the argument is left out.
func TestDeadLetterQueueArgumentsPerVersion(t *testing.T) {
	for version, wantLimit := range map[string]any{"": nil, "3.13": nil, "3.13.7": nil, "4.0": int64(-1), "4.2": int64(-1), "4.3": int64(-1), "5.0": int64(-1)} {
		args := Topology{Queue: "events", VHost: "/", DeliveryLimit: 5, EngineVersion: version}.deadLetterQueueArguments()
		if args["x-queue-type"] != "quorum" {
			t.Errorf("%q: the dead-letter queue is not a quorum queue: %v", version, args)
		}
		limit, set := args["x-delivery-limit"]
		if (wantLimit == nil) == set || (set && limit != wantLimit) {
			t.Errorf("%q: x-delivery-limit = %v (set %v), want %v", version, limit, set, wantLimit)
		}
		if len(args) > 2 {
			t.Errorf("%q: unexpected arguments %v", version, args)
		}
	}
	// The main queue's limit is explicit on every version, so 4.x's default 20 never applies.
	for _, version := range []string{"3.13", "4.2"} {
		if got := (Topology{Queue: "events", VHost: "/", DeliveryLimit: 5, EngineVersion: version}).queueArguments()["x-delivery-limit"]; got != int64(4) {
			t.Errorf("%s: the main queue's x-delivery-limit = %v, want 4", version, got)
		}
	}
}

// returnTimes takes the queue's only message and returns it (basic.nack with requeue) n times.
func returnTimes(t *testing.T, ch *amqp.Channel, queue string, n int) amqp.Delivery {
	t.Helper()
	var d amqp.Delivery
	for i := range n {
		var ok bool
		var err error
		if d, ok, err = ch.Get(queue, false); err != nil || !ok {
			t.Fatalf("get %d from %s: ok=%v, %v", i+1, queue, ok, err)
		}
		if err := d.Nack(false, true); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// TestDeadLetterQueueOn3xKeepsReturnedMessages: declared for 3.13, the dead-letter queue has
// no delivery limit and a dead letter returned 25 times (a redrive's dry runs, failed moves)
// is still there.
func TestDeadLetterQueueOn3xKeepsReturnedMessages(t *testing.T) {
	conn, _, _ := connect(t)
	top := topology(t, conn, 5)
	top.EngineVersion = "3.13"
	warnings, err := DeclareOn(conn, top)
	if err != nil || len(warnings) > 0 {
		t.Fatalf("DeclareOn = %v, %v", warnings, err)
	}
	// Redeclaring with exactly these arguments succeeds only if the queue carries no other.
	if _, err := channel(t, conn).QueueDeclare(top.DeadLetterQueue(), true, false, false, false, amqp.Table{"x-queue-type": "quorum"}); err != nil {
		t.Fatalf("the dead-letter queue carries other arguments than x-queue-type: %v", err)
	}
	if _, err := channel(t, conn).QueueDeclare(top.Queue, true, false, false, false, top.queueArguments()); err != nil {
		t.Fatalf("the queue does not carry its arguments: %v", err)
	}
	ch := channel(t, conn)
	if err := ch.PublishWithContext(context.Background(), top.DeadLetterExchange(), top.DeadLetterQueue(), false, false,
		amqp.Publishing{Body: []byte("dead letter"), DeliveryMode: amqp.Persistent}); err != nil {
		t.Fatal(err)
	}
	waitDepth(t, conn, top.DeadLetterQueue(), 1)
	last := returnTimes(t, ch, top.DeadLetterQueue(), 25)
	if !last.Redelivered {
		t.Error("the 25th delivery is not marked redelivered")
	}
	waitDepth(t, conn, top.DeadLetterQueue(), 1)
	if d, ok, err := ch.Get(top.DeadLetterQueue(), false); err != nil || !ok || string(d.Body) != "dead letter" {
		t.Fatalf("after 25 returns: ok=%v, %v", ok, err)
	} else if count, _ := d.Headers["x-delivery-count"].(int64); count < 25 {
		t.Errorf("x-delivery-count = %v after 25 returns", d.Headers["x-delivery-count"])
	}
}

// TestNegativeDeliveryLimitDropsOn3x is why a 3.x declaration never sends RabbitMQ 4's
// "unlimited" -1: on 3.x a quorum queue takes it as a limit already exceeded.
func TestNegativeDeliveryLimitDropsOn3x(t *testing.T) {
	conn, _, _ := connect(t)
	if _, major, ok := reportedMajor(conn); !ok || major >= 4 {
		t.Skipf("the test broker reports %v, not 3.x", conn.Properties["version"])
	}
	top := topology(t, conn, 5)
	ch := channel(t, conn)
	if _, err := ch.QueueDeclare(top.DeadLetterQueue(), true, false, false, false, amqp.Table{"x-queue-type": "quorum", "x-delivery-limit": int64(-1)}); err != nil {
		t.Fatal(err)
	}
	if err := ch.PublishWithContext(context.Background(), "", top.DeadLetterQueue(), false, false, amqp.Publishing{Body: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	waitDepth(t, conn, top.DeadLetterQueue(), 1)
	returnTimes(t, ch, top.DeadLetterQueue(), 1)
	waitDepth(t, conn, top.DeadLetterQueue(), 0)
}

// TestExistingDeadLetterQueueWithOtherArgumentsIsKept: a dead-letter queue declared with
// other arguments (here a delivery limit of 20, what RabbitMQ 4 applies by default) does not
// fail the declaration: it is kept with its messages, a warning says what is at risk and how
// to fix it, and the main queue is declared and dead-letters into it.
func TestExistingDeadLetterQueueWithOtherArgumentsIsKept(t *testing.T) {
	conn, _, _ := connect(t)
	top := topology(t, conn, 2)
	top.EngineVersion = "3.13"
	ch := channel(t, conn)
	if _, err := ch.QueueDeclare(top.DeadLetterQueue(), true, false, false, false, amqp.Table{"x-queue-type": "quorum", "x-delivery-limit": int64(20)}); err != nil {
		t.Fatal(err)
	}
	if err := ch.PublishWithContext(context.Background(), "", top.DeadLetterQueue(), false, false, amqp.Publishing{Body: []byte("old dead letter")}); err != nil {
		t.Fatal(err)
	}
	waitDepth(t, conn, top.DeadLetterQueue(), 1)

	if err := Declare(channel(t, conn), top); err == nil {
		t.Fatal("the strict Declare accepted the dead-letter queue's other arguments")
	}
	for i := range 2 { // and again: the declaration stays repeatable
		warnings, err := DeclareOn(conn, top)
		if err != nil {
			t.Fatalf("declaration %d: %v", i+1, err)
		}
		if len(warnings) != 1 || !strings.Contains(warnings[0], top.DeadLetterQueue()) || !strings.Contains(warnings[0], "x-delivery-limit") ||
			!strings.Contains(warnings[0], "drain it with the redrive") || !strings.Contains(warnings[0], `{"action":"declare"}`) {
			t.Errorf("declaration %d: warnings = %q", i+1, warnings)
		} else if i == 0 {
			t.Logf("warning: %s", warnings[0])
		}
	}
	if _, err := channel(t, conn).QueueDeclare(top.Queue, true, false, false, false, top.queueArguments()); err != nil {
		t.Fatalf("the main queue was not declared with its arguments: %v", err)
	}
	// The main queue dead-letters into the kept queue: delivered twice, the message moves.
	if err := ch.PublishWithContext(context.Background(), "", top.Queue, false, false, amqp.Publishing{Body: []byte("poison")}); err != nil {
		t.Fatal(err)
	}
	waitDepth(t, conn, top.Queue, 1)
	returnTimes(t, ch, top.Queue, 2)
	waitDepth(t, conn, top.DeadLetterQueue(), 2)
}

// TestBrokerVersionDecides: a stack configured for RabbitMQ 4 on a broker that still runs 3.x
// (an upgrade not applied yet) must not get the -1 that drops messages on 3.x.
func TestBrokerVersionDecides(t *testing.T) {
	conn, _, _ := connect(t)
	reported, major, ok := reportedMajor(conn)
	if !ok || major >= 4 {
		t.Skipf("the test broker reports %q, not 3.x", reported)
	}
	top := topology(t, conn, 5)
	top.EngineVersion = "4.2"
	warnings, err := DeclareOn(conn, top)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "the broker reports RabbitMQ "+reported) || !strings.Contains(warnings[0], "4.2") {
		t.Errorf("warnings = %q", warnings)
	} else {
		t.Logf("warning: %s", warnings[0])
	}
	if _, err := channel(t, conn).QueueDeclare(top.DeadLetterQueue(), true, false, false, false, amqp.Table{"x-queue-type": "quorum"}); err != nil {
		t.Fatalf("the dead-letter queue was not declared as for 3.x: %v", err)
	}
}
