package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rabbitmq-esm/rabbitmq-esm/infra/lambdabuild"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/rmqevent"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/runtimeapi"
)

// These tests run the bootstrap binary this project ships — built by the same function that
// builds it for deployment, for this machine's architecture — against a Runtime API served on
// loopback: they prove the artifact is a working custom runtime, not only that the handler
// compiles.

var (
	buildOnce sync.Once
	built     lambdabuild.Artifact
	buildErr  error
)

func bootstrap(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "listener-bootstrap-")
		if err != nil {
			buildErr = err
			return
		}
		built, buildErr = lambdabuild.Build(context.Background(), lambdabuild.Spec{ModuleDir: "..", Package: "./listener", GOARCH: runtime.GOARCH, OutDir: dir})
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return built.BinaryPath
}

// process is a running bootstrap; its output is complete once stop has returned.
type process struct {
	cmd    *exec.Cmd
	output strings.Builder
	once   sync.Once
	err    error
}

// stop ends the process and waits until its output has been copied.
func (p *process) stop() error {
	p.once.Do(func() {
		_ = p.cmd.Process.Kill()
		p.err = p.cmd.Wait()
	})
	return p.err
}

// start runs the binary against a fresh Runtime API and stops both when the test ends.
func start(t testing.TB, env ...string) (*runtimeapi.Server, *process) {
	t.Helper()
	api, err := runtimeapi.Start()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bootstrap(t)) //nolint:gosec,noctx // G204: the binary this test built; killed in Cleanup
	cmd.Env = append([]string{
		"AWS_LAMBDA_RUNTIME_API=" + api.Addr,
		"AWS_LAMBDA_FUNCTION_NAME=listener", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256", "AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/listener",
		"AWS_LAMBDA_LOG_STREAM_NAME=local", "AWS_REGION=us-east-1", "_HANDLER=bootstrap",
	}, env...)
	p := &process{cmd: cmd}
	cmd.Stdout, cmd.Stderr = &p.output, &p.output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.stop()
		_ = api.Close()
	})
	return api, p
}

func TestBootstrapResponseAndErrorPaths(t *testing.T) {
	api, proc := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	res, err := api.Invoke(ctx, rmqevent.Documented)
	if err != nil {
		t.Fatal(err)
	}
	if res.Error != nil || string(res.Response) != "null" {
		t.Fatalf("success path: response %q, error %+v", res.Response, res.Error)
	}

	bad := `{"eventSource":"aws:rmq","rmqMessagesByQueue":{"orders::/":[{"data":"e30="},{"data":"%%%"}]}}`
	res, err = api.Invoke(ctx, []byte(bad))
	if err != nil {
		t.Fatal(err)
	}
	if res.Error == nil || !strings.Contains(res.Error.ErrorMessage, "queue orders (vhost /), message 1") {
		t.Fatalf("error path: %+v", res)
	}

	// The runtime survives a failed batch and serves the next invocation.
	if res, err = api.Invoke(ctx, rmqevent.Documented); err != nil || res.Error != nil {
		t.Fatalf("after an error: %+v, %v", res, err)
	}
	_ = proc.stop() // the log lines are complete only once the process is gone
	var lines int
	for _, l := range strings.Split(strings.TrimSpace(proc.output.String()), "\n") {
		var v map[string]any
		if json.Unmarshal([]byte(l), &v) == nil && v["msg"] == "batch" {
			lines++
		}
	}
	if lines != 3 {
		t.Errorf("%d batch log lines, want 3:\n%s", lines, proc.output.String())
	}
}

func TestBootstrapReportsInitError(t *testing.T) {
	api, proc := start(t, "LISTENER_LOG_BODIES=perhaps")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	e, err := api.InitError(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if e.ErrorType != "Runtime.ConfigError" || !strings.Contains(e.ErrorMessage, "LISTENER_LOG_BODIES") {
		t.Errorf("init error = %+v", e)
	}
	if err := proc.cmd.Wait(); err == nil {
		t.Error("the process exited 0 after an init error")
	}
}

// TestArchiveSize: the deployed (arm64, stripped) archive's binary stays small, which keeps the
// cold start short.
func TestArchiveSize(t *testing.T) {
	art, err := lambdabuild.Build(context.Background(), lambdabuild.Spec{ModuleDir: "..", Package: "./listener", OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(art.BinaryPath)
	if err != nil {
		t.Fatal(err)
	}
	const limit = 8 << 20
	t.Logf("arm64 bootstrap: %.2f MB", float64(info.Size())/(1<<20))
	if info.Size() > limit {
		t.Errorf("bootstrap is %d bytes, over the %d-byte budget", info.Size(), limit)
	}
}

// BenchmarkColdStart measures process start to the first request for work.
func BenchmarkColdStart(b *testing.B) {
	bootstrap(b)
	for b.Loop() {
		coldStart(b, built.BinaryPath)
	}
}

// coldStart starts the program against a fresh Runtime API and reports how long it took to
// ask for its first invocation.
func coldStart(b *testing.B, program string, args ...string) {
	api, err := runtimeapi.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer api.Close()
	cmd := exec.Command(program, args...) //nolint:gosec,noctx // G204: the program this benchmark built or found; killed below
	cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=" + api.Addr, "_HANDLER=bootstrap"}
	startedAt := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	first, err := api.FirstNext(ctx)
	cancel()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(first.Sub(startedAt).Microseconds())/1000, "ms-to-first-next")
}
