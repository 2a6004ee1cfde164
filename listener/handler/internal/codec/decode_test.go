package codec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/rmqevent"
)

// reference is what the listener made of a payload before Payload: aws-lambda-go's
// reflection (a json.Decoder into events.RabbitMQEvent), then FromEvent.
func reference(payload []byte) (messages []Message, jsonErr, err error) {
	var ev events.RabbitMQEvent
	if err := json.NewDecoder(bytes.NewReader(payload)).Decode(&ev); err != nil {
		return nil, err, nil
	}
	messages, err = FromEvent(ev)
	return messages, nil, err
}

// comparableMessage is a message with its problem as text (type and message).
type comparableMessage struct {
	Message
	ProblemText string
}

func withProblemText(messages []Message) []comparableMessage {
	if messages == nil {
		return nil
	}
	out := make([]comparableMessage, len(messages))
	for i, m := range messages {
		if m.Problem != nil {
			out[i].ProblemText = fmt.Sprintf("%T %v", m.Problem, m.Problem)
		}
		m.Problem = nil
		out[i].Message = m
	}
	return out
}

// sameAsReference fails t unless Payload gives exactly the reference's messages and
// error, or leaves the payload to encoding/json. It says whether Payload handled it.
func sameAsReference(t *testing.T, payload []byte) bool {
	t.Helper()
	want, jsonErr, wantErr := reference(payload)
	got, handled, err := Payload(payload)
	if !handled {
		return false
	}
	if jsonErr != nil {
		t.Fatalf("Payload handled %.200q, which encoding/json refuses: %v", payload, jsonErr)
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

func TestDecodePayloadIsTheReflectionPath(t *testing.T) {
	for _, payload := range rmqevent.Corpus() {
		sameAsReference(t, payload)
	}
	// The events the mapping sends are decoded in one pass, not left to encoding/json.
	for _, payload := range [][]byte{rmqevent.Documented, rmqevent.Generate(300, rmqevent.Options{Seed: 3}).Payload, []byte(rmqevent.EveryHeaderType)} {
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
	for _, payload := range rmqevent.Corpus() {
		f.Add(payload)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		sameAsReference(t, payload)
	})
}
