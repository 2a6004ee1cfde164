// Package scripts holds the project's shell scripts; this test runs scripts/pulumi.sh with a
// stand-in pulumi on PATH, since the real CLI cannot run here.
package scripts

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakePulumi records each call's arguments and backend environment. It is logged in to
// FAKE_LOGGED_IN (a backend URL) when that is set, lists the stacks FAKE_STACKS holds for the
// backend it is asked about (lines "<url> <stack>"), and refuses `stack rm` of a stack with
// resources when FAKE_RESOURCES is yes, in the real CLI's words.
const fakePulumi = `#!/usr/bin/env bash
if [ "$1" = version ]; then echo "${FAKE_PULUMI_VERSION-v3.274.1}"; exit 0; fi
echo "$* | backend=${PULUMI_BACKEND_URL:-} passfile=${PULUMI_CONFIG_PASSPHRASE_FILE:-}" >> "$FAKE_PULUMI_LOG"
url="${PULUMI_BACKEND_URL:-${FAKE_LOGGED_IN:-}}"
case "$1 $2" in
  "whoami --json")
    [ -n "$url" ] || { echo "error: this command requires logging in" >&2; exit 3; }
    printf '{\n  "user": "me",\n  "url": "%s"\n}\n' "$url"; exit 0 ;;
  "stack ls")
    [ -n "$url" ] && [ "$url" != "${FAKE_UNREACHABLE:-}" ] || exit 1
    echo "["
    printf '%s\n' "${FAKE_STACKS:-}" | while read -r u name; do
      [ "$u" = "$url" ] && printf '  {\n    "name": "%s",\n    "resourceCount": 0\n  },\n' "$name"
    done
    echo "]"; exit 0 ;;
  "stack rm")
    if [ "${FAKE_RESOURCES:-}" = yes ]; then
      echo "error: 'nat' still has resources; removal rejected. Possible actions:" >&2
      echo "- Run pulumi stack rm --force to override this error" >&2
      exit 255
    fi
    echo "Stack 'nat' has been removed!"; exit 0 ;;
esac
exit 0
`

const cloud = "https://api.pulumi.com"

