package enginetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin/cloud"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/simaccount"
)

// harness is one project copy run by the real Pulumi CLI: the CLI and language host built by
// scripts/build-pulumi.sh, the stand-in plugins on PATH, a file backend and, per stack, an
// account of the stand-in AWS with its EC2 endpoint on loopback.
type harness struct {
	repo, project, pluginDir, cliDir, backend, home string

	mu     sync.Mutex
	report []step
}

// step is one command of the suite as the closing report shows it.
type step struct {
	stack, name string
	took        time.Duration
	ok          bool
}

// account is a stand-in AWS account with its EC2 endpoint.
type account struct {
	store *cloud.Store
	ec2   *cloud.EC2API
	url   string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	repo := filepath.Dir(filepath.Dir(file))
	cliDir := os.Getenv("PULUMI_CLI_DIR")
	if cliDir == "" {
		cliDir = filepath.Join(repo, ".build", "pulumi", "bin")
	}
	if _, err := os.Stat(filepath.Join(cliDir, "pulumi")); err != nil { //nolint:gosec // G703: the CLI directory the suite was pointed at
		msg := fmt.Sprintf("\n\n*** THE REAL-ENGINE SUITE DID NOT RUN: no Pulumi CLI in %s.\n*** Build it with scripts/build-pulumi.sh "+
			"(about 10 minutes cold), or run `make test`, which does.\n\n", cliDir)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	tmp := t.TempDir()
	h := &harness{repo: repo, cliDir: cliDir, project: filepath.Join(tmp, "project"), pluginDir: filepath.Join(tmp, "plugins"),
		backend: filepath.Join(tmp, "state"), home: filepath.Join(tmp, "pulumi-home")}
	for _, dir := range []string{h.project, h.pluginDir, h.backend, h.home} {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			t.Fatal(err)
		}
	}
	build := exec.CommandContext(t.Context(), "go", "build", "-o", h.pluginDir+string(os.PathSeparator), "./internal/testsupport/standin/cmd/...") //nolint:gosec // G204: the suite's own temp dir
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the stand-in plugins: %v\n%s", err, out)
	}
	h.copyProject(t)
	return h
}

// copyProject copies the project as a user's checkout has it (tracked and new files, nothing
// ignored), so the CLI writes its stack files there, not in the repository.
func (h *harness) copyProject(t *testing.T) {
	t.Helper()
	list := exec.CommandContext(t.Context(), "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	list.Dir = h.repo
	out, err := list.Output()
	if err != nil {
		t.Fatalf("listing the project's files: %v", err)
	}
	for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(h.repo, rel)
		info, err := os.Lstat(src)
		if err != nil || !info.Mode().IsRegular() {
			continue // deleted in the work tree
		}
		data, err := os.ReadFile(src) //nolint:gosec // G304: a file git lists in the repository
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(h.project, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, info.Mode().Perm()); err != nil { //nolint:gosec // G703: inside the suite's temp copy
			t.Fatal(err)
		}
	}
}

// newAccount starts a stand-in account and its EC2 endpoint for one stack.
func (h *harness) newAccount(t *testing.T, linger time.Duration) *account {
	t.Helper()
	store, err := cloud.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a := &account{store: store, ec2: &cloud.EC2API{Store: store}}
	a.setLinger(t, linger)
	srv := httptest.NewServer(a.ec2)
	t.Cleanup(srv.Close)
	a.url = srv.URL
	return a
}

