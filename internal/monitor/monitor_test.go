package monitor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/monitor"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rabbitops"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/brokertest"
)

const (
	stack       = "rabbitmq-esm-test"
	mappingUUID = "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE"
	secretArn   = "arn:aws:secretsmanager:us-east-1:123456789012:secret:monitor" //nolint:gosec // G101: a fake ARN
)

// units are the contract's metrics and the unit each is published with.
var units = map[string]string{
	contract.MetricQueueReady: "Count", contract.MetricQueueUnacked: "Count", contract.MetricQueueConsumers: "Count",
	contract.MetricQueuePublishRate: "Count/Second", contract.MetricQueueDeliverRate: "Count/Second",
	contract.MetricDeadLetterReady: "Count", contract.MetricMappingHealthy: "Count", contract.MetricMonitorErrors: "Count",
}

// emf parses out as exactly one Embedded Metric Format document and holds it to the
// specification
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html)
// and to the contract: one directive in contract.MetricNamespace with the one dimension set
// [Stack], whose value is a string member of the root; a Timestamp in milliseconds; every metric
// it defines a number at the root with the contract's unit, and every contract metric at the
// root defined. It returns the metrics and the other members.
func emf(t *testing.T, out string) (metrics map[string]float64, properties map[string]any) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 1 || !strings.HasSuffix(out, "\n") {
		t.Fatalf("the monitor wrote %q, want one line", out)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &doc); err != nil {
		t.Fatalf("the line is not a JSON object: %v\n%s", err, lines[0])
	}
	var meta struct {
		Timestamp         *float64
		CloudWatchMetrics []struct {
			Namespace  string
			Dimensions [][]string
			Metrics    []map[string]string
		}
	}
	raw, _ := json.Marshal(doc["_aws"])
	if err := json.Unmarshal(raw, &meta); err != nil {
		t.Fatalf("_aws is not the metadata object: %v\n%s", err, lines[0])
	}
	if meta.Timestamp == nil || *meta.Timestamp != math.Trunc(*meta.Timestamp) ||
		time.Since(time.UnixMilli(int64(*meta.Timestamp))).Abs() > time.Minute {
		t.Errorf("_aws.Timestamp %v: want the milliseconds since the epoch of now", meta.Timestamp)
	}
	if len(meta.CloudWatchMetrics) != 1 {
		t.Fatalf("%d metric directives, want 1: %s", len(meta.CloudWatchMetrics), lines[0])
	}
	d := meta.CloudWatchMetrics[0]
	if d.Namespace != contract.MetricNamespace || !reflect.DeepEqual(d.Dimensions, [][]string{{contract.MetricDimensionStack}}) {
		t.Errorf("directive namespace %q, dimensions %v: want %q, [[%s]]", d.Namespace, d.Dimensions, contract.MetricNamespace, contract.MetricDimensionStack)
	}
	if doc[contract.MetricDimensionStack] != stack {
		t.Errorf("dimension %s = %v, want the string %q", contract.MetricDimensionStack, doc[contract.MetricDimensionStack], stack)
	}
	metrics = map[string]float64{}
	for _, def := range d.Metrics {
		name := def["Name"]
		if _, dup := metrics[name]; dup || len(def) != 2 || units[name] == "" || def["Unit"] != units[name] {
			t.Errorf("metric definition %v: want each contract metric once, with its unit %q and nothing else", def, units[name])
		}
		v, isNumber := doc[name].(float64)
		if !isNumber {
			t.Errorf("metric %s is defined but its root member is %v, not a number", name, doc[name])
		}
		metrics[name] = v
	}
	properties = map[string]any{}
	for k, v := range doc {
		if _, defined := metrics[k]; !defined && units[k] != "" {
			t.Errorf("metric %s is at the root but not defined in _aws", k)
		}
		if _, defined := metrics[k]; !defined && k != "_aws" && k != contract.MetricDimensionStack {
			properties[k] = v
		}
	}
	if _, ok := metrics[contract.MetricMonitorErrors]; !ok {
		t.Errorf("%s is missing: it is always published", contract.MetricMonitorErrors)
	}
	return metrics, properties
}