// project copies what pulumi.sh needs into a temporary project directory.
func project(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "scripts"), 0o750); err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile("pulumi.sh")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "scripts", "pulumi.sh"), script, 0o700); err != nil { //nolint:gosec // G306: an executable script in a temp dir
		t.Fatal(err)
	}
	for _, stack := range []string{"isolated", "nat"} {
		if err := os.WriteFile(filepath.Join(dir, "Pulumi."+stack+".yaml"), []byte("config: {}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// run runs scripts/pulumi.sh in dir with the stand-in pulumi and env (NAME=value) added; it
// returns the stand-in's calls, the script's stdout and stderr.
func run(t *testing.T, dir string, env []string, args ...string) (calls []string, stdout, stderr string, err error) {
	t.Helper()
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "pulumi"), []byte(fakePulumi), 0o700); err != nil { //nolint:gosec // G306: the stand-in must be executable
		t.Fatal(err)
	}
	log := filepath.Join(t.TempDir(), "calls")
	cmd := exec.Command("bash", append([]string{filepath.Join(dir, "scripts", "pulumi.sh")}, args...)...) //nolint:gosec,noctx // G204: the script under test
	cmd.Env = append([]string{"PATH=" + bin + ":" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "FAKE_PULUMI_LOG=" + log}, env...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	raw, _ := os.ReadFile(log) //nolint:gosec // G304: the log this test created
	if s := strings.TrimSpace(string(raw)); s != "" {
		calls = strings.Split(s, "\n")
	}
	return calls, out.String(), errOut.String(), err
}

// stacksOn is FAKE_STACKS for stacks on backends, given as url, stack, url, stack, ...
func stacksOn(pairs ...string) string {
	var lines []string
	for i := 0; i+1 < len(pairs); i += 2 {
		lines = append(lines, pairs[i]+" "+pairs[i+1])
	}
	return "FAKE_STACKS=" + strings.Join(lines, "\n")
}

// changing keeps the calls that act on a stack: what must not happen before a refusal.
func changing(calls []string) []string {
	var out []string
	for _, c := range calls {
		if !strings.HasPrefix(c, "stack ls") && !strings.HasPrefix(c, "whoami") {
			out = append(out, c)
		}
	}
	return out
}

func TestFirstRunChoosesTheLocalBackendAndSaysSo(t *testing.T) {
	dir := project(t)
	local := "file://" + dir + "/.pulumi-state"
	calls, _, stderr, err := run(t, dir, nil, "up", "isolated", "--yes")
	if err != nil {
		t.Fatal(err, stderr)
	}
	withLocal := " | backend=" + local + " passfile=" + dir + "/.pulumi-passphrase"
	want := []string{
		"stack ls --json --non-interactive" + withLocal,
		"whoami --json --non-interactive | backend= passfile=" + dir + "/.pulumi-passphrase",
		"stack select --create --secrets-provider passphrase isolated" + withLocal,
		"up --stack isolated --yes" + withLocal,
	}
	if strings.Join(calls, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(calls, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(stderr, "State backend: "+local+" (from .pulumi-backend, just written with the default") {
		t.Errorf("stderr %q: want the backend and where it comes from", stderr)
	}
	choice, err := os.ReadFile(filepath.Join(dir, ".pulumi-backend")) //nolint:gosec // G304: this test's file
	if err != nil || !strings.HasSuffix(string(choice), "\nlocal\n") {
		t.Errorf(".pulumi-backend: %q, %v", choice, err)
	}
	info, err := os.Stat(filepath.Join(dir, ".pulumi-passphrase"))
	if err != nil || info.Size() < 40 || info.Mode().Perm() != 0o600 {
		t.Errorf("passphrase file: %v, %v", info, err)
	}
	// A second run keeps the same passphrase (the state's secrets stay readable), and says
	// where the backend comes from again.
	first, _ := os.ReadFile(filepath.Join(dir, ".pulumi-passphrase")) //nolint:gosec // G304: this test's file
	_, _, stderr, err = run(t, dir, []string{stacksOn(local, "isolated")}, "preview", "isolated")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "State backend: "+local+" (from .pulumi-backend)") {
		t.Errorf("second run's stderr %q: want the backend", stderr)
	}
	second, _ := os.ReadFile(filepath.Join(dir, ".pulumi-passphrase")) //nolint:gosec // G304: this test's file
	if !bytes.Equal(first, second) {
		t.Error("the passphrase changed between runs")
	}
}

// Logging in to Pulumi Cloud used to move make up to it; now the choice stays.
func TestLoginDoesNotMoveTheBackend(t *testing.T) {
	dir := project(t)
	local := "file://" + dir + "/.pulumi-state"
	calls, _, stderr, err := run(t, dir, []string{"FAKE_LOGGED_IN=" + cloud, stacksOn(local, "nat")}, "preview", "nat")
	if err != nil {
		t.Fatal(err, stderr)
	}
	if got := changing(calls); len(got) != 2 || !strings.HasSuffix(got[1], "backend="+local+" passfile="+dir+"/.pulumi-passphrase") {
		t.Errorf("calls %q: want the local backend although logged in", calls)
	}
}

func TestStackOnAnotherBackendIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name, choose string
		env          []string
		on           func(local string) string
		want         []string
	}{{
		name: "chosen local, stack on the logged-in backend",
		env:  []string{"FAKE_LOGGED_IN=" + cloud},
		on:   func(string) string { return stacksOn(cloud, "nat") },
		want: []string{"is not on the chosen state backend file://", "but it is on " + cloud + " (the one pulumi login chose)", "make backend BACKEND=" + cloud, "Nothing was changed"},
	}, {
		name:   "chosen cloud, stack on the local backend",
		choose: cloud,
		on:     func(local string) string { return stacksOn(local, "nat") },
		want:   []string{"is not on the chosen state backend " + cloud + " (from .pulumi-backend)", "/.pulumi-state (the local file backend in .pulumi-state/)", "make backend BACKEND=local"},
	}, {
		name: "PULUMI_BACKEND_URL exported, stack on the local backend",
		env:  []string{"PULUMI_BACKEND_URL=s3://bucket/state"},
		on:   func(local string) string { return stacksOn(local, "nat") },
		want: []string{"s3://bucket/state (from PULUMI_BACKEND_URL in the environment, which overrides .pulumi-backend's local)", "make backend BACKEND=local"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := project(t)
			local := "file://" + dir + "/.pulumi-state"
			// The local backend exists: an earlier run used it.
			if _, _, stderr, err := run(t, dir, nil, "backend"); err != nil {
				t.Fatal(err, stderr)
			}
			if tc.choose != "" {
				if _, _, stderr, err := run(t, dir, nil, "backend", tc.choose); err != nil {
					t.Fatal(err, stderr)
				}
			}
			for _, command := range []string{"up", "preview", "destroy", "rm", "smoke"} {
				calls, _, stderr, err := run(t, dir, append([]string{tc.on(local)}, tc.env...), command, "nat")
				if err == nil {
					t.Errorf("%s: not refused; calls %q", command, calls)
				}
				for _, w := range tc.want {
					if !strings.Contains(stderr, w) {
						t.Errorf("%s: stderr %q\nlacks %q", command, stderr, w)
					}
				}
				if got := changing(calls); len(got) > 0 {
					t.Errorf("%s: refused after %q", command, got)
				}
			}
		})
	}
}

func TestChosenBackendIsUsedAndDestroyRunsTheProgram(t *testing.T) {
	dir := project(t)
	_, _, stderr, err := run(t, dir, nil, "backend", cloud+"/")
	if err != nil || !strings.Contains(stderr, "State backend: "+cloud+" (from .pulumi-backend)") {
		t.Fatalf("choosing the backend: %v %q", err, stderr)
	}
	calls, _, stderr, err := run(t, dir, []string{"FAKE_LOGGED_IN=" + cloud, stacksOn(cloud, "nat")}, "destroy", "nat")
	if err != nil {
		t.Fatal(err, stderr)
	}
	want := []string{
		"stack select nat | backend=" + cloud + " passfile=",
		"destroy --run-program --stack nat | backend=" + cloud + " passfile=",
	}
	if got := changing(calls); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Only up and preview create a stack; the others name the backend that lacks it.
func TestMissingStackIsNotCreatedToBeDestroyed(t *testing.T) {
	dir := project(t)
	for _, command := range []string{"destroy", "rm", "smoke", "redrive", "status"} {
		calls, _, stderr, err := run(t, dir, nil, command, "nat")
		if err == nil || !strings.Contains(stderr, `there is no stack "nat" on file://`+dir+"/.pulumi-state: nothing to "+command) {
			t.Errorf("%s: err %v, stderr %q", command, err, stderr)
		}
		if got := changing(calls); len(got) > 0 {
			t.Errorf("%s: went on to %q", command, got)
		}
	}
}

func TestBackendChoice(t *testing.T) {
	dir := project(t)
	if _, _, stderr, err := run(t, dir, nil, "backend", "api.pulumi.com"); err == nil || !strings.Contains(stderr, `BACKEND="api.pulumi.com" is not a backend`) {
		t.Errorf("a bare host name: err %v, stderr %q", err, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, ".pulumi-backend")); err == nil {
		t.Error("a refused choice was written")
	}
	if err := os.WriteFile(filepath.Join(dir, ".pulumi-backend"), []byte("# mine\ncloud\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, stderr, err := run(t, dir, nil, "up", "nat"); err == nil || !strings.Contains(stderr, `.pulumi-backend says "cloud", which is not a backend`) {
		t.Errorf("a bad .pulumi-backend: err %v, stderr %q", err, stderr)
	}
	if _, _, stderr, err := run(t, dir, nil, "backend", "local"); err != nil || !strings.Contains(stderr, "State backend: file://"+dir+"/.pulumi-state (from .pulumi-backend)") {
		t.Errorf("back to local: err %v, stderr %q", err, stderr)
	}
}

// eval "$(scripts/pulumi.sh env)" gives a shell the backend, the passphrase and the pinned CLI
// that make up uses, and prints nothing else on stdout.
func TestEnvGivesTheCLIThisBackend(t *testing.T) {
	dir := project(t)
	pinned := filepath.Join(dir, ".build", "pulumi", "bin")
	if err := os.MkdirAll(pinned, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pinned, "pulumi"), []byte(fakePulumi), 0o700); err != nil { //nolint:gosec // G306: the stand-in must be executable
		t.Fatal(err)
	}
	_, stdout, stderr, err := run(t, dir, nil, "env")
	if err != nil {
		t.Fatal(err, stderr)
	}
	if !strings.Contains(stderr, "State backend: file://"+dir+"/.pulumi-state") {
		t.Errorf("stderr %q: want the backend", stderr)
	}
	shell := exec.Command("bash", "-c", `eval "$1" && echo "$PULUMI_BACKEND_URL|$PULUMI_CONFIG_PASSPHRASE_FILE|$(command -v pulumi)"`, "env", stdout) //nolint:gosec,noctx // G204: the script's own output, evaluated as the docs say
	shell.Env = []string{"PATH=/usr/bin:/bin"}
	got, err := shell.Output()
	if err != nil {
		t.Fatalf("evaluating %q: %v", stdout, err)
	}
	want := "file://" + dir + "/.pulumi-state|" + dir + "/.pulumi-passphrase|" + pinned + "/pulumi\n"
	if string(got) != want {
		t.Errorf("after eval: %q, want %q (from %q)", got, want, stdout)
	}
}

func TestRmKeepsTheStackFileAndRefusesWhileResourcesRemain(t *testing.T) {
	dir := project(t)
	local := "file://" + dir + "/.pulumi-state"
	calls, _, stderr, err := run(t, dir, []string{stacksOn(local, "nat")}, "rm", "nat")
	if err != nil {
		t.Fatal(err, stderr)
	}
	if got := changing(calls); len(got) != 2 || !strings.HasPrefix(got[1], "stack rm --yes --preserve-config --stack nat | backend="+local) {
		t.Errorf("calls %q", calls)
	}
	_, _, stderr, err = run(t, dir, []string{stacksOn(local, "nat"), "FAKE_RESOURCES=yes"}, "rm", "nat")
	for _, w := range []string{"still has resources; removal rejected", "make rm refused", "make destroy STACK=nat", "Not pulumi stack rm --force"} {
		if err == nil || !strings.Contains(stderr, w) {
			t.Errorf("err %v, stderr %q: lacks %q", err, stderr, w)
		}
	}
}

func TestUnknownStackIsRefused(t *testing.T) {
	_, _, stderr, err := run(t, project(t), nil, "up", "private")
	if err == nil || !strings.Contains(stderr, `no stack "private"`) || !strings.Contains(stderr, "isolated nat") {
		t.Errorf("err %v, stderr %q", err, stderr)
	}
}

func TestCLIOlderThanTheHooksNeedIsRefused(t *testing.T) {
	for _, version := range []string{"v3.237.9", "v3.99.0", ""} {
		calls, _, stderr, err := run(t, project(t), []string{"FAKE_PULUMI_VERSION=" + version}, "up", "isolated")
		if err == nil || !strings.Contains(stderr, "needs the Pulumi CLI 3.238.0 or later") || !strings.Contains(stderr, "scripts/build-pulumi.sh") {
			t.Errorf("CLI %q: err %v, stderr %q", version, err, stderr)
		}
		if len(calls) > 0 {
			t.Errorf("CLI %q: the script went on to run %v", version, calls)
		}
	}
	for _, version := range []string{"v3.238.0", "v3.274.1", "v4.0.0"} {
		if _, _, stderr, err := run(t, project(t), []string{"FAKE_PULUMI_VERSION=" + version}, "preview", "isolated"); err != nil {
			t.Errorf("CLI %s refused: %v %s", version, err, stderr)
		}
	}
}

// The CLI scripts/build-pulumi.sh builds into .build/pulumi/bin is used, before any on PATH.
func TestPinnedCLIIsUsed(t *testing.T) {
	dir := project(t)
	pinned := filepath.Join(dir, ".build", "pulumi", "bin")
	if err := os.MkdirAll(pinned, 0o750); err != nil {
		t.Fatal(err)
	}
	marked := strings.Replace(fakePulumi, "echo \"$* |", "echo \"pinned: $* |", 1)
	if err := os.WriteFile(filepath.Join(pinned, "pulumi"), []byte(marked), 0o700); err != nil { //nolint:gosec // G306: the stand-in must be executable
		t.Fatal(err)
	}
	calls, _, stderr, err := run(t, dir, nil, "preview", "nat")
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) == 0 || !strings.HasPrefix(calls[len(calls)-1], "pinned: preview --diff --stack nat") || !strings.Contains(stderr, "pinned Pulumi CLI") {
		t.Errorf("calls %v, stderr %q: want the pinned CLI, and to be told", calls, stderr)
	}
}

// fakeGo builds, for `go build -o <path> ./cmd/status`, a status that prints its arguments and
// exits 2: what make status's caller must see.
const fakeGo = `#!/usr/bin/env bash
[ "$1 $2 $4" = "build -o ./cmd/status" ] || { echo "unexpected go $*" >&2; exit 99; }
printf '#!/bin/sh\necho "status $*"\nexit 2\n' > "$3" && chmod +x "$3"
`

// The status command's exit statuses 1 and 2 reach the caller: the script builds it and runs
// it in its place, where go run would turn both into 1.
func TestStatusExitStatusReachesTheCaller(t *testing.T) {
	dir := project(t)
	// The pinned CLI's directory comes first on the script's PATH: the stand-in go goes there.
	pinned := filepath.Join(dir, ".build", "pulumi", "bin")
	if err := os.MkdirAll(pinned, 0o750); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"pulumi": fakePulumi, "go": fakeGo} {
		if err := os.WriteFile(filepath.Join(pinned, name), []byte(text), 0o700); err != nil { //nolint:gosec // G306: the stand-ins must be executable
			t.Fatal(err)
		}
	}
	local := "file://" + dir + "/.pulumi-state"
	_, stdout, stderr, err := run(t, dir, []string{stacksOn(local, "nat")}, "status", "nat", "--json")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || stdout != "status --stack nat --json\n" {
		t.Errorf("exit %v, stdout %q, stderr %q", err, stdout, stderr)
	}
}
