package codec

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/rmqevent"
)

var benchSizes = []int{100, 3000}

// The primitives, one by one, on the bodies of listener/handler's benchmarks: the standard
// library against this package's.

func BenchmarkValidJSON(b *testing.B) {
	bodies := rmqevent.Generate(100, rmqevent.Options{}).Bodies
	for _, c := range []struct {
		name  string
		valid func([]byte) bool
	}{{"encoding-json", json.Valid}, {"handwritten", ValidJSON}} {
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

func BenchmarkBase64(b *testing.B) {
	data := rmqevent.Generate(100, rmqevent.Options{}).Data
	src := make([][]byte, len(data))
	for i, d := range data {
		src[i] = []byte(d)
	}
	dst := make([]byte, 2048)
	for _, c := range []struct {
		name   string
		decode func(dst, src []byte) bool
	}{
		{"encoding-base64", func(dst, src []byte) bool { _, err := base64.StdEncoding.Decode(dst, src); return err == nil }},
		{"handwritten", func(dst, src []byte) bool { _, ok := decodeBase64(dst, src); return ok }},
	} {
		b.Run(c.name, func(b *testing.B) {
			rmqevent.PerMessage(b, len(src), func() {
				for _, s := range src {
					if !c.decode(dst, s) {
						b.Fatal("bad base64")
					}
				}
			})
		})
	}
}

// BenchmarkDecode is the payload's decoding alone, into the batch's messages: aws-lambda-go's
// reflection into events.RabbitMQEvent then FromEvent, against the one pass.
func BenchmarkDecode(b *testing.B) {
	for _, n := range benchSizes {
		payload := rmqevent.Generate(n, rmqevent.Options{}).Payload
		b.Run(fmt.Sprintf("encoding-json/%d", n), func(b *testing.B) {
			rmqevent.PerMessage(b, n, func() {
				if _, jsonErr, err := reference(payload); jsonErr != nil || err != nil {
					b.Fatal(jsonErr, err)
				}
			})
		})
		b.Run(fmt.Sprintf("onepass/%d", n), func(b *testing.B) {
			rmqevent.PerMessage(b, n, func() {
				if _, handled, err := Payload(payload); !handled || err != nil {
					b.Fatal(handled, err)
				}
			})
		})
	}
}
