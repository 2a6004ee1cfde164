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

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/rmqevent"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/runtimeapi"
)

// What users pay for: the shipped bootstrap binary, as a process of its own, handed one event of
// n one-KiB JSON messages by a Runtime API on loopback: the Runtime API's requests, the
// envelope's decoding, base64, the default business function, and one log line per message
// written to a pipe, as Lambda's log collector reads stdout. Per message, three figures:
//
//   - µs/msg, an invocation's whole cycle: from handing the event to the Runtime API until the
//     response is back and the runtime has asked for work again, divided by the batch;
//   - billed-µs/msg, what Lambda bills of it: from the event's first byte to the runtime's
//     next request for work (the cycle less the Runtime API's own hand-offs);
//   - cpu-µs/msg, the program's CPU time, all its threads.
//
// Each is reported beside its floor, measured in this process on the same messages: the
// standard library decoding the same base64 bodies and validating the same JSON, nothing else.
// The floor is measured after every cycle, with the benchmark's timer stopped and the program
// idle, so that both figures come from the same moments of a machine that may be running
// other work.

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
	waitBilled := func(invocations int) runtimeapi.Billing {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		billing, err := api.WaitBilled(ctx, invocations)
		if err != nil {
			b.Fatal(err)
		}
		return billing
	}
	before := waitBilled(1)
	var floor floorMeter
	var wall time.Duration
	cpuBefore := cpuNs(b, cmd.Process.Pid)
	for invocation := 2; b.Loop(); invocation++ {
		start := time.Now()
		invoke()
		returned := time.Now()
		b.StopTimer()
		// An invocation's cycle ends when the response is back and the runtime has asked for
		// work again: only then does the floor run, alone on the machine.
		end := waitBilled(invocation).LastEnd
		if returned.After(end) {
			end = returned
		}
		wall += end.Sub(start)
		floor.measure(b, ev)
		b.StartTimer()
	}
	b.StopTimer()
	messages := float64(b.N * n)
	perMessage := float64(wall.Nanoseconds()) / messages
	cpuPerMessage := float64(cpuNs(b, cmd.Process.Pid)-cpuBefore) / messages
	billedPerMessage := float64((waitBilled(b.N+1).Total - before.Total).Nanoseconds()) / messages
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if got, want := out.lines.Load(), int64((b.N+1)*(n+1)); got != want {
		b.Errorf("%d log lines, want %d (one per message and one per batch)", got, want)
	}
	floorWall, floorCPU := floor.perMessage()
	b.ReportMetric(perMessage/1000, "µs/msg")
	b.ReportMetric(floorWall/1000, "floor-µs/msg")
	b.ReportMetric(perMessage/floorWall, "x-floor")
	b.ReportMetric(billedPerMessage/1000, "billed-µs/msg")
	b.ReportMetric(billedPerMessage/floorWall, "billed-x-floor")
	// CPU time is steadier than wall time on a machine that runs other work.
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
