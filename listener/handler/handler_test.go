package handler

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/rmqevent"
)

// logLine is one JSON line the handler wrote.
type logLine map[string]any

func run(t *testing.T, opts Options, ev events.RabbitMQEvent) ([]logLine, error) {
	t.Helper()
	var out bytes.Buffer
	opts.Output = &out
	err := New(opts).Handle(context.Background(), ev)
	var lines []logLine
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		var l logLine
		if jerr := json.Unmarshal(sc.Bytes(), &l); jerr != nil {
			t.Fatalf("log line is not JSON: %q", sc.Text())
		}
		lines = append(lines, l)
	}
	return lines, err
}

func messagesOf(lines []logLine) []logLine {
	var out []logLine
	for _, l := range lines {
		if l["msg"] == "message" {
			out = append(out, l)
		}
	}
	return out
}

func batchOf(t *testing.T, lines []logLine) logLine {
	t.Helper()
	if len(lines) == 0 || lines[len(lines)-1]["msg"] != "batch" {
		t.Fatalf("the last line is not the batch summary: %v", lines)
	}
	return lines[len(lines)-1]
}

// The events the tests build, as rmqevent builds them.
var event, message, ptr = rmqevent.EventOf, rmqevent.MessageOf, rmqevent.Ptr

func TestDocumentedEvent(t *testing.T) {
	var ev events.RabbitMQEvent
	if err := json.Unmarshal(rmqevent.Documented, &ev); err != nil {
		t.Fatal(err)
	}
	var seen []Message
	lines, err := run(t, Options{Process: func(_ context.Context, m Message) (string, error) {
		seen = append(seen, m)
		return "ok", nil
	}}, ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 {
		t.Fatalf("processed %d messages", len(seen))
	}
	m := seen[0]
	if m.Queue != "pizzaQueue" || m.VHost != "/" || string(m.Body) != `{"timeout":0,"data":"CZrmf0Gw8Ov4bqLQxD4E"}` {
		t.Errorf("message = %+v", m)
	}
	header1, _ := m.Headers.Get("header1")
	if number, _ := m.Headers.Get("numberInHeader"); string(header1.([]byte)) != "value1" || number != float64(10) {
		t.Errorf("headers = %#v", m.Headers)
	}
	if !m.Timestamp.Equal(time.Date(1970, 1, 1, 0, 33, 41, 0, time.UTC)) || m.DeliveryMode != 1 || m.ContentType != "text/plain" {
		t.Errorf("properties: timestamp %v, delivery mode %d, content type %q", m.Timestamp, m.DeliveryMode, m.ContentType)
	}
	if !strings.HasPrefix(m.ID, "sha256:") || m.MessageID != "" {
		t.Errorf("id = %q (no message id: want the body's hash)", m.ID)
	}
	line := messagesOf(lines)[0]
	for key, want := range map[string]any{"queue": "pizzaQueue", "vhost": "/", "index": float64(0), "redelivered": false,
		"bodyBytes": float64(43), "outcome": "processed", "messageId": "", "correlationId": "", "id": m.ID} {
		if line[key] != want {
			t.Errorf("log %s = %v, want %v", key, line[key], want)
		}
	}
	if _, logged := line["body"]; logged {
		t.Error("the body was logged without LogBodies")
	}
	if b := batchOf(t, lines); b["messages"] != float64(1) || b["processed"] != float64(1) || b["outcome"] != "processed" {
		t.Errorf("batch line = %v", b)
	}
}

func TestSeveralQueuesAndVirtualHosts(t *testing.T) {
	ev := event(map[string][]events.RabbitMQMessage{
		"orders::shop":    {message(`{"n":1}`, events.RabbitMQBasicProperties{MessageID: ptr("o1")}), message(`{"n":2}`, events.RabbitMQBasicProperties{MessageID: ptr("o2")})},
		"orders::/":       {message(`{"n":3}`, events.RabbitMQBasicProperties{MessageID: ptr("o3")})},
		"a::b::c::vhost2": {message(`[1,2]`, events.RabbitMQBasicProperties{MessageID: ptr("x1")})},
	})
	lines, err := run(t, Options{}, ev)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range messagesOf(lines) {
		got = append(got, fmt.Sprintf("%s|%s|%v|%s", l["queue"], l["vhost"], l["index"], l["messageId"]))
	}
	want := []string{"a::b::c|vhost2|0|x1", "orders|/|0|o3", "orders|shop|0|o1", "orders|shop|1|o2"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("logged %v, want %v", got, want)
	}
}

func TestEmptyAndSingleAndLargeBatches(t *testing.T) {
	for _, n := range []int{0, 1, 10000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			list := make([]events.RabbitMQMessage, n)
			for i := range list {
				list[i] = message(fmt.Sprintf(`{"seq":%d}`, i), events.RabbitMQBasicProperties{ContentType: "application/json", MessageID: ptr(fmt.Sprint("m", i))})
			}
			lines, err := run(t, Options{}, event(map[string][]events.RabbitMQMessage{"q::/": list}))
			if err != nil {
				t.Fatal(err)
			}
			if got := len(messagesOf(lines)); got != n {
				t.Errorf("%d message lines, want %d", got, n)
			}
			if b := batchOf(t, lines); b["messages"] != float64(n) || b["processed"] != float64(n) {
				t.Errorf("batch = %v", b)
			}
		})
	}
}

