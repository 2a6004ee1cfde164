// Package status is cmd/status (make status STACK=<option>): one screen on a deployed stack,
// read with the operator's own AWS credentials — the mapping's state and what it means, the
// monitor's last figures, the alarms firing, the listener's recent errors.
package status

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/deployed"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/mappinghealth"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rabbitops"
)

// The exit statuses.
const (
	ExitOK        = 0
	ExitAttention = 1
	// ExitUnknown says a call failed, so the answer is incomplete; it wins over ExitAttention.
	ExitUnknown = 2
)

// Windows: the monitor publishes once a minute, so ten minutes hold its last figures even
// after a few missed runs; fifteen minutes of the listener's log cover a few batches' retries.
const (
	metricsWindow = 10 * time.Minute
	// staleAfter: EMF lines reach the metrics within a minute or two, so five minutes without a
	// new point means missed runs.
	staleAfter = 5 * time.Minute
	logsWindow = 15 * time.Minute
	logLines   = 5
)

// listenerErrorPattern picks the listener's failure lines: its JSON lines at level ERROR and
// the runtime's own reports (a timeout, a crash). CloudWatch Logs terms are case-sensitive; ?
// means any of them (CloudWatch Logs user guide, Filter pattern syntax).
const listenerErrorPattern = `?ERROR ?"Task timed out" ?"Runtime.ExitError" ?panic`

// outputs are the stack outputs make status reads.
type outputs struct {
	AWSRegion            string   `json:"awsRegion"`
	NetworkMode          string   `json:"networkMode"`
	QueueName            string   `json:"queueName"`
	VirtualHost          string   `json:"virtualHost"`
	ListenerLogGroupName string   `json:"listenerLogGroupName"`
	EventSourceMappingID string   `json:"eventSourceMappingId"`
	Diagnosis            string   `json:"diagnosis"`
	MetricsNamespace     string   `json:"metricsNamespace"`
	MetricsStack         string   `json:"metricsStack"`
	AlarmNames           []string `json:"alarmNames"`
	DashboardName        string   `json:"dashboardName"`
}

// Report is everything make status found; --json prints it.
type Report struct {
	Stack       string          `json:"stack"`
	NetworkMode string          `json:"networkMode"`
	Region      string          `json:"region"`
	Mapping     *MappingState   `json:"mapping,omitempty"`
	Queue       *QueueFigures   `json:"queue,omitempty"`
	Alarms      *AlarmsState    `json:"alarms,omitempty"`
	Listener    *ListenerErrors `json:"listenerErrors,omitempty"`
	// Diagnosis is the deploy-time check of the mapping's path, shown beside a mapping that
	// cannot connect.
	Diagnosis *contract.DiagnoseResponse `json:"diagnosis,omitempty"`
	// Attention lists what needs a person; Unknown the calls that failed ("service Operation: error").
	Attention []string `json:"attention"`
	Unknown   []string `json:"unknown"`
	Exit      int      `json:"exit"`
}

// MappingState is GetEventSourceMapping's answer and its verdict.
type MappingState struct {
	UUID string `json:"uuid"`
	mappinghealth.Mapping
	LastModified time.Time             `json:"lastModified"`
	Verdict      mappinghealth.Verdict `json:"verdict"`
}

// QueueFigures are the monitor's latest datapoints; a nil figure was not published.
type QueueFigures struct {
	Queue           string `json:"queue"`
	VirtualHost     string `json:"virtualHost"`
	DeadLetterQueue string `json:"deadLetterQueue"`
	// Latest is the newest datapoint's time, zero when there is none.
	Latest     time.Time `json:"latest"`
	AgeSeconds float64   `json:"ageSeconds"`
	// Silent says the monitor published no MonitorErrors, which it publishes every run.
	Silent           bool                `json:"silent"`
	Figures          map[string]*float64 `json:"figures"`
	DashboardName    string              `json:"dashboardName,omitempty"`
	MetricsStack     string              `json:"metricsStack"`
	MetricsNamespace string              `json:"metricsNamespace"`
}

