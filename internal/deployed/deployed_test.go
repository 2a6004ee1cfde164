package deployed

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
)

// fakePulumi answers `pulumi stack output --json --stack isolated` only.
const fakePulumi = `#!/bin/sh
[ "$*" = "stack output --json --stack isolated" ] || { echo "no stack: $*" >&2; exit 1; }
echo '{"queueName":"events","awsRegion":"eu-west-1"}'
`

func TestReadOutputs(t *testing.T) {
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "pulumi"), []byte(fakePulumi), 0o700); err != nil { //nolint:gosec // G306: the stand-in must be executable
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	var out struct {
		QueueName string `json:"queueName"`
		AWSRegion string `json:"awsRegion"`
	}
	if err := ReadOutputs(context.Background(), "isolated", &out); err != nil || out.QueueName != "events" || out.AWSRegion != "eu-west-1" {
		t.Errorf("outputs %+v, %v", out, err)
	}
	if err := ReadOutputs(context.Background(), "nat", &out); err == nil || !strings.Contains(err.Error(), "outputs of stack nat") {
		t.Errorf("an unknown stack: %v", err)
	}
}

type answer lambda.InvokeOutput

func (a *answer) Invoke(context.Context, *lambda.InvokeInput, ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	out := lambda.InvokeOutput(*a)
	return &out, nil
}

func TestInvokeSaysWhatTheProvisionerAnswered(t *testing.T) {
	req := contract.Request{Action: contract.ActionRedrive}
	var resp contract.RedriveResponse
	failed := &answer{FunctionError: aws.String("Unhandled"), Payload: []byte(`{"errorMessage":"queue missing"}`)}
	if err := Invoke(context.Background(), failed, "prov", req, &resp); err == nil || !strings.Contains(err.Error(), "redrive failed (Unhandled)") || !strings.Contains(err.Error(), "queue missing") {
		t.Errorf("a function error: %v", err)
	}
	if err := Invoke(context.Background(), &answer{Payload: []byte(`"not an object"`)}, "prov", req, &resp); err == nil || !strings.Contains(err.Error(), `answered "not an object"`) {
		t.Errorf("an undecodable answer: %v", err)
	}
	if err := Invoke(context.Background(), &answer{Payload: []byte(`{"moved":3}`)}, "prov", req, &resp); err != nil || resp.Moved != 3 {
		t.Errorf("an answer: %+v, %v", resp, err)
	}
}
