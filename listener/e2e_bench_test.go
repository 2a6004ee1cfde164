package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"rabbitmq-esm/testsupport/rmqevent"
	"rabbitmq-esm/testsupport/runtimeapi"
)

// What users pay for: the shipped bootstrap binary, as a process of its own, handed one event of
// n one-KiB JSON messages by a Runtime API on loopback, per message from the invocation's
// request to its posted response: the Runtime API round trip, the envelope's decoding, base64,
// the default business function, and one log line per message written to a pipe, as Lambda's
// log collector reads stdout.
//
// Each result is reported beside its floor, measured in this process on the same messages: the
// standard library decoding the same base64 bodies and validating the same JSON, nothing else.
// The floor is measured once beside every invocation, with the benchmark's timer stopped, so
// that both figures come from the same moments of a machine that may be running other work.

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
	bootstrap(b)
	for _, n := range []int{100, 3000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) { endToEnd(b, n, built.BinaryPath) })
	}
}

// BenchmarkNodeListener is the same for a plain Node.js listener doing the same work
// (bench/node/listener.mjs), when node is installed: the comparison the issue asks for.
func BenchmarkNodeListener(b *testing.B) {
	node, err := exec.LookPath("node")
	if err != nil {
		b.Skip("node is not installed")
	}
	for _, n := range []int{100, 3000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) { endToEnd(b, n, node, "../bench/node/listener.mjs") })
	}
	b.Run("coldstart", func(b *testing.B) {
		for b.Loop() {
			coldStart(b, node, "../bench/node/listener.mjs")
		}
	})
}

// endToEnd runs the program, hands it an event of n messages per invocation, and reports the
// time per message beside the floor's.
func endToEnd(b *testing.B, n int, program string, args ...string) {
	ev := rmqevent.Generate(n, rmqevent.Options{})
	api, err := runtimeapi.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer api.Close()
	cmd := exec.Command(program, args...) //nolint:gosec,noctx // G204: the program this benchmark built or found; killed below
	cmd.Env = []string{
		"AWS_LAMBDA_RUNTIME_API=" + api.Addr,
		"AWS_LAMBDA_FUNCTION_NAME=listener", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256", "AWS_REGION=us-east-1", "_HANDLER=bootstrap",
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
	var floor floorMeter
	cpuBefore := cpuNs(b, cmd.Process.Pid)
	for b.Loop() {
		invoke()
		b.StopTimer()
		floor.measure(b, ev)
		b.StartTimer()
	}
	perMessage := float64(b.Elapsed().Nanoseconds()) / float64(b.N*n)
	cpuPerMessage := float64(cpuNs(b, cmd.Process.Pid)-cpuBefore) / float64(b.N*n)
	b.StopTimer()
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if got, want := out.lines.Load(), int64((b.N+1)*(n+1)); got != want {
		b.Errorf("%d log lines, want %d (one per message and one per batch)", got, want)
	}
	floorWall, floorCPU := floor.perMessage()
	b.ReportMetric(perMessage/1000, "µs/msg")
	b.ReportMetric(floorWall/1000, "floor-µs/msg")
	b.ReportMetric(perMessage/floorWall, "x-floor")
	// The same in CPU time (the program's, all its threads; the floor's thread's): steadier
	// than wall time on a machine that runs other work.
	b.ReportMetric(cpuPerMessage/1000, "cpu-µs/msg")
	b.ReportMetric(cpuPerMessage/floorCPU, "cpu-x-floor")
}

// floorMeter adds up the floor over the batches it measured: the standard library's base64
// decoding and json.Valid over each message, in wall time and in the thread's CPU time.
type floorMeter struct {
	wallNs, cpuNs int64
	messages      int
}

func (f *floorMeter) measure(b *testing.B, ev rmqevent.Event) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpuStart := threadCPUNs(b)
	start := time.Now()
	for _, data := range ev.Data {
		body, err := base64.StdEncoding.DecodeString(data)
		if err != nil || !json.Valid(body) {
			b.Fatal("the generated event holds a bad message")
		}
	}
	f.wallNs += time.Since(start).Nanoseconds()
	f.cpuNs += threadCPUNs(b) - cpuStart
	f.messages += len(ev.Data)
}

// perMessage is the floor per message, in wall and in CPU time.
func (f *floorMeter) perMessage() (wall, cpu float64) {
	return float64(f.wallNs) / float64(f.messages), float64(f.cpuNs) / float64(f.messages)
}

// cpuNs is the CPU time of every thread of process pid so far (Linux schedstat, in ns).
func cpuNs(b *testing.B, pid int) int64 {
	b.Helper()
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(tasks) == 0 {
		b.Fatalf("no schedstat for process %d: %v", pid, err)
	}
	var total int64
	for _, t := range tasks {
		total += schedstat(b, t)
	}
	return total
}

// threadCPUNs is the calling thread's CPU time so far, to the nanosecond (schedstat's figure for
// a running thread lags by up to a scheduler tick, longer than one floor's batch).
func threadCPUNs(b *testing.B) int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		b.Fatalf("clock_gettime: %v", err)
	}
	return ts.Nano()
}

func schedstat(b *testing.B, path string) int64 {
	raw, err := os.ReadFile(path) //nolint:gosec // G304: a /proc path of this benchmark's own making
	if err != nil {
		b.Fatal(err)
	}
	fields := strings.Fields(string(raw))
	ns, err := strconv.ParseInt(fields[0], 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	return ns
}
