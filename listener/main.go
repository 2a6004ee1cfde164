// Command listener is the Lambda function the Amazon MQ event source mapping invokes with
// batches of RabbitMQ messages (provided.al2023, arm64; built by internal/lambdabuild).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"rabbitmq-esm/internal/lambdainit"
	"rabbitmq-esm/listener/handler"
)

func main() {
	opts, err := handler.OptionsFromEnv()
	if err != nil {
		lambdainit.Fail("Runtime.ConfigError", err)
	}
	lambda.Start(handler.New(opts).Handle)
}
