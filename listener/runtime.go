package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// The Runtime API client the function runs instead of aws-lambda-go's lambda.Start when it
// serves one invocation at a time (always, outside Lambda Managed Instances). It does what
// aws-lambda-go's loop does for a lambda.Handler — the same context (deadline, lambdacontext,
// the trace id in _X_AMZN_TRACE_ID and under "x-amzn-trace-id"), the same error and panic
// bodies posted to /error, the process's exit after a panic — without what cost about 0.35 ms
// of CPU per invocation there (profiled under BenchmarkEndToEnd/100): net/http's Transport,
// whose two goroutines per connection (readLoop, writeLoop) and their hand-offs cost more than
// the requests; a payload buffer from a sync.Pool that each collection empties, regrown from
// 512 bytes for every event; a response of unknown length sent chunked with trailers. Here one
// connection is read and written by the invocation's own goroutine, and the payload buffer
// stays at the largest event's size. The error type also goes in the
// Lambda-Runtime-Function-Error-Type header, and panics skip the X-Ray error-cause header.

// Runtime API headers (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html).
const (
	headerRequestID       = "Lambda-Runtime-Aws-Request-Id"
	headerDeadlineMs      = "Lambda-Runtime-Deadline-Ms"
	headerTraceID         = "Lambda-Runtime-Trace-Id"
	headerCognitoIdentity = "Lambda-Runtime-Cognito-Identity"
	headerClientContext   = "Lambda-Runtime-Client-Context"
	headerFunctionArn     = "Lambda-Runtime-Invoked-Function-Arn"
	headerTenantID        = "Lambda-Runtime-Aws-Tenant-Id"
	headerErrorType       = "Lambda-Runtime-Function-Error-Type"
)

// invoker is what the loop calls: handler.Handler's Invoke.
type invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// runtimeClient talks to the Runtime API at addr over one keep-alive connection that it
// reads and writes itself: net/http's Transport hands every request to two goroutines of its
// own (readLoop, writeLoop), and those hand-offs cost more than the requests.
type runtimeClient struct {
	addr      string
	userAgent string
	conn      net.Conn
	r         *bufio.Reader
	w         *bufio.Writer
	used      bool         // the connection has carried a request: a failure on it is retried once
	payload   bytes.Buffer // the event's bytes, kept at the largest event's size
}

const invocationPath = "/2018-06-01/runtime/invocation/"

func newRuntimeClient(addr string) *runtimeClient {
	return &runtimeClient{addr: addr, userAgent: "aws-lambda-go/" + runtime.Version()}
}

// errFatal ends the loop after a panic has been reported, as aws-lambda-go does.
var errFatal = errors.New("calling the handler function resulted in a panic, the process should exit")

// serve handles invocations until the Runtime API fails or the handler panics.
func (c *runtimeClient) serve(h invoker) error {
	for {
		if err := c.handleNext(h); err != nil {
			return err
		}
	}
}

// handleNext waits for the next invocation, runs it, and posts its result.
func (c *runtimeClient) handleNext(h invoker) error {
	header, err := c.next()
	if err != nil {
		return err
	}
	id := header.Get(headerRequestID)
	ctx, cancel, ierr := invocationContext(header, id)
	if ierr != nil {
		return c.postError(id, ierr)
	}
	defer cancel()
	response, ierr := call(ctx, h, c.payload.Bytes())
	if ierr != nil {
		if err := c.postError(id, ierr); err != nil {
			return err
		}
		if ierr.fatal {
			return errFatal
		}
		return nil
	}
	if err := c.post(invocationPath+id+"/response", response, "application/octet-stream", ""); err != nil {
		return fmt.Errorf("unexpected error occurred when sending the function functionResponse to the API: %w", err)
	}
	return nil
}

