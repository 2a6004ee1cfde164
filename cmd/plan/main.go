// Command plan shows what a stack would build and how the event source mapping would reach
// its dependencies, offline: it runs the real program against a simulated AWS account. No AWS
// account, no Pulumi CLI, no network.
//
//	go run ./cmd/plan --stack isolated           # text
//	go run ./cmd/plan --stack isolated --json    # the same as data
//	go run ./cmd/plan --write-docs .             # regenerate the docs' generated blocks (make docs)
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

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/docs"
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
	list := fs.Bool("list", false, "print the networking options, one a line")
	asShipped := fs.Bool("as-shipped", false, "with --list: only the options whose stack file deploys as shipped (not existingvpc's placeholders)")
	docsDir := fs.String("write-docs", "", "regenerate the generated blocks of the docs of the project in this directory (README.md's configuration table, docs/options.md's diagrams)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *list {
		return printList(stdout, stderr, plan.Options(*asShipped), *asJSON)
	}
	if err := run(stdout, *stack, *asJSON, *docsDir); err != nil {
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

func run(stdout io.Writer, stack string, asJSON bool, docsDir string) error {
	if docsDir != "" {
		return writeDocs(stdout, docsDir)
	}
	if stack == "" {
		return fmt.Errorf("--stack is required (one of %s), or --write-docs, or --list", strings.Join(plan.Options(false), ", "))
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

func writeDocs(stdout io.Writer, dir string) error {
	changed, err := docs.Regenerate(dir)
	if err != nil {
		return err
	}
	if len(changed) == 0 {
		fmt.Fprintln(stdout, "the docs' generated blocks are up to date")
		return nil
	}
	fmt.Fprintln(stdout, "regenerated:", strings.Join(changed, ", "))
	return nil
}
