package status

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/mappinghealth"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/awsapi"
)

const (
	uuid     = "6e2f0c1a-1b2c-4d3e-8f90-0123456789ab"
	logGroup = "/aws/lambda/rabbitmq-esm-listener"
	stackDim = "rabbitmq-esm-isolated"
)

// alarmNames are a stack's eight alarms (infra's table), the first three the ones tests fire.
var alarmNames = []string{stackDim + "-mapping-not-consuming", stackDim + "-dead-letters", stackDim + "-monitor-silent",
	stackDim + "-backlog", stackDim + "-listener-errors", stackDim + "-listener-throttles", stackDim + "-broker-memory", stackDim + "-broker-disk"}

// healthy is a stack with nothing wrong: the mapping enabled and polling, the monitor's
// figures a minute old, no alarm firing, no error in the listener's log.
func healthy() *awsapi.AWS {
	now := time.Now()
	points := func(v float64) []awsapi.Point {
		return []awsapi.Point{{Time: now.Add(-3 * time.Minute), Value: v + 5}, {Time: now.Add(-time.Minute), Value: v}}
	}
	return &awsapi.AWS{
		Mappings: map[string]awsapi.Mapping{uuid: {UUID: uuid, State: "Enabled", StateTransitionReason: "USER_INITIATED",
			LastProcessingResult: "OK", LastModified: now.Add(-time.Hour)}},
		Namespace: contract.MetricNamespace, StackValue: stackDim,
		Metrics: map[string][]awsapi.Point{
			contract.MetricQueueReady: points(3), contract.MetricQueueUnacked: points(0), contract.MetricQueueConsumers: {{Time: now.Add(-time.Minute), Value: 1}},
			contract.MetricQueuePublishRate: points(0.5), contract.MetricQueueDeliverRate: points(0.5), contract.MetricDeadLetterReady: {{Time: now.Add(-time.Minute), Value: 0}},
			contract.MetricMappingHealthy: {{Time: now.Add(-time.Minute), Value: 1}}, contract.MetricMonitorErrors: {{Time: now.Add(-time.Minute), Value: 0}},
		},
		Alarms: stackAlarms(now),
		Logs: map[string][]awsapi.LogEvent{logGroup: {
			{Time: now.Add(-2 * time.Minute), Stream: "s", Message: `{"time":"…","level":"INFO","msg":"batch","outcome":"processed","messages":3}`},
		}},
	}
}

// stackAlarms are the stack's alarms, all OK, and another stack's, firing: never shown.
func stackAlarms(now time.Time) []awsapi.Alarm {
	var alarms []awsapi.Alarm
	for _, name := range alarmNames {
		alarms = append(alarms, awsapi.Alarm{Name: name, State: "OK", Updated: now.Add(-time.Hour)})
	}
	return append(alarms, awsapi.Alarm{Name: "someone-elses-alarm", State: "ALARM", Updated: now})
}

// run starts the stand-ins, writes the outputs file and runs the command as make status does.
func run(t *testing.T, a *awsapi.AWS, extra ...string) (string, int) {
	t.Helper()
	for k, v := range a.Start(t) {
		t.Setenv(k, v)
	}
	outs := map[string]any{
		"awsRegion": "us-east-1", "networkMode": "isolated", "queueName": "events", "virtualHost": "/",
		"listenerFunctionName": "rabbitmq-esm-listener", "listenerLogGroupName": logGroup, "eventSourceMappingId": uuid,
		"brokerId": "b-1234", "metricsNamespace": contract.MetricNamespace, "metricsStack": stackDim, "alarmNames": alarmNames,
		"dashboardName": "rabbitmq-esm-isolated", "monitorFunctionName": "rabbitmq-esm-monitor",
		"diagnosis": `{"ok":false,"checks":[{"name":"sts","ok":true,"address":"10.0.1.10:443","private":true,"detail":"connected"},` +
			`{"name":"secretsmanager","ok":false,"detail":"dial tcp: lookup secretsmanager.us-east-1.amazonaws.com: i/o timeout","hint":"isolated needs the secretsmanager interface endpoint with private DNS"}]}`,
	}
	raw, _ := json.Marshal(outs)
	file := filepath.Join(t.TempDir(), "outputs.json")
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	code := Run(context.Background(), append([]string{"--stack", "isolated", "--outputs-file", file}, extra...), &stdout, &stderr)
	if stderr.Len() > 0 {
		t.Logf("stderr: %s", stderr.String())
	}
	return stdout.String(), code
}