// AlarmsState is DescribeAlarms' answer for the stack's alarms.
type AlarmsState struct {
	Watched int         `json:"watched"`
	Firing  []FiringOne `json:"firing"`
}

// FiringOne is an alarm in ALARM.
type FiringOne struct {
	Name   string    `json:"name"`
	Reason string    `json:"reason"`
	Since  time.Time `json:"since"`
}

// ListenerErrors are the listener log's recent error lines.
type ListenerErrors struct {
	LogGroup string    `json:"logGroup"`
	Count    int       `json:"count"`
	Last     []LogLine `json:"last"`
}

// LogLine is one line of a log.
type LogLine struct {
	Time    time.Time `json:"time"`
	Message string    `json:"message"`
}

// Run parses the arguments, finds out and prints; it returns the exit status.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stack := fs.String("stack", "", "the deployed stack (its outputs through the Pulumi CLI)")
	asJSON := fs.Bool("json", false, "print one JSON document instead of the screen")
	outputsFile := fs.String("outputs-file", "", "read the stack's outputs from this JSON file (pulumi stack output --json) instead of the Pulumi CLI")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: status --stack <name> [--json] [--outputs-file outputs.json]")
		fmt.Fprintln(stderr, "exit status: 0 all good, 1 something needs attention, 2 a call failed (the answer is incomplete)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return ExitOK
	} else if err != nil {
		return ExitUnknown
	}
	if fs.NArg() > 0 || *stack == "" && *outputsFile == "" {
		fmt.Fprintln(stderr, "status: give --stack <name> (or --outputs-file), and nothing else")
		return ExitUnknown
	}
	outs, err := readOutputs(ctx, *stack, *outputsFile)
	if err != nil {
		fmt.Fprintln(stderr, "status:", err)
		return ExitUnknown
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(outs.AWSRegion))
	if err != nil {
		fmt.Fprintln(stderr, "status: AWS credentials:", err)
		return ExitUnknown
	}
	r := find(ctx, *stack, outs, clients{
		lambda: lambda.NewFromConfig(awsCfg), cw: cloudwatch.NewFromConfig(awsCfg), logs: cloudwatchlogs.NewFromConfig(awsCfg),
	}, time.Now())
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(r)
	} else {
		printScreen(stdout, r)
	}
	return r.Exit
}

func readOutputs(ctx context.Context, stack, file string) (outputs, error) {
	var outs outputs
	if file != "" {
		raw, err := os.ReadFile(file) //nolint:gosec // G304: the file the user names
		if err != nil {
			return outs, err
		}
		if err := json.Unmarshal(raw, &outs); err != nil {
			return outs, fmt.Errorf("%s: %w", file, err)
		}
	} else if err := deployed.ReadOutputs(ctx, stack, &outs); err != nil {
		return outs, err
	}
	var missing []string
	for name, v := range map[string]string{"awsRegion": outs.AWSRegion, "eventSourceMappingId": outs.EventSourceMappingID,
		"listenerLogGroupName": outs.ListenerLogGroupName, "queueName": outs.QueueName} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		from := "stack " + stack
		if file != "" {
			from = file
		}
		return outs, fmt.Errorf("%s has no output %s: is the stack deployed (make up)?", from, strings.Join(missing, ", "))
	}
	return outs, nil
}

type clients struct {
	lambda *lambda.Client
	cw     *cloudwatch.Client
	logs   *cloudwatchlogs.Client
}

