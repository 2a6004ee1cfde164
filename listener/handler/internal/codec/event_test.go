package codec

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"
)

func TestAttempt(t *testing.T) {
	for _, tc := range []struct {
		headers     string // a headers table as JSON
		redelivered bool
		want        int
	}{
		{`null`, false, 1},
		{`{}`, true, 0},
		{`{"x-delivery-count":2}`, true, 3},
		{`{"x-delivery-count":1,"x-acquired-count":3}`, true, 4},
		{`{"x-delivery-count":"two"}`, true, 0},
		{`{"x-delivery-count":-1}`, true, 0},
		{`{"x-delivery-count":5,"x-delivery-count":1}`, true, 2}, // the last, as encoding/json keeps it
	} {
		var decoded map[string]any
		if err := json.Unmarshal([]byte(tc.headers), &decoded); err != nil {
			t.Fatal(err)
		}
		// The three ways a message gets its count: decoded with the batch, from headers
		// decoded when asked for, and from headers that came decoded.
		payload := `{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[{"redelivered":` + strconv.FormatBool(tc.redelivered) +
			`,"basicProperties":{"headers":` + tc.headers + `}}]}}`
		messages, handled, err := Payload([]byte(payload))
		if !handled || err != nil || len(messages) != 1 {
			t.Fatalf("%s: handled %v, err %v, %d messages", payload, handled, err, len(messages))
		}
		lazy, eager := returnCountsOf(messages[0].Headers), returnCountsOf(HeadersOf(decoded))
		for name, got := range map[string]int{"decoded with the batch": messages[0].Attempt,
			"from Headers.Get": lazy.attempt(tc.redelivered), "from HeadersOf": eager.attempt(tc.redelivered)} {
			if got != tc.want {
				t.Errorf("headers %s, redelivered %v: attempt %s = %d, want %d", tc.headers, tc.redelivered, name, got, tc.want)
			}
		}
	}
}

func TestTimestampForms(t *testing.T) {
	want := time.Date(2026, 11, 24, 13, 5, 9, 0, time.UTC)
	for _, s := range []string{"Nov 24, 2026, 1:05:09 PM", "Nov 24, 2026, 1:05:09\u202fPM", "2026-11-24T13:05:09Z"} {
		if got := parseTimestamp(s); !got.Equal(want) {
			t.Errorf("%q = %v", s, got)
		}
	}
	if !parseTimestamp("").IsZero() || !parseTimestamp("yesterday").IsZero() {
		t.Error("unparseable timestamps must be zero")
	}
}
