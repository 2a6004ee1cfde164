package localesm

import (
	"context"
	"fmt"
	"os"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rabbitops"
)

// SecretDialer connects to endpoint as the user secretID holds, reading the secret again for
// every connection: the mapping keeps a connection as long as the broker does, and reads its
// BASIC_AUTH secret again when it connects, so a rotated password reaches it when the rotation
// closes its connection (docs/broker-users.md, "Rotation").
func SecretDialer(endpoint, vhost, caFile string, secrets rabbitops.SecretReader, secretID string) Dialer {
	return func(ctx context.Context) (*amqp.Connection, error) {
		creds, err := rabbitops.ReadCredentials(ctx, secrets, secretID)
		if err != nil {
			return nil, err
		}
		return rabbitops.Dial(ctx, endpoint, creds, vhost, caFile)
	}
}

// FileSecret is a secret kept in a file, {"username","password"} as in Secrets Manager, read
// again at every call: rewrite the file to rotate by hand on a laptop.
type FileSecret string

// SecretString returns the file's content; the secret id is the file's name.
func (f FileSecret) SecretString(context.Context, string) (string, error) {
	raw, err := os.ReadFile(string(f))
	if err != nil {
		return "", fmt.Errorf("reading the secret file: %w", err)
	}
	return string(raw), nil
}
