package deadletter

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestSecretStringSignsOneGetSecretValue(t *testing.T) {
	var got *http.Request
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		got, body = r, string(raw)
		_, _ = io.WriteString(w, `{"ARN":"arn:s","SecretString":"{\"username\":\"u\",\"password\":\"p\"}"}`)
	}))
	defer srv.Close()
	s := &SecretsManager{Region: "eu-west-1", Endpoint: srv.URL,
		Credentials: &aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret", SessionToken: "token"}}
	value, err := s.SecretString(context.Background(), "arn:aws:secretsmanager:eu-west-1:111122223333:secret:broker")
	if err != nil {
		t.Fatal(err)
	}
	if value != `{"username":"u","password":"p"}` {
		t.Errorf("value = %q", value)
	}
	if got.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" || got.Header.Get("Content-Type") != "application/x-amz-json-1.1" ||
		body != `{"SecretId":"arn:aws:secretsmanager:eu-west-1:111122223333:secret:broker"}` {
		t.Errorf("request: target %q, type %q, body %s", got.Header.Get("X-Amz-Target"), got.Header.Get("Content-Type"), body)
	}
	auth := got.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") || !strings.Contains(auth, "/eu-west-1/secretsmanager/aws4_request") ||
		got.Header.Get("X-Amz-Security-Token") != "token" {
		t.Errorf("not signed for Secrets Manager with the session: Authorization %q", auth)
	}
}

func TestSecretStringErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"__type":"AccessDeniedException","Message":"not allowed"}`)
	}))
	defer srv.Close()
	creds := &aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "s"}
	_, err := (&SecretsManager{Region: "us-east-1", Endpoint: srv.URL, Credentials: creds}).SecretString(context.Background(), "arn")
	if err == nil || !strings.Contains(err.Error(), "AccessDeniedException") {
		t.Errorf("err = %v: want the service's error type", err)
	}
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	if _, err := (&SecretsManager{}).SecretString(context.Background(), "arn"); err == nil || !strings.Contains(err.Error(), "AWS_REGION") {
		t.Errorf("err = %v: want the missing environment named", err)
	}
}

func TestValidateNamesTheMissingVariables(t *testing.T) {
	err := (&Broker{Endpoint: "amqps://b:5671"}).Validate()
	if err == nil || !strings.Contains(err.Error(), "BROKER_VHOST, DEAD_LETTER_SECRET_ARN") {
		t.Errorf("err = %v", err)
	}
}
