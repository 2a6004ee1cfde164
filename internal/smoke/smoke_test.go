package smoke

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rabbitops"
)

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// fakeLambda plays the provisioner's publish action.
type fakeLambda struct {
	functionError string
	request       contract.Request
}

func (f *fakeLambda) Invoke(_ context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	if err := json.Unmarshal(in.Payload, &f.request); err != nil {
		return nil, err
	}
	if f.functionError != "" {
		return &lambda.InvokeOutput{FunctionError: aws.String("Unhandled"), Payload: []byte(`{"errorMessage":"` + f.functionError + `"}`)}, nil
	}
	resp := contract.PublishResponse{RunID: f.request.RunID, Published: f.request.Count}
	for i := range f.request.Count {
		resp.Messages = append(resp.Messages, contract.PublishedMessage{MessageID: rabbitops.MessageID(f.request.RunID, i), PublishedAt: t0})
	}
	payload, _ := json.Marshal(resp)
	return &lambda.InvokeOutput{Payload: payload}, nil
}

// fakeLogs serves, per poll, pages of log events (message id → delay after t0).
type fakeLogs struct {
	polls   [][][]string // poll → page → lines
	calls   int
	inputs  []*cloudwatchlogs.FilterLogEventsInput
	current int
}

func line(msg, id, outcome string) string {
	b, _ := json.Marshal(map[string]string{"msg": msg, "messageId": id, "outcome": outcome, "level": "INFO"})
	return string(b)
}

func (f *fakeLogs) FilterLogEvents(_ context.Context, in *cloudwatchlogs.FilterLogEventsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error) {
	copied := *in
	f.inputs = append(f.inputs, &copied)
	page := 0
	if in.NextToken == nil {
		f.current = min(f.calls, len(f.polls)-1)
		f.calls++
	} else {
		if _, err := fmt.Sscan(*in.NextToken, &page); err != nil {
			return nil, err
		}
	}
	out := &cloudwatchlogs.FilterLogEventsOutput{}
	pages := f.polls[f.current]
	if len(pages) == 0 {
		return out, nil
	}
	for i, l := range pages[page] {
		out.Events = append(out.Events, types.FilteredLogEvent{Message: aws.String(l), Timestamp: aws.Int64(t0.Add(time.Duration(100*(i+1)) * time.Millisecond).UnixMilli())})
	}
	if page+1 < len(pages) {
		out.NextToken = aws.String(fmt.Sprint(page + 1))
	}
	return out, nil
}

func config(count int) Config {
	now := t0
	return Config{
		Outputs: Outputs{ProvisionerFunctionName: "prov", ListenerLogGroupName: "/aws/lambda/listener", AWSRegion: "us-east-1"},
		RunID:   "smoke-1", Count: count, Timeout: 30 * time.Second,
		Now:   func() time.Time { return now },
		Sleep: func(context.Context, time.Duration) error { now = now.Add(2 * time.Second); return nil },
	}
}

func TestAllMessagesSeenPasses(t *testing.T) {
	logs := &fakeLogs{polls: [][][]string{
		{{line("message", "smoke-1-000000", "processed"), line("batch", "", "processed")}},
		{{line("message", "smoke-1-000000", "processed")}, {line("message", "smoke-1-000001", "failed"), line("message", "smoke-0-000001", "processed")}},
		{{line("message", "smoke-1-000001", "processed"), line("message", "smoke-1-000002", "processed")}},
	}}
	lam := &fakeLambda{}
	r, err := Run(context.Background(), config(3), lam, logs)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Passed() || r.Seen != 3 || lam.request.Action != "publish" || lam.request.Count != 3 {
		t.Fatalf("result %+v, request %+v", r, lam.request)
	}
	if r.Latencies[0] != 100*time.Millisecond || r.Latencies[2] != 200*time.Millisecond {
		t.Errorf("latencies = %v", r.Latencies)
	}
	if in := logs.inputs[0]; aws.ToString(in.FilterPattern) != `"smoke-1"` || aws.ToString(in.LogGroupName) != "/aws/lambda/listener" {
		t.Errorf("filter = %s on %s", aws.ToString(in.FilterPattern), aws.ToString(in.LogGroupName))
	}
	var out bytes.Buffer
	Report(&out, r)
	if !strings.Contains(out.String(), "3 of 3") || !strings.Contains(out.String(), "median 100ms") || !strings.HasSuffix(out.String(), "PASS\n") {
		t.Errorf("report:\n%s", out.String())
	}
}

func TestMissingMessagesFailAfterTimeout(t *testing.T) {
	logs := &fakeLogs{polls: [][][]string{{{line("message", "smoke-1-000000", "processed")}}}}
	r, err := Run(context.Background(), config(2), &fakeLambda{}, logs)
	if err != nil {
		t.Fatal(err)
	}
	if r.Passed() || strings.Join(r.Missing, ",") != "smoke-1-000001" {
		t.Fatalf("result %+v", r)
	}
	var out bytes.Buffer
	Report(&out, r)
	if !strings.Contains(out.String(), "missing: smoke-1-000001") || !strings.HasSuffix(out.String(), "FAIL\n") {
		t.Errorf("report:\n%s", out.String())
	}
	if logs.calls < 10 {
		t.Errorf("gave up after %d polls; the timeout allows 15", logs.calls)
	}
}

func TestProvisionerFailureIsAnError(t *testing.T) {
	_, err := Run(context.Background(), config(2), &fakeLambda{functionError: "queue missing"}, &fakeLogs{polls: [][][]string{{}}})
	if err == nil || !strings.Contains(err.Error(), "queue missing") {
		t.Errorf("err = %v", err)
	}
}

func TestOutputsCheck(t *testing.T) {
	if err := (Outputs{AWSRegion: "us-east-1"}).Check(); err == nil || !strings.Contains(err.Error(), "listenerLogGroupName, provisionerFunctionName") {
		t.Errorf("err = %v", err)
	}
}
