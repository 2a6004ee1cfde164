// Command monitor is the Lambda function beside the broker that publishes the queue's figures
// and the mapping's health as CloudWatch metrics every minute (see internal/monitor).
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	lambdaapi "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/lambdainit"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/monitor"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/sdksecrets"
)

func main() {
	env, err := monitor.LoadEnv(os.Getenv)
	if err != nil {
		lambdainit.Fail("Runtime.ConfigError", err)
	}
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		lambdainit.Fail("Runtime.ConfigError", err)
	}
	m := &monitor.Monitor{
		Env: env, Secrets: sdksecrets.Reader{Client: secretsmanager.NewFromConfig(awsCfg)},
		Mappings: lambdaapi.NewFromConfig(awsCfg),
	}
	lambda.Start(m.Handle)
}
