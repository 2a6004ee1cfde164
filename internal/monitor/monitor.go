// Package monitor is the monitor function: every minute it reads the stack's queue and
// dead-letter queue from the broker's management API, as the monitor's own broker user, and the
// event source mapping's state from the Lambda API, and writes what it read as one CloudWatch
// Embedded Metric Format line. Lambda ships the function's output to CloudWatch Logs, which
// extracts the metrics: the function needs no route to CloudWatch from the broker's VPC.
//
// A source that fails is counted in MonitorErrors, logged on a line of its own, and its figures
// are left out; the line is written all the same, so the metrics are the signal and the
// invocation succeeds.
package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/mappinghealth"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rabbitadmin"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rabbitops"
)

// Env is the function's configuration, from the environment the Pulumi program sets.
type Env struct {
	ManagementURL string // BROKER_MANAGEMENT_URL
	SecretArn     string // MONITOR_SECRET_ARN
	VHost         string // BROKER_VHOST
	Queue         string // QUEUE_NAME
	MappingUUID   string // EVENT_SOURCE_MAPPING_UUID
	Stack         string // METRICS_STACK: the value of every metric's Stack dimension
}

// LoadEnv reads and validates the environment; every problem names its variable.
func LoadEnv(getenv func(string) string) (Env, error) {
	e := Env{
		ManagementURL: getenv(contract.EnvBrokerManagementURL), SecretArn: getenv(contract.EnvMonitorSecretArn),
		VHost: getenv(contract.EnvBrokerVHost), Queue: getenv(contract.EnvQueueName),
		MappingUUID: getenv(contract.EnvMappingUUID), Stack: getenv(contract.EnvMetricsStack),
	}
	var problems []string
	for name, value := range map[string]string{
		contract.EnvBrokerManagementURL: e.ManagementURL, contract.EnvMonitorSecretArn: e.SecretArn, contract.EnvBrokerVHost: e.VHost,
		contract.EnvQueueName: e.Queue, contract.EnvMappingUUID: e.MappingUUID, contract.EnvMetricsStack: e.Stack,
	} {
		if value == "" {
			problems = append(problems, name+" is not set")
		}
	}
	if e.ManagementURL != "" {
		if err := rabbitadmin.CheckEndpoint(e.ManagementURL); err != nil {
			problems = append(problems, contract.EnvBrokerManagementURL+": "+err.Error())
		}
	}
	if p := contract.QueueNameProblem(e.Queue); e.Queue != "" && p != "" {
		problems = append(problems, fmt.Sprintf("%s=%q: %s", contract.EnvQueueName, e.Queue, p))
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return Env{}, errors.New("monitor configuration: " + strings.Join(problems, "; "))
	}
	return e, nil
}

// Mappings is what the monitor calls of the Lambda API; the AWS SDK's *lambda.Client is one.
type Mappings interface {
	GetEventSourceMapping(ctx context.Context, in *lambda.GetEventSourceMappingInput, optFns ...func(*lambda.Options)) (*lambda.GetEventSourceMappingOutput, error)
}

// Monitor handles the function's scheduled invocations.
type Monitor struct {
	Env      Env
	Secrets  rabbitops.SecretReader
	Mappings Mappings
	// CAFile verifies the broker's certificate; "" uses the system roots (Amazon MQ).
	CAFile string
	// SourceTimeout bounds each source. Default 10 s; never closer to the invocation's deadline
	// than a second, so that the line is written even when a source hangs (an unreachable
	// broker in a VPC drops the connection attempt rather than refusing it).
	SourceTimeout time.Duration
	// Out receives the metrics line. Default: standard output, which Lambda ships to CloudWatch
	// Logs.
	Out io.Writer
	// Logf reports each failure and an unhealthy mapping, a line each. Default: log.Printf.
	Logf func(format string, args ...any)
}

// The sources, as MonitorErrors counts them and the errors property names them.
const (
	sourceBroker = "the broker's management API"
	sourceLambda = "the Lambda API"
)

