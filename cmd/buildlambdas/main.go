// Command buildlambdas builds every Lambda function of the project into .build/, exactly as the
// Pulumi program builds them when it deploys (same function, same flags, arm64), and prints
// each archive with its size and hash. `make build` runs it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/rabbitmq-esm/rabbitmq-esm/infra"
	"github.com/rabbitmq-esm/rabbitmq-esm/infra/lambdabuild"
)

func main() {
	os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr))
}

// cli runs the tool and returns its exit status. Its flags are its own: the Pulumi SDK's
// dependencies register glog's on the global flag set, which --help would list.
func cli(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("buildlambdas", flag.ContinueOnError)
	fs.SetOutput(stderr)
	arch := fs.String("arch", "arm64", "target architecture (arm64 is what Lambda runs; amd64 to run the binaries on this machine)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := build(stdout, *arch); err != nil {
		fmt.Fprintln(stderr, "buildlambdas:", err)
		return 1
	}
	return 0
}

func build(stdout io.Writer, arch string) error {
	specs := make([]lambdabuild.Spec, len(infra.LambdaPackages))
	for i, pkg := range infra.LambdaPackages {
		specs[i] = lambdabuild.Spec{ModuleDir: ".", Package: pkg, GOARCH: arch}
	}
	arts, err := lambdabuild.BuildAll(context.Background(), specs...)
	if err != nil {
		return err
	}
	for i, art := range arts {
		info, err := os.Stat(art.ZipPath)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%-14s %s  %7.1f KiB  sha256 %s\n", specs[i].Package, art.ZipPath, float64(info.Size())/1024, art.SHA256)
	}
	return nil
}
