// Command rotator is the Lambda function Secrets Manager invokes to rotate the stack's broker
// secrets: the administrator's, the event source mapping's, the listener's dead-letter user's
// and the monitor's user's (see internal/rotation). The Pulumi program places it as it places
// the provisioner, where it reaches the broker's AMQPS endpoint and management API.
package main

import (
	"context"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/lambdainit"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rotation"
)

func main() {
	env, err := rotation.LoadEnv(os.Getenv)
	if err != nil {
		lambdainit.Fail("Runtime.ConfigError", err)
	}
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		lambdainit.Fail("Runtime.ConfigError", err)
	}
	r := &rotation.Rotator{Env: env, Secrets: secretsmanager.NewFromConfig(awsCfg), Logf: log.Printf}
	lambda.Start(r.Handle)
}
