// Command rabbitmq-esm is the Pulumi program; `pulumi up` runs it. Everything is in infra/.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"rabbitmq-esm/infra"
)

func main() {
	pulumi.Run(infra.Run)
}
