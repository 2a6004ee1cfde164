// Package runtimeapi serves the AWS Lambda Runtime API on loopback, so that tests run a
// function's real bootstrap binary the way Lambda does: the binary polls for an invocation,
// posts its response or error, or reports an init error.
package runtimeapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Result is what the function posted for one invocation.
type Result struct {
	RequestID string
	// Response is the body of a successful invocation.
	Response []byte
	// Error is set when the function posted to /error.
	Error *ErrorPayload
}

// ErrorPayload is the JSON body of an error or init error post.
type ErrorPayload struct {
	ErrorMessage string `json:"errorMessage"`
	ErrorType    string `json:"errorType"`
}

// Server is a Runtime API serving the invocations queued with Invoke.
type Server struct {
	// Addr is host:port, the value of AWS_LAMBDA_RUNTIME_API.
	Addr string

	srv        *http.Server
	pending    chan invocation
	mu         sync.Mutex
	waiting    map[string]chan Result
	initErrors chan ErrorPayload
	firstNext  chan time.Time
	nextSeen   atomic.Bool
	seq        atomic.Int64
}

type invocation struct {
	id      string
	payload []byte
}

// Start serves the API on 127.0.0.1 at a free port until Close.
func Start() (*Server, error) {
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{
		Addr:       l.Addr().String(),
		pending:    make(chan invocation, 16),
		waiting:    map[string]chan Result{},
		initErrors: make(chan ErrorPayload, 1),
		firstNext:  make(chan time.Time, 1),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", s.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", s.result(false))
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", s.result(true))
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", s.initError)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(l) }()
	return s, nil
}

// Close stops the server; a function blocked on /next sees its connection drop.
func (s *Server) Close() error { return s.srv.Close() }

// Invoke queues payload as the next invocation and waits for the function's result.
func (s *Server) Invoke(ctx context.Context, payload []byte) (Result, error) {
	id := fmt.Sprintf("req-%06d", s.seq.Add(1))
	done := make(chan Result, 1)
	s.mu.Lock()
	s.waiting[id] = done
	s.mu.Unlock()
	select {
	case s.pending <- invocation{id: id, payload: payload}:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	select {
	case r := <-done:
		return r, nil
	case <-ctx.Done():
		return Result{}, fmt.Errorf("invocation %s: no result: %w", id, ctx.Err())
	}
}

// InitError waits for the function to report an init error.
func (s *Server) InitError(ctx context.Context) (ErrorPayload, error) {
	select {
	case e := <-s.initErrors:
		return e, nil
	case <-ctx.Done():
		return ErrorPayload{}, ctx.Err()
	}
}

// FirstNext returns when the function first asked for work: the end of its cold start.
func (s *Server) FirstNext(ctx context.Context) (time.Time, error) {
	select {
	case t := <-s.firstNext:
		return t, nil
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	}
}

func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	if s.nextSeen.CompareAndSwap(false, true) {
		s.firstNext <- time.Now()
	}
	select {
	case inv := <-s.pending:
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(30*time.Second).UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:local")
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0")
		h.Set("Content-Type", "application/json")
		_, _ = w.Write(inv.payload)
	case <-r.Context().Done():
	}
}

func (s *Server) result(isError bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		res := Result{RequestID: id}
		if isError {
			var p ErrorPayload
			if err := json.Unmarshal(body, &p); err != nil {
				p = ErrorPayload{ErrorMessage: strings.TrimSpace(string(body)), ErrorType: r.Header.Get("Lambda-Runtime-Function-Error-Type")}
			}
			res.Error = &p
		} else {
			res.Response = body
		}
		s.mu.Lock()
		done, ok := s.waiting[id]
		delete(s.waiting, id)
		s.mu.Unlock()
		if !ok {
			http.Error(w, "unknown request id "+id, http.StatusBadRequest)
			return
		}
		done <- res
		w.WriteHeader(http.StatusAccepted)
	}
}

func (s *Server) initError(w http.ResponseWriter, r *http.Request) {
	var p ErrorPayload
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if p.ErrorType == "" {
		p.ErrorType = r.Header.Get("Lambda-Runtime-Function-Error-Type")
	}
	select {
	case s.initErrors <- p:
	default:
	}
	w.WriteHeader(http.StatusAccepted)
}