func wantLines(t *testing.T, screen string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(screen, l) {
			t.Errorf("the screen lacks %q:\n%s", l, screen)
		}
	}
}

// check runs the command on a and wants the exit status and the lines on screen.
func check(t *testing.T, a *awsapi.AWS, exit int, lines ...string) string {
	t.Helper()
	screen, code := run(t, a)
	if code != exit {
		t.Errorf("exit %d, want %d", code, exit)
	}
	wantLines(t, screen, lines...)
	return screen
}

// withMapping is a healthy stack whose mapping reports the state, reason and result given
// ("" keeps the healthy value).
func withMapping(state, reason, result string) *awsapi.AWS {
	a := healthy()
	m := a.Mappings[uuid]
	for field, v := range map[*string]string{&m.State: state, &m.StateTransitionReason: reason, &m.LastProcessingResult: result} {
		if v != "" {
			*field = v
		}
	}
	a.Mappings[uuid] = m
	return a
}

func TestHealthyStack(t *testing.T) {
	check(t, healthy(), ExitOK,
		"State                  Enabled (last changed ",
		"verdict                healthy",
		"Queue events, virtual host /",
		"ready 3  unacked 0  consumers 1  published 0.5/s  delivered 0.5/s",
		"dead letters (events.dlq) 0",
		", 1m", " old\n",
		"Alarms: none of 8 in ALARM",
		"Listener errors ("+logGroup+", last 15m0s): none",
		"All good.")
}

// TestEveryDocumentedReason: each problem row of the table, put in the mapping, makes the
// command exit 1 with the row's cause and fix on screen.
func TestEveryDocumentedReason(t *testing.T) {
	examples := map[string]string{"connection error": "PROBLEM: Connection error. Your VPC must be able to connect to Lambda and STS, as well as Secrets Manager if authentication is required.",
		"credentials": "PROBLEM: Invalid credentials.", "not authorized": "PROBLEM: Lambda is not authorized to consume the queue."}
	for _, row := range mappinghealth.Table {
		if row.Benign {
			continue
		}
		value := row.Value
		if row.Prefix {
			value = examples[row.Contains[0]]
		}
		t.Run(value, func(t *testing.T) {
			a := withMapping("", "", value)
			if row.Field == mappinghealth.FieldTransition {
				a = withMapping("Disabled", value, "")
			}
			fix := strings.ReplaceAll(row.Fix, "STACK=<stack>", "STACK=isolated")
			check(t, a, ExitAttention, "NEEDS ATTENTION ("+row.Field+" "+value+")", "cause                  "+row.Cause, "fix                    "+fix, "Needs attention:")
		})
	}
}

func TestUnknownReasonShownVerbatim(t *testing.T) {
	check(t, withMapping("Disabled", "SOMETHING_LAMBDA_ADDED", ""), ExitAttention, "StateTransitionReason  SOMETHING_LAMBDA_ADDED", "meaning                not documented here")
}

func TestAlarmsFiring(t *testing.T) {
	a := healthy()
	a.Alarms[1].State, a.Alarms[1].Reason = "ALARM", "Threshold Crossed: 1 datapoint [4.0 (06/12/26 12:00:00)] was greater than the threshold (0.0)."
	screen := check(t, a, ExitAttention, "Alarms: 1 of 8 in ALARM", alarmNames[1]+" since ", "was greater than the threshold (0.0).", "alarm "+alarmNames[1]+" is in ALARM")
	if strings.Contains(screen, "someone-elses-alarm") {
		t.Errorf("an alarm not the stack's is listed:\n%s", screen)
	}
}