// reading is one invocation's figures; nil is a figure not read.
type reading struct {
	queue, deadLetter *rabbitadmin.Queue
	mapping           *mappinghealth.Mapping
	verdict           mappinghealth.Verdict // of mapping, when read
	failures          []string              // one per failed source
}

// Handle reads both sources at once and writes the line. Its only error is the line not
// written: what went wrong reading is in the line.
func (m *Monitor) Handle(ctx context.Context, _ json.RawMessage) error {
	timeout := m.SourceTimeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	if deadline, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(deadline)-time.Second)
	}
	var r reading
	var brokerErr, lambdaErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		sctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		r.queue, r.deadLetter, brokerErr = m.readQueues(sctx)
	})
	wg.Go(func() {
		sctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		r.mapping, lambdaErr = m.readMapping(sctx)
	})
	wg.Wait()
	for _, f := range []struct {
		source string
		err    error
	}{{sourceBroker, brokerErr}, {sourceLambda, lambdaErr}} {
		if f.err != nil {
			r.failures = append(r.failures, f.source+": "+f.err.Error())
			m.logf("monitor: reading %s failed: %v", f.source, f.err)
		}
	}
	if r.mapping != nil {
		r.verdict = mappinghealth.Judge(*r.mapping)
		if v := r.verdict; !v.Healthy {
			m.logf("monitor: event source mapping %s is not healthy: %s %q: %s; fix: %s", m.Env.MappingUUID, v.Field, v.Value, v.Cause, v.Fix)
		}
	}
	line, err := m.line(r, time.Now())
	if err != nil {
		return err
	}
	out := m.Out
	if out == nil {
		out = os.Stdout
	}
	// One write: the whole document is one log event.
	if _, err := out.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("writing the metrics line: %w", err)
	}
	return nil
}

func (m *Monitor) logf(format string, args ...any) {
	if m.Logf == nil {
		log.Printf(format, args...)
		return
	}
	m.Logf(format, args...)
}

// readQueues reads the queue and its dead-letter queue as the monitor's user, whose secret it
// reads at every invocation so that a rotation is followed at once. A request that fails ends
// the reading (the next would fail alike); a queue that does not exist does not keep the other
// from being read.
func (m *Monitor) readQueues(ctx context.Context) (queue, deadLetter *rabbitadmin.Queue, err error) {
	creds, err := rabbitops.ReadCredentials(ctx, m.Secrets, m.Env.SecretArn)
	if err != nil {
		return nil, nil, err
	}
	roots, err := rabbitops.CAPool(m.CAFile)
	if err != nil {
		return nil, nil, err
	}
	client, err := rabbitadmin.New(m.Env.ManagementURL, creds.Username, creds.Password, roots)
	if err != nil {
		return nil, nil, err
	}
	var missing []string
	read := func(name string) (*rabbitadmin.Queue, error) {
		q, found, err := client.GetQueue(ctx, m.Env.VHost, name)
		if err != nil || !found {
			if err == nil {
				missing = append(missing, strconv.Quote(name))
			}
			return nil, err
		}
		return &q, nil
	}
	if queue, err = read(m.Env.Queue); err != nil {
		return nil, nil, err
	}
	if deadLetter, err = read(m.topology().DeadLetterQueue()); err != nil {
		return queue, nil, err
	}
	if len(missing) > 0 {
		err = fmt.Errorf("%s: no such queue in virtual host %q (the provisioner's declare action creates the queues)", strings.Join(missing, " and "), m.Env.VHost)
	}
	return queue, deadLetter, err
}

// topology is the stack's, for the dead-letter queue's name: the provisioner's rule.
func (m *Monitor) topology() rabbitops.Topology {
	return rabbitops.Topology{Queue: m.Env.Queue, VHost: m.Env.VHost}
}

