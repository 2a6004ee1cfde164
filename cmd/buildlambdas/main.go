// Command buildlambdas builds every Lambda function of the project into .build/, exactly as the
// Pulumi program builds them when it deploys (same function, same flags, arm64), and prints
// each archive with its size and hash. `make build` runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"rabbitmq-esm/infra"
	"rabbitmq-esm/internal/lambdabuild"
)

func main() {
	arch := flag.String("arch", "arm64", "target architecture (arm64 is what Lambda runs; amd64 to run the binaries on this machine)")
	flag.Parse()
	specs := make([]lambdabuild.Spec, len(infra.LambdaPackages))
	for i, pkg := range infra.LambdaPackages {
		specs[i] = lambdabuild.Spec{ModuleDir: ".", Package: pkg, GOARCH: *arch}
	}
	arts, err := lambdabuild.BuildAll(context.Background(), specs...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for i, art := range arts {
		info, err := os.Stat(art.ZipPath)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("%-14s %s  %7.1f KiB  sha256 %s\n", specs[i].Package, art.ZipPath, float64(info.Size())/1024, art.SHA256)
	}
}
