package rabbitadmin_test

// These tests run against the real RabbitMQ of scripts/test-broker.sh, its management API
// included. Every refusal is the broker's own answer: ACCESS_REFUSED (403) on AMQP, HTTP 401
// on the management API. Each is logged, so `go test -v` shows them.

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rabbitadmin"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rabbitops"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/brokertest"
)

const vhost = "/"

// stack is one test's topology, declared by the administrator as the provisioner does, and
// the administrator's connection and management client.
type stack struct {
	b      brokertest.Broker
	mgmt   string
	admin  *rabbitadmin.Client
	conn   *amqp.Connection
	top    rabbitops.Topology
	lookal string // a queue whose name the queue's regexp would match if the dots were not escaped
}

func suffix(t *testing.T) string {
	t.Helper()
	raw := make([]byte, 4)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(raw)
}

// newStack declares a topology whose queue name needs escaping (dots, + and *), and a queue
// named like it with the dots replaced, which an unescaped expression would also grant.
func newStack(t *testing.T) *stack {
	t.Helper()
	b, mgmt := brokertest.RequireManagement(t)
	admin, err := rabbitadmin.New(mgmt, b.Username, b.Password, roots(t, b))
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{b: b, mgmt: mgmt, admin: admin, conn: dial(t, b, rabbitops.Credentials{Username: b.Username, Password: b.Password})}
	s.top = rabbitops.Topology{Queue: "esm.users+t*" + suffix(t), VHost: vhost, DeliveryLimit: 3}
	s.lookal = strings.ReplaceAll(s.top.Queue, ".", "X")
	ch, err := s.conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := rabbitops.Declare(ch, s.top); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare(s.lookal, true, false, false, false, amqp.Table{"x-queue-type": "quorum"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ch, err := s.conn.Channel()
		if err != nil {
			return
		}
		for _, q := range []string{s.top.Queue, s.top.DeadLetterQueue(), s.lookal} {
			_, _ = ch.QueueDelete(q, false, false, false)
		}
		_ = ch.ExchangeDelete(s.top.DeadLetterExchange(), false, false)
	})
	return s
}