func TestDeadLettersPresent(t *testing.T) {
	a := healthy()
	a.Metrics[contract.MetricDeadLetterReady] = []awsapi.Point{{Time: time.Now().Add(-time.Minute), Value: 4}}
	a.Logs[logGroup] = append(a.Logs[logGroup], awsapi.LogEvent{Time: time.Now().Add(-time.Minute), Stream: "s",
		Message: `{"level":"ERROR","msg":"message","outcome":"dead-lettered","error":"bad payload"}`})
	check(t, a, ExitAttention, "dead letters (events.dlq) 4", "events.dlq holds 4 dead letters", "make redrive", "Listener errors ("+logGroup+", last 15m0s): 1", `"error":"bad payload"`)
}

func TestMonitorSilent(t *testing.T) {
	a := healthy()
	a.Metrics = nil
	check(t, a, ExitAttention, "the monitor is silent: no MonitorErrors in the last 10m0s", "Needs attention:",
		"the monitor is silent: no MonitorErrors datapoint in "+contract.MetricNamespace)

	stale := healthy()
	for name, points := range stale.Metrics {
		stale.Metrics[name] = []awsapi.Point{{Time: time.Now().Add(-7 * time.Minute), Value: points[0].Value}}
	}
	check(t, stale, ExitAttention, "the monitor's last figures are 7m")
}

// TestAPIErrorIsShown: DescribeAlarms refused; the call and AWS's error are on screen, the
// other sections still are, and the exit says the answer is incomplete.
func TestAPIErrorIsShown(t *testing.T) {
	a := healthy()
	a.Deny = map[string]bool{"DescribeAlarms": true}
	screen := check(t, a, ExitUnknown, "Could not find out", "cloudwatch DescribeAlarms: operation error CloudWatch: DescribeAlarms",
		"AccessDenied", "is not authorized to perform: cloudwatch:DescribeAlarms",
		"verdict                healthy", "ready 3", "Listener errors ("+logGroup, "Alarms: unknown, DescribeAlarms failed (below)")
	t.Logf("DescribeAlarms refused:\n%s", screen)
}

func TestMappingNotFound(t *testing.T) {
	a := healthy()
	a.Mappings = nil
	check(t, a, ExitUnknown, "lambda GetEventSourceMapping: operation error Lambda: GetEventSourceMapping", "ResourceNotFoundException")
}

func TestJSONCarriesTheSameFacts(t *testing.T) {
	a := withMapping("Disabled", "EVENT_SOURCE_AUTHN_ERROR", "")
	a.Deny = map[string]bool{"FilterLogEvents": true}
	out, code := run(t, a, "--json")
	var r Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("--json printed no JSON document: %v\n%s", err, out)
	}
	if code != ExitUnknown || r.Exit != code {
		t.Errorf("exit %d, the document's %d", code, r.Exit)
	}
	if r.Mapping == nil || r.Mapping.Verdict.Healthy || r.Mapping.Verdict.Value != "EVENT_SOURCE_AUTHN_ERROR" || !strings.Contains(r.Mapping.Verdict.Fix, "mappingSecretArn") {
		t.Errorf("mapping %+v", r.Mapping)
	}
	if r.Queue == nil || *r.Queue.Figures[contract.MetricQueueReady] != 3 || r.Alarms == nil || r.Alarms.Watched != len(alarmNames) || r.Listener != nil {
		t.Errorf("figures %+v alarms %+v listener %+v", r.Queue, r.Alarms, r.Listener)
	}
	if len(r.Unknown) != 1 || !strings.HasPrefix(r.Unknown[0], "logs FilterLogEvents") || len(r.Attention) != 1 {
		t.Errorf("unknown %q attention %q", r.Unknown, r.Attention)
	}
}

