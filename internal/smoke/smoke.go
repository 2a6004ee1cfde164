// Package smoke tests a deployed stack end to end: it asks the provisioner (which sits where
// the ESM's interfaces are) to publish messages with a fresh run id, then follows the
// listener's log group until every message of the run has been logged, and reports the
// latency from publication to the listener's log line.
package smoke

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/deployed"
)

// LogFilterer is the CloudWatch Logs call the smoke test makes.
type LogFilterer interface {
	FilterLogEvents(ctx context.Context, in *cloudwatchlogs.FilterLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error)
}

// Outputs are the stack outputs the smoke test needs.
type Outputs struct {
	ProvisionerFunctionName string `json:"provisionerFunctionName"`
	ListenerLogGroupName    string `json:"listenerLogGroupName"`
	AWSRegion               string `json:"awsRegion"`
	NetworkMode             string `json:"networkMode"`
}

// Check names a missing output.
func (o Outputs) Check() error {
	var missing []string
	for name, v := range map[string]string{"provisionerFunctionName": o.ProvisionerFunctionName, "listenerLogGroupName": o.ListenerLogGroupName, "awsRegion": o.AWSRegion} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("the stack has no output %s: is it deployed (make up)?", strings.Join(missing, ", "))
	}
	return nil
}

// Config is one smoke run.
type Config struct {
	Outputs Outputs
	RunID   string
	Count   int
	Timeout time.Duration
	// Poll is the pause between log reads. Default 2 s.
	Poll time.Duration
	// Sleep and Now are the clock; tests replace them.
	Sleep func(context.Context, time.Duration) error
	Now   func() time.Time
}

// Result is what the run observed.
type Result struct {
	RunID     string
	Expected  int
	Seen      int
	Latencies []time.Duration // sorted
	Missing   []string
}

// Passed says every message was seen.
func (r Result) Passed() bool { return r.Expected > 0 && r.Seen == r.Expected }

// Run publishes through the provisioner and follows the listener's logs.
func Run(ctx context.Context, cfg Config, lam deployed.Invoker, logs LogFilterer) (Result, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = func(ctx context.Context, d time.Duration) error {
			select {
			case <-time.After(d):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	if cfg.Poll == 0 {
		cfg.Poll = 2 * time.Second
	}
	start := cfg.Now()
	var published contract.PublishResponse
	req := contract.Request{Action: contract.ActionPublish, Count: cfg.Count, RunID: cfg.RunID}
	if err := deployed.Invoke(ctx, lam, cfg.Outputs.ProvisionerFunctionName, req, &published); err != nil {
		return Result{}, err
	}
	if published.Published != cfg.Count {
		return Result{}, fmt.Errorf("the provisioner published %d messages, want %d", published.Published, cfg.Count)
	}
	publishedAt := map[string]time.Time{}
	for _, m := range published.Messages {
		publishedAt[m.MessageID] = m.PublishedAt
	}

	seen := map[string]time.Duration{}
	in := &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName:  aws.String(cfg.Outputs.ListenerLogGroupName),
		FilterPattern: aws.String(fmt.Sprintf("%q", cfg.RunID)),
		StartTime:     aws.Int64(start.Add(-time.Minute).UnixMilli()),
	}
	deadline := start.Add(cfg.Timeout)
	for len(seen) < len(publishedAt) && cfg.Now().Before(deadline) {
		if err := readLogs(ctx, logs, in, publishedAt, seen); err != nil {
			return Result{}, err
		}
		if len(seen) < len(publishedAt) {
			if err := cfg.Sleep(ctx, cfg.Poll); err != nil {
				return Result{}, err
			}
		}
	}
	r := Result{RunID: cfg.RunID, Expected: len(publishedAt), Seen: len(seen)}
	for id := range publishedAt {
		if l, ok := seen[id]; ok {
			r.Latencies = append(r.Latencies, l)
		} else {
			r.Missing = append(r.Missing, id)
		}
	}
	slices.Sort(r.Latencies)
	slices.Sort(r.Missing)
	return r, nil
}

// listenerLine is the part of the listener's per-message log line the smoke test reads.
type listenerLine struct {
	Msg       string `json:"msg"`
	MessageID string `json:"messageId"`
	Outcome   string `json:"outcome"`
}

// readLogs reads every page of matching events and records the first processed line of each
// message of the run.
func readLogs(ctx context.Context, logs LogFilterer, in *cloudwatchlogs.FilterLogEventsInput, publishedAt map[string]time.Time, seen map[string]time.Duration) error {
	page := *in
	for {
		out, err := logs.FilterLogEvents(ctx, &page)
		if err != nil {
			var notFound interface{ ErrorCode() string }
			if errors.As(err, &notFound) && notFound.ErrorCode() == "ResourceNotFoundException" {
				return fmt.Errorf("the listener's log group %s does not exist yet: has the listener run? (%w)", aws.ToString(in.LogGroupName), err)
			}
			return fmt.Errorf("reading the listener's logs: %w", err)
		}
		for _, e := range out.Events {
			var line listenerLine
			if json.Unmarshal([]byte(aws.ToString(e.Message)), &line) != nil || line.Msg != "message" || line.Outcome != "processed" {
				continue
			}
			at, ours := publishedAt[line.MessageID]
			if _, already := seen[line.MessageID]; ours && !already {
				seen[line.MessageID] = time.UnixMilli(aws.ToInt64(e.Timestamp)).Sub(at)
			}
		}
		if out.NextToken == nil {
			return nil
		}
		page.NextToken = out.NextToken
	}
}

// Report prints the result and says PASS or FAIL.
func Report(w io.Writer, r Result) {
	fmt.Fprintf(w, "run %s: %d of %d messages seen in the listener's logs\n", r.RunID, r.Seen, r.Expected)
	if n := len(r.Latencies); n > 0 {
		fmt.Fprintf(w, "latency from publication to the listener's log line: min %s, median %s, max %s\n",
			r.Latencies[0].Round(time.Millisecond), r.Latencies[n/2].Round(time.Millisecond), r.Latencies[n-1].Round(time.Millisecond))
	}
	if len(r.Missing) > 0 {
		shown := r.Missing[:min(len(r.Missing), 10)]
		fmt.Fprintf(w, "missing: %s", strings.Join(shown, ", "))
		if len(r.Missing) > len(shown) {
			fmt.Fprintf(w, " and %d more", len(r.Missing)-len(shown))
		}
		fmt.Fprintln(w)
	}
	if r.Passed() {
		fmt.Fprintln(w, "PASS")
	} else {
		fmt.Fprintln(w, "FAIL")
	}
}