// roots are the test CA's, which signed the broker's certificate.
func roots(t *testing.T, b brokertest.Broker) *x509.CertPool {
	t.Helper()
	pool, err := rabbitops.CAPool(b.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	return pool
}

func dial(t *testing.T, b brokertest.Broker, creds rabbitops.Credentials) *amqp.Connection {
	t.Helper()
	conn, err := rabbitops.Dial(t.Context(), b.TLSEndpoint, creds, vhost, b.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// user creates a user of role with a generated password, deleted at the end of the test.
func (s *stack) user(t *testing.T, role rabbitadmin.Role) rabbitops.Credentials {
	t.Helper()
	g, err := rabbitadmin.PermissionsFor(role, rabbitadmin.Objects{Queue: s.top.Queue, DeadLetterExchange: s.top.DeadLetterExchange()})
	if err != nil {
		t.Fatal(err)
	}
	creds := rabbitops.Credentials{Username: "esm-" + string(role) + "-" + suffix(t), Password: suffix(t) + suffix(t) + suffix(t)}
	if err := s.admin.EnsureUser(t.Context(), vhost, creds.Username, creds.Password, g); err != nil {
		t.Fatal(err)
	}
	t.Logf("user %s: tags %v, %s", creds.Username, g.Tags, g.Permissions)
	t.Cleanup(func() { _ = s.admin.DeleteUser(context.Background(), creds.Username) })
	return creds
}

// publish sends one message as the administrator to the stack's queue.
func (s *stack) publish(t *testing.T, body string) {
	t.Helper()
	ch, err := s.conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	if err := rabbitops.PublishConfirmed(t.Context(), ch, "", s.top.Queue, []amqp.Publishing{{Body: []byte(body)}}); err != nil {
		t.Fatal(err)
	}
}

// depth is the number of ready messages in queue, as the administrator sees it.
func (s *stack) depth(t *testing.T, queue string) int {
	t.Helper()
	ch, err := s.conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	q, err := ch.QueueDeclarePassive(queue, true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	return q.Messages
}

// awaitDepth waits up to 10s for queue to hold want ready messages.
func (s *stack) awaitDepth(t *testing.T, queue string, want int, which string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.depth(t, queue) != want && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if got := s.depth(t, queue); got != want {
		t.Errorf("%s holds %d messages, want %s", queue, got, which)
	}
}

// refused runs op on a fresh channel of conn and requires the broker to close the channel with
// ACCESS_REFUSED, whether op returned the error (synchronous methods) or the channel was closed
// after it (basic.publish is asynchronous).
func refused(t *testing.T, conn *amqp.Connection, what string, op func(*amqp.Channel) error) {
	t.Helper()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatalf("%s: opening a channel: %v", what, err)
	}
	defer ch.Close()
	closed := ch.NotifyClose(make(chan *amqp.Error, 1))
	opErr := op(ch)
	var amqpErr *amqp.Error
	if !errors.As(opErr, &amqpErr) {
		select {
		case amqpErr = <-closed:
		case <-time.After(10 * time.Second):
		}
	}
	if amqpErr == nil {
		t.Errorf("%s: ALLOWED (op returned %v), want ACCESS_REFUSED", what, opErr)
		return
	}
	if amqpErr.Code != amqp.AccessRefused {
		t.Errorf("%s: broker answered %d %s, want %d ACCESS_REFUSED", what, amqpErr.Code, amqpErr.Reason, amqp.AccessRefused)
		return
	}
	t.Logf("REFUSED %-40s %d %s", what+":", amqpErr.Code, amqpErr.Reason)
}

// allowed runs op on a fresh channel and requires it to succeed.
func allowed(t *testing.T, conn *amqp.Connection, what string, op func(*amqp.Channel) error) {
	t.Helper()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatalf("%s: opening a channel: %v", what, err)
	}
	defer ch.Close()
	if err := op(ch); err != nil {
		t.Errorf("%s: REFUSED, want it allowed: %v", what, err)
		return
	}
	t.Logf("allowed %s", what)
}

func publishTo(exchange, key string) func(*amqp.Channel) error {
	return func(ch *amqp.Channel) error {
		return ch.PublishWithContext(context.Background(), exchange, key, false, false, amqp.Publishing{Body: []byte("x")})
	}
}

// confirmedPublish publishes as the dead-letter publisher does: confirms on, mandatory.
func confirmedPublish(exchange, key string) func(*amqp.Channel) error {
	return func(ch *amqp.Channel) error {
		if err := ch.Confirm(false); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return rabbitops.PublishConfirmed(ctx, ch, exchange, key, []amqp.Publishing{{Body: []byte("dead letter")}})
	}
}

func consume(queue string) func(*amqp.Channel) error {
	return func(ch *amqp.Channel) error {
		_, err := ch.Consume(queue, "", false, false, false, false, nil)
		return err
	}
}

func get(queue string) func(*amqp.Channel) error {
	return func(ch *amqp.Channel) error {
		_, _, err := ch.Get(queue, false)
		return err
	}
}

// forbiddenToBoth are what neither the mapping's user nor the dead-letter publisher may do.
func forbiddenToBoth(t *testing.T, s *stack, conn *amqp.Connection) {
	t.Helper()
	q, dlx, dlq := s.top.Queue, s.top.DeadLetterExchange(), s.top.DeadLetterQueue()
	refused(t, conn, "publish to the default exchange", publishTo("", q))
	refused(t, conn, "publish to amq.direct", publishTo("amq.direct", q))
	refused(t, conn, "declare a new queue", func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclare("esm-intruder-"+suffix(t), false, true, false, false, nil)
		return err
	})
	refused(t, conn, "re-declare the queue (not passive)", func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclare(q, true, false, false, false, amqp.Table{
			"x-queue-type": "quorum", "x-delivery-limit": int64(2), "x-dead-letter-exchange": dlx, "x-dead-letter-routing-key": dlq,
		})
		return err
	})
	refused(t, conn, "delete the queue", func(ch *amqp.Channel) error { _, err := ch.QueueDelete(q, false, false, false); return err })
	refused(t, conn, "delete the dead-letter queue", func(ch *amqp.Channel) error { _, err := ch.QueueDelete(dlq, false, false, false); return err })
	refused(t, conn, "declare a new exchange", func(ch *amqp.Channel) error {
		return ch.ExchangeDeclare("esm-intruder-"+suffix(t), amqp.ExchangeFanout, false, true, false, false, nil)
	})
	refused(t, conn, "re-declare the dead-letter exchange", func(ch *amqp.Channel) error {
		return ch.ExchangeDeclare(dlx, amqp.ExchangeDirect, true, false, false, false, nil)
	})
	refused(t, conn, "delete the dead-letter exchange", func(ch *amqp.Channel) error { return ch.ExchangeDelete(dlx, false, false) })
	refused(t, conn, "bind the queue to the dead-letter exchange", func(ch *amqp.Channel) error { return ch.QueueBind(q, "k", dlx, false, nil) })
	refused(t, conn, "bind the dead-letter queue to amq.fanout", func(ch *amqp.Channel) error { return ch.QueueBind(dlq, "", "amq.fanout", false, nil) })
	refused(t, conn, "bind the dead-letter exchange to amq.fanout", func(ch *amqp.Channel) error { return ch.ExchangeBind(dlx, "", "amq.fanout", false, nil) })
	refused(t, conn, "consume the dead-letter queue", consume(dlq))
	refused(t, conn, "basic.get from the dead-letter queue", get(dlq))
	refused(t, conn, "consume a queue named like it ("+s.lookal+")", consume(s.lookal))
	refused(t, conn, "purge the dead-letter queue", func(ch *amqp.Channel) error { _, err := ch.QueuePurge(dlq, false); return err })
}

