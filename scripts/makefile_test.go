package scripts

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/stackconfig"
)

// makeIn runs make in the project's root with args; -n keeps the recipes from running.
func makeIn(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command("make", append([]string{"-C", "..", "--no-print-directory"}, args...)...).CombinedOutput() //nolint:gosec,noctx // G204: the project's own Makefile
	return string(out), err
}

// make integration deploys paid stacks: all six only when asked with ALL=1, never by default.
func TestIntegrationNeedsStackOrAll(t *testing.T) {
	for _, args := range [][]string{{}, {"ALL=0"}, {"STACK=typo"}} {
		out, err := makeIn(t, append([]string{"-n", "integration"}, args...)...)
		if err == nil || strings.Contains(out, "go test") {
			t.Errorf("make integration %v: not refused: %v\n%s", args, err, out)
		}
		if !strings.Contains(out, "isolated nat public publicsubnet") {
			t.Errorf("make integration %v: the refusal does not list the stacks:\n%s", args, out)
		}
	}
	out, err := makeIn(t, "-n", "integration")
	if !strings.Contains(out, "or ALL=1 to deploy every option") {
		t.Errorf("make integration: %v\n%s", err, out)
	}
	for args, run := range map[string]string{"STACK=nat": `ESM_IT_OPTIONS="nat"`, "ALL=1": `ESM_IT_OPTIONS="all"`} {
		out, err := makeIn(t, "-n", "integration", args)
		if err != nil || !strings.Contains(out, run) || !strings.Contains(out, "scripts/pulumi.sh env") {
			t.Errorf("make integration %s: %v\n%s", args, err, out)
		}
	}
}

// make help names the stacks as the stack files do, and ALL=1.
func TestHelpListsTheStacksFromTheStackFiles(t *testing.T) {
	out, err := makeIn(t, "help")
	if err != nil {
		t.Fatal(err, out)
	}
	want := "STACK is one of the stack files' options: " + strings.Join(stackconfig.Stacks(".."), " ")
	if !strings.Contains(out, want+"\n") || !strings.Contains(out, "ALL=1") {
		t.Errorf("make help:\n%s\nwant the line %q and ALL=1", out, want)
	}
	for _, target := range []string{"rm", "env", "backend"} {
		if !strings.Contains(out, "\n  "+target+" ") {
			t.Errorf("make help lacks %s", target)
		}
	}
}
