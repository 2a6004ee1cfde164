// Command listener is the Lambda function the Amazon MQ event source mapping invokes with
// batches of RabbitMQ messages (provided.al2023, arm64; built by infra/lambdabuild).
package main

import (
	"log"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/deadletter"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/lambdainit"
	"github.com/rabbitmq-esm/rabbitmq-esm/listener/handler"
)

func main() {
	opts, err := handler.OptionsFromEnv()
	if err != nil {
		lambdainit.Fail("Runtime.ConfigError", err)
	}
	if opts.DeadLetters, err = deadLettersFromEnv(); err != nil {
		lambdainit.Fail("Runtime.ConfigError", err)
	}
	tuneRuntime()
	h := handler.New(opts)
	api := os.Getenv(lambdainit.EnvRuntimeAPI)
	if api == "" || lambdacontext.MaxConcurrency() > 1 {
		// Outside Lambda (aws-lambda-go says so and exits), or several invocations at once
		// (Lambda Managed Instances), which runtime.go's loop does not serve. The Handler itself,
		// not its Handle method: aws-lambda-go then hands it the payload's bytes (Invoke).
		lambda.Start(h)
	}
	// One invocation at a time through runtime.go's client: aws-lambda-go's cost about 0.35 ms
	// of CPU per invocation on top of the handler's.
	log.Fatal(newRuntimeClient(api).serve(h))
}

// lambdaMBPerVCPU is the memory at which Lambda gives a function the equivalent of one vCPU; it
// gives CPU in proportion to memory (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
const lambdaMBPerVCPU = 1769

// tuneRuntime fits Go's scheduler and collector to the function's memory setting
// (AWS_LAMBDA_FUNCTION_MEMORY_SIZE). A GOMAXPROCS, GOGC or GOMEMLIMIT set on the function wins.
//
// GOMAXPROCS: the vCPUs Lambda's share of CPU amounts to, at least one, rather than every CPU
// the sandbox shows (two, even at 128 MB). The listener runs one goroutine; a second P bought
// it no parallelism, only a scheduler that spun and slept between the Runtime API's requests:
// about a tenth of its CPU per invocation of 100 messages (BenchmarkEndToEnd).
//
// The collector: a batch decodes into buffers the size of its event (up to 6 MB) over a live
// heap of about as much, so with GOGC=100 it ran about once per batch. GOGC=400, with a soft
// limit at half the function's memory as the backstop.
func tuneRuntime() {
	mb, _ := strconv.Atoi(os.Getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"))
	if os.Getenv("GOMAXPROCS") == "" && mb > 0 {
		runtime.GOMAXPROCS(procsFor(mb, runtime.GOMAXPROCS(0)))
	}
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(400)
	if mb > 0 {
		debug.SetMemoryLimit(int64(mb) << 20 / 2)
	}
}

// procsFor is the GOMAXPROCS for a function of memoryMB: its share of vCPUs, rounded up, and
// no more than the available Ps.
func procsFor(memoryMB, available int) int {
	return max(1, min(available, (memoryMB+lambdaMBPerVCPU-1)/lambdaMBPerVCPU))
}

// deadLettersFromEnv is the broker's dead-letter exchange when the program set the broker's
// address, or none (the delivery limit alone then ends a failing message, with its batch).
// Nothing is read or dialled here: a cold start must not wait for a broker that most batches
// never need.
func deadLettersFromEnv() (handler.DeadLetterer, error) {
	endpoint := os.Getenv(contract.EnvBrokerEndpoint)
	if endpoint == "" {
		return nil, nil
	}
	store := &deadletter.Broker{
		Endpoint:  endpoint,
		VHost:     os.Getenv(contract.EnvBrokerVHost),
		SecretArn: os.Getenv(contract.EnvDeadLetterSecretArn),
		Secrets:   &deadletter.SecretsManager{},
	}
	if err := store.Validate(); err != nil {
		return nil, err
	}
	return store, nil
}
