package monitor_test

// These tests run the monitor against the real RabbitMQ of scripts/test-broker.sh, as a user
// made as the provisioner makes the monitor's (rabbitadmin.RoleMonitor: the monitoring tag and
// an entry that grants nothing), and compare its line with what the broker's API answers the
// administrator.

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/monitor"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rabbitadmin"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rabbitops"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/brokertest"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/secretsfake"
)

// onBroker is a stack's topology on the test broker, the administrator's connection and API
// client, and a monitor that logs in as a monitor user of its own.
type onBroker struct {
	admin *rabbitadmin.Client
	conn  *amqp.Connection
	top   rabbitops.Topology
	m     *monitor.Monitor
}

func newOnBroker(t *testing.T) *onBroker {
	t.Helper()
	b, mgmt := brokertest.RequireManagement(t)
	admin, err := rabbitadmin.New(mgmt, b.Username, b.Password, b.Roots(t))
	if err != nil {
		t.Fatal(err)
	}
	id := strings.ToLower(rand.Text()[:10])
	s := &onBroker{admin: admin, top: rabbitops.Topology{Queue: "esm.mon+" + id, VHost: "/", DeliveryLimit: 3}}
	if s.conn, err = rabbitops.Dial(t.Context(), b.TLSEndpoint, rabbitops.Credentials{Username: b.Username, Password: b.Password}, "/", b.CAFile); err != nil {
		t.Fatal(err)
	}
	ch, err := s.conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := rabbitops.Declare(ch, s.top); err != nil {
		t.Fatal(err)
	}
	user := rabbitops.Credentials{Username: "esm-monitor-" + id, Password: strings.ToLower(rand.Text())}
	objects := rabbitadmin.Objects{Queue: s.top.Queue, DeadLetterExchange: s.top.DeadLetterExchange()}
	if _, err := admin.EnsureRole(t.Context(), "/", rabbitadmin.RoleMonitor, objects, user.Username, user.Password, "test"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = admin.DeleteUser(context.Background(), user.Username)
		if ch, err := s.conn.Channel(); err == nil {
			_, _ = ch.QueueDelete(s.top.Queue, false, false, false)
			_, _ = ch.QueueDelete(s.top.DeadLetterQueue(), false, false, false)
			_ = ch.ExchangeDelete(s.top.DeadLetterExchange(), false, false)
		}
		_ = s.conn.Close()
	})
	raw, _ := json.Marshal(user) //nolint:gosec // G117: the test's generated credentials
	secrets := secretsfake.New()
	s.m = &monitor.Monitor{
		Env: monitor.Env{
			ManagementURL: mgmt, SecretArn: secrets.Create("monitor", string(raw), true), VHost: "/", Queue: s.top.Queue,
			MappingUUID: mappingUUID, Stack: stack,
		},
		Secrets: secrets, Mappings: mapping("Enabled", "USER_INITIATED", "OK"), CAFile: b.CAFile,
	}
	return s
}

// figures are the queue's and the dead-letter queue's, as the broker answers the administrator.
func (s *onBroker) figures(t *testing.T) (queue, deadLetter rabbitadmin.Queue) {
	t.Helper()
	for i, name := range []string{s.top.Queue, s.top.DeadLetterQueue()} {
		q, found, err := s.admin.GetQueue(t.Context(), "/", name)
		if err != nil || !found {
			t.Fatalf("the administrator reading %s: found %v, %v", name, found, err)
		}
		if i == 0 {
			queue = q
		} else {
			deadLetter = q
		}
	}
	return queue, deadLetter
}

