package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"

	"rabbitmq-esm/internal/rmqevent"
	"rabbitmq-esm/internal/runtimeapi"
)

// What users pay for: the shipped bootstrap binary, as a process of its own, handed one event of
// n one-KiB JSON messages by a Runtime API on loopback, per message from the invocation's
// request to its posted response: the Runtime API round trip, the envelope's decoding, base64,
// the default business function, and one log line per message written to a pipe, as Lambda's
// log collector reads stdout.
//
// Each result is reported beside its floor, measured in this process on the same messages: the
// standard library decoding the same base64 bodies and validating the same JSON, nothing else.

// lineCounter drains the bootstrap's stdout as Lambda's log collector does, counting lines.
type lineCounter struct{ lines atomic.Int64 }

func (c *lineCounter) Write(p []byte) (int, error) {
	var n int64
	for _, b := range p {
		if b == '\n' {
			n++
		}
	}
	c.lines.Add(n)
	return len(p), nil
}

// BenchmarkEndToEnd is the listener's cost per message through the Runtime API.
func BenchmarkEndToEnd(b *testing.B) {
	for _, n := range []int{100, 3000} {
		ev := rmqevent.Generate(n, rmqevent.Options{})
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			api, err := runtimeapi.Start()
			if err != nil {
				b.Fatal(err)
			}
			defer api.Close()
			cmd := exec.Command(bootstrap(b)) //nolint:gosec,noctx // G204: the binary this benchmark built; killed below
			cmd.Env = []string{
				"AWS_LAMBDA_RUNTIME_API=" + api.Addr,
				"AWS_LAMBDA_FUNCTION_NAME=listener", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
				"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=1024", "AWS_REGION=us-east-1", "_HANDLER=bootstrap",
			}
			var out lineCounter
			cmd.Stdout, cmd.Stderr = &out, io.Discard
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
			invoke := func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				res, err := api.Invoke(ctx, ev.Payload)
				if err != nil {
					b.Fatal(err)
				}
				if res.Error != nil {
					b.Fatalf("the listener failed the batch: %+v", res.Error)
				}
			}
			invoke() // the first invocation pays the cold start, measured by BenchmarkColdStart
			for b.Loop() {
				invoke()
			}
			perMessage := float64(b.Elapsed().Nanoseconds()) / float64(b.N*n)
			b.StopTimer()
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			if got, want := out.lines.Load(), int64((b.N+1)*(n+1)); got != want {
				b.Errorf("%d log lines, want %d (one per message and one per batch)", got, want)
			}
			floor := floorNsPerMessage(b, ev)
			b.ReportMetric(perMessage/1000, "µs/msg")
			b.ReportMetric(floor/1000, "floor-µs/msg")
			b.ReportMetric(perMessage/floor, "x-floor")
		})
	}
}

// floorNsPerMessage measures the floor on ev's messages: the standard library's base64 decoding
// and json.Valid, in a loop over the batch for at least half a second.
func floorNsPerMessage(b *testing.B, ev rmqevent.Event) float64 {
	b.Helper()
	messages := 0
	start := time.Now()
	for time.Since(start) < 500*time.Millisecond {
		for _, data := range ev.Data {
			body, err := base64.StdEncoding.DecodeString(data)
			if err != nil || !json.Valid(body) {
				b.Fatal("the generated event holds a bad message")
			}
		}
		messages += len(ev.Data)
	}
	return float64(time.Since(start).Nanoseconds()) / float64(messages)
}
