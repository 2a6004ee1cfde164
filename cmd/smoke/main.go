// Command smoke tests a deployed stack end to end (make smoke STACK=<option>): it publishes
// messages through the provisioner, waits for the listener to log each, prints the latency and
// PASS or FAIL, and exits non-zero on FAIL.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/deployed"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/smoke"
)

func main() {
	stack := flag.String("stack", "", "the deployed stack to test")
	count := flag.Int("count", 10, "messages to publish, 1-10000")
	timeout := flag.Duration("timeout", 2*time.Minute, "how long to wait for the listener to log every message")
	region := flag.String("region", "", "AWS region (default: the stack's awsRegion output)")
	flag.Parse()
	passed, err := run(*stack, *count, *timeout, *region)
	if err != nil {
		fmt.Fprintln(os.Stderr, "smoke:", err)
		os.Exit(2)
	}
	if !passed {
		os.Exit(1)
	}
}

func run(stack string, count int, timeout time.Duration, region string) (bool, error) {
	if stack == "" || count < 1 || count > 10000 {
		return false, fmt.Errorf("--stack is required and --count must be 1-10000")
	}
	outputs, err := stackOutputs(context.Background(), stack)
	if err != nil {
		return false, err
	}
	if region != "" {
		outputs.AWSRegion = region
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout+time.Minute)
	defer cancel()
	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(outputs.AWSRegion))
	if err != nil {
		return false, err
	}
	id := make([]byte, 6)
	_, _ = rand.Read(id)
	runID := "smoke-" + hex.EncodeToString(id)
	fmt.Printf("stack %s (%s): publishing %d messages, run %s\n", stack, outputs.NetworkMode, count, runID)
	result, err := smoke.Run(ctx, smoke.Config{Outputs: outputs, RunID: runID, Count: count, Timeout: timeout},
		lambda.NewFromConfig(awsCfg), cloudwatchlogs.NewFromConfig(awsCfg))
	if err != nil {
		return false, err
	}
	smoke.Report(os.Stdout, result)
	return result.Passed(), nil
}

func stackOutputs(ctx context.Context, stack string) (smoke.Outputs, error) {
	var o smoke.Outputs
	if err := deployed.ReadOutputs(ctx, stack, &o); err != nil {
		return smoke.Outputs{}, err
	}
	return o, o.Check()
}