// await waits up to 20 s for the broker's statistics to reach what settled says.
func (s *onBroker) await(t *testing.T, what string, settled func(queue, deadLetter rabbitadmin.Queue) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		q, d := s.figures(t)
		if settled(q, d) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the broker did not reach %s in 20s: %v; %v", what, q, d)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// compared runs the monitor between two readings of the administrator's and returns the
// monitor's line and the broker's figures. The statistics change every few seconds: two
// readings that differ are run again, so that the monitor's figures are those of the same
// moment.
func (s *onBroker) compared(t *testing.T) (metrics map[string]float64, properties map[string]any, queue, deadLetter rabbitadmin.Queue) {
	t.Helper()
	for range 5 {
		q1, d1 := s.figures(t)
		metrics, properties, _ = run(t, s.m)
		q2, d2 := s.figures(t)
		if reflect.DeepEqual(q1, q2) && reflect.DeepEqual(d1, d2) {
			return metrics, properties, q1, d1
		}
	}
	t.Fatal("the broker's figures changed during every one of 5 runs")
	return nil, nil, rabbitadmin.Queue{}, rabbitadmin.Queue{}
}

// sameAsBroker holds each figure of the monitor's line to the broker's answer: published with
// the same value when the broker gave it, left out when it did not. It returns the comparison,
// a line a figure.
func sameAsBroker(t *testing.T, metrics map[string]float64, queue, deadLetter rabbitadmin.Queue) string {
	t.Helper()
	count := func(n *int) *float64 {
		if n == nil {
			return nil
		}
		v := float64(*n)
		return &v
	}
	var table strings.Builder
	for _, f := range []struct {
		metric, field string
		broker        *float64
	}{
		{contract.MetricQueueReady, "messages_ready", count(queue.MessagesReady)},
		{contract.MetricQueueUnacked, "messages_unacknowledged", count(queue.MessagesUnacknowledged)},
		{contract.MetricQueueConsumers, "consumers", count(queue.Consumers)},
		{contract.MetricQueuePublishRate, "message_stats.publish_details.rate", queue.PublishRate()},
		{contract.MetricQueueDeliverRate, "message_stats.deliver_get_details.rate", queue.DeliverGetRate()},
		{contract.MetricDeadLetterReady, "messages_ready of the .dlq", count(deadLetter.MessagesReady)},
	} {
		got, published := metrics[f.metric]
		show := func(ok bool, v float64) string {
			if !ok {
				return "(left out)"
			}
			return fmt.Sprint(v)
		}
		fmt.Fprintf(&table, "\n  %-17s monitor %-11s broker %-11s (%s)", f.metric, show(published, got), show(f.broker != nil, deref(f.broker)), f.field)
		if published != (f.broker != nil) || published && got != *f.broker {
			t.Errorf("%s: the monitor has %s, the broker's %s is %s", f.metric, show(published, got), f.field, show(f.broker != nil, deref(f.broker)))
		}
	}
	return table.String()
}

func deref(v *float64) float64 {
	if v == nil {
		return 0
	}
	return *v
}

// exactly holds metrics to want, figure by figure.
func exactly(t *testing.T, when string, metrics, want map[string]float64) {
	t.Helper()
	for name, v := range want {
		if got, ok := metrics[name]; !ok || got != v {
			t.Errorf("%s: %s = %v (published %v), want %v", when, name, got, ok, v)
		}
	}
}

// TestMonitorReportsWhatTheBrokerReports: on a queue with ready messages, deliveries a consumer
// holds unacknowledged and dead-lettered messages in its .dlq, the monitor's line has the
// figures the broker gives its administrator, and the exact numbers the test made; with the
// consumer gone, QueueConsumers is 0; with messages flowing in, the publish rate is the
// broker's and above 0; with the management API unreachable, MonitorErrors is 1 and the
// queue's figures are left out.
func TestMonitorReportsWhatTheBrokerReports(t *testing.T) {
	s := newOnBroker(t)
	ctx := t.Context()
	ch, err := s.conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	var batch []amqp.Publishing
	for i := range 7 {
		batch = append(batch, amqp.Publishing{Body: fmt.Appendf(nil, "m%d", i)})
	}
	if err := rabbitops.PublishConfirmed(ctx, ch, "", s.top.Queue, batch); err != nil {
		t.Fatal(err)
	}
	// Two rejected without requeue: the queue dead-letters them to its .dlq.
	for range 2 {
		d, ok, err := ch.Get(s.top.Queue, false)
		if err != nil || !ok {
			t.Fatalf("basic.get: %v, %v", ok, err)
		}
		if err := d.Nack(false, false); err != nil {
			t.Fatal(err)
		}
	}
	// A consumer that holds two deliveries unacknowledged, as the mapping does with a batch.
	holder, err := s.conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Qos(2, 0, false); err != nil {
		t.Fatal(err)
	}
	deliveries, err := holder.Consume(s.top.Queue, "esm-test-holder", false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case <-deliveries:
		case <-time.After(10 * time.Second):
			t.Fatal("the consumer got no delivery in 10s")
		}
	}
	is := func(n *int, want int) bool { return n != nil && *n == want }
	s.await(t, "3 ready, 2 unacknowledged, 1 consumer, 2 dead-lettered", func(q, d rabbitadmin.Queue) bool {
		return is(q.MessagesReady, 3) && is(q.MessagesUnacknowledged, 2) && is(q.Consumers, 1) && is(d.MessagesReady, 2)
	})

	metrics, properties, q, d := s.compared(t)
	t.Logf("the monitor's figures beside the broker's (GET /api/queues as the administrator):%s", sameAsBroker(t, metrics, q, d))
	exactly(t, "with a consumer", metrics, map[string]float64{
		contract.MetricQueueReady: 3, contract.MetricQueueUnacked: 2, contract.MetricQueueConsumers: 1, contract.MetricDeadLetterReady: 2,
		contract.MetricMappingHealthy: 1, contract.MetricMonitorErrors: 0,
	})
	// Messages were published and delivered: the broker gives both rates, and so does the line.
	for _, rate := range []string{contract.MetricQueuePublishRate, contract.MetricQueueDeliverRate} {
		if _, ok := metrics[rate]; !ok {
			t.Errorf("%s left out of a queue that published and delivered", rate)
		}
	}
	if properties["queue"] != s.top.Queue || properties["deadLetterQueue"] != s.top.DeadLetterQueue() || properties["state"] != "Enabled" {
		t.Errorf("properties %v", properties)
	}

	if err := holder.Close(); err != nil {
		t.Fatal(err)
	}
	s.await(t, "no consumer and the 2 deliveries back", func(q, _ rabbitadmin.Queue) bool {
		return is(q.Consumers, 0) && is(q.MessagesUnacknowledged, 0) && is(q.MessagesReady, 5)
	})
	metrics, _, q, d = s.compared(t)
	t.Logf("with the consumer gone:%s", sameAsBroker(t, metrics, q, d))
	exactly(t, "with the consumer gone", metrics, map[string]float64{
		contract.MetricQueueReady: 5, contract.MetricQueueUnacked: 0, contract.MetricQueueConsumers: 0, contract.MetricDeadLetterReady: 2,
	})

	// Messages flowing in: the publish rate the broker gives is not 0, and the line has it.
	flow, err := s.conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	stop, stopped := make(chan struct{}), make(chan error, 1)
	go func() {
		defer close(stopped)
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if err := flow.PublishWithContext(ctx, "", s.top.Queue, false, false, amqp.Publishing{Body: []byte("flowing")}); err != nil {
				stopped <- err
				return
			}
		}
	}()
	s.await(t, "a publish rate above 0", func(q, _ rabbitadmin.Queue) bool { return q.PublishRate() != nil && *q.PublishRate() > 0 })
	metrics, _, q, d = s.compared(t)
	close(stop)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	t.Logf("with messages flowing in (20 a second):%s", sameAsBroker(t, metrics, q, d))
	if metrics[contract.MetricQueuePublishRate] <= 0 {
		t.Errorf("%s = %v while messages flow in, want above 0", contract.MetricQueuePublishRate, metrics[contract.MetricQueuePublishRate])
	}

	s.m.Env.ManagementURL = "https://" + brokertest.ClosedAddress(t) + "/"
	metrics, properties, logged := run(t, s.m)
	if !reflect.DeepEqual(metrics, map[string]float64{contract.MetricMappingHealthy: 1, contract.MetricMonitorErrors: 1}) {
		t.Errorf("with the management API unreachable: %v, want MonitorErrors 1, MappingHealthy 1 and no queue figure", metrics)
	}
	if e, _ := properties["errors"].(string); !strings.Contains(e, "connection refused") || len(logged) != 1 {
		t.Errorf("with the management API unreachable: errors %q, logged %q; want the cause, on one line", e, logged)
	}
}

