package docs

import (
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
)

// MetricsBlock names the block of the monitor's metrics (docs/operations.md).
const MetricsBlock = "docs:metrics"

// metricsFile holds the monitor's metric names, each a constant with its doc comment.
const metricsFile = "contract/monitor.go"

// MetricsTable renders the monitor's metrics from the Metric* constants of the contract, name
// and doc comment, so the page says exactly what the monitor publishes.
func MetricsTable(projectDir string) (string, error) {
	path := filepath.Join(projectDir, metricsFile)
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	if err != nil {
		return "", err
	}
	pkg, err := doc.NewFromFiles(fset, []*ast.File{file}, "contract")
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("| metric | what it is |\n|---|---|\n")
	rows := 0
	for _, group := range pkg.Consts {
		for _, spec := range group.Decl.Specs {
			vs, ok := spec.(*ast.ValueSpec)
			if !ok || len(vs.Names) != 1 || len(vs.Values) != 1 || !strings.HasPrefix(vs.Names[0].Name, "Metric") {
				continue
			}
			lit, ok := vs.Values[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				continue
			}
			name := vs.Names[0].Name
			if name == "MetricNamespace" || name == "MetricDimensionStack" {
				continue // where the metrics live, not a metric: the page's prose names them
			}
			value, err := strconv.Unquote(lit.Value)
			if err != nil {
				return "", err
			}
			// The doc comment starts with the constant's Go name: the table names the metric.
			text := strings.TrimPrefix(strings.TrimSpace(vs.Doc.Text()), name+" is ")
			fmt.Fprintf(&b, "| `%s` | %s |\n", value, cell(upperFirst(text)))
			rows++
		}
	}
	if rows == 0 {
		return "", fmt.Errorf("%s declares no metrics", path)
	}
	return b.String(), nil
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