// fakeMappings is the Lambda API's GetEventSourceMapping: it answers out or err.
type fakeMappings struct {
	out   *lambda.GetEventSourceMappingOutput
	err   error
	mu    sync.Mutex
	asked []string
}

func (f *fakeMappings) GetEventSourceMapping(_ context.Context, in *lambda.GetEventSourceMappingInput, _ ...func(*lambda.Options)) (*lambda.GetEventSourceMappingOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, aws.ToString(in.UUID))
	return f.out, f.err
}

func mapping(state, reason, result string) *fakeMappings {
	return &fakeMappings{out: &lambda.GetEventSourceMappingOutput{
		UUID: aws.String(mappingUUID), State: aws.String(state), StateTransitionReason: aws.String(reason), LastProcessingResult: aws.String(result),
	}}
}

// creds are the monitor user's, in the fake secret.
var creds = rabbitops.Credentials{Username: "esm-monitor", Password: "monitor-password-1"}

// secrets serves the monitor's secret under secretArn only.
type secrets map[string]rabbitops.Credentials

func (s secrets) SecretString(_ context.Context, arn string) (string, error) {
	c, ok := s[arn]
	if !ok {
		return "", errors.New("ResourceNotFoundException: no secret " + arn)
	}
	raw, err := json.Marshal(c) //nolint:gosec // G117: the test's credentials
	return string(raw), err
}

// fakeManagement serves GET /api/queues/%2F/{name} with answers[name], to the monitor's user
// only: the management API's queue endpoint, for the tests that need figures the real broker
// does not give on demand (rates other than 0, a broker that collects none). It returns the
// API's URL and a file with the CA that verifies it.
func fakeManagement(t *testing.T, answers map[string]string) (mgmtURL, caFile string) {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != creds.Username || p != creds.Password {
			http.Error(w, `{"error":"not_authorised","reason":"Login failed"}`, http.StatusUnauthorized)
			return
		}
		name, err := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), "/api/queues/%2F/"))
		answer, ok := answers[name]
		if err != nil || !ok || r.Method != http.MethodGet {
			http.Error(w, `{"error":"Object Not Found","reason":"Not Found"}`, http.StatusNotFound)
			return
		}
		_, _ = w.Write([]byte(answer))
	}))
	t.Cleanup(srv.Close)
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv.URL + "/", caFile
}

// run invokes m once with an EventBridge scheduled event and returns its line's metrics and
// properties, and what it logged.
func run(t *testing.T, m *monitor.Monitor) (map[string]float64, map[string]any, []string) {
	t.Helper()
	var out bytes.Buffer
	var logged []string
	m.Out = &out
	m.Logf = func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		logged = append(logged, line)
		t.Logf("monitor log: %s", line)
	}
	event := json.RawMessage(`{"version":"0","id":"5c2e2c3d-0000-0000-0000-000000000000","detail-type":"Scheduled Event","source":"aws.events",` +
		`"account":"123456789012","time":"2026-12-06T12:00:00Z","region":"us-east-1","resources":["arn:aws:events:us-east-1:123456789012:rule/monitor"],"detail":{}}`)
	if err := m.Handle(t.Context(), event); err != nil {
		t.Fatalf("Handle: %v, want nil: the line is the signal", err)
	}
	metrics, properties := emf(t, out.String())
	t.Logf("line: %s", strings.TrimSpace(out.String()))
	return metrics, properties, logged
}

// figures are the fake management API's answers: the queue with rates, the dead-letter queue
// without message_stats (nothing has passed through it).
var figures = map[string]string{
	"events": `{"name":"events","messages_ready":12,"messages_unacknowledged":10,"consumers":1,` +
		`"message_stats":{"publish_details":{"rate":2.4},"deliver_get_details":{"rate":1.8}}}`,
	"events.dlq": `{"name":"events.dlq","messages_ready":3,"messages_unacknowledged":0,"consumers":0}`,
}

