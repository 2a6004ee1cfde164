// Command listener is the Lambda function the Amazon MQ event source mapping invokes with
// batches of RabbitMQ messages (provided.al2023, arm64; built by internal/lambdabuild).
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"rabbitmq-esm/internal/lambdaenv"
	"rabbitmq-esm/internal/lambdainit"
	"rabbitmq-esm/listener/deadletter"
	"rabbitmq-esm/listener/handler"
)

func main() {
	opts, err := handler.OptionsFromEnv()
	if err != nil {
		lambdainit.Fail("Runtime.ConfigError", err)
	}
	if opts.DeadLetters, err = deadLettersFromEnv(); err != nil {
		lambdainit.Fail("Runtime.ConfigError", err)
	}
	// The Handler itself, not its Handle method: aws-lambda-go then hands it the payload's bytes
	// (Invoke) instead of decoding them by reflection, which cost more than all the rest.
	lambda.Start(handler.New(opts))
}

// deadLettersFromEnv is the broker's dead-letter exchange when the program set the broker's
// address, or none (the delivery limit alone then ends a failing message, with its batch).
// Nothing is read or dialled here: a cold start must not wait for a broker that most batches
// never need.
func deadLettersFromEnv() (handler.DeadLetterer, error) {
	endpoint := os.Getenv(lambdaenv.BrokerEndpoint)
	if endpoint == "" {
		return nil, nil
	}
	store := &deadletter.Broker{
		Endpoint:  endpoint,
		VHost:     os.Getenv(lambdaenv.BrokerVHost),
		SecretArn: os.Getenv(lambdaenv.BrokerSecretArn),
		Secrets:   &deadletter.SecretsManager{},
	}
	if err := store.Validate(); err != nil {
		return nil, err
	}
	return store, nil
}
