package stackconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, dir, name, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

const project = `name: demo
runtime: go
config:
  size:
    type: integer
    default: 3
  mode:
    type: string
  tags:
    type: object
`

// TestReadAsTheCLIPassesIt: schema defaults applied, the stack's values over them, objects as
// JSON, numbers as text, other namespaces kept.
func TestReadAsTheCLIPassesIt(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "Pulumi.yaml", project)
	write(t, dir, "Pulumi.dev.yaml", "config:\n  aws:region: eu-west-1\n  demo:mode: fast\n  demo:tags:\n    team: payments\n")
	raw, err := Read(dir, "dev")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"aws:region": "eu-west-1", "demo:mode": "fast", "demo:size": "3", "demo:tags": `{"team":"payments"}`}
	if len(raw) != len(want) {
		t.Errorf("raw = %v", raw)
	}
	for k, v := range want {
		if raw[k] != v {
			t.Errorf("%s = %q, want %q", k, raw[k], v)
		}
	}
}

func TestReadRefusesWhatPulumiRefuses(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "Pulumi.yaml", project)
	write(t, dir, "Pulumi.one.yaml", "config: {}\n")
	write(t, dir, "Pulumi.two.yaml", "config: {}\n")
	if _, err := Read(dir, "missing"); err == nil || !strings.Contains(err.Error(), `stack "missing" has no stack file`) ||
		!strings.HasSuffix(err.Error(), "the stacks are those of the stack files: one, two") {
		t.Errorf("missing stack: %v", err)
	}
	write(t, dir, "Pulumi.typed.yaml", "config:\n  demo:size: 4\n")
	write(t, dir, "Pulumi.yaml", "name: demo\nruntime: [go\n")
	if _, err := Read(dir, "typed"); err == nil {
		t.Error("a broken Pulumi.yaml was accepted")
	}
}
