package deadletter

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// SecretsManager reads a secret with one signed GetSecretValue call (Secrets Manager's JSON 1.1
// protocol), with the function's own credentials from the environment Lambda sets. It exists
// because the SDK's client costs the listener 5 MB of binary; the signing is the SDK's own.
type SecretsManager struct {
	// Region of the secret. Default: AWS_REGION.
	Region string
	// Endpoint overrides https://secretsmanager.<region>.amazonaws.com (tests).
	Endpoint string
	// Credentials sign the request. Default: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
	// AWS_SESSION_TOKEN, which Lambda sets from the function's role.
	Credentials *aws.Credentials
	// Client sends the request. Default: a client with a 10-second timeout.
	Client *http.Client
}

// SecretString returns the secret's string value.
func (s *SecretsManager) SecretString(ctx context.Context, secretArn string) (string, error) {
	region := s.Region
	if region == "" {
		region = os.Getenv("AWS_REGION")
	}
	endpoint := s.Endpoint
	if endpoint == "" {
		endpoint = "https://secretsmanager." + region + ".amazonaws.com/"
	}
	creds := s.Credentials
	if creds == nil {
		creds = &aws.Credentials{
			AccessKeyID:     os.Getenv("AWS_ACCESS_KEY_ID"),
			SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
			SessionToken:    os.Getenv("AWS_SESSION_TOKEN"),
		}
	}
	if region == "" || creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
		return "", fmt.Errorf("no AWS region or credentials in the environment (AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)")
	}
	body, err := json.Marshal(map[string]string{"SecretId": secretArn})
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body)) //nolint:gosec // G704: the region's Secrets Manager endpoint, or a test's
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "secretsmanager.GetSecretValue")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, *creds, req, hex.EncodeToString(sum[:]), "secretsmanager", region, time.Now()); err != nil {
		return "", fmt.Errorf("signing the GetSecretValue request: %w", err)
	}
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req) //nolint:gosec // G704: the region's Secrets Manager endpoint, or a test's
	if err != nil {
		return "", fmt.Errorf("GetSecretValue: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("GetSecretValue: reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		// The error body names the error type and message, never the secret.
		return "", fmt.Errorf("GetSecretValue: %s: %s", resp.Status, bytes.TrimSpace(raw))
	}
	var out struct {
		SecretString *string `json:"SecretString"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.SecretString == nil {
		return "", fmt.Errorf("GetSecretValue: the answer holds no SecretString")
	}
	return *out.SecretString, nil
}