// next asks for the next invocation and reads its event into c.payload.
func (c *runtimeClient) next() (http.Header, error) {
	var header http.Header
	err := c.roundTrip(http.MethodGet, invocationPath+"next", nil, "", "", func(resp *http.Response) error {
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("failed to GET %snext: got unexpected status code: %d", invocationPath, resp.StatusCode)
		}
		c.payload.Reset()
		if resp.ContentLength > 0 {
			c.payload.Grow(int(resp.ContentLength))
		}
		if _, err := c.payload.ReadFrom(resp.Body); err != nil {
			return fmt.Errorf("failed to read the invoke payload: %w", err)
		}
		header = resp.Header
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("failed to get the next invoke: %w", err)
	}
	return header, nil
}

// post sends body to path and expects 202 Accepted.
func (c *runtimeClient) post(path string, body []byte, contentType, errorType string) error {
	return c.roundTrip(http.MethodPost, path, body, contentType, errorType, func(resp *http.Response) error {
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != http.StatusAccepted {
			return fmt.Errorf("failed to POST to %s: got unexpected status code: %d", path, resp.StatusCode)
		}
		return nil
	})
}

// roundTrip sends one request and hands its response to read, which must consume the body. A
// request that fails on a connection that served earlier ones (the server may have closed it
// while it was idle) is sent again once on a new connection.
func (c *runtimeClient) roundTrip(method, path string, body []byte, contentType, errorType string, read func(*http.Response) error) error {
	for attempt := 0; ; attempt++ {
		retry, err := c.try(method, path, body, contentType, errorType, read)
		if err == nil {
			return nil
		}
		if !retry || attempt > 0 {
			return err
		}
	}
}

// try is one attempt of roundTrip; retry is whether the request may be sent again.
func (c *runtimeClient) try(method, path string, body []byte, contentType, errorType string, read func(*http.Response) error) (retry bool, err error) {
	if c.conn == nil {
		conn, err := net.Dial("tcp", c.addr) //nolint:noctx,gosec // G704: the Runtime API on the runtime's own address (AWS_LAMBDA_RUNTIME_API); never cancelled
		if err != nil {
			return false, err
		}
		c.conn, c.used = conn, false
		if c.r == nil {
			c.r, c.w = bufio.NewReaderSize(conn, 64<<10), bufio.NewWriterSize(conn, 4<<10)
		} else {
			c.r.Reset(conn)
			c.w.Reset(conn)
		}
	}
	reused := c.used
	c.used = true
	w := c.w
	_, _ = w.WriteString(method)
	_, _ = w.WriteString(" ")
	_, _ = w.WriteString(path)
	_, _ = w.WriteString(" HTTP/1.1\r\nHost: ")
	_, _ = w.WriteString(c.addr)
	_, _ = w.WriteString("\r\nUser-Agent: ")
	_, _ = w.WriteString(c.userAgent)
	if method == http.MethodPost {
		_, _ = w.WriteString("\r\nContent-Type: ")
		_, _ = w.WriteString(contentType)
		if errorType != "" {
			_, _ = w.WriteString("\r\n" + headerErrorType + ": ")
			_, _ = w.WriteString(errorType)
		}
		_, _ = w.WriteString("\r\nContent-Length: ")
		_, _ = w.WriteString(strconv.Itoa(len(body)))
	}
	_, _ = w.WriteString("\r\n\r\n")
	_, _ = w.Write(body)
	if err := w.Flush(); err != nil {
		c.drop()
		return reused, err
	}
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		c.drop()
		// Nothing came back: the request was not served.
		return reused && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)), err
	}
	err = read(resp)
	if cerr := resp.Body.Close(); err == nil { // drains what read left, keeping the connection's framing
		err = cerr
	}
	if err != nil || resp.Close {
		c.drop()
	}
	return false, err
}

// drop closes the connection; the next request dials a new one.
func (c *runtimeClient) drop() {
	if c.conn != nil {
		_ = c.conn.Close()
		c.conn = nil
	}
}