func newMonitor(t *testing.T, mappings monitor.Mappings, answers map[string]string) *monitor.Monitor {
	t.Helper()
	mgmt, ca := fakeManagement(t, answers)
	return &monitor.Monitor{
		Env:     monitor.Env{ManagementURL: mgmt, SecretArn: secretArn, VHost: "/", Queue: "events", MappingUUID: mappingUUID, Stack: stack},
		Secrets: secrets{secretArn: creds}, Mappings: mappings, CAFile: ca,
	}
}

// TestMappingHealthAndTheLambdaAPI: the mapping's state from GetEventSourceMapping, judged by
// mappinghealth: healthy is 1, a PROBLEM result 0, and a Lambda API that fails counts in
// MonitorErrors, logged, with MappingHealthy and the state left out while the queue's figures
// are still published.
func TestMappingHealthAndTheLambdaAPI(t *testing.T) {
	for _, c := range []struct {
		name       string
		mappings   *fakeMappings
		healthy    float64 // -1: left out
		errors     float64
		logged     string // a line the monitor must log
		properties map[string]any
	}{
		{name: "healthy", mappings: mapping("Enabled", "USER_INITIATED", "OK"), healthy: 1,
			properties: map[string]any{"state": "Enabled", "stateTransitionReason": "USER_INITIATED", "lastProcessingResult": "OK"}},
		{name: "a PROBLEM result", mappings: mapping("Enabled", "USER_INITIATED", "PROBLEM: Connection error. Your VPC must be able to connect to Lambda and STS"),
			healthy: 0, logged: `is not healthy: LastProcessingResult "PROBLEM: Connection error`,
			properties: map[string]any{"state": "Enabled", "lastProcessingResult": "PROBLEM: Connection error. Your VPC must be able to connect to Lambda and STS"}},
		{name: "disabled", mappings: mapping("Disabled", "USER_INITIATED", "No records processed"), healthy: 0, logged: `is not healthy: State "Disabled"`,
			properties: map[string]any{"state": "Disabled"}},
		{name: "the Lambda API fails", mappings: &fakeMappings{err: errors.New("operation error Lambda: GetEventSourceMapping, https response error StatusCode: 403, AccessDeniedException")},
			healthy: -1, errors: 1, logged: "reading the Lambda API failed: GetEventSourceMapping " + mappingUUID + ": operation error Lambda",
			properties: map[string]any{"errors": "the Lambda API: GetEventSourceMapping " + mappingUUID + ": operation error Lambda: GetEventSourceMapping, https response error StatusCode: 403, AccessDeniedException"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			metrics, properties, logged := run(t, newMonitor(t, c.mappings, figures))
			if !reflect.DeepEqual(c.mappings.asked, []string{mappingUUID}) {
				t.Errorf("GetEventSourceMapping asked for %v, want [%s]", c.mappings.asked, mappingUUID)
			}
			healthy, published := metrics[contract.MetricMappingHealthy]
			if c.healthy < 0 && published || c.healthy >= 0 && (!published || healthy != c.healthy) {
				t.Errorf("%s = %v (published %v), want %v (-1: left out)", contract.MetricMappingHealthy, healthy, published, c.healthy)
			}
			if metrics[contract.MetricMonitorErrors] != c.errors {
				t.Errorf("%s = %v, want %v", contract.MetricMonitorErrors, metrics[contract.MetricMonitorErrors], c.errors)
			}
			if metrics[contract.MetricQueueReady] != 12 || metrics[contract.MetricDeadLetterReady] != 3 {
				t.Errorf("the queue's figures: %v, want them published whatever the Lambda API answers", metrics)
			}
			for k, v := range c.properties {
				if properties[k] != v {
					t.Errorf("property %s = %v, want %v", k, properties[k], v)
				}
			}
			if c.healthy < 0 {
				for _, k := range []string{"state", "stateTransitionReason", "lastProcessingResult"} {
					if _, ok := properties[k]; ok {
						t.Errorf("property %s published while the Lambda API failed", k)
					}
				}
			}
			if c.logged != "" && !strings.Contains(strings.Join(logged, "\n"), c.logged) {
				t.Errorf("logged %q, want a line with %q", logged, c.logged)
			}
			if c.logged == "" && len(logged) > 0 {
				t.Errorf("logged %q, want nothing", logged)
			}
		})
	}
}

