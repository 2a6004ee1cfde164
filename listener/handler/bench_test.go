package handler

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/rmqevent"
)

// The in-process figures beside `make bench`'s end-to-end ones (listener/e2e_bench_test.go): the
// same realistic events (internal/testsupport/rmqevent: 1 KiB JSON bodies, AWS's headers), per message.

var benchSizes = []int{100, 3000}

// BenchmarkInvoke is the function's work per message as the bootstrap does it, without the
// Runtime API: the payload's decoding, the default business function and one log line.
func BenchmarkInvoke(b *testing.B) {
	for _, n := range benchSizes {
		payload := rmqevent.Generate(n, rmqevent.Options{}).Payload
		h := New(Options{Output: io.Discard})
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			rmqevent.PerMessage(b, n, func() {
				if _, err := h.Invoke(context.Background(), payload); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkReflection is what the function did before Invoke, for comparison: aws-lambda-go's
// reflection decode into events.RabbitMQEvent, then Handle.
func BenchmarkReflection(b *testing.B) {
	for _, n := range benchSizes {
		payload := rmqevent.Generate(n, rmqevent.Options{}).Payload
		h := New(Options{Output: io.Discard})
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			rmqevent.PerMessage(b, n, func() {
				var ev events.RabbitMQEvent
				if err := json.NewDecoder(bytes.NewReader(payload)).Decode(&ev); err != nil {
					b.Fatal(err)
				}
				if err := h.Handle(context.Background(), ev); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkFloor is the least any listener must do per message: decode the same base64 and
// validate the same JSON with the standard library, nothing else.
func BenchmarkFloor(b *testing.B) {
	for _, n := range benchSizes {
		ev := rmqevent.Generate(n, rmqevent.Options{})
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			rmqevent.PerMessage(b, n, func() {
				for _, data := range ev.Data {
					body, err := base64.StdEncoding.DecodeString(data)
					if err != nil || !json.Valid(body) {
						b.Fatal("bad message")
					}
				}
			})
		})
	}
}