// TestScreens logs the screens the docs quote: healthy, an authentication error, a network
// PROBLEM.
func TestScreens(t *testing.T) {
	healthyScreen, _ := run(t, healthy())
	// As a failure shows a few minutes on: the monitor's figures agree with the Lambda API, and
	// the mapping-not-consuming alarm has fired.
	unhealthy := func(a *awsapi.AWS) *awsapi.AWS {
		now := time.Now()
		a.Metrics[contract.MetricMappingHealthy] = []awsapi.Point{{Time: now.Add(-time.Minute), Value: 0}}
		a.Metrics[contract.MetricQueueConsumers] = []awsapi.Point{{Time: now.Add(-time.Minute), Value: 0}}
		a.Metrics[contract.MetricQueueDeliverRate] = []awsapi.Point{{Time: now.Add(-time.Minute), Value: 0}}
		a.Alarms[0].State, a.Alarms[0].Updated = "ALARM", now.Add(-2*time.Minute)
		a.Alarms[0].Reason = "Threshold Crossed: 5 out of the last 5 datapoints [1.0 (06/12/26 13:38:00), …] were greater than or equal to the threshold (1.0)."
		return a
	}
	authnScreen, authnExit := run(t, unhealthy(withMapping("Disabled", "EVENT_SOURCE_AUTHN_ERROR", "")))
	networkScreen, networkExit := run(t, unhealthy(withMapping("", "", "PROBLEM: Connection error. Your VPC must be able to connect to Lambda and STS, as well as Secrets Manager if authentication is required.")))
	wantLines(t, networkScreen, "secretsmanager  FAILED  dial tcp", "make plan STACK=isolated", "the queue has no consumer", "Alarms: 1 of 8 in ALARM")
	if authnExit != ExitAttention || networkExit != ExitAttention {
		t.Errorf("exit statuses %d and %d, want %d for both failures", authnExit, networkExit, ExitAttention)
	}
	t.Logf("healthy:\n%s\nEVENT_SOURCE_AUTHN_ERROR:\n%s\nnetwork PROBLEM:\n%s", healthyScreen, authnScreen, networkScreen)
}

// TestTheBuiltCommand runs cmd/status as built, once: the exit status reaches the shell.
func TestTheBuiltCommand(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "status")
	if out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "../../cmd/status").CombinedOutput(); err != nil { //nolint:gosec // G204: go build of the command, into the test's own directory
		t.Fatalf("go build: %v\n%s", err, out)
	}
	a := healthy()
	a.Alarms[0].State = "ALARM"
	for k, v := range a.Start(t) {
		t.Setenv(k, v)
	}
	outs, _ := json.Marshal(map[string]any{"awsRegion": "us-east-1", "queueName": "events", "listenerLogGroupName": logGroup,
		"eventSourceMappingId": uuid, "metricsStack": stackDim, "alarmNames": alarmNames})
	file := filepath.Join(t.TempDir(), "outputs.json")
	if err := os.WriteFile(file, outs, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), bin, "--outputs-file", file) //nolint:gosec // G204: the binary just built
	out, err := cmd.Output()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != ExitAttention || !strings.Contains(string(out), "Alarms: 1 of 8 in ALARM") {
		t.Errorf("the built command: %v\n%s", err, out)
	}
}

// TestListenerErrorsShowTheLastFew: errors alone do not make the exit 1 (the mapping retries
// them; dead letters and alarms judge them), and only the last five lines are shown.
func TestListenerErrorsShowTheLastFew(t *testing.T) {
	a := healthy()
	for i := range 7 {
		a.Logs[logGroup] = append(a.Logs[logGroup], awsapi.LogEvent{Time: time.Now().Add(time.Duration(i-10) * time.Minute), Stream: "s",
			Message: fmt.Sprintf(`{"level":"ERROR","msg":"batch","outcome":"returned","error":"attempt %d"}`, i)})
	}
	a.Logs[logGroup] = append(a.Logs[logGroup], awsapi.LogEvent{Time: time.Now().Add(-time.Minute), Stream: "s", Message: "Task timed out after 30.00 seconds"})
	screen := check(t, a, ExitOK, "Listener errors ("+logGroup+", last 15m0s): 8, the last 5:", "attempt 6", "Task timed out after 30.00 seconds")
	if strings.Contains(screen, "attempt 2") || strings.Contains(screen, `"level":"INFO"`) {
		t.Errorf("an older or non-error line is shown:\n%s", screen)
	}
}
