package main

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The layout's rooms, bottom to top; imports only go down. One room a line, "room | what it
// holds | public", which `make docs` renders as docs/architecture.md's table:
//
//	contract | what the program and the Lambdas agree on: environment variable names, service routes, the queue-name rule, the provisioner's actions, requests and responses | public
//	internal/simaccount | the AWS account that make plan's mocks and the stand-in AWS both simulate (facts only) |
//	infra/{reach,eniwait,lambdabuild} | what a Pulumi program of the user's own reuses: the path verifier, the delete hooks that wait out Lambda's interfaces, the Lambdas' build | public
//	infra, main | the program and its components | public
//	listener/handler/internal/codec | the listener's JSON, read and written fast: behind its API |
//	listener/handler | the API a user's listener extends | public
//	listener, provisioner, rotator, monitor | the four Lambdas (thin mains) |
//	internal/{lambdainit,rabbitops,rabbitadmin,mappinghealth,sdksecrets} | what the Lambdas share at run time: the start-up failure report, the AMQP operations, the management-API client, the judgement of a mapping's state, the SDK's secret reader |
//	internal/{deadletter,provisioner,rotation,monitor} | the Lambdas' own code |
//	internal/{plan,docs,smoke,deployed,redrive,offline,stackconfig,localesm,status} | the code behind the commands in cmd/ |
//	internal/testsupport | what tests run against instead of AWS, Lambda, RabbitMQ and the CLI |
//	cmd, integration, enginetest | the top: nothing imports them (scripts, bench: their own tests) |
//	examples | programs of a user's own: public packages only |
//
// Tests may also import testsupport, and a double's tests the Lambda code it serves.
const (
	lambdaShared  = `internal/(lambdainit|rabbitops|rabbitadmin|mappinghealth|sdksecrets)`
	lambdaOwn     = `internal/(deadletter|provisioner(/.*)?|rotation|monitor)`
	behindCommand = `internal/(plan|docs|smoke|deployed|redrive|offline|stackconfig|localesm|status)(/.*)?`
	doubles       = `internal/testsupport(/.*)?`
	theLambdas    = `listener|provisioner|rotator|monitor|` + lambdaShared + `|` + lambdaOwn
	programHelper = `infra/(reach|eniwait|lambdabuild)`
	// Facts, not a double: internal/offline ships it behind make plan.
	simAccount = `internal/simaccount`
)

var layoutRules = []struct {
	what      string
	packages  string // a regexp over the package's path below the module
	forbidden string // a regexp over the imported path below the module
	inTests   bool   // the rule holds for the package's tests as well
}{
	{"nothing imports a command, the top-level suites or an example", `.*`, `(cmd|integration|enginetest|examples)(/.*)?`, true},
	{"the contract imports nothing of the project", `contract(/.*)?`, `.+`, true},
	{"the simulated account imports nothing of the project but the contract", simAccount, `|(infra|listener|provisioner|rotator|internal)(/.*)?`, true},
	{"the program's reusable helpers import only the contract", programHelper, `(infra|listener|provisioner|rotator|internal)(/.*)?`, true},
	{"the program imports no Lambda, command code or double", `|infra`, `(listener|provisioner|rotator|monitor|internal)(/.*)?`, false},
	{"the program's tests import no Lambda or command code", `|infra`, `(listener|provisioner|rotator|monitor)(/.*)?|` + lambdaShared + `|` + lambdaOwn + `|internal/(plan|smoke|deployed|redrive|localesm|status)`, true},
	{"the listener's decoder imports nothing of the project", `listener/handler/internal/.+`, `.+`, false},
	{"the listener's API imports only the contract", `listener/handler(/.*)?`, `(infra|provisioner|rotator|internal)(/.*)?`, false},
	{"what the Lambdas share imports only the contract", lambdaShared, `(infra|listener|provisioner|rotator|internal)(/.*)?`, false},
	{"the Lambdas import no program, command code, double or simulated account", theLambdas, `infra(/.*)?|` + behindCommand + `|` + doubles + `|` + simAccount, false},
	// They may build a Lambda as the program does, and drive the local bridge that plays the mapping.
	{"the Lambdas' tests import no program or command code", theLambdas, `infra|infra/(reach|eniwait)|internal/(plan|smoke|deployed|redrive|offline|stackconfig|simaccount|status)`, true},
	{"the code behind the commands imports no double", behindCommand, doubles, false},
	{"the doubles import no program or command code", doubles, `infra(/.*)?|` + behindCommand, true},
	{"the doubles import no Lambda code (their tests may)", doubles, `(listener|provisioner|rotator|monitor)(/.*)?|` + lambdaShared + `|` + lambdaOwn, false},
	// An example is a program of the user's own, in another module: Go lets it import no internal package.
	{"the examples import public packages only", `examples/.+`, `(listener|provisioner|rotator|monitor|internal)(/.*)?`, false},
}