func TestBinaryBody(t *testing.T) {
	body := string([]byte{0x00, 0xff, 0x10, 0x80, 0x7f})
	lines, err := run(t, Options{}, event(map[string][]events.RabbitMQMessage{
		"bin::/": {message(body, events.RabbitMQBasicProperties{ContentType: "application/octet-stream"})},
	}))
	if err != nil {
		t.Fatal(err)
	}
	if l := messagesOf(lines)[0]; l["bodyBytes"] != float64(5) || l["summary"] != "5 bytes of application/octet-stream" {
		t.Errorf("line = %v", l)
	}
}

func TestEveryHeaderType(t *testing.T) {
	var ev events.RabbitMQEvent
	if err := json.Unmarshal([]byte(rmqevent.EveryHeaderType), &ev); err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if _, err := run(t, Options{Process: func(_ context.Context, m Message) (string, error) { h = m.Headers.Map(); return "", nil }}, ev); err != nil {
		t.Fatal(err)
	}
	checks := map[string]any{
		"string": "text", "int": float64(-7), "float": 1.5, "bool": true, "null": nil,
		"bytes": []byte("hi"), "signedBytes": []byte{0xff, 0x80, 0x7f},
		"table": map[string]any{"inner": []byte("A"), "n": float64(2)},
		"array": []any{float64(1), "two", []byte("B"), []any{true}},
		// An object with more than the bytes key is a table, not a byte array.
		"notBytes": map[string]any{"bytes": []any{float64(1)}, "other": float64(2)},
	}
	for k, want := range checks {
		if fmt.Sprintf("%#v", h[k]) != fmt.Sprintf("%#v", want) {
			t.Errorf("header %s = %#v, want %#v", k, h[k], want)
		}
	}
}

// recordingStore is a dead-letter store that keeps what it is given, or fails.
type recordingStore struct {
	letters []DeadLetter
	fail    error
}

func (s *recordingStore) DeadLetter(_ context.Context, letters []DeadLetter) error {
	if s.fail != nil {
		return s.fail
	}
	s.letters = append(s.letters, letters...)
	return nil
}

func TestMalformedEventsFailTheBatch(t *testing.T) {
	good := message(`{}`, events.RabbitMQBasicProperties{})
	for name, tc := range map[string]struct {
		ev   events.RabbitMQEvent
		want []string
	}{
		"not RabbitMQ":      {events.RabbitMQEvent{EventSource: "aws:sqs"}, []string{"not a RabbitMQ event", `"aws:sqs"`}},
		"key without vhost": {event(map[string][]events.RabbitMQMessage{"q": {good}}), []string{`"q"`, "<queue>::<vhost>"}},
	} {
		t.Run(name, func(t *testing.T) {
			store := &recordingStore{}
			processed := 0
			lines, err := run(t, Options{DeadLetters: store, Process: func(ctx context.Context, m Message) (string, error) {
				processed++
				return Summarise(ctx, m)
			}}, tc.ev)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if b := batchOf(t, lines); b["outcome"] != "rejected" || processed != 0 || len(store.letters) != 0 {
				t.Errorf("batch %v, %d processed, %d dead letters: an event without queues must fail whole", b, processed, len(store.letters))
			}
		})
	}
}

