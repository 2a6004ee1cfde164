package docs

import (
	"fmt"
	"strings"

	"github.com/rabbitmq-esm/rabbitmq-esm/infra"
)

// AlarmsBlock names the block of the alarms' table (docs/operations.md).
const AlarmsBlock = "docs:alarms"

// AlarmsTable renders the program's alarms, from the table the Alarms component reads.
func AlarmsTable(alarms []infra.AlarmDoc) string {
	var b strings.Builder
	b.WriteString("| alarm | watches | fires when the value is | over | missing data | what it means | what to do |\n|---|---|---|---|---|---|---|\n")
	for _, a := range alarms {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s | %s |\n", a.Name, cell(a.Watches), cell(a.Fires), cell(a.Over), a.MissingData,
			cell(a.Meaning), cell(a.Action))
	}
	return b.String()
}
