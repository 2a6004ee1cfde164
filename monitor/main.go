// Command monitor is the Lambda function beside the broker that publishes the queue's figures
// and the mapping's health as CloudWatch metrics every minute (see internal/monitor).
package main

import (
	"context"
	"errors"

	"github.com/aws/aws-lambda-go/lambda"
)

// Replaced by the monitor's code (issue 24, in progress): until then it fails loudly.
func main() {
	lambda.Start(func(context.Context) error { return errors.New("the monitor is not built yet") })
}
