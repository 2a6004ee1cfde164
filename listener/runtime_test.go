package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/runtimeapi"
)

// invokerFunc adapts a function to the invoker the loop calls.
type invokerFunc func(ctx context.Context, payload []byte) ([]byte, error)

func (f invokerFunc) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return f(ctx, payload)
}

// serveOne runs one invocation of h through the loop against api, returning the loop's error
// and what api received.
func serveOne(t *testing.T, api *runtimeapi.Server, c *runtimeClient, h invoker, payload string) (runtimeapi.Result, error) {
	t.Helper()
	loopErr := make(chan error, 1)
	go func() { loopErr <- c.handleNext(h) }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := api.Invoke(ctx, []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-loopErr:
		return res, err
	case <-ctx.Done():
		t.Fatal("the loop did not return")
		return res, nil
	}
}

func startAPI(t *testing.T) (*runtimeapi.Server, *runtimeClient) {
	t.Helper()
	api, err := runtimeapi.Start()
	if err != nil {
		t.Fatal(err)
	}
	c := newRuntimeClient(api.Addr)
	t.Cleanup(func() { c.drop(); _ = api.Close() })
	return api, c
}

type batchError struct{ msg string }

func (e *batchError) Error() string { return e.msg }

func TestRuntimeLoopContextAndResponse(t *testing.T) {
	api, c := startAPI(t)
	for i, size := range []int{10, 200_000, 50} { // the payload buffer grows and is reused
		payload := `"` + strings.Repeat("x", size) + `"`
		var got []byte
		var lc *lambdacontext.LambdaContext
		var deadline time.Time
		var traceValue any
		h := invokerFunc(func(ctx context.Context, p []byte) ([]byte, error) {
			got = append([]byte(nil), p...)
			lc, _ = lambdacontext.FromContext(ctx)
			deadline, _ = ctx.Deadline()
			traceValue = ctx.Value("x-amzn-trace-id")
			return []byte(`{"ok":true}`), nil
		})
		res, err := serveOne(t, api, c, h, payload)
		if err != nil {
			t.Fatal(err)
		}
		if res.Error != nil || string(res.Response) != `{"ok":true}` {
			t.Fatalf("invocation %d: %+v", i, res)
		}
		if string(got) != payload {
			t.Errorf("invocation %d: the handler got %d bytes, want %d", i, len(got), len(payload))
		}
		if lc == nil || lc.AwsRequestID != res.RequestID || lc.InvokedFunctionArn != "arn:aws:lambda:us-east-1:123456789012:function:local" {
			t.Errorf("invocation %d: lambda context %+v, request %s", i, lc, res.RequestID)
		}
		if d := time.Until(deadline); d < 25*time.Second || d > 31*time.Second {
			t.Errorf("invocation %d: deadline in %v, want about 30s (Lambda-Runtime-Deadline-Ms)", i, d)
		}
		const trace = "Root=1-00000000-000000000000000000000000;Sampled=0"
		if traceValue != trace || os.Getenv("_X_AMZN_TRACE_ID") != trace {
			t.Errorf("invocation %d: trace id %v, env %q", i, traceValue, os.Getenv("_X_AMZN_TRACE_ID"))
		}
	}
}

func TestRuntimeLoopError(t *testing.T) {
	api, c := startAPI(t)
	h := invokerFunc(func(context.Context, []byte) ([]byte, error) {
		return nil, &batchError{"queue orders (vhost /), message 1: bad"}
	})
	res, err := serveOne(t, api, c, h, `{}`)
	if err != nil {
		t.Fatalf("an error must not end the loop: %v", err)
	}
	if res.Error == nil || res.Error.ErrorType != "batchError" || res.Error.ErrorMessage != "queue orders (vhost /), message 1: bad" {
		t.Fatalf("error post: %+v", res)
	}
	// The loop serves the next invocation on the same connection.
	res, err = serveOne(t, api, c, invokerFunc(func(context.Context, []byte) ([]byte, error) { return []byte("null"), nil }), `{}`)
	if err != nil || res.Error != nil || string(res.Response) != "null" {
		t.Fatalf("after an error: %+v, %v", res, err)
	}
}

func TestRuntimeLoopPanic(t *testing.T) {
	api, c := startAPI(t)
	h := invokerFunc(func(context.Context, []byte) ([]byte, error) { panic(errors.New("boom")) })
	res, err := serveOne(t, api, c, h, `{}`)
	if !errors.Is(err, errFatal) {
		t.Fatalf("a panic must end the loop, got %v", err)
	}
	if res.Error == nil || res.Error.ErrorType != "errorString" || res.Error.ErrorMessage != "boom" {
		t.Fatalf("panic post: %+v", res)
	}
}

func TestRuntimeLoopBadDeadline(t *testing.T) {
	// The error type also travels in the Lambda-Runtime-Function-Error-Type header, and a
	// connection the server closed while idle is replaced.
	var errorType, body string
	requests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests++
		switch {
		case strings.HasSuffix(r.URL.Path, "/next"):
			w.Header().Set(headerRequestID, "req-1")
			w.Header().Set(headerDeadlineMs, "soon")
			_, _ = w.Write([]byte(`{}`))
		case strings.HasSuffix(r.URL.Path, "/req-1/error"):
			errorType = r.Header.Get(headerErrorType)
			b, _ := io.ReadAll(r.Body)
			body = string(b)
			w.WriteHeader(http.StatusAccepted)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c := newRuntimeClient(strings.TrimPrefix(srv.URL, "http://"))
	defer c.drop()
	called := false
	h := invokerFunc(func(context.Context, []byte) ([]byte, error) { called = true; return nil, nil })
	if err := c.handleNext(h); err != nil {
		t.Fatal(err)
	}
	srv.CloseClientConnections()
	if err := c.handleNext(h); err != nil {
		t.Fatalf("after the server closed the connection: %v", err)
	}
	if called {
		t.Error("the handler ran without a deadline")
	}
	if errorType == "" || !strings.Contains(body, `"errorMessage":"failed to parse deadline`) || !strings.Contains(body, `"errorType":"`+errorType+`"`) {
		t.Errorf("error post: header %q, body %s", errorType, body)
	}
	if requests != 4 {
		t.Errorf("%d requests, want 4", requests)
	}
}
