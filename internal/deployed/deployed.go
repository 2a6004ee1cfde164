// Package deployed reaches a deployed stack from the operator's machine: its outputs through
// the Pulumi CLI, its provisioner function through Lambda's Invoke. The smoke test and the
// redrive command share it.
package deployed

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
)

// ReadOutputs decodes the stack's outputs into out with the Pulumi CLI, through the same
// backend selection as make up (scripts/pulumi.sh sets it; PULUMI_BACKEND_URL is honoured).
func ReadOutputs(ctx context.Context, stack string, out any) error {
	raw, err := exec.CommandContext(ctx, "pulumi", "stack", "output", "--json", "--stack", stack).Output() //nolint:gosec // G204: the stack name is one argument to pulumi, no shell
	if err != nil {
		return fmt.Errorf("reading the outputs of stack %s (pulumi stack output): %w", stack, err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("the outputs of stack %s: %w", stack, err)
	}
	return nil
}

// Invoker is the Lambda call that reaches the provisioner.
type Invoker interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// Invoke sends req to the provisioner function and decodes its answer into resp. A function
// error comes back with the provisioner's error message, which says what failed.
func Invoke(ctx context.Context, lam Invoker, function string, req contract.Request, resp any) error {
	payload, err := json.Marshal(req)
	if err != nil {
		return err
	}
	out, err := lam.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(function), Payload: payload})
	if err != nil {
		return fmt.Errorf("invoking the provisioner %s: %w", function, err)
	}
	if out.FunctionError != nil {
		return fmt.Errorf("the provisioner's %s failed (%s): %s", req.Action, aws.ToString(out.FunctionError), out.Payload)
	}
	if err := json.Unmarshal(out.Payload, resp); err != nil {
		return fmt.Errorf("the provisioner's %s answered %s: %w", req.Action, out.Payload, err)
	}
	return nil
}
