package docs

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/mappinghealth"
)

// MappingStatesBlock names the table of what the mapping reports (docs/operations.md, Reading
// make status).
const MappingStatesBlock = "docs:mapping-states"

// sourceLink turns a source "Title (https://…)…" into a Markdown link.
var sourceLink = regexp.MustCompile(`^(.*?) \((https://[^)]+)\)(.*)$`)

// MappingStatesTable renders mappinghealth's rows: what make status and the monitor's
// MappingHealthy metric judge, so the docs and the judgement say the same.
func MappingStatesTable() string {
	var b strings.Builder
	b.WriteString("| Lambda reports | meaning | cause in this stack | fix | source |\n|---|---|---|---|---|\n")
	for _, r := range slices.Concat(mappinghealth.Table, mappinghealth.States) {
		value := "`" + r.Value + "`"
		if r.Prefix {
			value = "`" + r.Value + "…` naming " + strings.Join(r.Contains, ", ")
		}
		cause, fix := r.Cause, r.Fix
		if r.Benign {
			cause, fix = "healthy", "—"
		}
		source := cell(r.Source)
		if m := sourceLink.FindStringSubmatch(r.Source); m != nil {
			source = fmt.Sprintf("[%s](%s)%s", cell(m[1]), m[2], cell(m[3]))
		}
		fmt.Fprintf(&b, "| %s %s | %s | %s | %s | %s |\n", r.Field, value, cell(r.Meaning), cell(cause), cell(fix), source)
	}
	u := mappinghealth.Unknown
	fmt.Fprintf(&b, "| any other value | %s | %s; shown verbatim, never taken for healthy | %s | — |\n", cell(u.Meaning), cell(u.Cause), cell(u.Fix))
	return b.String()
}
