package docs

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
)

// MarkdownFiles lists the Markdown files of the project, relative to projectDir, leaving out
// what git does not track here: hidden directories (.git, .build, .pulumi-state) and bench's
// and tests' generated output.
func MarkdownFiles(projectDir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(projectDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != projectDir && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".md") {
			rel, err := filepath.Rel(projectDir, path)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	return files, err
}

var (
	fence      = regexp.MustCompile("^\\s*(```|~~~)")
	inlineCode = regexp.MustCompile("`[^`]*`")
	link       = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	heading    = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*\s*$`)
	scheme     = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
)

// proseLines returns the lines of a Markdown text outside fenced code blocks, with their
// numbers (from 1).
func proseLines(text string) map[int]string {
	lines := map[int]string{}
	inFence := false
	for i, line := range strings.Split(text, "\n") {
		if fence.MatchString(line) {
			inFence = !inFence
			continue
		}
		if !inFence {
			lines[i+1] = line
		}
	}
	return lines
}

// Anchors are the heading ids GitHub gives a Markdown text.
func Anchors(text string) map[string]bool {
	anchors := map[string]bool{}
	seen := map[string]int{}
	lines := proseLines(text)
	for n := 1; n <= len(strings.Split(text, "\n")); n++ {
		m := heading.FindStringSubmatch(lines[n])
		if m == nil {
			continue
		}
		slug := Slug(m[2])
		if k := seen[slug]; k > 0 {
			anchors[fmt.Sprintf("%s-%d", slug, k)] = true
		} else {
			anchors[slug] = true
		}
		seen[slug]++
	}
	return anchors
}

var linkText = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)

// Slug is the id GitHub gives a heading: the rendered text, lower-cased, with every character
// but letters, digits, spaces, '-' and '_' removed and each space made a '-'.
func Slug(headingText string) string {
	text := linkText.ReplaceAllString(headingText, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// BrokenLinks checks every relative link of the given Markdown files: its file must exist,
// and an anchor into a Markdown file must match one of its headings. Links inside code are
// not links and are not checked.
func BrokenLinks(projectDir string, files []string) ([]string, error) {
	var broken []string
	anchorsOf := map[string]map[string]bool{}
	anchors := func(path string) (map[string]bool, error) {
		if a, ok := anchorsOf[path]; ok {
			return a, nil
		}
		text, err := os.ReadFile(path) //nolint:gosec // G304: a file of the project
		if err != nil {
			return nil, err
		}
		anchorsOf[path] = Anchors(string(text))
		return anchorsOf[path], nil
	}
	for _, file := range files {
		path := filepath.Join(projectDir, filepath.FromSlash(file))
		text, err := os.ReadFile(path) //nolint:gosec // G304: a file of the project
		if err != nil {
			return nil, err
		}
		lines := proseLines(string(text))
		for n := 1; n <= len(strings.Split(string(text), "\n")); n++ {
			for _, m := range link.FindAllStringSubmatch(inlineCode.ReplaceAllString(lines[n], ""), -1) {
				target := m[1]
				if scheme.MatchString(target) {
					continue
				}
				ref, fragment, _ := strings.Cut(target, "#")
				dest := path
				if ref != "" {
					dest = filepath.Join(filepath.Dir(path), filepath.FromSlash(ref))
				}
				if _, err := os.Stat(dest); err != nil {
					broken = append(broken, fmt.Sprintf("%s:%d: %s: no such file", file, n, target))
					continue
				}
				if fragment == "" || !strings.HasSuffix(dest, ".md") {
					continue
				}
				a, err := anchors(dest)
				if err != nil {
					return nil, err
				}
				if !a[fragment] {
					broken = append(broken, fmt.Sprintf("%s:%d: %s: no heading with that anchor", file, n, target))
				}
			}
		}
	}
	return broken, nil
}
