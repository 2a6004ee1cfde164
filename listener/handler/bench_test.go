package handler

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/rmqevent"
)

// The in-process figures beside `make bench`'s end-to-end ones (listener/e2e_bench_test.go): the
// same realistic events (internal/testsupport/rmqevent: 1 KiB JSON bodies, AWS's headers), per message.

var benchSizes = []int{100, 3000}

// perMessage reports ns, CPU ns (the process's, garbage collection included: steadier than wall
// time on a busy machine) and allocations per message of a benchmark whose every op handles n
// messages.
func perMessage(b *testing.B, n int, op func()) {
	b.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu := processCPU()
	for b.Loop() {
		op()
	}
	cpu = processCPU() - cpu
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/msg")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*n), "cpu-ns/msg")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N*n), "allocs/msg")
}

// processCPU is the user and system CPU time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkInvoke is the function's work per message as the bootstrap does it, without the
// Runtime API: the payload's decoding, the default business function and one log line.
func BenchmarkInvoke(b *testing.B) {
	for _, n := range benchSizes {
		payload := rmqevent.Generate(n, rmqevent.Options{}).Payload
		h := New(Options{Output: io.Discard})
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			perMessage(b, n, func() {
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
			perMessage(b, n, func() {
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
			perMessage(b, n, func() {
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

// The primitives, one by one, on the same bodies: the standard library against this package's.

func BenchmarkValidJSON(b *testing.B) {
	bodies := rmqevent.Generate(100, rmqevent.Options{}).Bodies
	for _, c := range []struct {
		name  string
		valid func([]byte) bool
	}{{"encoding-json", json.Valid}, {"handwritten", ValidJSON}} {
		b.Run(c.name, func(b *testing.B) {
			perMessage(b, len(bodies), func() {
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
			perMessage(b, len(src), func() {
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
// reflection into events.RabbitMQEvent then decodeBatch, against the one pass.
func BenchmarkDecode(b *testing.B) {
	for _, n := range benchSizes {
		payload := rmqevent.Generate(n, rmqevent.Options{}).Payload
		b.Run(fmt.Sprintf("encoding-json/%d", n), func(b *testing.B) {
			perMessage(b, n, func() {
				if _, jsonErr, err := reference(payload); jsonErr != nil || err != nil {
					b.Fatal(jsonErr, err)
				}
			})
		})
		b.Run(fmt.Sprintf("onepass/%d", n), func(b *testing.B) {
			perMessage(b, n, func() {
				if _, handled, err := decodePayload(payload); !handled || err != nil {
					b.Fatal(handled, err)
				}
			})
		})
	}
}
