// Package sdksecrets reads Secrets Manager secrets with the AWS SDK's client, for the Lambdas
// that link the SDK anyway (the provisioner, the monitor) and the commands. It is a package of
// its own so that none of them links another Lambda's code for it, and the listener, which
// must stay small, never links the SDK's client (it has its own reader, internal/deadletter).
package sdksecrets

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Reader is a rabbitops.SecretReader over the SDK's client.
type Reader struct {
	Client interface {
		GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	}
}

// SecretString returns the secret's string value.
func (r Reader) SecretString(ctx context.Context, secretArn string) (string, error) {
	out, err := r.Client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &secretArn})
	if err != nil {
		return "", err
	}
	if out.SecretString == nil {
		return "", errors.New("the secret has no string value")
	}
	return *out.SecretString, nil
}
