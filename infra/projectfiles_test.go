package infra

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/stackconfig"
)

// TestPulumiYAMLMatchesSettings keeps Pulumi.yaml's config schema and the program's settings
// table in step: same keys, same types, the same defaults, and a description for every key.
// Every key but networkMode has a default, because the Pulumi CLI refuses a stack that leaves
// a key without one unset (TestRealEngine in enginetest runs the real CLI on the shipped files).
func TestPulumiYAMLMatchesSettings(t *testing.T) {
	project, err := workspace.LoadProject("../Pulumi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if project.Name.String() != ProjectName || project.Runtime.Name() != "go" {
		t.Fatalf("project %s runtime %s, want %s go", project.Name, project.Runtime.Name(), ProjectName)
	}
	seen := map[string]bool{}
	for _, s := range settings() {
		seen[s.key] = true
		schema, ok := project.Config[s.key]
		if !ok {
			t.Errorf("Pulumi.yaml lacks %s", s.key)
			continue
		}
		if schema.Type == nil || *schema.Type != s.schemaType {
			t.Errorf("%s: Pulumi.yaml type %v, program %s", s.key, schema.Type, s.schemaType)
		}
		if schema.Description == "" {
			t.Errorf("%s has no description in Pulumi.yaml", s.key)
		}
		switch {
		case s.required && schema.Default != nil:
			t.Errorf("%s is required, but Pulumi.yaml gives it a default", s.key)
		case s.required:
		case schema.Default == nil:
			t.Errorf("%s has no default in Pulumi.yaml: the Pulumi CLI would require it in every stack", s.key)
		default:
			got, err := stackconfig.Stringify(schema.Default)
			if err != nil || got != s.schemaDefault {
				t.Errorf("%s: Pulumi.yaml default %q (%v), program default %q", s.key, got, err, s.schemaDefault)
			}
		}
	}
	for key := range project.Config {
		if !seen[key] {
			t.Errorf("Pulumi.yaml declares %s, which the program does not read", key)
		}
	}
}

// TestStackFiles checks each shipped stack names its own option and a region, and parses.
func TestStackFiles(t *testing.T) {
	for _, mode := range ModeNames() {
		raw, err := stackconfig.Read("..", string(mode))
		if err != nil {
			t.Fatal(err)
		}
		if got := raw[ProjectName+":networkMode"]; got != string(mode) {
			t.Errorf("Pulumi.%s.yaml sets networkMode %q", mode, got)
		}
		if raw["aws:region"] == "" {
			t.Errorf("Pulumi.%s.yaml sets no aws:region", mode)
		}
		if _, err := ParseConfig(string(mode), raw); err != nil {
			t.Errorf("Pulumi.%s.yaml: %v", mode, err)
		}
	}
}