// TestRatesAndFiguresTheBrokerLeavesOut: the rates the API gives are published per second as
// given; a queue without message_stats (idle, or a broker that collects no rates) has no rate
// metric, and a queue whose statistics have not arrived yet has no figures at all: never a 0
// that the broker did not say.
func TestRatesAndFiguresTheBrokerLeavesOut(t *testing.T) {
	metrics, properties, _ := run(t, newMonitor(t, mapping("Enabled", "USER_INITIATED", "OK"), figures))
	want := map[string]float64{
		contract.MetricQueueReady: 12, contract.MetricQueueUnacked: 10, contract.MetricQueueConsumers: 1,
		contract.MetricQueuePublishRate: 2.4, contract.MetricQueueDeliverRate: 1.8, contract.MetricDeadLetterReady: 3,
		contract.MetricMappingHealthy: 1, contract.MetricMonitorErrors: 0,
	}
	if !reflect.DeepEqual(metrics, want) {
		t.Errorf("metrics %v, want %v", metrics, want)
	}
	if properties["queue"] != "events" || properties["deadLetterQueue"] != "events.dlq" {
		t.Errorf("properties %v, want queue events and deadLetterQueue events.dlq", properties)
	}
	if _, ok := properties["errors"]; ok {
		t.Errorf("errors %v published with no failure", properties["errors"])
	}

	metrics, _, _ = run(t, newMonitor(t, mapping("Enabled", "USER_INITIATED", "OK"), map[string]string{
		"events":     `{"name":"events","messages_ready":5,"messages_unacknowledged":0,"consumers":0,"message_stats":{"publish_details":{"rate":0.2}}}`,
		"events.dlq": `{"name":"events.dlq"}`,
	}))
	want = map[string]float64{
		contract.MetricQueueReady: 5, contract.MetricQueueUnacked: 0, contract.MetricQueueConsumers: 0, contract.MetricQueuePublishRate: 0.2,
		contract.MetricMappingHealthy: 1, contract.MetricMonitorErrors: 0,
	}
	if !reflect.DeepEqual(metrics, want) {
		t.Errorf("with no deliveries and a dead-letter queue without statistics: metrics %v, want %v", metrics, want)
	}
}

// TestBothSourcesFailing: the broker's management API and the Lambda API both failing is
// MonitorErrors 2 and nothing else, each failure logged on its own line; the handler still
// succeeds.
func TestBothSourcesFailing(t *testing.T) {
	m := newMonitor(t, &fakeMappings{err: errors.New("connect: connection timed out")}, figures)
	m.Env.ManagementURL = "https://" + brokertest.ClosedAddress(t) + "/"
	metrics, properties, logged := run(t, m)
	if !reflect.DeepEqual(metrics, map[string]float64{contract.MetricMonitorErrors: 2}) {
		t.Errorf("metrics %v, want only %s = 2", metrics, contract.MetricMonitorErrors)
	}
	if len(logged) != 2 || !strings.Contains(logged[0], "the broker's management API") || !strings.Contains(logged[1], "the Lambda API") ||
		strings.Contains(strings.Join(logged, ""), "\n") {
		t.Errorf("logged %q, want one line per failed source", logged)
	}
	if e, _ := properties["errors"].(string); !strings.Contains(e, "connection refused") || !strings.Contains(e, "connection timed out") {
		t.Errorf("errors property %q, want both causes", e)
	}

	// A secret that cannot be read is the management API's failure: nothing can be asked of it.
	m = newMonitor(t, mapping("Enabled", "USER_INITIATED", "OK"), figures)
	m.Env.SecretArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:other" //nolint:gosec // G101: a fake ARN
	metrics, _, _ = run(t, m)
	if !reflect.DeepEqual(metrics, map[string]float64{contract.MetricMappingHealthy: 1, contract.MetricMonitorErrors: 1}) {
		t.Errorf("with the secret unreadable: metrics %v, want MappingHealthy 1 and MonitorErrors 1", metrics)
	}
}