func poisonProcess(ctx context.Context, m Message) (string, error) {
	switch m.MessageID {
	case "panics":
		panic("business bug")
	case "refused":
		return "", errors.New("order 9 does not exist")
	}
	return Summarise(ctx, m)
}

func TestPermanentFailuresAreDeadLetteredAlone(t *testing.T) {
	store := &recordingStore{}
	lines, err := run(t, Options{DeadLetters: store, Process: poisonProcess}, rmqevent.PoisonBatch())
	if err != nil {
		t.Fatalf("the batch failed (%v): its good messages would come again and count a delivery each", err)
	}
	want := map[string]string{
		"bad-base64": "data is not valid base64", "no-data": "data is missing", "bad-json": "not valid JSON",
		"panics": "panicked: business bug", "refused": "order 9 does not exist",
	}
	if len(store.letters) != len(want) {
		t.Fatalf("%d dead letters, want %d", len(store.letters), len(want))
	}
	for _, l := range store.letters {
		if !strings.Contains(l.Err.Error(), want[l.Message.MessageID]) || l.FailedAt.IsZero() {
			t.Errorf("%s: error %v, failed at %v", l.Message.MessageID, l.Err, l.FailedAt)
		}
	}
	byID := map[string]Message{}
	for _, l := range store.letters {
		byID[l.Message.MessageID] = l.Message
	}
	if m := byID["bad-base64"]; string(m.Body) != "not base64!" || m.AppID != "billing" {
		t.Errorf("undecodable message: body %q, app id %q: want its raw data and properties kept", m.Body, m.AppID)
	}
	if m := byID["bad-json"]; string(m.Body) != `{"a":` || fmt.Sprint(m.Headers.Get("tenant")) != "[116 49] true" || m.ContentType != "application/json" {
		t.Errorf("refused message lost its body or properties: %+v", m)
	}
	if m := byID["panics"]; m.Priority != 3 || m.Type != "order" {
		t.Errorf("priority %d, type %q", m.Priority, m.Type)
	}
	outcomes := map[string]string{}
	for _, l := range messagesOf(lines) {
		outcomes[l["messageId"].(string)] = l["outcome"].(string)
	}
	for _, id := range []string{"g0", "g2", "g7"} {
		if outcomes[id] != "processed" {
			t.Errorf("%s: outcome %q", id, outcomes[id])
		}
	}
	for id := range want {
		if outcomes[id] != "dead-lettered" {
			t.Errorf("%s: outcome %q", id, outcomes[id])
		}
	}
	if b := batchOf(t, lines); b["processed"] != float64(3) || b["deadLettered"] != float64(5) || b["outcome"] != "processed" {
		t.Errorf("batch = %v", b)
	}
}

func TestWithoutAStoreAPermanentFailureReturnsTheBatch(t *testing.T) {
	calls := 0
	lines, err := run(t, Options{Process: func(ctx context.Context, m Message) (string, error) {
		calls++
		return poisonProcess(ctx, m)
	}}, rmqevent.PoisonBatch())
	if !errors.Is(err, ErrNoDeadLetterStore) || !strings.Contains(err.Error(), "queue q (vhost /), message 1 (bad-base64)") {
		t.Fatalf("err = %v", err)
	}
	if calls != 1 {
		t.Errorf("business function called %d times; it must stop at the failure (the batch comes again whole)", calls)
	}
	if b := batchOf(t, lines); b["processed"] != float64(1) || b["notAttempted"] != float64(6) || b["outcome"] != "returned" {
		t.Errorf("batch = %v", b)
	}
}

