// Command provisioner is the Lambda function the Pulumi program places where the ESM's
// network interfaces are; it declares the queue, diagnoses the ESM's path, publishes test
// messages and redrives dead letters (see provisioner/app).
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"rabbitmq-esm/lambdakit/lambdainit"
	"rabbitmq-esm/provisioner/app"
)

func main() {
	env, err := app.LoadEnv(os.Getenv)
	if err != nil {
		lambdainit.Fail("Runtime.ConfigError", err)
	}
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		lambdainit.Fail("Runtime.ConfigError", err)
	}
	p := &app.Provisioner{Env: env, Secrets: app.SecretsManager{Client: secretsmanager.NewFromConfig(awsCfg)}}
	lambda.Start(p.Handle)
}