// TestMonitorOnAnIdleQueue: a queue nothing has passed through has no message_stats, so the
// line has no rate; its counts, once the broker's statistics have them, are published as 0. Right
// after the declaration the broker may not have the counts either: the line has what the broker
// gives, whatever that is.
func TestMonitorOnAnIdleQueue(t *testing.T) {
	s := newOnBroker(t)
	metrics, _, q, d := s.compared(t)
	t.Logf("right after the declaration:%s", sameAsBroker(t, metrics, q, d))

	s.await(t, "the counts of both queues", func(q, d rabbitadmin.Queue) bool {
		return q.MessagesReady != nil && q.MessagesUnacknowledged != nil && q.Consumers != nil && d.MessagesReady != nil
	})
	metrics, _, q, d = s.compared(t)
	t.Logf("idle:%s", sameAsBroker(t, metrics, q, d))
	if q.MessageStats != nil {
		t.Errorf("the broker gives an idle queue message_stats %+v: the premise (stats.html: only counts with activity appear) no longer holds", *q.MessageStats)
	}
	exactly(t, "idle", metrics, map[string]float64{
		contract.MetricQueueReady: 0, contract.MetricQueueUnacked: 0, contract.MetricQueueConsumers: 0, contract.MetricDeadLetterReady: 0,
		contract.MetricMonitorErrors: 0,
	})
	for _, rate := range []string{contract.MetricQueuePublishRate, contract.MetricQueueDeliverRate} {
		if v, ok := metrics[rate]; ok {
			t.Errorf("%s = %v published for a queue nothing has passed through, want it left out", rate, v)
		}
	}
}