// TestAQueueThatDoesNotExist is the management API's failure, naming the queue.
func TestAQueueThatDoesNotExist(t *testing.T) {
	metrics, properties, _ := run(t, newMonitor(t, mapping("Enabled", "USER_INITIATED", "OK"), map[string]string{"events": figures["events"]}))
	if metrics[contract.MetricMonitorErrors] != 1 || metrics[contract.MetricQueueReady] != 12 {
		t.Errorf("metrics %v, want the queue's figures and MonitorErrors 1", metrics)
	}
	if _, ok := metrics[contract.MetricDeadLetterReady]; ok {
		t.Errorf("%s published for a queue that does not exist", contract.MetricDeadLetterReady)
	}
	if e, _ := properties["errors"].(string); !strings.Contains(e, `"events.dlq": no such queue in virtual host "/"`) {
		t.Errorf("errors property %q, want it to name the missing queue", e)
	}
}

func TestLoadEnvNamesEveryProblem(t *testing.T) {
	_, err := monitor.LoadEnv(func(string) string { return "" })
	for _, name := range []string{contract.EnvBrokerManagementURL, contract.EnvMonitorSecretArn, contract.EnvBrokerVHost, contract.EnvQueueName,
		contract.EnvMappingUUID, contract.EnvMetricsStack} {
		if err == nil || !strings.Contains(err.Error(), name+" is not set") {
			t.Errorf("LoadEnv of nothing: %v, want it to name %s", err, name)
		}
	}
	env := map[string]string{
		contract.EnvBrokerManagementURL: "http://b-1234.mq.us-east-1.amazonaws.com", contract.EnvMonitorSecretArn: secretArn,
		contract.EnvBrokerVHost: "/", contract.EnvQueueName: "bad\nname", contract.EnvMappingUUID: mappingUUID, contract.EnvMetricsStack: stack,
	}
	_, err = monitor.LoadEnv(func(name string) string { return env[name] })
	if err == nil || !strings.Contains(err.Error(), contract.EnvBrokerManagementURL+": management API endpoint") || !strings.Contains(err.Error(), contract.EnvQueueName+"=") {
		t.Errorf("LoadEnv of a plain-HTTP URL and a queue name with a newline: %v, want both named", err)
	}
	t.Logf("refused: %v", err)
	env[contract.EnvBrokerManagementURL], env[contract.EnvQueueName] = "https://b-1234.mq.us-east-1.amazonaws.com", "events"
	got, err := monitor.LoadEnv(func(name string) string { return env[name] })
	want := monitor.Env{ManagementURL: "https://b-1234.mq.us-east-1.amazonaws.com", SecretArn: secretArn, VHost: "/", Queue: "events", MappingUUID: mappingUUID, Stack: stack}
	if err != nil || got != want {
		t.Errorf("LoadEnv: %+v, %v; want %+v", got, err, want)
	}
}

// hangingMappings answers only when the caller gives up, as a Lambda API behind a route that
// drops packets does.
type hangingMappings struct{}

func (hangingMappings) GetEventSourceMapping(ctx context.Context, _ *lambda.GetEventSourceMappingInput, _ ...func(*lambda.Options)) (*lambda.GetEventSourceMappingOutput, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestAHangingSourceStillGetsTheLineOut: a source that never answers is given up a second
// before the invocation's deadline, counted in MonitorErrors, and the line is written in time.
func TestAHangingSourceStillGetsTheLineOut(t *testing.T) {
	m := newMonitor(t, hangingMappings{}, figures)
	var out bytes.Buffer
	m.Out, m.Logf = &out, t.Logf
	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()
	began := time.Now()
	if err := m.Handle(ctx, json.RawMessage(`{}`)); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took > time.Second {
		t.Errorf("Handle took %v with 1.5s to its deadline, want the sources given up a second before it", took)
	}
	metrics, _ := emf(t, out.String())
	if metrics[contract.MetricMonitorErrors] != 1 || metrics[contract.MetricQueueReady] != 12 {
		t.Errorf("metrics %v, want the queue's figures and MonitorErrors 1 for the Lambda API", metrics)
	}
}
