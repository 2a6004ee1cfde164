package handler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/rmqevent"
)

// reference is what the listener made of a payload before decodePayload: aws-lambda-go's
// reflection (a json.Decoder into events.RabbitMQEvent), then decodeBatch.
func reference(payload []byte) (messages []Message, jsonErr, err error) {
	var ev events.RabbitMQEvent
	if err := json.NewDecoder(bytes.NewReader(payload)).Decode(&ev); err != nil {
		return nil, err, nil
	}
	messages, err = decodeBatch(ev)
	return messages, nil, err
}

// comparableMessage is a message with its problem as text (type and message).
type comparableMessage struct {
	Message
	Problem string
}

func withProblemText(messages []Message) []comparableMessage {
	if messages == nil {
		return nil
	}
	out := make([]comparableMessage, len(messages))
	for i, m := range messages {
		if m.problem != nil {
			out[i].Problem = fmt.Sprintf("%T %v", m.problem, m.problem)
		}
		m.problem = nil
		out[i].Message = m
	}
	return out
}

// sameAsReference fails t unless decodePayload gives exactly the reference's messages and
// error, or leaves the payload to encoding/json. It says whether decodePayload handled it.
func sameAsReference(t *testing.T, payload []byte) bool {
	t.Helper()
	want, jsonErr, wantErr := reference(payload)
	got, handled, err := decodePayload(payload)
	if !handled {
		return false
	}
	if jsonErr != nil {
		t.Fatalf("decodePayload handled %.200q, which encoding/json refuses: %v", payload, jsonErr)
	}
	if fmt.Sprintf("%T %v", err, err) != fmt.Sprintf("%T %v", wantErr, wantErr) {
		t.Fatalf("%.200q: error %T %v, want %T %v", payload, err, err, wantErr, wantErr)
	}
	// Compared as Go syntax (%#v: maps in key order, nil and empty slices apart, -0 shown),
	// since a Message holds an error, which reflect.DeepEqual compares unreliably.
	if got, want := withProblemText(got), withProblemText(want); fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) {
		for i := range min(len(got), len(want)) {
			if fmt.Sprintf("%#v", got[i]) != fmt.Sprintf("%#v", want[i]) {
				t.Fatalf("%.300q: message %d:\n got %#v\nwant %#v", payload, i, got[i], want[i])
			}
		}
		t.Fatalf("%.300q: %d messages, want %d", payload, len(got), len(want))
	}
	return true
}

