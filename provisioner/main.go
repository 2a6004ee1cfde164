// Command provisioner is the Lambda function the Pulumi program places where the ESM's
// network interfaces are; it declares the queue, diagnoses the ESM's path, publishes test
// messages and redrives dead letters (see internal/provisioner).
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/lambdainit"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/provisioner"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/sdksecrets"
)

func main() {
	env, err := provisioner.LoadEnv(os.Getenv)
	if err != nil {
		lambdainit.Fail("Runtime.ConfigError", err)
	}
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		lambdainit.Fail("Runtime.ConfigError", err)
	}
	p := &provisioner.Provisioner{Env: env, Secrets: sdksecrets.Reader{Client: secretsmanager.NewFromConfig(awsCfg)}}
	lambda.Start(p.Handle)
}
