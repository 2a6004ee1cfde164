package rmqevent

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestGenerateIsWhatAWSSends(t *testing.T) {
	ev := Generate(300, Options{Seed: 2})
	var decoded events.RabbitMQEvent
	if err := json.Unmarshal(ev.Payload, &decoded); err != nil {
		t.Fatal(err)
	}
	list := decoded.MessagesByQueue["orders::/"]
	if decoded.EventSource != "aws:rmq" || len(list) != 300 {
		t.Fatalf("event source %q, %d messages", decoded.EventSource, len(list))
	}
	for i, m := range list {
		if m.Data != ev.Data[i] || len(ev.Bodies[i]) != BodySize || !json.Valid(ev.Bodies[i]) {
			t.Fatalf("message %d: data or body differ, or the body is not %d bytes of JSON", i, BodySize)
		}
		if _, ok := m.BasicProperties.Headers["x-trace"].(map[string]any)["bytes"]; !ok {
			t.Fatalf("message %d: headers %v lack a byte array", i, m.BasicProperties.Headers)
		}
	}
	if big := Generate(3000, Options{}); len(big.Payload) > 6<<20 {
		t.Errorf("3,000 messages take %d bytes, over Lambda's 6 MB (6 MiB) payload limit", len(big.Payload))
	}
	t.Logf("%d bytes per message in the event; one message: %s", len(ev.Payload)/300, ev.Payload[:1500])
}
