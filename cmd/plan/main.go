// Command plan shows what a stack would build and how the event source mapping would reach
// its dependencies, offline: it runs the real program against a simulated AWS account. No AWS
// account, no Pulumi CLI, no network.
//
//	go run ./cmd/plan --stack isolated           # text
//	go run ./cmd/plan --stack isolated --json    # the same as data
//	go run ./cmd/plan --write-readme README.md   # regenerate the README's diagrams (make diagrams)
//	go run ./cmd/plan --list [--as-shipped] [--json]  # the options, one a line (CI loops over them)
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/plan"
)

func main() {
	os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr))
}

// cli runs the tool and returns its exit status. Its flags are its own: the Pulumi SDK's
// dependencies register glog's on the global flag set, which --help would list.
func cli(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stack := fs.String("stack", "", "the stack (option) to plan: "+strings.Join(plan.Options(false), ", "))
	asJSON := fs.Bool("json", false, "print the plan, or the --list, as JSON")
	readme := fs.String("write-readme", "", "rewrite the diagrams of every option in this README")
	list := fs.Bool("list", false, "print the networking options, one a line")
	asShipped := fs.Bool("as-shipped", false, "with --list: only the options whose stack file deploys as shipped (not existingvpc's placeholders)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *list {
		return printList(stdout, stderr, plan.Options(*asShipped), *asJSON)
	}
	if err := run(stdout, *stack, *asJSON, *readme); err != nil {
		fmt.Fprintln(stderr, "plan:", err)
		return 1
	}
	return 0
}

// printList prints names one a line, or as one line of JSON (a workflow's matrix).
func printList(stdout, stderr io.Writer, names []string, asJSON bool) int {
	if asJSON {
		if err := json.NewEncoder(stdout).Encode(names); err != nil {
			fmt.Fprintln(stderr, "plan:", err)
			return 1
		}
		return 0
	}
	fmt.Fprintln(stdout, strings.Join(names, "\n"))
	return 0
}

func run(stdout io.Writer, stack string, asJSON bool, readme string) error {
	if readme != "" {
		return writeReadme(stdout, readme)
	}
	if stack == "" {
		return fmt.Errorf("--stack is required (one of %s), or --write-readme, or --list", strings.Join(plan.Options(false), ", "))
	}
	p, err := plan.Make(".", stack)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	}
	plan.Text(stdout, p)
	return nil
}

func writeReadme(stdout io.Writer, path string) error {
	text, err := os.ReadFile(path) //nolint:gosec // G304: the README path is the operator's own argument
	if err != nil {
		return err
	}
	updated, err := plan.Diagrams(".", string(text))
	if err != nil {
		return err
	}
	if updated == string(text) {
		fmt.Fprintln(stdout, "README diagrams are up to date")
		return nil
	}
	fmt.Fprintln(stdout, "README diagrams regenerated")
	return os.WriteFile(path, []byte(updated), 0o600) //nolint:gosec // G703: the operator's own README path
}
