package enginetest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin/cloud"
)

// upgradeFrom is the revision a deployed stack is upgraded from: ENGINETEST_UPGRADE_FROM, or
// the main branch.
func upgradeFrom() string {
	if ref := os.Getenv("ENGINETEST_UPGRADE_FROM"); ref != "" {
		return ref
	}
	return "main"
}

// upgradeFromAnotherRevision deploys the isolated option from another revision of the project
// (a copy of its tree, as a user's older checkout), then previews and runs the next `up` with
// this one against the same state and account: the day-two table's "upgrading" row. The
// broker, its admin credentials and the mapping must stay; the plan is logged resource by
// resource.
func (h *harness) upgradeFromAnotherRevision(t *testing.T) {
	ref := upgradeFrom()
	rev, err := exec.CommandContext(t.Context(), "git", "-C", h.repo, "rev-parse", "--verify", "--short", ref+"^{commit}").Output() //nolint:gosec // G204: a revision the tester names
	if err != nil {
		t.Skipf("no revision %q to upgrade from (set ENGINETEST_UPGRADE_FROM): %v", ref, err)
	}
	old := &harness{repo: h.repo, cliDir: h.cliDir, pluginDir: h.pluginDir, backend: h.backend, home: h.home,
		project: filepath.Join(t.TempDir(), "old-project")}
	if err := os.MkdirAll(old.project, 0o750); err != nil {
		t.Fatal(err)
	}
	archive := exec.CommandContext(t.Context(), "sh", "-c", `git -C "$1" archive --format=tar "$2" | tar -x -C "$3"`, "sh", h.repo, ref, old.project) //nolint:gosec // G204: the suite's own temp dir
	if out, err := archive.CombinedOutput(); err != nil {
		t.Fatalf("copying %s: %v\n%s", ref, err, out)
	}
	const stack = "isolated-upgraded"
	shipped, err := os.ReadFile(filepath.Join(old.project, "Pulumi.isolated.yaml")) //nolint:gosec // G304: the old revision's shipped stack file
	if err != nil {
		t.Fatal(err)
	}
	old.writeStack(t, stack, string(shipped))
	acct := h.newAccount(t, linger)
	old.run(t, acct, stack, "up (from "+ref+")", pulumiSh, "up", stack, "--yes", "--skip-preview").must(t, "the up of "+ref)
	before := acct.view(t)
	broker := before.FindOne(cloud.TypeBroker, nil)
	mapping := before.FindOne(cloud.TypeEventSourceMapping, nil)

	// The stack file as the old revision's CLI left it (its encryption salt), in this revision.
	body, err := os.ReadFile(filepath.Join(old.project, "Pulumi."+stack+".yaml")) //nolint:gosec // G304: the suite's temp copy
	if err != nil {
		t.Fatal(err)
	}
	h.writeStack(t, stack, string(body))
	plan := map[string]string{}
	for res, steps := range h.previewSteps(t, acct, stack, "preview --json (upgrade from "+ref+")") {
		plan[res] = stepKind(steps)
	}
	var lines []string
	for res, kind := range plan {
		lines = append(lines, fmt.Sprintf("%-8s %s", kind, res))
	}
	sort.Strings(lines)
	t.Logf("upgrading a deployed isolated stack from %s (%s) plans:\n%s", ref, strings.TrimSpace(string(rev)), strings.Join(lines, "\n"))
	for _, kept := range []string{"Broker rabbitmq-esm-broker", "SecretVersion rabbitmq-esm-broker-credentials", "RandomPassword rabbitmq-esm-broker-admin-password",
		"EventSourceMapping rabbitmq-esm-events-mapping", "Vpc rabbitmq-esm-network"} {
		if k := plan[kept]; slices.Contains([]string{"replace", "delete"}, k) {
			t.Errorf("the upgrade plans %s for %s", k, kept)
		}
	}

	h.run(t, acct, stack, "up (upgrade)", pulumiSh, "up", stack, "--yes", "--skip-preview").must(t, "the upgrade's up")
	h.run(t, acct, stack, "preview --expect-no-changes (upgraded)", pulumiSh, "preview", stack, "--expect-no-changes").must(t, "the preview after the upgrade")
	after := acct.view(t)
	if b := after.FindOne(cloud.TypeBroker, nil); b == nil || b.ID != broker.ID {
		t.Fatalf("the upgrade replaced the broker %s", broker.ID)
	}
	if m := after.FindOne(cloud.TypeEventSourceMapping, nil); m == nil || m.ID != mapping.ID {
		t.Fatalf("the upgrade replaced the mapping %s", mapping.ID)
	}
	// The administrator's, the mapping's, the dead-letter user's and the monitor's.
	if n := len(after.Find(cloud.TypeSecretRotation, nil)); n != 4 {
		t.Errorf("after the upgrade %d secrets rotate, want 4", n)
	}
	h.run(t, acct, stack, "destroy", pulumiSh, "destroy", stack, "--yes", "--skip-preview").must(t, "destroy after the upgrade")
}
