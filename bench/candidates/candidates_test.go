// Package candidates compares, on the listener's realistic events, the JSON and base64
// libraries that could replace the standard library in the listener against what the listener
// uses: its own one-pass decoder and validator (listener/handler's codec). `make bench` runs
// it; docs/performance.md shows the table. It is a module of its own so that the
// candidates never enter the listener's module.
package candidates

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	gojson "github.com/goccy/go-json"
	jsoniter "github.com/json-iterator/go"
	segmentio "github.com/segmentio/encoding/json"
	"github.com/tidwall/gjson"
	"github.com/valyala/fastjson"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/rmqevent"
	"github.com/rabbitmq-esm/rabbitmq-esm/listener/handler"
)

var jsoniterStd = jsoniter.ConfigCompatibleWithStandardLibrary

type (
	unmarshaler struct {
		name      string
		unmarshal func([]byte, any) error
	}
	validator struct {
		name  string
		valid func([]byte) bool
	}
	base64Decoder struct {
		name   string
		decode func(dst, src []byte) error
	}
)

// The candidates; candidates_amd64_test.go adds those that do not build for linux/arm64, the
// architecture the function runs on (sonic, base64x).
var (
	unmarshalers = []unmarshaler{
		{"encoding-json", json.Unmarshal},
		{"goccy-go-json", gojson.Unmarshal},
		{"segmentio", segmentio.Unmarshal},
		{"jsoniter", jsoniterStd.Unmarshal},
	}
	validators = []validator{
		{"encoding-json", json.Valid},
		{"handwritten", handler.ValidJSON},
		{"goccy-go-json", gojson.Valid},
		{"segmentio", segmentio.Valid},
		{"jsoniter", jsoniterStd.Valid},
		{"gjson", gjson.ValidBytes},
		{"fastjson", func(d []byte) bool { return fastjson.ValidateBytes(d) == nil }},
	}
	base64Decoders = []base64Decoder{
		{"encoding-base64", func(dst, src []byte) error { _, err := base64.StdEncoding.Decode(dst, src); return err }},
	}
)

// BenchmarkListener is the whole listener per message (decode, default business function, log
// line) with each way of decoding the payload: the one pass (Handler.Invoke) against each
// library decoding into events.RabbitMQEvent the way aws-lambda-go does with encoding/json,
// followed by Handle.
func BenchmarkListener(b *testing.B) {
	for _, n := range []int{100, 3000} {
		payload := rmqevent.Generate(n, rmqevent.Options{}).Payload
		h := handler.New(handler.Options{Output: io.Discard})
		b.Run(fmt.Sprintf("onepass/%d", n), func(b *testing.B) {
			rmqevent.PerMessage(b, n, func() {
				if _, err := h.Invoke(context.Background(), payload); err != nil {
					b.Fatal(err)
				}
			})
		})
		for _, u := range unmarshalers {
			b.Run(fmt.Sprintf("%s/%d", u.name, n), func(b *testing.B) {
				rmqevent.PerMessage(b, n, func() {
					var ev events.RabbitMQEvent
					if err := u.unmarshal(payload, &ev); err != nil {
						b.Fatal(err)
					}
					if err := h.Handle(context.Background(), ev); err != nil {
						b.Fatal(err)
					}
				})
			})
		}
	}
}

// BenchmarkValidJSON is the validation of one 1 KiB body.
func BenchmarkValidJSON(b *testing.B) {
	bodies := rmqevent.Generate(100, rmqevent.Options{}).Bodies
	for _, c := range validators {
		b.Run(c.name, func(b *testing.B) {
			rmqevent.PerMessage(b, len(bodies), func() {
				for _, body := range bodies {
					if !c.valid(body) {
						b.Fatal("invalid")
					}
				}
			})
		})
	}
}

// BenchmarkBase64 is the decoding of one message's data; the listener's own decoder is
// measured beside the standard library by listener/handler/internal/codec's BenchmarkBase64.
func BenchmarkBase64(b *testing.B) {
	data := rmqevent.Generate(100, rmqevent.Options{}).Data
	src := make([][]byte, len(data))
	for i, d := range data {
		src[i] = []byte(d)
	}
	dst := make([]byte, 2048)
	for _, c := range base64Decoders {
		b.Run(c.name, func(b *testing.B) {
			rmqevent.PerMessage(b, len(src), func() {
				for _, s := range src {
					if err := c.decode(dst, s); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