// find asks the four APIs; a failed call is recorded and the others still asked.
func find(ctx context.Context, stack string, outs outputs, c clients, now time.Time) Report {
	r := Report{Stack: stack, NetworkMode: outs.NetworkMode, Region: outs.AWSRegion, Attention: []string{}, Unknown: []string{}}
	failed := func(call string, err error) { r.Unknown = append(r.Unknown, call+": "+err.Error()) }

	if m, err := c.lambda.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String(outs.EventSourceMappingID)}); err != nil {
		failed("lambda GetEventSourceMapping", err)
	} else {
		ms := &MappingState{UUID: outs.EventSourceMappingID, LastModified: aws.ToTime(m.LastModified), Mapping: mappinghealth.Mapping{
			State: aws.ToString(m.State), StateTransitionReason: aws.ToString(m.StateTransitionReason), LastProcessingResult: aws.ToString(m.LastProcessingResult)}}
		ms.Verdict = mappinghealth.Judge(ms.Mapping)
		if stack != "" {
			ms.Verdict.Fix = strings.ReplaceAll(ms.Verdict.Fix, "STACK=<stack>", "STACK="+stack)
		}
		r.Mapping = ms
		if !ms.Verdict.Healthy {
			r.Attention = append(r.Attention, fmt.Sprintf("the mapping: %s %s: %s", ms.Verdict.Field, ms.Verdict.Value, ms.Verdict.Cause))
			if outs.Diagnosis != "" && ms.Verdict.Field == mappinghealth.FieldResult {
				var d contract.DiagnoseResponse
				if json.Unmarshal([]byte(outs.Diagnosis), &d) == nil {
					r.Diagnosis = &d
				}
			}
		}
	}

	namespace, dimension := outs.MetricsNamespace, outs.MetricsStack
	if namespace == "" {
		namespace = contract.MetricNamespace
	}
	if q, err := queueFigures(ctx, c.cw, namespace, dimension, now); err != nil {
		failed("cloudwatch GetMetricData", err)
	} else {
		q.Queue, q.VirtualHost, q.DeadLetterQueue = outs.QueueName, outs.VirtualHost, rabbitops.Topology{Queue: outs.QueueName}.DeadLetterQueue()
		q.DashboardName, q.MetricsStack, q.MetricsNamespace = outs.DashboardName, dimension, namespace
		r.Queue = q
		r.Attention = append(r.Attention, q.attention()...)
	}

	if len(outs.AlarmNames) > 0 {
		out, err := c.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: outs.AlarmNames, StateValue: cwtypes.StateValueAlarm})
		if err != nil {
			failed("cloudwatch DescribeAlarms", err)
		} else {
			a := &AlarmsState{Watched: len(outs.AlarmNames), Firing: []FiringOne{}}
			for _, al := range out.MetricAlarms {
				a.Firing = append(a.Firing, FiringOne{Name: aws.ToString(al.AlarmName), Reason: aws.ToString(al.StateReason), Since: aws.ToTime(al.StateUpdatedTimestamp)})
				r.Attention = append(r.Attention, "alarm "+aws.ToString(al.AlarmName)+" is in ALARM")
			}
			r.Alarms = a
		}
	}

	if l, err := listenerErrors(ctx, c.logs, outs.ListenerLogGroupName, now); err != nil {
		failed("logs FilterLogEvents", err)
	} else {
		r.Listener = l
	}

	switch {
	case len(r.Unknown) > 0:
		r.Exit = ExitUnknown
	case len(r.Attention) > 0:
		r.Exit = ExitAttention
	}
	return r
}

// queueMetrics are the figures shown, in order, with the statistic that reads a minute of
// each: the worst of the minute.
var queueMetrics = []struct{ name, stat string }{
	{contract.MetricQueueReady, "Maximum"},
	{contract.MetricQueueUnacked, "Maximum"},
	{contract.MetricQueueConsumers, "Minimum"},
	{contract.MetricQueuePublishRate, "Average"},
	{contract.MetricQueueDeliverRate, "Average"},
	{contract.MetricDeadLetterReady, "Maximum"},
	{contract.MetricMappingHealthy, "Minimum"},
	{contract.MetricMonitorErrors, "Maximum"},
}

