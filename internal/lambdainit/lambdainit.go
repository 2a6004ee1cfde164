// Package lambdainit reports a Lambda function's start-up failure the way the Runtime API
// defines for custom runtimes (POST /runtime/init/error), which aws-lambda-go does not do: the
// function's configuration error then shows in the invocation's error and the logs with its
// cause, instead of a bare "Runtime.ExitError".
package lambdainit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"time"
)

// EnvRuntimeAPI is where Lambda (or a test harness) serves the Runtime API.
const EnvRuntimeAPI = "AWS_LAMBDA_RUNTIME_API"

// Report posts an init error to the Runtime API and returns what went wrong posting it.
func Report(errorType string, cause error) error {
	api := os.Getenv(EnvRuntimeAPI)
	if api == "" {
		return fmt.Errorf("%s is not set: not running under a Lambda runtime", EnvRuntimeAPI)
	}
	body, err := json.Marshal(map[string]any{"errorMessage": cause.Error(), "errorType": errorType})
	if err != nil {
		return err
	}
	// The Runtime API's address is Lambda's own AWS_LAMBDA_RUNTIME_API.
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, "http://"+api+"/2018-06-01/runtime/init/error", bytes.NewReader(body)) //nolint:gosec // G704: the address comes from the Lambda runtime
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Lambda-Runtime-Function-Error-Type", errorType)
	client := http.Client{Timeout: 2 * time.Second}
	resp, err := client.Do(req) //nolint:gosec // G704: the Lambda Runtime API on the runtime's own address
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("runtime API answered %s", resp.Status)
	}
	return nil
}

// Fail reports cause as an init error, logs it to stderr, and exits: the runtime cannot start.
func Fail(errorType string, cause error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", errorType, cause)
	if err := Report(errorType, cause); err != nil {
		fmt.Fprintf(os.Stderr, "reporting the init error: %v\n", err)
	}
	os.Exit(1)
}
