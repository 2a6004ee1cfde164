// Command rabbitmq-esm is the Pulumi program; `pulumi up` runs it. Everything is in infra/.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/rabbitmq-esm/rabbitmq-esm/infra"
)

func main() {
	pulumi.Run(infra.Run)
}
