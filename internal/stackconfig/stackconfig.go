// Package stackconfig reads a stack's configuration from the project's files the way the
// Pulumi CLI hands it to a program: Pulumi.yaml's schema defaults, overlaid by the stack's
// Pulumi.<stack>.yaml, every value a string (objects as JSON). Tests and the offline plan use
// it so that they exercise the stack files as shipped rather than a restatement of them.
package stackconfig

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
)

// Read returns the configuration of stack, keyed "namespace:key" ("aws:region",
// "rabbitmq-esm:networkMode"). Both files are read with Pulumi's own loaders, which check
// Pulumi.yaml against the project schema; the values are the program's to validate.
func Read(projectDir, stack string) (map[string]string, error) {
	project, err := workspace.LoadProject(filepath.Join(projectDir, "Pulumi.yaml"))
	if err != nil {
		return nil, fmt.Errorf("reading Pulumi.yaml: %w", err)
	}
	path := filepath.Join(projectDir, "Pulumi."+stack+".yaml")
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("stack %q has no stack file (%w); the stacks are those of the stack files: %s", stack, err, strings.Join(Stacks(projectDir), ", "))
	}
	ps, err := workspace.LoadProjectStack(nil, project, path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	// Shipped stack files hold no secrets; a secure value here would need the stack's
	// secrets provider, which offline tools do not have.
	values, err := ps.Config.Decrypt(config.NopDecrypter)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	raw := map[string]string{}
	for key, schema := range project.Config {
		if schema.Default == nil {
			continue
		}
		value, err := Stringify(schema.Default)
		if err != nil {
			return nil, fmt.Errorf("the default of %s in Pulumi.yaml: %w", key, err)
		}
		if !strings.Contains(key, ":") {
			key = project.Name.String() + ":" + key
		}
		raw[key] = value
	}
	for key, value := range values {
		raw[key.String()] = value
	}
	return raw, nil
}

// Stacks names the stacks of projectDir's stack files (Pulumi.<stack>.yaml).
func Stacks(projectDir string) []string {
	files, _ := filepath.Glob(filepath.Join(projectDir, "Pulumi.*.yaml")) // the pattern is well formed
	var names []string
	for _, file := range files {
		names = append(names, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(file), "Pulumi."), ".yaml"))
	}
	return names
}

// Stringify renders a YAML value as Pulumi passes config to a program: scalars as text,
// objects and arrays as JSON.
func Stringify(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case bool, int, int64, float64:
		return fmt.Sprint(v), nil
	default:
		b, err := json.Marshal(v)
		return string(b), err
	}
}