func (a *account) setLinger(t *testing.T, linger time.Duration) {
	t.Helper()
	if err := a.store.Update(func(st *cloud.State) error {
		st.Settings.ENILinger = cloud.Duration{Duration: linger}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func (a *account) view(t *testing.T) *cloud.State {
	t.Helper()
	var snapshot *cloud.State
	if err := a.store.View(func(st *cloud.State) { snapshot = st }); err != nil {
		t.Fatal(err)
	}
	return snapshot
}

// result is a finished command.
type result struct {
	// out is stdout and stderr as the user sees them; stdout alone is kept for JSON.
	out, stdout string
	err         error
	took        time.Duration
}

// run runs a command in the project copy with the suite's environment: no Pulumi Cloud, no
// plugin downloads, the stand-ins first on PATH, and AWS pointed at the stand-in account.
func (h *harness) run(t *testing.T, acct *account, stack, name string, args ...string) result {
	t.Helper()
	name0 := args[0]
	if name0 == "pulumi" {
		name0 = filepath.Join(h.cliDir, "pulumi") // exec looks a bare name up on the test's PATH, not the command's
	}
	cmd := exec.CommandContext(t.Context(), name0, args[1:]...) //nolint:gosec // G204: the suite runs the commands a user runs
	cmd.Dir = h.project
	cmd.Env = append(os.Environ(),
		"PATH="+h.pluginDir+string(os.PathListSeparator)+h.cliDir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"PULUMI_HOME="+h.home,
		"PULUMI_BACKEND_URL=file://"+h.backend,
		"PULUMI_CONFIG_PASSPHRASE=real-engine-suite",
		"PULUMI_SKIP_UPDATE_CHECK=true",
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true",
		"PULUMI_ACCESS_TOKEN=",
		cloud.EnvDir+"="+acct.store.Dir(),
		"AWS_ENDPOINT_URL_EC2="+acct.url,
		"AWS_ACCESS_KEY_ID=standin", "AWS_SECRET_ACCESS_KEY=standin", "AWS_REGION="+simaccount.Region,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
	)
	var both, stdout bytes.Buffer
	combined := &lockedWriter{w: &both}
	cmd.Stdout, cmd.Stderr = io.MultiWriter(combined, &stdout), combined
	start := time.Now()
	err := cmd.Run()
	r := result{out: both.String(), stdout: stdout.String(), err: err, took: time.Since(start)}
	h.mu.Lock()
	h.report = append(h.report, step{stack: stack, name: name, took: r.took, ok: err == nil})
	h.mu.Unlock()
	return r
}

// lockedWriter lets the command's stdout and stderr, copied by two goroutines, share a buffer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// must fails the test when the command failed, with its output.
func (r result) must(t *testing.T, what string) result {
	t.Helper()
	if r.err != nil {
		t.Fatalf("%s failed (%v) after %s:\n%s", what, r.err, r.took.Round(time.Millisecond), tail(r.out, 120))
	}
	return r
}

// tail keeps the last n lines of a command's output, without the engine's ambient-plugin
// warnings, which every command prints.
func tail(out string, n int) string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if !strings.Contains(l, "from $PATH at") {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Report returns the per-step table.
func (h *harness) table() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "%-14s %-52s %8s %s\n", "stack", "step", "seconds", "result")
	for _, s := range h.report {
		// A step that must fail (a refusal) shows its non-zero exit; the test asserts which
		// steps may fail.
		res := "exit 0"
		if !s.ok {
			res = "exit non-zero"
		}
		fmt.Fprintf(&b, "%-14s %-52s %8.1f %s\n", s.stack, s.name, s.took.Seconds(), res)
	}
	return b.String()
}

// previewSteps runs `pulumi preview --json` and returns the ops of each resource that changes,
// keyed "<type> <name>".
func (h *harness) previewSteps(t *testing.T, acct *account, stack, name string) map[string][]string {
	t.Helper()
	r := h.run(t, acct, stack, name, "pulumi", "preview", "--json", "--stack", stack).must(t, name)
	var doc struct {
		Steps []struct {
			Op  string `json:"op"`
			URN string `json:"urn"`
		} `json:"steps"`
	}
	if json.Unmarshal([]byte(r.stdout), &doc) != nil {
		t.Fatalf("%s: no JSON in the preview's output:\n%s", name, tail(r.out, 40))
	}
	ops := map[string][]string{}
	for _, s := range doc.Steps {
		if s.Op == "same" {
			continue
		}
		// "<type> <name>", e.g. "EventSourceMapping rabbitmq-esm-events-mapping": names repeat
		// across types (a function, its role and its log group share one).
		parts := strings.Split(s.URN, "::")
		typ := parts[len(parts)-2]
		typ = typ[strings.LastIndexAny(typ, ":$")+1:]
		key := typ + " " + parts[len(parts)-1]
		ops[key] = append(ops[key], s.Op)
	}
	return ops
}
