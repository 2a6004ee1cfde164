package handler

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// benchEvent is a batch of n one-KiB JSON messages, as the mapping delivers them.
func benchEvent(n int) events.RabbitMQEvent {
	list := make([]events.RabbitMQMessage, n)
	for i := range list {
		body := fmt.Sprintf(`{"seq":%d,"pad":%q}`, i, strings.Repeat("x", 1024-30))
		body = body[:len(body)-2] + `"}`
		list[i] = events.RabbitMQMessage{
			Data:            base64.StdEncoding.EncodeToString([]byte(body)),
			BasicProperties: events.RabbitMQBasicProperties{ContentType: "application/json", MessageID: ptr(fmt.Sprint("m-", i)), DeliveryMode: 2},
		}
	}
	return events.RabbitMQEvent{EventSource: EventSourceRabbitMQ, MessagesByQueue: map[string][]events.RabbitMQMessage{"orders::/": list}}
}

// BenchmarkHandle is the listener's cost per message: decoding, the default business function
// and one log line per message (to io.Discard).
func BenchmarkHandle(b *testing.B) {
	for _, n := range []int{100, 4000} {
		ev := benchEvent(n)
		h := New(Options{Output: io.Discard})
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := h.Handle(context.Background(), ev); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/msg")
		})
	}
}

// BenchmarkFloor is the least any listener must do per message: decode the same base64 and
// validate the same JSON with the standard library, nothing else.
func BenchmarkFloor(b *testing.B) {
	for _, n := range []int{100, 4000} {
		ev := benchEvent(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, list := range ev.MessagesByQueue {
					for i := range list {
						body, err := base64.StdEncoding.DecodeString(list[i].Data)
						if err != nil || !json.Valid(body) {
							b.Fatal("bad message")
						}
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/msg")
		})
	}
}
