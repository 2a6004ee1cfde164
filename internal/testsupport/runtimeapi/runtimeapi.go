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

	// What Lambda bills: each invocation from the event's first byte to the runtime's next
	// request for work, which it makes once it has posted its response.
	billingMu     sync.Mutex
	handedAt      time.Time // the invocation in flight; zero when none
	billing       Billing
	billedChanged chan struct{}
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

		billedChanged: make(chan struct{}, 1),
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

// Billing is what the Runtime API saw of the invocations that have ended, as Lambda bills
// them: from the event handed over to the runtime's next request for work, which it makes once
// it has posted its response.
type Billing struct {
	Invocations int
	Total       time.Duration
	// LastEnd is when the last of them ended.
	LastEnd time.Time
}

// WaitBilled waits until n invocations have ended and returns the billing so far. Subtract an
// earlier call's figures to bill a stretch of invocations.
func (s *Server) WaitBilled(ctx context.Context, n int) (Billing, error) {
	for {
		s.billingMu.Lock()
		b := s.billing
		s.billingMu.Unlock()
		if b.Invocations >= n {
			return b, nil
		}
		select {
		case <-s.billedChanged:
		case <-ctx.Done():
			return b, fmt.Errorf("%d invocations ended, want %d: %w", b.Invocations, n, ctx.Err())
		}
	}
}

// endBilling ends the invocation in flight, if any, at now.
func (s *Server) endBilling(now time.Time) {
	s.billingMu.Lock()
	defer s.billingMu.Unlock()
	if s.handedAt.IsZero() {
		return
	}
	s.billing.Invocations++
	s.billing.Total += now.Sub(s.handedAt)
	s.billing.LastEnd = now
	s.handedAt = time.Time{}
	select {
	case s.billedChanged <- struct{}{}:
	default:
	}
}

func (s *Server) startBilling(now time.Time) {
	s.billingMu.Lock()
	s.handedAt = now
	s.billingMu.Unlock()
}

func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	s.endBilling(time.Now())
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
		s.startBilling(time.Now())
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
