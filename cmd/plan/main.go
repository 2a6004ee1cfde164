// Command plan shows what a stack would build and how the event source mapping would reach
// its dependencies, offline: it runs the real program against a simulated AWS account. No AWS
// account, no Pulumi CLI, no network.
//
//	go run ./cmd/plan --stack isolated           # text
//	go run ./cmd/plan --stack isolated --json    # the same as data
//	go run ./cmd/plan --write-readme README.md   # regenerate the README's diagrams (make diagrams)
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"rabbitmq-esm/infra"
	"rabbitmq-esm/internal/plan"
)

func main() {
	stack := flag.String("stack", "", "the stack (option) to plan: public, defaultvpc, nat, isolated or publicsubnet")
	asJSON := flag.Bool("json", false, "print the plan as JSON")
	readme := flag.String("write-readme", "", "rewrite the diagrams of every option in this README")
	flag.Parse()
	if err := run(*stack, *asJSON, *readme); err != nil {
		fmt.Fprintln(os.Stderr, "plan:", err)
		os.Exit(1)
	}
}

func run(stack string, asJSON bool, readme string) error {
	if readme != "" {
		return writeReadme(readme)
	}
	if stack == "" {
		return fmt.Errorf("--stack is required (one of %v), or --write-readme", infra.ModeNames())
	}
	p, err := plan.Make(".", stack)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	}
	plan.Text(os.Stdout, p)
	return nil
}

func writeReadme(path string) error {
	text, err := os.ReadFile(path) //nolint:gosec // G304: the README path is the operator's own argument
	if err != nil {
		return err
	}
	updated := string(text)
	for _, mode := range infra.ModeNames() {
		p, err := plan.Make(".", string(mode))
		if err != nil {
			return err
		}
		if updated, err = plan.ReplaceDiagram(updated, string(mode), p.Mermaid); err != nil {
			return err
		}
	}
	if updated == string(text) {
		fmt.Println("README diagrams are up to date")
		return nil
	}
	fmt.Println("README diagrams regenerated")
	return os.WriteFile(path, []byte(updated), 0o600) //nolint:gosec // G703: the operator's own README path
}