// invokeError is the error body aws-lambda-go posts (messages.InvokeResponse_Error).
type invokeError struct {
	Message    string       `json:"errorMessage"`
	Type       string       `json:"errorType"`
	StackTrace []stackFrame `json:"stackTrace,omitempty"`
	fatal      bool
}

type stackFrame struct {
	Path  string `json:"path"`
	Line  int32  `json:"line"`
	Label string `json:"label"`
}

// postError logs and posts an invocation's error, as aws-lambda-go's reportFailure does.
func (c *runtimeClient) postError(id string, e *invokeError) error {
	body, err := json.Marshal(e)
	if err != nil {
		body, _ = json.Marshal(invokeError{Message: err.Error(), Type: "Runtime.SerializationError"})
	}
	log.Printf("%s", body)
	if err := c.post(invocationPath+id+"/error", body, "application/json", e.Type); err != nil {
		return fmt.Errorf("unexpected error occurred when sending the function error to the API: %w", err)
	}
	return nil
}

// invocationContext is the handler's context, built as aws-lambda-go builds it.
func invocationContext(header http.Header, id string) (context.Context, context.CancelFunc, *invokeError) {
	ms, err := strconv.ParseInt(header.Get(headerDeadlineMs), 10, 64)
	if err != nil {
		return nil, nil, errorResponse(fmt.Errorf("failed to parse deadline: %w", err))
	}
	lc := lambdacontext.LambdaContext{
		AwsRequestID:       id,
		InvokedFunctionArn: header.Get(headerFunctionArn),
		TenantID:           header.Get(headerTenantID),
	}
	if raw := header.Get(headerClientContext); raw != "" {
		if err := json.Unmarshal([]byte(raw), &lc.ClientContext); err != nil {
			return nil, nil, errorResponse(fmt.Errorf("failed to unmarshal client context json: %w", err))
		}
	}
	if raw := header.Get(headerCognitoIdentity); raw != "" {
		if err := json.Unmarshal([]byte(raw), &lc.Identity); err != nil {
			return nil, nil, errorResponse(fmt.Errorf("failed to unmarshal cognito identity json: %w", err))
		}
	}
	ctx, cancel := context.WithDeadline(context.Background(), time.UnixMilli(ms))
	ctx = lambdacontext.NewContext(ctx, &lc)
	traceID := header.Get(headerTraceID)
	_ = os.Setenv("_X_AMZN_TRACE_ID", traceID)
	ctx = context.WithValue(ctx, "x-amzn-trace-id", traceID) //nolint:staticcheck,revive // SA1029: the string key aws-lambda-go uses, which the X-Ray SDK reads
	return ctx, cancel, nil
}

// call runs the handler, turning its error or panic into the body posted to /error.
func call(ctx context.Context, h invoker, payload []byte) (response []byte, ierr *invokeError) {
	defer func() {
		if v := recover(); v != nil {
			ierr = panicResponse(v)
		}
	}()
	response, err := h.Invoke(ctx, payload)
	if err != nil {
		return nil, errorResponse(err)
	}
	return response, nil
}

// errorResponse names err by its type, as aws-lambda-go does.
func errorResponse(err error) *invokeError {
	return &invokeError{Message: err.Error(), Type: typeName(err)}
}

// panicResponse is the value v, its type and the panicking stack; the process then exits.
func panicResponse(v any) *invokeError {
	pcs := make([]uintptr, 32)
	n := runtime.Callers(3, pcs) // runtime.Callers, panicResponse, call's deferred function
	var stack []stackFrame
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		stack = append(stack, stackFrame{Path: f.File, Line: int32(f.Line), Label: f.Function}) //nolint:gosec // G115: a source line
		if !more {
			break
		}
	}
	return &invokeError{Message: fmt.Sprintf("%v", v), Type: typeName(v), StackTrace: stack, fatal: true}
}

func typeName(v any) string {
	t := reflect.TypeOf(v)
	if t == nil {
		return ""
	}
	if t.Kind() == reflect.Pointer {
		return t.Elem().Name()
	}
	return t.Name()
}
