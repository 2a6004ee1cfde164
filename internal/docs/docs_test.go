package docs

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const projectDir = "../.."

// TestDocsAreGenerated fails when a generated block of README.md or docs/ differs from what
// Pulumi.yaml and the program make now.
func TestDocsAreGenerated(t *testing.T) {
	generated, err := Generated(projectDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range slices.Sorted(maps.Keys(generated)) {
		text, err := os.ReadFile(filepath.Join(projectDir, file)) //nolint:gosec // G304: the project's own docs
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range slices.Sorted(maps.Keys(generated[file])) {
			if BlockIn(string(text), name) != Block(name, generated[file][name]) {
				t.Errorf("%s: the %s block is out of date with Pulumi.yaml, layout_test.go or the program: run `make docs`", file, name)
			}
		}
	}
}

// TestConfigTableHasEveryKey: every key of Pulumi.yaml has a row in README.md's table, and
// every row is a key of Pulumi.yaml.
func TestConfigTableHasEveryKey(t *testing.T) {
	keys, err := ReadKeys(filepath.Join(projectDir, "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(projectDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := BlockIn(string(readme), ConfigBlock)
	if block == "" {
		t.Fatalf("README.md has no %s block: add its markers and run `make docs`", ConfigBlock)
	}
	var rows []string
	for _, line := range strings.Split(block, "\n") {
		if name, ok := strings.CutPrefix(line, "| `"); ok {
			name, _, _ = strings.Cut(name, "`")
			rows = append(rows, name)
		}
	}
	var names []string
	for _, k := range keys {
		names = append(names, k.Name)
		if !slices.Contains(rows, k.Name) {
			t.Errorf("Pulumi.yaml's key %s has no row in README.md's configuration table: run `make docs`", k.Name)
		}
	}
	for _, row := range rows {
		if !slices.Contains(names, row) {
			t.Errorf("README.md's configuration table has a row %s, which is no key of Pulumi.yaml: run `make docs`", row)
		}
	}
	if len(rows) != len(keys) {
		t.Errorf("README.md's configuration table has %d rows for %d keys", len(rows), len(keys))
	}
}

func TestSummary(t *testing.T) {
	for description, want := range map[string]string{
		"Broker instance type. Empty (the default): more.":          "Broker instance type.",
		"Required. The networking option: public or nat. Each sets": "Required. The networking option: public or nat.",
		"nat only. Single (one NAT gateway) or OnePerAz.":           "nat only. Single (one NAT gateway) or OnePerAz.",
		"Tags, e.g. {\"team\": \"x\"}. The program adds more.":      "Tags, e.g. {\"team\": \"x\"}.",
		"One sentence, no stop":                                     "One sentence, no stop",
	} {
		expect(t, "Summary", Summary, description, want)
	}
}

func TestReadKeys(t *testing.T) {
	dir := t.TempDir()
	yaml := `name: p
config:
  b:
    type: integer
    default: 5
    description: Second. More.
  a:
    type: string
    description: Required. First.
  c:
    type: array
    items:
      type: string
    default: []
    description: Third | piped.
`
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := ReadKeys(filepath.Join(dir, "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := "| key | type | default | description |\n|---|---|---|---|\n" +
		"| `b` | integer | `5` | Second. |\n" +
		"| `a` | string | — (required) | Required. First. |\n" +
		"| `c` | array of string | `[]` | Third \\| piped. |\n"
	if got := ConfigTable(keys); got != want {
		t.Errorf("ConfigTable =\n%s\nwant\n%s", got, want)
	}
}

func TestReplaceBlock(t *testing.T) {
	in := "a\n<!-- x -->\nold\n<!-- /x -->\nb\n"
	out, err := ReplaceBlock(in, "x", "new\n")
	if err != nil || out != "a\n<!-- x -->\nnew\n<!-- /x -->\nb\n" {
		t.Errorf("%q, %v", out, err)
	}
	if _, err := ReplaceBlock("no markers", "x", ""); err == nil {
		t.Error("missing markers accepted")
	}
}

// TestLinksResolve: every relative link of every Markdown file of the project names a file
// that exists, and every #anchor into a Markdown file names one of its headings.
func TestLinksResolve(t *testing.T) {
	files, err := MarkdownFiles(projectDir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(files, "README.md") || !slices.Contains(files, "docs/configuration.md") {
		t.Fatalf("found only %v", files)
	}
	broken, err := BrokenLinks(projectDir, files)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range broken {
		t.Error(b)
	}
}

func TestSlugAsGitHubMakesIt(t *testing.T) {
	for heading, want := range map[string]string{
		"Day two: what a change does on the next `up`": "day-two-what-a-change-does-on-the-next-up",
		"`public`": "public",
		"RabbitMQ versions: what depends on the engine":       "rabbitmq-versions-what-depends-on-the-engine",
		"Tear-down that finishes on the first try":            "tear-down-that-finishes-on-the-first-try",
		"Using [the components](reuse.md) from another_place": "using-the-components-from-another_place",
		"Cost (USD, prices as of 2026-12)":                    "cost-usd-prices-as-of-2026-12",
	} {
		expect(t, "Slug", Slug, heading, want)
	}
	a := Anchors("# A\n```\n# not a heading\n```\n## A\n### b\n")
	for _, want := range []string{"a", "a-1", "b"} {
		if !a[want] {
			t.Errorf("no anchor %s in %v", want, a)
		}
	}
	if a["not-a-heading"] {
		t.Error("a line in a code block counted as a heading")
	}
}

func TestBrokenLinksFindsThem(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("README.md", "# Top\n[ok](docs/a.md#there) [gone](docs/b.md) [bad](docs/a.md#nowhere) [self](#top) "+
		"[web](https://example.com/x.md) `[code](nope.md)`\n```\n[fenced](nope.md)\n```\n")
	write("docs/a.md", "## There\n[up](../README.md#top)\n")
	broken, err := BrokenLinks(dir, []string{"README.md", "docs/a.md"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"README.md:2: docs/b.md: no such file", "README.md:2: docs/a.md#nowhere: no heading with that anchor"}
	if !slices.Equal(broken, want) {
		t.Errorf("broken = %q, want %q", broken, want)
	}
}

func expect(t *testing.T, name string, f func(string) string, in, want string) {
	t.Helper()
	if got := f(in); got != want {
		t.Errorf("%s(%q) = %q, want %q", name, in, got, want)
	}
}

func TestRoomsTable(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "layout_test.go")
	write := func(text string) {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("// rooms:\n//\tcontract | what both agree on | public\n//\tinternal/{a,b} | the rest |\nfunc f() {}\n")
	got, err := RoomsTable(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "| room | what it holds | public API |\n|---|---|---|\n| `contract` | what both agree on | yes |\n| `internal/{a,b}` | the rest |  |\n"
	if got != want {
		t.Errorf("RoomsTable = %q, want %q", got, want)
	}
	write("//\tcontract what both agree on\n")
	if _, err := RoomsTable(path); err == nil || !strings.Contains(err.Error(), "room | what it holds | public") {
		t.Errorf("a room line without its cells: err = %v, want one that shows the form", err)
	}
	write("package main\n")
	if _, err := RoomsTable(path); err == nil {
		t.Error("a file with no rooms: no error")
	}
}

// TestReferenceTableFollowsPulumiYAML holds docs/configuration.md's hand-written reference
// table to Pulumi.yaml, both ways: one row per key, and each row's default the key's default.
func TestReferenceTableFollowsPulumiYAML(t *testing.T) {
	keys, err := ReadKeys(filepath.Join(projectDir, "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(filepath.Join(projectDir, "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	const header = "| key | default | applies to | meaning |"
	_, table, found := strings.Cut(string(text), header)
	if !found {
		t.Fatalf("docs/configuration.md has no reference table (%q)", header)
	}
	table, _, _ = strings.Cut(table, "\n\n")
	row := regexp.MustCompile("(?m)^\\| `([A-Za-z]+)` \\| ([^|]*) \\|")
	rows := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(table, -1) {
		rows[m[1]] = strings.TrimSpace(m[2])
	}
	for _, k := range keys {
		def, ok := rows[k.Name]
		switch {
		case !ok:
			t.Errorf("docs/configuration.md has no reference row for Pulumi.yaml's key %s", k.Name)
		case !k.HasDefault && !strings.HasPrefix(def, "— (required)"):
			t.Errorf("docs/configuration.md: %s is required, but its row's default reads %q", k.Name, def)
		case k.HasDefault && !strings.HasPrefix(def, "`"+k.Default+"`"):
			t.Errorf("docs/configuration.md: %s defaults to %s in Pulumi.yaml, but its row's default reads %q", k.Name, k.Default, def)
		}
		delete(rows, k.Name)
	}
	for name := range rows {
		t.Errorf("docs/configuration.md's reference table has a row for %s, which is not a key of Pulumi.yaml", name)
	}
}

// The README is the front door: it stays within 2,500 words (as wc -w counts them), the rest
// goes to docs/.
func TestReadmeIsAFrontDoor(t *testing.T) {
	text, err := os.ReadFile(filepath.Join(projectDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(string(text))); n > 2500 {
		t.Errorf("README.md has %d words, more than 2,500: move detail to docs/", n)
	}
}

func TestCellKeepsATableRow(t *testing.T) {
	if got, want := cell("a | b\n <name>-clone"), `a \| b &lt;name&gt;-clone`; got != want {
		t.Errorf("cell = %q, want %q", got, want)
	}
}
