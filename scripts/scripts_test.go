// Package scripts holds the project's shell scripts; this test runs scripts/pulumi.sh with a
// stand-in pulumi on PATH, since the real CLI cannot run here.
package scripts

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakePulumi records each call's arguments and backend environment, and answers `whoami` as
// logged in or not.
const fakePulumi = `#!/usr/bin/env bash
if [ "$1" = version ]; then echo "${FAKE_PULUMI_VERSION-v3.274.1}"; exit 0; fi
echo "$* | backend=${PULUMI_BACKEND_URL:-} passfile=${PULUMI_CONFIG_PASSPHRASE_FILE:-}" >> "$FAKE_PULUMI_LOG"
if [ "$1" = whoami ]; then [ "$FAKE_LOGGED_IN" = yes ]; exit; fi
exit 0
`

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

func runScript(t *testing.T, dir string, loggedIn bool, args ...string) (calls []string, stderr string, err error) {
	t.Helper()
	return runScriptWith(t, dir, loggedIn, nil, args...)
}

func runScriptWith(t *testing.T, dir string, loggedIn bool, env []string, args ...string) (calls []string, stderr string, err error) {
	t.Helper()
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "pulumi"), []byte(fakePulumi), 0o700); err != nil { //nolint:gosec // G306: the stand-in must be executable
		t.Fatal(err)
	}
	log := filepath.Join(t.TempDir(), "calls")
	cmd := exec.Command("bash", append([]string{filepath.Join(dir, "scripts", "pulumi.sh")}, args...)...) //nolint:gosec,noctx // G204: the script under test
	cmd.Env = []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "FAKE_PULUMI_LOG=" + log}
	if loggedIn {
		cmd.Env = append(cmd.Env, "FAKE_LOGGED_IN=yes")
	}
	cmd.Env = append(cmd.Env, env...)
	var errOut strings.Builder
	cmd.Stderr = &errOut
	err = cmd.Run()
	raw, _ := os.ReadFile(log) //nolint:gosec // G304: the log this test created
	return strings.Split(strings.TrimSpace(string(raw)), "\n"), errOut.String(), err
}

func TestLocalBackendWhenNotLoggedIn(t *testing.T) {
	dir := project(t)
	calls, _, err := runScript(t, dir, false, "up", "isolated", "--yes")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"whoami | backend= passfile=",
		"stack select --create --secrets-provider passphrase isolated | backend=file://" + dir + "/.pulumi-state passfile=" + dir + "/.pulumi-passphrase",
		"up --stack isolated --yes | backend=file://" + dir + "/.pulumi-state passfile=" + dir + "/.pulumi-passphrase",
	}
	if strings.Join(calls, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(calls, "\n"), strings.Join(want, "\n"))
	}
	info, err := os.Stat(filepath.Join(dir, ".pulumi-passphrase"))
	if err != nil || info.Size() < 40 || info.Mode().Perm() != 0o600 {
		t.Errorf("passphrase file: %v, %v", info, err)
	}
	// A second run keeps the same passphrase: the state's secrets stay readable.
	first, _ := os.ReadFile(filepath.Join(dir, ".pulumi-passphrase")) //nolint:gosec // G304: this test's file
	if _, _, err := runScript(t, dir, false, "preview", "isolated"); err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(filepath.Join(dir, ".pulumi-passphrase")) //nolint:gosec // G304: this test's file
	if !bytes.Equal(first, second) {
		t.Error("the passphrase changed between runs")
	}
}

func TestLoggedInBackendIsUsedAndDestroyRunsTheProgram(t *testing.T) {
	dir := project(t)
	calls, _, err := runScript(t, dir, true, "destroy", "nat")
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 3 || calls[1] != "stack select --create nat | backend= passfile=" ||
		calls[2] != "destroy --run-program --stack nat | backend= passfile=" {
		t.Errorf("calls:\n%s", strings.Join(calls, "\n"))
	}
	if _, err := os.Stat(filepath.Join(dir, ".pulumi-state")); err == nil {
		t.Error("a local state directory was made although a backend is logged in")
	}
}

func TestUnknownStackIsRefused(t *testing.T) {
	_, stderr, err := runScript(t, project(t), false, "up", "private")
	if err == nil || !strings.Contains(stderr, `no stack "private"`) || !strings.Contains(stderr, "isolated nat") {
		t.Errorf("err %v, stderr %q", err, stderr)
	}
}

func TestCLIOlderThanTheHooksNeedIsRefused(t *testing.T) {
	for _, version := range []string{"v3.237.9", "v3.99.0", ""} {
		calls, stderr, err := runScriptWith(t, project(t), false, []string{"FAKE_PULUMI_VERSION=" + version}, "up", "isolated")
		if err == nil || !strings.Contains(stderr, "needs the Pulumi CLI 3.238.0 or later") || !strings.Contains(stderr, "scripts/build-pulumi.sh") {
			t.Errorf("CLI %q: err %v, stderr %q", version, err, stderr)
		}
		if len(calls) > 0 && calls[0] != "" {
			t.Errorf("CLI %q: the script went on to run %v", version, calls)
		}
	}
	for _, version := range []string{"v3.238.0", "v3.274.1", "v4.0.0"} {
		if _, stderr, err := runScriptWith(t, project(t), false, []string{"FAKE_PULUMI_VERSION=" + version}, "preview", "isolated"); err != nil {
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
	calls, stderr, err := runScript(t, dir, true, "preview", "nat")
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) == 0 || !strings.HasPrefix(calls[len(calls)-1], "pinned: preview --diff --stack nat") || !strings.Contains(stderr, "pinned Pulumi CLI") {
		t.Errorf("calls %v, stderr %q: want the pinned CLI, and to be told", calls, stderr)
	}
}