// decodeCorpus is every event the handler's tests use, as JSON, and variants of them.
func decodeCorpus(t testing.TB) [][]byte {
	documented, err := os.ReadFile("testdata/documented-event.json")
	if err != nil {
		t.Fatal(err)
	}
	corpus := [][]byte{documented, rmqevent.Generate(3, rmqevent.Options{}).Payload}
	marshal := func(ev events.RabbitMQEvent) {
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		corpus = append(corpus, b)
	}
	marshal(poisonBatch())
	marshal(event(map[string][]events.RabbitMQMessage{
		"orders::shop":    {message(`{"n":1}`, events.RabbitMQBasicProperties{MessageID: ptr("o1")}), message(`{"n":2}`, events.RabbitMQBasicProperties{MessageID: ptr("o2")})},
		"orders::/":       {message(`{"n":3}`, events.RabbitMQBasicProperties{MessageID: ptr("o3")})},
		"a::b::c::vhost2": {message(`[1,2]`, events.RabbitMQBasicProperties{MessageID: ptr("x1")})},
		"q":               {},
	}))
	marshal(events.RabbitMQEvent{})
	marshal(events.RabbitMQEvent{EventSource: "aws:sqs"})
	corpus = append(corpus, []byte(everyHeaderTypeEvent))
	for _, s := range []string{
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"orders::/":[{"data":"e30="},{"data":"%%%"}]}}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[null,{"data":null,"basicProperties":null},{"basicProperties":{"bodySize":12}}]}}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[{"data":"e3\/0=","basicProperties":{"messageId":"\u00e9","timestamp":"Nov 24, 2026, 1:05:09\u202fPM"}}]}}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[{"data":"e30\n=","basicProperties":{"timestamp":"2026-11-24T13:05:09Z"}}]}}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[{"data":"e30=","basicProperties":{"timestamp":"Nov 24, 2026, 1:05:09` + "\u202f" + `PM"}}]}}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"b::/":[],"a::/":null,"c::/":[{"data":""}]}}`,
		`{"EventSource":"aws:rmq","rmqMessagesByQueue":{}}`,
		`{"eventSource":"aws:rmq","eventSource":"aws:rmq"}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[],"q::/":[]}}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[{"data":"e30=","redelivered":1}]}}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[{"basicProperties":{"deliveryMode":256}}]}}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[{"basicProperties":{"deliveryMode":2.0}}]}}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[{"basicProperties":{"headers":{"n":1e400}}}]}}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[{"basicProperties":{"headers":{"a":-0,"b":-0.0,"c":1e2,"d":{"bytes":[1.0,-0,1e2]},"e":{"bytes":[]},"f":{},"g":[],"h":{"bytes":[256]},"i":{"bytes":[1],"bytes":[2]}}}}]}}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[{"basicProperties":{"headers":{"bytes":[1,2]}}}]}}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[{"basicProperties":{"headers":{"a":{"bytes":[0,00]},"b":{"bytes":[1000]},"c":{"bytes":[01]},"d":{"bytes":[ 1 , 2 ]},"e":{"bytes":[-0,-9,99,255,-128]},"f":{"bytes":[-]},"g":{"bytes":[9` + "\t" + `]},"h":{"bytes":[7]}}}}]}}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[{"basicProperties":{"headers":{"\u00e9":1,"é":{"bytes":[1]},"` + "\xff" + `":2}}}]}}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[{"basicProperties":{"headers":{"x-delivery-count":3}}}]}}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[{"redelivered":true,"basicProperties":{"headers":{"x-acquired-count":4,"x-delivery-count":1}}}]}}`,
		` {"eventSource":"aws:rmq","rmqMessagesByQueue":{}} trailing`,
		`null`, `[]`, `{}`, `{"eventSource":"aws:rmq"`, `{"eventSource":"aws:rmq","other":{"deep":[1,2,{"x":null}]}}`,
	} {
		corpus = append(corpus, []byte(s))
	}
	for _, ts := range []string{"Feb 29, 2024, 12:00:00 AM", "Feb 29, 2023, 12:00:00 AM", "Jan 1, 1970, 12:33:41 AM", "Dec 31, 9999, 11:59:59 PM",
		"Jan 02, 2026, 03:04:05 PM", "Jan 2, 2026, 13:04:05 PM", "Jan 2, 2026, 0:04:05 AM", "jan 2, 2026, 1:04:05 PM", "Jan 2, 2026, 1:04:05.5 PM",
		"Jan 2, 2026, 1:04:60 PM", " Jan 2, 2026, 1:04:05 PM", "Jan 2, 2026, 1:04:05 pm", "Jan 32, 2026, 1:04:05 PM", "Jan 2, 2026, 1:4:05 PM"} {
		corpus = append(corpus, fmt.Appendf(nil, `{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[{"basicProperties":{"timestamp":%q}}]}}`, ts))
	}
	return corpus
}

const everyHeaderTypeEvent = `{"eventSource":"aws:rmq","rmqMessagesByQueue":{"h::/":[{"basicProperties":{"headers":{
	"string":"text","int":-7,"float":1.5,"bool":true,"null":null,
	"bytes":{"bytes":[104,105]},"signedBytes":{"bytes":[-1,-128,127]},
	"table":{"inner":{"bytes":[65]},"n":2},"array":[1,"two",{"bytes":[66]},[true]],
	"notBytes":{"bytes":[1],"other":2}
}},"data":"e30="}]}}`

func TestDecodePayloadIsTheReflectionPath(t *testing.T) {
	for _, payload := range decodeCorpus(t) {
		sameAsReference(t, payload)
	}
	// The events the mapping sends are decoded in one pass, not left to encoding/json.
	for _, payload := range [][]byte{decodeCorpus(t)[0], rmqevent.Generate(300, rmqevent.Options{Seed: 3}).Payload, []byte(everyHeaderTypeEvent)} {
		if !sameAsReference(t, payload) {
			t.Errorf("left to encoding/json: %.200q", payload)
		}
	}
}

func TestJavaTimestampIsTimeParse(t *testing.T) {
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for h := 0; h < 366*24; h += 7 {
		tm := base.Add(time.Duration(h)*time.Hour + time.Duration(h%3600)*time.Second)
		for _, s := range []string{tm.Format("Jan 2, 2006, 3:04:05 PM"), tm.Format("Jan 02, 2006, 03:04:05 PM"),
			strings.Replace(tm.Format("Jan 2, 2006, 3:04:05 PM"), " ", "\u202f", 4)} {
			if got, want := parseTimestampFast(s), parseTimestamp(s); !got.Equal(want) || got != want {
				t.Fatalf("%q: %v, want %v", s, got, want)
			}
		}
	}
}

func FuzzDecodePayload(f *testing.F) {
	for _, payload := range decodeCorpus(f) {
		f.Add(payload)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		sameAsReference(t, payload)
	})
}
