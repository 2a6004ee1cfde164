package infra

import (
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/stackconfig"
)

// The option list is written once, in Options. The Makefile, pulumi.sh and CI derive theirs from
// the stack files or from `go run ./cmd/plan --list`; what cannot derive it (the stack files
// themselves, Pulumi.yaml's texts, the settings' error texts) is checked here, both ways.

// modeNames is ModeNames as strings, keeping those keep says yes to.
func modeNames(keep func(Option) bool) []string {
	var names []string
	for _, mode := range ModeNames() {
		if keep == nil || keep(Options[mode]) {
			names = append(names, string(mode))
		}
	}
	return names
}

// listed reads an enumeration as the docs write one: "a, b, c or d", "a, b and c", "a".
func listed(text string) []string {
	text = strings.NewReplacer(" and ", ", ", " or ", ", ").Replace(strings.TrimSpace(text))
	var names []string
	for _, name := range strings.Split(text, ",") {
		names = append(names, strings.TrimSpace(name))
	}
	return names
}

func TestModeNamesAreTheOptionsTable(t *testing.T) {
	names := ModeNames()
	if len(names) != len(Options) {
		t.Errorf("ModeNames lists %d options, the table has %d", len(names), len(Options))
	}
	for mode, option := range Options {
		if option.Mode != mode {
			t.Errorf("Options[%s].Mode is %s", mode, option.Mode)
		}
		if !slices.Contains(names, mode) {
			t.Errorf("ModeNames lacks %s", mode)
		}
	}
	for i, mode := range names {
		if _, ok := Options[mode]; !ok || slices.Index(names, mode) != i {
			t.Errorf("ModeNames lists %s, which the table lacks or ModeNames repeats", mode)
		}
	}
}

// Every option ships a stack file of its name that sets networkMode to it, and every stack file
// is an option's: the Makefile and pulumi.sh list the stack files.
func TestEveryOptionHasItsStackFileAndNoOther(t *testing.T) {
	for _, mode := range ModeNames() {
		raw, err := stackconfig.Read("..", string(mode))
		if err != nil {
			t.Errorf("option %s: %v", mode, err)
			continue
		}
		if got := raw[ProjectName+":networkMode"]; got != string(mode) {
			t.Errorf("Pulumi.%s.yaml sets networkMode %q, want %q", mode, got, mode)
		}
	}
	stacks := stackconfig.Stacks("..")
	for _, stack := range stacks {
		if _, ok := Options[NetworkMode(stack)]; !ok {
			t.Errorf("Pulumi.%s.yaml is the stack file of no option (options: %v): make help and pulumi.sh would offer it", stack, ModeNames())
		}
	}
	if len(stacks) != len(Options) {
		t.Errorf("%d stack files for %d options", len(stacks), len(Options))
	}
}

// Pulumi.yaml's project description and networkMode description name exactly the options, in
// the docs' order; each restricted setting's text (in its errors and its Pulumi.yaml
// description) names exactly the options it applies to.
func TestPulumiYAMLAndSettingsNameTheOptions(t *testing.T) {
	project, err := workspace.LoadProject("../Pulumi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	all := modeNames(nil)
	description := *project.Description
	open, end := strings.Index(description, "("), strings.Index(description, ")")
	if open < 0 || end < open || !slices.Equal(listed(description[open+1:end]), all) {
		t.Errorf("Pulumi.yaml's description %q: want the options %v in parentheses", description, all)
	}
	const lead = "The networking option: "
	mode := project.Config["networkMode"].Description
	_, after, found := strings.Cut(mode, lead)
	list, _, ended := strings.Cut(after, ".")
	if !found || !ended {
		t.Fatalf("networkMode's description %q: want %q and the options", mode, lead)
	}
	if got := listed(list); !slices.Equal(got, all) {
		t.Errorf("networkMode's description lists %v, want %v", got, all)
	}
	for _, s := range settings() {
		if s.appliesTo == nil {
			continue
		}
		want := modeNames(s.appliesTo)
		if got := listed(s.appliesText); !slices.Equal(got, want) {
			t.Errorf("%s: its errors name the options %v, it applies to %v", s.key, got, want)
		}
		if desc := project.Config[s.key].Description; !strings.HasPrefix(desc, s.appliesText+" ") {
			t.Errorf("%s: Pulumi.yaml's description %q does not begin with its options, %q", s.key, desc, s.appliesText)
		}
	}
}
