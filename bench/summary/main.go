// Command summary reads `go test -bench` output (what `make bench` collects) and prints, for
// each benchmark, the median of each of its metrics over its runs, in the order first seen;
// lines that are not benchmark results (the binary's size, ok lines) are passed through.
package main

import (
	"bufio"
	"fmt"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// result is `BenchmarkName-2   N   v1 unit1   v2 unit2 ...`.
var result = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

func main() {
	var order []string
	metrics := map[string]map[string][]float64{}
	var units = map[string][]string{}
	var notes []string
	pkg := ""
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = path.Base(p) + ": " // the same benchmark name in two packages stays apart
		}
		if strings.Contains(line, "arm64 bootstrap:") && !slices.Contains(notes, strings.TrimSpace(line)) {
			notes = append(notes, strings.TrimSpace(line))
		}
		m := result.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		name, fields := pkg+strings.TrimPrefix(m[1], "Benchmark"), strings.Fields(m[2])
		if metrics[name] == nil {
			metrics[name] = map[string][]float64{}
			order = append(order, name)
		}
		for i := 0; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			unit := fields[i+1]
			if unit == "ns/op" || unit == "B/op" || unit == "allocs/op" {
				continue // per batch; the per-message metrics say it per message
			}
			if metrics[name][unit] == nil {
				units[name] = append(units[name], unit)
			}
			metrics[name][unit] = append(metrics[name][unit], v)
		}
	}
	fmt.Println("\nMedians per benchmark (µs and ns per message; x-floor: per message against the floor measured beside it):")
	for _, name := range order {
		var parts []string
		for _, unit := range units[name] {
			vs := metrics[name][unit]
			slices.Sort(vs)
			parts = append(parts, fmt.Sprintf("%s %s", strconv.FormatFloat(vs[len(vs)/2], 'g', 4, 64), unit))
		}
		fmt.Printf("  %-52s %s  (%d runs)\n", name, strings.Join(parts, "  "), len(metrics[name][units[name][0]]))
	}
	for _, n := range notes {
		fmt.Println(" ", n)
	}
}
