package rabbitops

import (
	"context"
	"encoding/json"
	"fmt"
)

// SecretReader reads a Secrets Manager secret's string. It is an interface of its own, not the
// AWS SDK's client, so that the listener can read the secret without the SDK's Secrets Manager
// client, which would add 5 MB to its binary and to every cold start.
type SecretReader interface {
	SecretString(ctx context.Context, secretArn string) (string, error)
}

// ReadCredentials reads the broker user from the secret the event source mapping's BASIC_AUTH
// names, so that a function logs in exactly as the mapping does. The password never appears
// in an error.
func ReadCredentials(ctx context.Context, secrets SecretReader, secretArn string) (Credentials, error) {
	s, err := secrets.SecretString(ctx, secretArn)
	if err != nil {
		return Credentials{}, fmt.Errorf("reading the broker credentials from %s: %w", secretArn, err)
	}
	var creds Credentials
	if json.Unmarshal([]byte(s), &creds) != nil || creds.Username == "" || creds.Password == "" {
		return Credentials{}, fmt.Errorf(`secret %s does not hold {"username","password"} JSON, which the ESM's BASIC_AUTH needs`, secretArn)
	}
	return creds, nil
}

// FixedCredentials is a SecretReader that holds the credentials itself, for a broker reached
// without Secrets Manager: the local mapping on a laptop, and tests.
type FixedCredentials Credentials

// SecretString returns the credentials as the secret's JSON.
func (c FixedCredentials) SecretString(context.Context, string) (string, error) {
	raw, err := json.Marshal(Credentials(c)) //nolint:gosec // G117: the secret's value is the credentials, as Secrets Manager returns it

	return string(raw), err
}