func queueFigures(ctx context.Context, cw *cloudwatch.Client, namespace, stack string, now time.Time) (*QueueFigures, error) {
	in := &cloudwatch.GetMetricDataInput{StartTime: aws.Time(now.Add(-metricsWindow)), EndTime: aws.Time(now), ScanBy: cwtypes.ScanByTimestampDescending}
	for i, m := range queueMetrics {
		in.MetricDataQueries = append(in.MetricDataQueries, cwtypes.MetricDataQuery{
			Id: aws.String(fmt.Sprintf("m%d", i)),
			MetricStat: &cwtypes.MetricStat{Period: aws.Int32(60), Stat: aws.String(m.stat), Metric: &cwtypes.Metric{
				Namespace: aws.String(namespace), MetricName: aws.String(m.name),
				Dimensions: []cwtypes.Dimension{{Name: aws.String(contract.MetricDimensionStack), Value: aws.String(stack)}},
			}},
		})
	}
	out, err := cw.GetMetricData(ctx, in)
	if err != nil {
		return nil, err
	}
	q := &QueueFigures{Figures: map[string]*float64{}}
	for _, res := range out.MetricDataResults {
		var i int
		if _, err := fmt.Sscanf(aws.ToString(res.Id), "m%d", &i); err != nil || i >= len(queueMetrics) || len(res.Values) == 0 || len(res.Timestamps) == 0 {
			continue
		}
		// Newest first (ScanBy TimestampDescending).
		q.Figures[queueMetrics[i].name] = aws.Float64(res.Values[0])
		if res.Timestamps[0].After(q.Latest) {
			q.Latest = res.Timestamps[0]
		}
	}
	q.Silent = q.Figures[contract.MetricMonitorErrors] == nil
	if !q.Latest.IsZero() {
		q.AgeSeconds = now.Sub(q.Latest).Round(time.Second).Seconds()
	}
	return q, nil
}

func (q *QueueFigures) attention() []string {
	switch {
	case q.MetricsStack == "":
		return []string{"the stack has no metricsStack output: deployed before its monitor (make up adds it)"}
	case q.Silent:
		return []string{fmt.Sprintf("the monitor is silent: no %s datapoint in %s for the last %s (is the monitor function running? its log: monitorLogGroupName)",
			contract.MetricMonitorErrors, q.MetricsNamespace, metricsWindow)}
	}
	var out []string
	if age := time.Duration(q.AgeSeconds) * time.Second; age > staleAfter {
		out = append(out, fmt.Sprintf("the monitor's last figures are %s old: it publishes every minute, so it has missed runs (its log: monitorLogGroupName)", age))
	}
	if v := q.Figures[contract.MetricDeadLetterReady]; v != nil && *v > 0 {
		out = append(out, fmt.Sprintf("%s holds %g dead letters: fix their cause (the listener's log), then make redrive", q.DeadLetterQueue, *v))
	}
	if v := q.Figures[contract.MetricQueueConsumers]; v != nil && *v == 0 {
		out = append(out, "the queue has no consumer: the mapping is not polling")
	}
	if v := q.Figures[contract.MetricMonitorErrors]; v != nil && *v > 0 {
		out = append(out, fmt.Sprintf("the monitor could not read %g of its sources (its log: monitorLogGroupName)", *v))
	}
	return out
}

// maxLogPages bounds the paging: FilterLogEvents may answer empty pages while events remain
// (CloudWatch Logs API reference, FilterLogEvents), so a few pages are read, not one.
const maxLogPages = 10

func listenerErrors(ctx context.Context, logs *cloudwatchlogs.Client, group string, now time.Time) (*ListenerErrors, error) {
	pages := cloudwatchlogs.NewFilterLogEventsPaginator(logs, &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName: aws.String(group), StartTime: aws.Int64(now.Add(-logsWindow).UnixMilli()), EndTime: aws.Int64(now.UnixMilli()),
		FilterPattern: aws.String(listenerErrorPattern),
	})
	l := &ListenerErrors{LogGroup: group, Last: []LogLine{}}
	for page := 0; page < maxLogPages && pages.HasMorePages(); page++ {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		l.Count += len(out.Events)
		for _, e := range out.Events {
			l.Last = append(l.Last, LogLine{Time: time.UnixMilli(aws.ToInt64(e.Timestamp)).UTC(), Message: strings.TrimSpace(aws.ToString(e.Message))})
		}
		l.Last = l.Last[max(0, len(l.Last)-logLines):]
	}
	return l, nil
}
