package main

import (
	"encoding/json"
	"io"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The layout's rule (README, "Layout"): imports only go down. Bottom to top:
//
//	contract                      what the program and the Lambdas agree on
//	lambdakit                     what the Lambdas share
//	listener, provisioner         the Lambdas
//	infra/<helper>                what only the program runs
//	infra, main                   the program
//	testsupport                   what tests run against instead of AWS, Lambda and the CLI
//	tools                         the code behind the commands
//	cmd, integration, enginetest  the top: nothing imports them
//	examples                      programs of a user's own, on the program's components
//
// Tests may also import testsupport, and a double's tests the Lambda it serves.
var layoutRules = []struct {
	what      string
	packages  string // a regexp over the package's path below the module
	forbidden string // a regexp over the imported path below the module
	inTests   bool   // the rule holds for the package's tests as well
}{
	{"nothing imports a command, the top-level suites or an example", `.*`, `(cmd|integration|enginetest|examples)(/.*)?`, true},
	{"the contract imports nothing of the project", `contract(/.*)?`, `.+`, true},
	{"lambdakit imports only the contract", `lambdakit/.+`, `(infra|listener|provisioner|tools|testsupport)(/.*)?`, false},
	{"lambdakit's tests import no program, Lambda or tool", `lambdakit/.+`, `(infra|listener|provisioner|tools)(/.*)?`, true},
	{"the Lambdas import no program, tool or double", `(listener|provisioner)(/.*)?`, `(infra|tools|testsupport)(/.*)?`, false},
	{"the Lambdas' tests import no program or tool", `(listener|provisioner)(/.*)?`, `(infra|tools)(/.*)?`, true},
	{"the program's helpers import no program, Lambda, tool or double", `infra/.+`, `(infra|listener|provisioner|tools|testsupport)(/.*)?`, false},
	{"the program imports no Lambda, tool or double", `|infra(/.*)?`, `(listener|provisioner|tools|testsupport)(/.*)?`, false},
	{"the program's tests import no Lambda or tool", `|infra(/.*)?`, `(listener|provisioner|tools)(/.*)?`, true},
	{"testsupport imports no program, tool or Lambda", `testsupport(/.*)?`, `(infra|tools|listener|provisioner)(/.*)?`, false},
	// A double's tests may drive the real Lambda it stands in front of (localesm's, the listener).
	{"testsupport's tests import no program or tool", `testsupport(/.*)?`, `(infra|tools)(/.*)?`, true},
	{"tools import no command", `tools(/.*)?`, `cmd(/.*)?`, true},
	{"the examples, like the program, import no Lambda, tool or double", `examples/.+`, `(listener|provisioner|tools|testsupport)(/.*)?`, false},
}

// TestImportsOnlyGoDown holds every package of the module to the layout's rules, and what is
// deployed (the program and both Lambdas) to linking no double, tool or command.
func TestImportsOnlyGoDown(t *testing.T) {
	const module = "rabbitmq-esm"
	below := func(path string) (string, bool) {
		if path == module {
			return "", true
		}
		rest, ok := strings.CutPrefix(path, module+"/")
		return rest, ok
	}
	pkgs := goList(t, "-tags", "integration", "./...")
	for _, rule := range layoutRules {
		packages, forbidden := regexp.MustCompile(`^(`+rule.packages+`)$`), regexp.MustCompile(`^(`+rule.forbidden+`)$`)
		for _, p := range pkgs {
			name, _ := below(p.ImportPath)
			if !packages.MatchString(name) {
				continue
			}
			imports := p.Imports
			if rule.inTests {
				imports = slices.Concat(imports, p.TestImports, p.XTestImports)
			}
			for _, imp := range imports {
				if target, ours := below(imp); ours && target != name && forbidden.MatchString(target) {
					t.Errorf("%s: %s imports %s", rule.what, p.ImportPath, imp)
				}
			}
		}
	}

	for _, p := range goList(t, "-deps", ".", "./listener", "./provisioner") {
		if name, ours := below(p.ImportPath); ours && regexp.MustCompile(`^(testsupport|tools|cmd)(/|$)`).MatchString(name) {
			t.Errorf("deployed code links %s: a double, a tool or a command", p.ImportPath)
		}
	}
}

type listedPackage struct {
	ImportPath                         string
	Imports, TestImports, XTestImports []string
}

func goList(t *testing.T, args ...string) []listedPackage {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "go", append([]string{"list", "-json"}, args...)...) //nolint:gosec // G204: go list with the test's own fixed arguments
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(out)
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	return pkgs
}
