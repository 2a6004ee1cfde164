// Command pulumi-resource-awsx is the stand-in awsx provider plugin of the real-engine suite.
// Put on PATH, the Pulumi engine uses it as an ambient plugin; it is a test double, never
// deployed.
package main

import (
	"fmt"
	"os"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin/awsx"
)

func main() {
	if err := awsx.Main(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