// noManagement: the user's credentials open nothing in the management API.
func noManagement(t *testing.T, s *stack, creds rabbitops.Credentials) {
	t.Helper()
	c, err := rabbitadmin.New(s.mgmt, creds.Username, creds.Password, roots(t, s.b))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.VHostExists(t.Context(), vhost)
	if !rabbitadmin.IsStatus(err, http.StatusUnauthorized) {
		t.Errorf("management API as %s: %v, want HTTP 401", creds.Username, err)
		return
	}
	t.Logf("REFUSED %-40s %v", "open the management API:", err)
}

// TestMappingUserCanOnlyConsumeItsQueue: the mapping's user does what Lambda's poller does —
// a passive declare, basic.qos, basic.consume, basic.ack, basic.nack (requeue or not),
// basic.reject — and basic.get; it cannot publish anywhere, declare, delete or bind anything,
// read any other queue, or open the management API.
func TestMappingUserCanOnlyConsumeItsQueue(t *testing.T) {
	s := newStack(t)
	creds := s.user(t, rabbitadmin.RoleMappingConsumer)
	conn := dial(t, s.b, creds)
	q := s.top.Queue
	for i := range 4 {
		s.publish(t, "m"+string(rune('0'+i)))
	}

	allowed(t, conn, "passive declare, qos, consume, ack, nack with requeue, reject", func(ch *amqp.Channel) error {
		if _, err := ch.QueueDeclarePassive(q, true, false, false, false, nil); err != nil {
			return err
		}
		if err := ch.Qos(10, 0, false); err != nil {
			return err
		}
		deliveries, err := ch.Consume(q, "esm-test-mapping", false, false, false, false, nil)
		if err != nil {
			return err
		}
		next := func() (amqp.Delivery, error) {
			select {
			case d := <-deliveries:
				return d, nil
			case <-time.After(10 * time.Second):
				return amqp.Delivery{}, errors.New("no delivery within 10s")
			}
		}
		d, err := next()
		if err != nil {
			return err
		}
		if err := d.Ack(false); err != nil {
			return err
		}
		if d, err = next(); err != nil {
			return err
		}
		if err := d.Nack(false, true); err != nil { // back to the queue: delivered again below
			return err
		}
		for range 2 {
			if d, err = next(); err != nil {
				return err
			}
		}
		// The queue's own dead-lettering needs nothing of the consumer.
		if err := d.Reject(false); err != nil {
			return err
		}
		return ch.Cancel("esm-test-mapping", false)
	})
	allowed(t, conn, "basic.get and nack without requeue", func(ch *amqp.Channel) error {
		d, ok, err := ch.Get(q, false)
		if err != nil || !ok {
			return errors.Join(err, errors.New("basic.get found no message"))
		}
		return d.Nack(false, false)
	})
	s.awaitDepth(t, s.top.DeadLetterQueue(), 2, "the 2 the consumer rejected")

	forbiddenToBoth(t, s, conn)
	refused(t, conn, "publish to the dead-letter exchange", publishTo(s.top.DeadLetterExchange(), s.top.DeadLetterQueue()))
	noManagement(t, s, creds)
}

