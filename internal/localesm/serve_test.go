package localesm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rabbitops"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/brokertest"
)

// TestServeBacksOffWhileTheBrokerIsUnreachable: every failed attempt logs one line with its
// cause, and the wait doubles up to its cap.
func TestServeBacksOffWhileTheBrokerIsUnreachable(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	attempts := 0
	dial := func(context.Context) (*amqp.Connection, error) {
		if attempts++; attempts == 5 {
			cancel()
		}
		return nil, errors.New("connection refused")
	}
	var lines []string
	cfg := Config{Queue: "q", VHost: "/", BatchSize: 1, Logf: func(format string, args ...any) {
		lines = append(lines, fmt.Sprintf(format, args...))
	}}
	h := func(context.Context, events.RabbitMQEvent) error { return nil }
	if err := serve(ctx, dial, cfg, h, backoff{first: time.Millisecond, max: 4 * time.Millisecond, healthy: time.Hour}); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, wait := range []string{"1ms", "2ms", "4ms", "4ms"} {
		want = append(want, "dialing the broker: connection refused; connecting again in "+wait)
	}
	if got := strings.Join(lines, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("logged:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

// TestBrokerRestartLosesNoMessage restarts the broker while a batch is in the handler: Serve
// must log why it lost the broker, connect again once the broker is back, and process every
// message at least once, with no more duplicates than the batch the restart caught.
func TestBrokerRestartLosesNoMessage(t *testing.T) {
	b, mgmt, restart := restartableBroker(t)
	creds := rabbitops.Credentials{Username: b.Username, Password: b.Password}
	// A fresh node each run: the queue's name need not be unique. Persistent messages in a
	// durable quorum queue survive the restart.
	top := rabbitops.Topology{Queue: "restart", VHost: "/", DeliveryLimit: 5}
	// The bridge logs in as the mapping's user, reading its secret at every connection.
	secret := filepath.Join(t.TempDir(), "mapping.json")
	raw, _ := json.Marshal(mappingUser(t, b, mgmt, top)) //nolint:gosec // G117: the test's generated credentials
	if err := os.WriteFile(secret, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	secretDial := SecretDialer(b.TLSEndpoint, "/", b.CAFile, FileSecret(secret), secret)
	var connMu sync.Mutex
	var bridgeConn *amqp.Connection
	dial := func(ctx context.Context) (*amqp.Connection, error) {
		conn, err := secretDial(ctx)
		connMu.Lock()
		defer connMu.Unlock()
		bridgeConn = conn
		return conn, err
	}
	admin := func() *amqp.Connection {
		conn, err := rabbitops.Dial(context.Background(), b.TLSEndpoint, creds, "/", b.CAFile)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		return conn
	}
	conn := admin()
	if err := rabbitops.Declare(channel(t, conn), top); err != nil {
		t.Fatal(err)
	}
	// The shipped batch size (Pulumi.yaml batchSize).
	const n, batchSize = 1000, 100
	if _, err := rabbitops.Publish(context.Background(), channel(t, conn), top, "restart", n); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	batches, held := 0, 0
	lastCall := time.Now()
	caught := make(chan struct{})
	h := func(_ context.Context, ev events.RabbitMQEvent) error {
		mu.Lock()
		batches++
		batch := ids(ev)
		hold := batches == 4
		if hold {
			held = len(batch)
		}
		for _, id := range batch {
			seen[id]++
		}
		lastCall = time.Now()
		mu.Unlock()
		if hold {
			// The restart catches this batch in the handler: its acknowledgement cannot
			// reach the broker, which delivers the batch again.
			connMu.Lock()
			down := bridgeConn.NotifyClose(make(chan *amqp.Error, 1))
			connMu.Unlock()
			close(caught)
			t.Logf("the bridge's connection closed: %v", <-down)
		}
		return nil
	}
	var logMu sync.Mutex
	var logged []string
	cfg := Config{Queue: top.Queue, VHost: "/", BatchSize: batchSize, BatchingWindow: 20 * time.Millisecond,
		Logf: func(format string, args ...any) {
			logMu.Lock()
			defer logMu.Unlock()
			logged = append(logged, fmt.Sprintf(format, args...))
		}}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, dial, cfg, h) }()
	select {
	case <-caught:
	case err := <-done:
		t.Fatalf("Serve ended before the restart: %v", err)
	case <-ctx.Done():
		t.Fatal("timed out waiting for the fourth batch")
	}
	began := time.Now()
	restart()
	t.Logf("the broker restarted in %s", time.Since(began).Round(time.Millisecond))

	conn = admin()
	waitFor(ctx, t, "every message processed and the queue drained", func() bool {
		mu.Lock()
		all, quiet := len(seen) == n, time.Since(lastCall) > time.Second
		mu.Unlock()
		return all && quiet && depth(t, conn, top.Queue) == 0
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	duplicates := 0
	for i := range n {
		switch c := seen[rabbitops.MessageID("restart", i)]; {
		case c == 0:
			t.Errorf("message %d lost", i)
		case c > 1:
			duplicates += c - 1
		}
	}
	t.Logf("%d messages, %d duplicates, over %d batches", n, duplicates, batches)
	// At least once, and no more than once again for the batch whose acknowledgement the
	// restart lost: at most one batch's worth per restart.
	if duplicates != held {
		t.Errorf("%d duplicates, want the %d messages of the batch the restart caught in the handler", duplicates, held)
	}
	if d := depth(t, conn, top.Queue); d != 0 {
		t.Errorf("%d messages left unacknowledged in the queue", d)
	}
	logMu.Lock()
	defer logMu.Unlock()
	var connections []string
	for _, line := range logged {
		if !strings.HasPrefix(line, "batch of ") {
			connections = append(connections, line)
		}
	}
	t.Logf("Serve logged, besides its batches:\n%s", strings.Join(connections, "\n"))
	connects, named := 0, false
	for _, line := range connections {
		if strings.HasPrefix(line, "consuming ") {
			connects++
		}
		named = named || namesTheLoss(line)
	}
	if connects < 2 || !named {
		t.Errorf("want a line naming why the connection was lost and a second connection")
	}
}

// namesTheLoss reports whether a log line says why the bridge lost the broker. A stopping
// node closes each connection with CONNECTION_FORCED (rabbit_networking's close_connections
// on shutdown), but an acknowledgement written while the node closes the socket meets the
// reset first, and the client reports that instead: both are the broker going away.
func namesTheLoss(line string) bool {
	for _, reason := range []string{"CONNECTION_FORCED", "connection reset by peer", "broken pipe"} {
		if strings.Contains(line, reason) {
			return true
		}
	}
	return false
}

// restartableBroker starts a RabbitMQ node for this test alone, through scripts/test-broker.sh,
// and returns it, its management API (to create the mapping's user) and a function that
// restarts it: the shared test broker must stay up for the
// other packages' tests, which run at the same time. The node's name and ports are this
// process's own, so that runs in parallel do not restart each other's broker; it is deleted
// when the test ends.
func restartableBroker(t *testing.T) (brokertest.Broker, string, func()) {
	t.Helper()
	// Where there is no RabbitMQ: the loud skip, or in CI the failure.
	brokertest.Require(t)
	ports := freePorts(t, 4)
	env := append(os.Environ(),
		"ESM_TEST_BROKER_MGMT_PORT="+ports[3],
		"ESM_TEST_BROKER_NAME=esm-restart-"+strconv.Itoa(os.Getpid()),
		"ESM_TEST_BROKER_TLS_PORT="+ports[0],
		"ESM_TEST_BROKER_AMQP_PORT="+ports[1],
		"ESM_TEST_BROKER_DIST_PORT="+ports[2],
	)
	script := func(args ...string) (string, error) {
		cmd := exec.CommandContext(context.Background(), "../../scripts/test-broker.sh", args...) //nolint:gosec // G204: the project's script, with this test's arguments
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("scripts/test-broker.sh %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return string(out), nil
	}
	t.Cleanup(func() {
		if _, err := script("delete"); err != nil {
			t.Error(err)
		}
	})
	began := time.Now()
	out, err := script()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("a broker of this test's own started in %s", time.Since(began).Round(time.Millisecond))
	// The script prints the export lines that `eval` reads.
	exports := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if name, value, ok := strings.Cut(strings.TrimPrefix(line, "export "), "="); ok {
			exports[name] = strings.Trim(value, "'")
		}
	}
	u, err := url.Parse(exports[brokertest.EnvAMQPSURL])
	if err != nil || u.User == nil || exports[brokertest.EnvCAFile] == "" {
		t.Fatalf("scripts/test-broker.sh printed no usable broker:\n%s", out)
	}
	password, _ := u.User.Password()
	b := brokertest.Broker{
		AMQPURL: exports[brokertest.EnvAMQPURL], AMQPSURL: exports[brokertest.EnvAMQPSURL], CAFile: exports[brokertest.EnvCAFile],
		TLSEndpoint: "amqps://" + u.Host, Username: u.User.Username(), Password: password,
	}
	return b, exports[brokertest.EnvMgmtURL], func() {
		t.Helper()
		if _, err := script("restart"); err != nil {
			t.Fatal(err)
		}
	}
}

// freePorts returns count TCP ports that were free a moment ago.
func freePorts(t *testing.T, count int) []string {
	t.Helper()
	var ports []string
	var listeners []net.Listener
	// Held until all are chosen, so that they differ.
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	for range count {
		l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		listeners = append(listeners, l)
		ports = append(ports, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	}
	return ports
}
