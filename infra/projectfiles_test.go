package infra

import (
	"fmt"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"rabbitmq-esm/internal/stackconfig"
)

// TestPulumiYAMLMatchesSettings keeps Pulumi.yaml's config schema and the program's settings
// table in step: same keys, same types, the same defaults where the schema declares one, and
// a description for every key.
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
		case s.inSchema && schema.Default == nil:
			t.Errorf("%s: the program's default is not declared in Pulumi.yaml", s.key)
		case s.inSchema:
			want := s.defaultValue(&Config{})
			if got := fmt.Sprint(schema.Default); got != want {
				t.Errorf("%s: Pulumi.yaml default %q, program default %q", s.key, got, want)
			}
		case schema.Default != nil:
			t.Errorf("%s: Pulumi.yaml declares default %v, but it depends on the option or other settings; state it in the description", s.key, schema.Default)
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