// TestDeadLetterUserCanOnlyPublishToTheDeadLetterExchange: the listener's dead-letter user
// publishes as deadletter does (confirms, mandatory) and the message reaches the dead-letter
// queue; it cannot read its own queue or anything else.
func TestDeadLetterUserCanOnlyPublishToTheDeadLetterExchange(t *testing.T) {
	s := newStack(t)
	creds := s.user(t, rabbitadmin.RoleDeadLetterPublisher)
	conn := dial(t, s.b, creds)
	s.publish(t, "for the queue")

	allowed(t, conn, "confirmed, mandatory publish to the dead-letter exchange", confirmedPublish(s.top.DeadLetterExchange(), s.top.DeadLetterQueue()))
	s.awaitDepth(t, s.top.DeadLetterQueue(), 1, "the 1 published")

	forbiddenToBoth(t, s, conn)
	refused(t, conn, "consume the queue", consume(s.top.Queue))
	refused(t, conn, "basic.get from the queue", get(s.top.Queue))
	refused(t, conn, "purge the queue", func(ch *amqp.Channel) error { _, err := ch.QueuePurge(s.top.Queue, false); return err })
	noManagement(t, s, creds)
}

// TestMappingUserCanPurgeItsQueue pins a limit of RabbitMQ's model, stated in
// docs/broker-users.md: queue.purge needs the same read permission as basic.consume, so the
// mapping's user can empty its own queue. Nothing narrower exists.
func TestMappingUserCanPurgeItsQueue(t *testing.T) {
	s := newStack(t)
	conn := dial(t, s.b, s.user(t, rabbitadmin.RoleMappingConsumer))
	s.publish(t, "purged")
	allowed(t, conn, "purge its own queue", func(ch *amqp.Channel) error { _, err := ch.QueuePurge(s.top.Queue, false); return err })
}

// TestMonitorReadsFiguresOnly: the monitoring tag opens the management API's read side, and
// the permission entry that grants nothing lets an AMQP connection open and do nothing.
func TestMonitorReadsFiguresOnly(t *testing.T) {
	s := newStack(t)
	creds := s.user(t, rabbitadmin.RoleMonitor)
	c, err := rabbitadmin.New(s.mgmt, creds.Username, creds.Password, roots(t, s.b))
	if err != nil {
		t.Fatal(err)
	}
	s.publish(t, "counted")
	deadline := time.Now().Add(15 * time.Second)
	for {
		q, found, err := c.GetQueue(t.Context(), vhost, s.top.Queue)
		if err != nil || !found {
			t.Fatalf("the monitor reading the queue: %v, found %v, %v", q, found, err)
		}
		if q.MessagesReady != nil && *q.MessagesReady == 1 {
			t.Logf("allowed read the queue's figures: %v", q)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the monitor reads %v, want 1 message ready", q)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := c.VHostExists(t.Context(), vhost); !rabbitadmin.IsStatus(err, http.StatusUnauthorized) {
		t.Errorf("the monitor reading a virtual host's definition: %v, want HTTP 401", err)
	}
	err = c.PutUser(t.Context(), "esm-intruder-"+suffix(t), "password-"+suffix(t), []string{"administrator"})
	if !rabbitadmin.IsStatus(err, http.StatusUnauthorized) {
		t.Errorf("the monitor creating a user: %v, want HTTP 401", err)
	} else {
		t.Logf("REFUSED %-40s %v", "create a user:", err)
	}
	conn := dial(t, s.b, creds)
	refused(t, conn, "consume the queue", consume(s.top.Queue))
	refused(t, conn, "publish to the default exchange", publishTo("", s.top.Queue))
	refused(t, conn, "declare a new queue", func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclare("esm-intruder-"+suffix(t), false, true, false, false, nil)
		return err
	})

	// Why the monitor has a permission entry that grants nothing: without one, the API keeps
	// the virtual host's queues from it.
	if err := s.admin.ClearPermissions(t.Context(), vhost, creds.Username); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.GetQueue(t.Context(), vhost, s.top.Queue); !rabbitadmin.IsStatus(err, http.StatusUnauthorized) {
		t.Errorf("the monitor without a permission entry reading the queue: %v, want HTTP 401", err)
	} else {
		t.Logf("without a permission entry: %v", err)
	}
}

