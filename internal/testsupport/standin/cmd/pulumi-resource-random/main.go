// Command pulumi-resource-random is the stand-in random provider plugin of the real-engine suite. Put
// on PATH, the Pulumi engine uses it as an ambient plugin; it is a test double, never deployed.
package main

import (
	"fmt"
	"os"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin/random"
)

func main() {
	if err := standin.Serve(random.New()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
