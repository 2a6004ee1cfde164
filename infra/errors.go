package infra

import (
	"cmp"
	"fmt"
	"strings"
)

// SettingError is one invalid setting: the key as the user writes it, the value given, and
// what is allowed.
type SettingError struct {
	// Namespace of the key; empty for this project's own.
	Namespace string
	Key       string
	Value     string
	Allowed   string
}

func (e *SettingError) Error() string {
	return fmt.Sprintf("%s:%s = %q: %s", cmp.Or(e.Namespace, ProjectName), e.Key, e.Value, e.Allowed)
}

// ConfigError lists every invalid setting of a stack at once, so a user fixes them in one go.
type ConfigError struct {
	Stack    string
	Problems []*SettingError
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid configuration for stack %q (nothing was created or changed):", e.Stack)
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p.Error())
	}
	b.WriteString("\nFix the stack's Pulumi.<stack>.yaml or run `pulumi config set <key> <value>`; every key is listed in README.md and described in docs/configuration.md.")
	return b.String()
}

func unknownKeyHint(key string, known map[string]setting) string {
	best, bestDistance := "", 4
	for k := range known {
		if d := editDistance(strings.ToLower(key), strings.ToLower(k)); d < bestDistance {
			best, bestDistance = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf("is not a setting of this project; did you mean %s?", best)
	}
	return "is not a setting of this project; the settings are listed in README.md and docs/configuration.md"
}

// editDistance is the Levenshtein distance, for "did you mean" hints on mistyped keys.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