// publicPackages is the API another module can import; everything else that is not a command,
// a suite or an example lives under internal/.
var publicPackages = []string{"", "contract", "infra", "infra/reach", "infra/eniwait", "infra/lambdabuild", "listener", "listener/handler", "provisioner", "rotator", "monitor"}

// TestImportsOnlyGoDown holds every package of the module to the layout's rules, and what is
// deployed (the program and the four Lambdas) to linking no double, tool or command.
func TestImportsOnlyGoDown(t *testing.T) {
	const module = "github.com/rabbitmq-esm/rabbitmq-esm"
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

	for _, p := range goList(t, "-deps", ".", "./listener", "./provisioner", "./rotator", "./monitor") {
		if name, ours := below(p.ImportPath); ours && regexp.MustCompile(`^(`+behindCommand+`|`+doubles+`|`+simAccount+`|cmd(/.*)?)$`).MatchString(name) {
			t.Errorf("deployed code links %s: a double, the simulated account, command code or a command", p.ImportPath)
		}
	}
	// The program links no AMQP client: the queue-name rule it needs is the contract's.
	for _, p := range goList(t, "-deps", ".") {
		if strings.HasPrefix(p.ImportPath, "github.com/rabbitmq/amqp091-go") {
			t.Errorf("the Pulumi program links the AMQP client %s", p.ImportPath)
		}
	}
	for _, p := range pkgs {
		name, _ := below(p.ImportPath)
		if !regexp.MustCompile(`^(internal|cmd|integration|enginetest|examples|bench|scripts)(/|$)|/internal(/|$)`).MatchString(name) && !slices.Contains(publicPackages, name) {
			t.Errorf("%s is neither public API (publicPackages) nor under internal/", p.ImportPath)
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

// TestEveryPackageHasARoom holds the rooms' comment (and so docs/architecture.md, rendered from
// it) to the packages, both ways: every package sits in a listed room (or below one), and every
// listed room holds a package.
func TestEveryPackageHasARoom(t *testing.T) {
	src, err := os.ReadFile("layout_test.go")
	if err != nil {
		t.Fatal(err)
	}
	var rooms []string
	for line := range strings.SplitSeq(string(src), "\n") {
		if room, ok := strings.CutPrefix(line, "//\t"); ok {
			for _, name := range strings.Split(strings.TrimSpace(strings.Split(room, "|")[0]), ", ") {
				rooms = append(rooms, expandBraces(name)...)
			}
		}
	}
	const module = "github.com/rabbitmq-esm/rabbitmq-esm"
	used := map[string]bool{}
	for _, p := range goList(t, "-tags", "integration", "./...") {
		name := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		found := false
		for _, room := range rooms {
			if room == "main" && name == "" || room != "main" && (name == room || strings.HasPrefix(name, room+"/")) {
				used[room], found = true, true
			}
		}
		if !found && !regexp.MustCompile(`^(scripts|bench)(/|$)`).MatchString(name) {
			t.Errorf("%s sits in no room of layout_test.go's comment", p.ImportPath)
		}
	}
	for _, room := range rooms {
		if !used[room] {
			t.Errorf("layout_test.go's comment lists the room %s, which holds no package", room)
		}
	}
}

// expandBraces turns "internal/{a,b}" into "internal/a", "internal/b".
func expandBraces(name string) []string {
	open, close := strings.Index(name, "{"), strings.Index(name, "}")
	if open < 0 || close < open {
		return []string{name}
	}
	var out []string
	for _, alt := range strings.Split(name[open+1:close], ",") {
		out = append(out, name[:open]+alt+name[close+1:])
	}
	return out
}