func TestRetryReturnsTheBatchUntilTheLastDelivery(t *testing.T) {
	transient := func(_ context.Context, m Message) (string, error) {
		if m.MessageID == "flaky" {
			return "", Retry(errors.New("inventory service unavailable"))
		}
		return "fine", nil
	}
	batch := func(headers map[string]any, redelivered bool) events.RabbitMQEvent {
		flaky := message(`{}`, events.RabbitMQBasicProperties{MessageID: ptr("flaky"), Headers: headers})
		flaky.Redelivered = redelivered
		return event(map[string][]events.RabbitMQMessage{"q::/": {
			message(`{}`, events.RabbitMQBasicProperties{MessageID: ptr("before")}), flaky,
			message(`{}`, events.RabbitMQBasicProperties{MessageID: ptr("after")}),
		}})
	}
	for name, tc := range map[string]struct {
		headers      map[string]any
		redelivered  bool
		deadLettered bool
	}{
		"first delivery":                  {nil, false, false},
		"fourth delivery of five":         {map[string]any{"x-delivery-count": float64(3)}, true, false},
		"fifth of five":                   {map[string]any{"x-delivery-count": float64(4)}, true, true},
		"fifth of five, RabbitMQ 4.3":     {map[string]any{"x-delivery-count": float64(0), "x-acquired-count": float64(4)}, true, true},
		"redelivered, count not received": {nil, true, false},
	} {
		t.Run(name, func(t *testing.T) {
			store := &recordingStore{}
			lines, err := run(t, Options{DeadLetters: store, DeliveryLimit: 5, Process: transient}, batch(tc.headers, tc.redelivered))
			if !tc.deadLettered {
				if !IsRetry(err) || !strings.Contains(err.Error(), "inventory service unavailable") || len(store.letters) != 0 {
					t.Fatalf("err = %v, %d dead letters: want the batch returned for a retry", err, len(store.letters))
				}
				if b := batchOf(t, lines); b["outcome"] != "returned" || b["notAttempted"] != float64(1) {
					t.Errorf("batch = %v", b)
				}
				return
			}
			if err != nil || len(store.letters) != 1 || !strings.Contains(store.letters[0].Err.Error(), "still failing at delivery 5 of 5") {
				t.Fatalf("err = %v, letters %v: at the last delivery the listener dead-letters it, with its error", err, store.letters)
			}
			if b := batchOf(t, lines); b["processed"] != float64(2) || b["deadLettered"] != float64(1) {
				t.Errorf("batch = %v", b)
			}
		})
	}
}

func TestAFailedStoreReturnsTheBatch(t *testing.T) {
	store := &recordingStore{fail: errors.New("connection refused")}
	lines, err := run(t, Options{DeadLetters: store, Process: poisonProcess}, rmqevent.PoisonBatch())
	if err == nil || !strings.Contains(err.Error(), "storing 5 dead letters failed") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("err = %v: when a dead letter cannot be stored the batch must come again", err)
	}
	if b := batchOf(t, lines); b["outcome"] != "returned" {
		t.Errorf("batch = %v", b)
	}
}

func TestBodiesLoggedOnlyWhenAskedAndRequestID(t *testing.T) {
	ev := event(map[string][]events.RabbitMQMessage{"q::/": {message(`{"card":"4111"}`, events.RabbitMQBasicProperties{})}})
	var out bytes.Buffer
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	if err := New(Options{LogBodies: true, Output: &out}).Handle(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"body":"{\"card\":\"4111\"}"`) || !strings.Contains(out.String(), `"requestId":"req-1"`) {
		t.Errorf("log = %s", out.String())
	}
	lines, _ := run(t, Options{}, ev)
	if strings.Contains(fmt.Sprint(lines), "4111") {
		t.Error("body logged by default")
	}
}

func TestRedeliveredAndIDs(t *testing.T) {
	m := message(`x`, events.RabbitMQBasicProperties{CorrelationID: ptr("c-9")})
	m.Redelivered = true
	lines, err := run(t, Options{}, event(map[string][]events.RabbitMQMessage{"q::/": {m}}))
	if err != nil {
		t.Fatal(err)
	}
	l := messagesOf(lines)[0]
	if l["redelivered"] != true || l["correlationId"] != "c-9" || l["id"] != "sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881" {
		t.Errorf("line = %v", l)
	}
}

func TestOptionsFromEnv(t *testing.T) {
	t.Setenv(contract.EnvListenerLogBodies, "true")
	if o, err := OptionsFromEnv(); err != nil || !o.LogBodies {
		t.Errorf("true: %+v %v", o, err)
	}
	t.Setenv(contract.EnvListenerLogBodies, "sometimes")
	if _, err := OptionsFromEnv(); err == nil || !strings.Contains(err.Error(), contract.EnvListenerLogBodies) {
		t.Errorf("want an error naming %s, got %v", contract.EnvListenerLogBodies, err)
	}
}

func TestNotRabbitMQIsSentinel(t *testing.T) {
	_, err := run(t, Options{}, events.RabbitMQEvent{})
	if !errors.Is(err, ErrNotRabbitMQ) {
		t.Errorf("err = %v", err)
	}
}