// TestUsersTagsAndConnections: the client's calls against the broker — tags kept apart from the
// password, a user's connections listed and closed, deletion closing what is left.
func TestUsersTagsAndConnections(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	creds := s.user(t, rabbitadmin.RoleMappingConsumer)

	if err := s.admin.SetTags(ctx, creds.Username, []string{"monitoring"}); err != nil {
		t.Fatal(err)
	}
	if u, found, err := s.admin.GetUser(ctx, creds.Username); err != nil || !found || strings.Join(u.Tags, ",") != "monitoring" {
		t.Errorf("after SetTags: %+v, found %v, %v; want the tag monitoring", u, found, err)
	}
	if err := s.admin.SetTags(ctx, creds.Username, nil); err != nil {
		t.Fatal(err)
	}
	conn := dial(t, s.b, creds) // the password survived both tag changes
	closed := conn.NotifyClose(make(chan *amqp.Error, 1))

	var conns []rabbitadmin.Connection
	deadline := time.Now().Add(15 * time.Second)
	for len(conns) == 0 && time.Now().Before(deadline) {
		var err error
		if conns, err = s.admin.UserConnections(ctx, creds.Username); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(conns) != 1 || conns[0].VHost != vhost {
		t.Fatalf("the user's connections: %+v, want the one open on %q", conns, vhost)
	}
	n, err := s.admin.CloseUserConnections(ctx, creds.Username, "credentials rotated")
	if err != nil || n != 1 {
		t.Fatalf("CloseUserConnections: %d, %v", n, err)
	}
	select {
	case e := <-closed:
		if e == nil || e.Code != amqp.ConnectionForced || !strings.Contains(e.Reason, "credentials rotated") {
			t.Errorf("the connection closed with %v, want CONNECTION_FORCED with the reason given", e)
		} else {
			t.Logf("closed by the broker: %d %s", e.Code, e.Reason)
		}
	case <-time.After(10 * time.Second):
		t.Error("the connection is still open 10s after CloseUserConnections")
	}

	if err := s.admin.DeleteUser(ctx, creds.Username); err != nil {
		t.Fatal(err)
	}
	if err := s.admin.DeleteUser(ctx, creds.Username); err != nil {
		t.Errorf("deleting a user that is gone: %v", err)
	}
	if _, found, err := s.admin.GetUser(ctx, creds.Username); err != nil || found {
		t.Errorf("after DeleteUser: found %v, %v", found, err)
	}
	if _, err := rabbitops.Dial(ctx, s.b.TLSEndpoint, creds, vhost, s.b.CAFile); err == nil || !strings.Contains(err.Error(), "access refused") {
		t.Errorf("logging in as a deleted user: %v, want access refused", err)
	}
	if err := s.admin.SetTags(ctx, creds.Username, nil); err == nil || !strings.Contains(err.Error(), "no such user") {
		t.Errorf("SetTags of a deleted user: %v", err)
	}
}

// TestVHostsAndRefusals: VHostExists tells a missing virtual host from an error, and a refused
// call names what was asked and carries the broker's answer.
func TestVHostsAndRefusals(t *testing.T) {
	b, mgmt := brokertest.RequireManagement(t)
	admin, err := rabbitadmin.New(mgmt, b.Username, b.Password, roots(t, b))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"/": true, "esm-no-such-vhost-" + suffix(t): false} {
		if got, err := admin.VHostExists(t.Context(), name); err != nil || got != want {
			t.Errorf("VHostExists(%q) = %v, %v; want %v", name, got, err, want)
		}
	}
	wrong, err := rabbitadmin.New(mgmt, b.Username, "not-the-password", roots(t, b))
	if err != nil {
		t.Fatal(err)
	}
	err = wrong.PutUser(t.Context(), "esm-someone", "a-password", nil)
	if !rabbitadmin.IsStatus(err, http.StatusUnauthorized) || !strings.Contains(err.Error(), `creating user "esm-someone"`) ||
		strings.Contains(err.Error(), "not-the-password") {
		t.Errorf("PutUser with a wrong administrator password: %v", err)
	}
	t.Logf("refused call: %v", err)
	err = admin.SetPermissions(t.Context(), "esm-no-such-vhost", "esm-test", rabbitadmin.Permissions{})
	if err == nil || !strings.Contains(err.Error(), `virtual host "esm-no-such-vhost"`) {
		t.Errorf("SetPermissions in a missing virtual host: %v", err)
	}
	t.Logf("refused call: %v", err)

	// The system roots do not know the test CA: the client verifies the certificate.
	strict, err := rabbitadmin.New(mgmt, b.Username, b.Password, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := strict.VHostExists(t.Context(), "/"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without the test CA: %v, want a certificate error", err)
	}
	for _, endpoint := range []string{"http://localhost:15672/", "https://user:pw@localhost/", "https://localhost/api/", "localhost:443"} {
		if _, err := rabbitadmin.New(endpoint, "u", "p", nil); err == nil || strings.Contains(err.Error(), ":pw@") {
			t.Errorf("New(%q): %v, want a refusal without the password", endpoint, err)
		}
	}
}
