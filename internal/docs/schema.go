// Package docs keeps the project's Markdown honest: it generates the blocks that come from
// the code (the configuration table from Pulumi.yaml, each option's diagram from the program)
// and checks that every relative link and anchor in the Markdown files resolves.
package docs

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Key is one setting declared in Pulumi.yaml's config section.
type Key struct {
	Name        string
	Type        string // string, integer, boolean, object, or "array of <items>"
	Default     string // as the table shows it: `""`, `[]`, `5`; "" when HasDefault is false
	HasDefault  bool
	Description string
}

// ReadKeys returns the settings of the Pulumi.yaml at path, in the order the file declares
// them. It reads the YAML node tree because the order matters and a map would lose it.
func ReadKeys(path string) ([]Key, error) {
	text, err := os.ReadFile(path) //nolint:gosec // G304: the project's own Pulumi.yaml
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(text, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	config := mappingValue(doc.Content[0], "config")
	if config == nil || config.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s has no config section", path)
	}
	var keys []Key
	for i := 0; i+1 < len(config.Content); i += 2 {
		name, spec := config.Content[i].Value, config.Content[i+1]
		var s struct {
			Type        string `yaml:"type"`
			Items       struct{ Type string }
			Description string `yaml:"description"`
		}
		if err := spec.Decode(&s); err != nil {
			return nil, fmt.Errorf("%s: config key %s: %w", path, name, err)
		}
		k := Key{Name: name, Type: s.Type, Description: strings.TrimSpace(s.Description)}
		if s.Type == "array" && s.Items.Type != "" {
			k.Type = "array of " + s.Items.Type
		}
		if d := mappingValue(spec, "default"); d != nil {
			var v any
			if err := d.Decode(&v); err != nil {
				return nil, fmt.Errorf("%s: the default of %s: %w", path, name, err)
			}
			b, err := json.Marshal(v)
			if err != nil {
				return nil, fmt.Errorf("%s: the default of %s: %w", path, name, err)
			}
			k.Default, k.HasDefault = string(b), true
			if str, ok := v.(string); ok && str != "" {
				k.Default = str
			}
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// sentenceEnd is a full stop that ends a sentence: followed by a space and not part of "e.g."
// or "i.e.".
var sentenceEnd = regexp.MustCompile(`\. `)

// Summary is the first sentence of a description. A first sentence that only scopes the key
// ("Required.", "nat only.", "existingvpc only, and required there.") says too little alone,
// so the next one is kept with it.
func Summary(description string) string {
	first := firstSentence(description)
	if isScope(first) && len(first) < len(description) {
		rest := strings.TrimSpace(description[len(first):])
		return first + " " + firstSentence(rest)
	}
	return first
}

func firstSentence(s string) string {
	from := 0
	for {
		loc := sentenceEnd.FindStringIndex(s[from:])
		if loc == nil {
			return s
		}
		end := from + loc[0] + 1
		if !strings.HasSuffix(s[:end], "e.g.") && !strings.HasSuffix(s[:end], "i.e.") {
			return s[:end]
		}
		from = end
	}
}

func isScope(sentence string) bool {
	return sentence == "Required." || strings.HasSuffix(sentence, " only.") || strings.HasSuffix(sentence, "required there.")
}

// ConfigTable is the Markdown table of the settings: one row per key, in Pulumi.yaml's order.
func ConfigTable(keys []Key) string {
	var b strings.Builder
	b.WriteString("| key | type | default | description |\n|---|---|---|---|\n")
	for _, k := range keys {
		def := "— (required)"
		if k.HasDefault {
			def = "`" + k.Default + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", k.Name, k.Type, def, cell(Summary(k.Description)))
	}
	return b.String()
}

// cell makes text safe inside a table cell.
// cell puts text in one table cell: on one line, its pipes escaped, and its angle brackets as
// entities, or GitHub would take "<name>" for an HTML tag and drop it.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;").Replace(strings.Join(strings.Fields(s), " "))
}
