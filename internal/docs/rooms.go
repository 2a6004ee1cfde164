package docs

import (
	"fmt"
	"os"
	"strings"
)

// RoomsBlock names the layout's table (docs/architecture.md).
const RoomsBlock = "docs:rooms"

// layoutFile holds the rooms, in the comment above the rules TestImportsOnlyGoDown enforces:
// the table is rendered from there so the rules and the docs name the same rooms.
const layoutFile = "layout_test.go"

// RoomsTable renders the rooms listed in layoutFile's comment ("//\troom | what | public").
func RoomsTable(path string) (string, error) {
	text, err := os.ReadFile(path) //nolint:gosec // G304: the project's own layout test
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("| room | what it holds | public API |\n|---|---|---|\n")
	rows := 0
	for line := range strings.SplitSeq(string(text), "\n") {
		room, ok := strings.CutPrefix(line, "//\t")
		if !ok {
			continue
		}
		cells := strings.Split(room, "|")
		if len(cells) != 3 {
			return "", fmt.Errorf("%s: a room line is \"//\\troom | what it holds | public\", not %q", path, line)
		}
		public := ""
		if strings.TrimSpace(cells[2]) == "public" {
			public = "yes"
		}
		names := strings.Split(strings.TrimSpace(cells[0]), ", ")
		for i, n := range names {
			names[i] = "`" + n + "`"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", strings.Join(names, ", "), cell(cells[1]), public)
		rows++
	}
	if rows == 0 {
		return "", fmt.Errorf("%s lists no rooms", path)
	}
	return b.String(), nil
}
