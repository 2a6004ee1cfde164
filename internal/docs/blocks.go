package docs

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/rabbitmq-esm/rabbitmq-esm/infra"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/plan"
)

// A generated block sits between <!-- name --> and <!-- /name --> lines; everything between
// them is replaced on each generation.
func beginMarker(name string) string { return "<!-- " + name + " -->" }
func endMarker(name string) string   { return "<!-- /" + name + " -->" }

// Block is a generated block, markers included.
func Block(name, body string) string {
	return beginMarker(name) + "\n" + strings.TrimSuffix(body, "\n") + "\n" + endMarker(name)
}

// ReplaceBlock puts body between the markers of name in text.
func ReplaceBlock(text, name, body string) (string, error) {
	re := regexp.MustCompile(`(?s)` + regexp.QuoteMeta(beginMarker(name)) + `.*?` + regexp.QuoteMeta(endMarker(name)))
	if !re.MatchString(text) {
		return "", fmt.Errorf("no %s ... %s block", beginMarker(name), endMarker(name))
	}
	return re.ReplaceAllLiteralString(text, Block(name, body)), nil
}

// BlockIn returns the block of name as it stands in text, markers included ("" if absent).
func BlockIn(text, name string) string {
	start := strings.Index(text, beginMarker(name))
	end := strings.Index(text, endMarker(name))
	if start < 0 || end < start {
		return ""
	}
	return text[start : end+len(endMarker(name))]
}

// ConfigBlock names the configuration table's block (README.md).
const ConfigBlock = "docs:config"

// DiagramBlock names the block of one option's diagram (docs/options.md).
func DiagramBlock(stack string) string { return "plan:diagram:" + stack }

// Generated returns, for each file that holds generated blocks (relative to projectDir), its
// blocks by name with their bodies as the code makes them now.
func Generated(projectDir string) (map[string]map[string]string, error) {
	keys, err := ReadKeys(filepath.Join(projectDir, "Pulumi.yaml"))
	if err != nil {
		return nil, err
	}
	rooms, err := RoomsTable(filepath.Join(projectDir, layoutFile))
	if err != nil {
		return nil, err
	}
	diagrams := map[string]string{}
	for _, mode := range infra.ModeNames() {
		p, err := plan.Make(projectDir, string(mode))
		if err != nil {
			return nil, err
		}
		diagrams[DiagramBlock(string(mode))] = "```mermaid\n" + p.Mermaid + "```"
	}
	metrics, err := MetricsTable(projectDir)
	if err != nil {
		return nil, err
	}
	return map[string]map[string]string{
		"README.md":            {ConfigBlock: ConfigTable(keys)},
		"docs/operations.md":   {MetricsBlock: metrics, AlarmsBlock: AlarmsTable(infra.AlarmDocs()), MappingStatesBlock: MappingStatesTable()},
		"docs/options.md":      diagrams,
		"docs/architecture.md": {RoomsBlock: rooms},
	}, nil
}

// Regenerate rewrites the generated blocks of every file that holds some and returns the
// files it changed.
func Regenerate(projectDir string) ([]string, error) {
	generated, err := Generated(projectDir)
	if err != nil {
		return nil, err
	}
	var changed []string
	for _, file := range slices.Sorted(maps.Keys(generated)) {
		path := filepath.Join(projectDir, file)
		text, err := os.ReadFile(path) //nolint:gosec // G304: the project's own docs
		if err != nil {
			return nil, err
		}
		updated := string(text)
		for _, name := range slices.Sorted(maps.Keys(generated[file])) {
			if updated, err = ReplaceBlock(updated, name, generated[file][name]); err != nil {
				return nil, fmt.Errorf("%s: %w", file, err)
			}
		}
		if updated != string(text) {
			if err := os.WriteFile(path, []byte(updated), 0o600); err != nil { //nolint:gosec // G703: the project's own docs
				return nil, err
			}
			changed = append(changed, file)
		}
	}
	return changed, nil
}