func (m *Monitor) readMapping(ctx context.Context) (*mappinghealth.Mapping, error) {
	out, err := m.Mappings.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String(m.Env.MappingUUID)})
	if err != nil {
		return nil, fmt.Errorf("GetEventSourceMapping %s: %w", m.Env.MappingUUID, err)
	}
	return &mappinghealth.Mapping{
		State: aws.ToString(out.State), StateTransitionReason: aws.ToString(out.StateTransitionReason),
		LastProcessingResult: aws.ToString(out.LastProcessingResult),
	}, nil
}

// The units of the metrics (CloudWatch's MetricDatum units).
const (
	unitCount     = "Count"
	unitPerSecond = "Count/Second"
)

// The document's members that are not metrics: CloudWatch Logs keeps them in the log event,
// where Logs Insights finds them, and makes no metric of them.
const (
	propertyState                 = "state"
	propertyStateTransitionReason = "stateTransitionReason"
	propertyLastProcessingResult  = "lastProcessingResult"
	propertyQueue                 = "queue"
	propertyDeadLetterQueue       = "deadLetterQueue"
	propertyErrors                = "errors"
)

// metadata is the document's _aws member, as the Embedded Metric Format specification defines
// it (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
// a Timestamp in milliseconds since the epoch and the metric directives, each a Namespace,
// dimension sets whose keys are string members of the root, and metric definitions whose
// names are numeric members of the root.
type metadata struct {
	Timestamp         int64             `json:"Timestamp"`
	CloudWatchMetrics []metricDirective `json:"CloudWatchMetrics"`
}

type metricDirective struct {
	Namespace  string             `json:"Namespace"`
	Dimensions [][]string         `json:"Dimensions"`
	Metrics    []metricDefinition `json:"Metrics"`
}

type metricDefinition struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// line is r as one Embedded Metric Format document: one directive, one dimension set [Stack],
// and a metric for each figure read, none for a figure not read. MonitorErrors is always there.
func (m *Monitor) line(r reading, now time.Time) ([]byte, error) {
	doc := map[string]any{
		contract.MetricDimensionStack: m.Env.Stack,
		propertyQueue:                 m.Env.Queue,
		propertyDeadLetterQueue:       m.topology().DeadLetterQueue(),
	}
	var metrics []metricDefinition
	put := func(name, unit string, value any) {
		doc[name] = value
		metrics = append(metrics, metricDefinition{Name: name, Unit: unit})
	}
	count := func(name string, n *int) {
		if n != nil {
			put(name, unitCount, *n)
		}
	}
	rate := func(name string, perSecond *float64) {
		if perSecond != nil {
			put(name, unitPerSecond, *perSecond)
		}
	}
	if q := r.queue; q != nil {
		count(contract.MetricQueueReady, q.MessagesReady)
		count(contract.MetricQueueUnacked, q.MessagesUnacknowledged)
		count(contract.MetricQueueConsumers, q.Consumers)
		rate(contract.MetricQueuePublishRate, q.PublishRate())
		rate(contract.MetricQueueDeliverRate, q.DeliverGetRate())
	}
	if d := r.deadLetter; d != nil {
		count(contract.MetricDeadLetterReady, d.MessagesReady)
	}
	if mp := r.mapping; mp != nil {
		healthy := 0
		if r.verdict.Healthy {
			healthy = 1
		}
		put(contract.MetricMappingHealthy, unitCount, healthy)
		doc[propertyState], doc[propertyStateTransitionReason], doc[propertyLastProcessingResult] =
			mp.State, mp.StateTransitionReason, mp.LastProcessingResult
	}
	put(contract.MetricMonitorErrors, unitCount, len(r.failures))
	if len(r.failures) > 0 {
		doc[propertyErrors] = strings.Join(r.failures, "; ")
	}
	doc["_aws"] = metadata{Timestamp: now.UnixMilli(), CloudWatchMetrics: []metricDirective{{
		Namespace: contract.MetricNamespace, Dimensions: [][]string{{contract.MetricDimensionStack}}, Metrics: metrics,
	}}}
	return json.Marshal(doc)
}
