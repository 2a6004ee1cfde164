package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
	"github.com/rabbitmq-esm/rabbitmq-esm/listener/handler/internal/codec"
)

// EventSourceRabbitMQ is "aws:rmq", the eventSource of every event Amazon MQ for RabbitMQ
// mappings send.
const EventSourceRabbitMQ = codec.EventSourceRabbitMQ

// Process is the business function: it handles one message and returns a short summary for
// the log, or an error. An error is permanent unless it is wrapped in Retry: the message is
// dead-lettered, with the error, and the rest of the batch goes on. It may be called again
// with the same message (delivery is at least once).
type Process func(ctx context.Context, m Message) (summary string, err error)

// Retry marks err as transient: the same message may succeed later (a dependency is down, a
// rate limit was hit). The whole batch then goes back to the queue — Lambda's RabbitMQ mapping
// has no partial-batch response — and comes again, until the message's last allowed delivery,
// when it is dead-lettered with err like a permanent failure.
func Retry(err error) error {
	if err == nil {
		return nil
	}
	return &retryError{err: err}
}

type retryError struct{ err error }

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

// IsRetry says whether err, or an error it wraps, was marked with Retry.
func IsRetry(err error) bool {
	var r *retryError
	return errors.As(err, &r)
}

// DeadLetter is a message that failed for good, with why and when.
type DeadLetter struct {
	Message  Message
	Err      error
	FailedAt time.Time
}

// DeadLetterer stores failed messages where they can be inspected and redriven. It must not
// return before every letter is stored (for the broker: confirmed by it); on an error the
// listener fails the batch, so nothing is lost — the letters come again with their batch.
type DeadLetterer interface {
	DeadLetter(ctx context.Context, letters []DeadLetter) error
}

// Options configure a Handler.
type Options struct {
	// Process is the business function. Default: Summarise.
	Process Process
	// DeadLetters stores the messages that fail for good. Default: none, and then such a
	// message fails its batch, which the queue's delivery limit dead-letters with it.
	DeadLetters DeadLetterer
	// DeliveryLimit is the queue's number of deliveries before RabbitMQ dead-letters a
	// message; at that delivery a Retry failure is dead-lettered by the listener instead,
	// with its error, and the batch's other messages are kept. 0: not known. Env
	// DELIVERY_LIMIT.
	DeliveryLimit int
	// LogBodies adds each message's body to its log line. Default false: bodies may hold
	// personal data. Env LISTENER_LOG_BODIES.
	LogBodies bool
	// Output receives the JSON log lines. Default: stdout, which Lambda ships to CloudWatch.
	Output io.Writer
}

// OptionsFromEnv reads the options from the function's environment. A value it cannot parse
// is an error naming the variable: the function must fail at start, not guess.
func OptionsFromEnv() (Options, error) {
	opts := Options{}
	if raw, set := os.LookupEnv(contract.EnvListenerLogBodies); set && raw != "" {
		v, err := strconv.ParseBool(raw)
		if err != nil {
			return Options{}, fmt.Errorf("%s=%q: must be true or false", contract.EnvListenerLogBodies, raw)
		}
		opts.LogBodies = v
	}
	if raw, set := os.LookupEnv(contract.EnvDeliveryLimit); set && raw != "" {
		v, err := strconv.Atoi(raw)
		if err != nil || v < 1 {
			return Options{}, fmt.Errorf("%s=%q: must be a whole number of at least 1", contract.EnvDeliveryLimit, raw)
		}
		opts.DeliveryLimit = v
	}
	return opts, nil
}

// Handler handles RabbitMQ batches.
type Handler struct {
	process       Process
	deadLetters   DeadLetterer
	deliveryLimit int
	logBodies     bool
	output        io.Writer
}

// New returns a Handler with opts' defaults filled in.
func New(opts Options) *Handler {
	h := &Handler{process: opts.Process, deadLetters: opts.DeadLetters, deliveryLimit: opts.DeliveryLimit,
		logBodies: opts.LogBodies, output: opts.Output}
	if h.process == nil {
		h.process = Summarise
	}
	if h.output == nil {
		h.output = os.Stdout
	}
	return h
}

// Outcomes of a message, as its log line names them.
const (
	outcomeProcessed    = "processed"
	outcomeDeadLettered = "dead-lettered"
	// outcomeReturned: the message failed and its batch goes back to the queue.
	outcomeReturned = "returned"
)

// Invoke is the function's entry point (aws-lambda-go's lambda.Handler). It decodes the payload
// in one pass instead of by aws-lambda-go's reflection, which was most of the listener's time;
// a payload that pass leaves to encoding/json is decoded as aws-lambda-go would have, errors
// included (returned, as before, without a log line).
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	start := time.Now()
	messages, handled, err := codec.Payload(payload)
	if !handled {
		var ev events.RabbitMQEvent
		if err := json.NewDecoder(bytes.NewReader(payload)).Decode(&ev); err != nil {
			return nil, err
		}
		messages, err = codec.FromEvent(ev)
	}
	if err := h.handle(ctx, start, messages, err); err != nil {
		return nil, err
	}
	return []byte("null"), nil
}

// Handle processes one batch already decoded into an events.RabbitMQEvent (for callers that
// have one: tests, or another entry point); the function itself enters through Invoke.
func (h *Handler) Handle(ctx context.Context, ev events.RabbitMQEvent) error {
	start := time.Now()
	messages, err := codec.FromEvent(ev)
	return h.handle(ctx, start, messages, err)
}

// lineWriters are reused across batches: a batch of 10,000 messages writes megabytes of lines.
var lineWriters = sync.Pool{New: func() any { return &codec.LineWriter{} }}

// lineSink lets slog write the batch lines into the same buffer as the message lines.
type lineSink struct{ l *codec.LineWriter }

func (s lineSink) Write(p []byte) (int, error) {
	s.l.Buf = append(s.l.Buf, p...)
	return len(p), nil
}

// handle processes one batch, each message in order. A message that fails for good is
// dead-lettered alone and the batch goes on: returning the batch for it would count a delivery
// against its healthy neighbours and in time dead-letter them too. A Retry failure returns the
// batch. The lines (codec.LineWriter's, exactly slog's output, and slog's batch line) are
// written at once at the end.
func (h *Handler) handle(ctx context.Context, start time.Time, messages []codec.Message, decodeErr error) error {
	l := lineWriters.Get().(*codec.LineWriter)
	l.Buf = l.Buf[:0]
	defer func() {
		_, _ = h.output.Write(l.Buf)
		if cap(l.Buf) <= 64<<20 {
			lineWriters.Put(l)
		}
	}()
	logger := slog.New(slog.NewJSONHandler(lineSink{l}, nil))
	requestID, hasRequestID := "", false
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		requestID, hasRequestID = lc.AwsRequestID, true
		logger = logger.With("requestId", requestID)
	}
	if decodeErr != nil {
		logger.Error("batch", "outcome", "rejected", "error", decodeErr.Error(), "durationMs", msSince(start))
		return decodeErr
	}
	// messageLine writes a message's line up to its outcome.
	messageLine := func(m *Message, level, outcome string) {
		l.Start(time.Now(), level, "message")
		if hasRequestID {
			l.Str("requestId", requestID)
		}
		l.Str("queue", m.Queue)
		l.Str("vhost", m.VHost)
		l.Int("index", m.Index)
		l.Str("id", m.ID)
		l.Str("messageId", m.MessageID)
		l.Str("correlationId", m.CorrelationID)
		l.Bool("redelivered", m.Redelivered)
		l.Int("bodyBytes", len(m.Body))
		if m.Attempt > 0 {
			l.Int("attempt", m.Attempt)
		}
		if h.logBodies {
			l.Bytes("body", m.Body)
		}
		l.Str("outcome", outcome)
	}

	processed := 0
	var letters []DeadLetter
	for i := range messages {
		m := messageOf(&messages[i])
		var summary string
		err := m.problem
		if err == nil {
			summary, err = h.safeProcess(ctx, m)
		}
		if err == nil {
			processed++
			messageLine(&m, "INFO", outcomeProcessed)
			l.Str("summary", summary)
			l.End()
			continue
		}
		err = fmt.Errorf("queue %s (vhost %s), message %d (%s): %w", m.Queue, m.VHost, m.Index, m.ID, err)
		retry := IsRetry(err) && !h.lastDelivery(&m)
		if retry || h.deadLetters == nil {
			// The whole batch goes back: the processed messages will come again, and with no
			// dead-letter store the queue's delivery limit is what ends a permanent failure.
			if !retry {
				err = fmt.Errorf("%w (%w)", err, ErrNoDeadLetterStore)
			}
			messageLine(&m, "ERROR", outcomeReturned)
			l.Str("error", err.Error())
			l.End()
			logger.Error("batch", "outcome", outcomeReturned, "messages", len(messages), "processed", processed,
				"notAttempted", len(messages)-i-1, "durationMs", msSince(start))
			return err
		}
		if IsRetry(err) {
			err = fmt.Errorf("%w (still failing at delivery %d of %d)", err, m.Attempt, h.deliveryLimit)
		}
		messageLine(&m, "ERROR", outcomeDeadLettered)
		l.Str("error", err.Error())
		l.End()
		letters = append(letters, DeadLetter{Message: m, Err: err, FailedAt: time.Now().UTC()})
	}
	if len(letters) > 0 {
		if err := h.deadLetters.DeadLetter(ctx, letters); err != nil {
			err = fmt.Errorf("storing %d dead letters failed, so the batch is returned to the queue (nothing is lost; "+
				"its processed messages will be processed again): %w", len(letters), err)
			logger.Error("batch", "outcome", outcomeReturned, "messages", len(messages), "processed", processed,
				"deadLettered", 0, "error", err.Error(), "durationMs", msSince(start))
			return err
		}
	}
	logger.Info("batch", "outcome", outcomeProcessed, "messages", len(messages), "processed", processed,
		"deadLettered", len(letters), "durationMs", msSince(start))
	return nil
}

// lastDelivery says whether m is at the queue's last allowed delivery, when both are known.
func (h *Handler) lastDelivery(m *Message) bool {
	return h.deliveryLimit > 0 && m.Attempt >= h.deliveryLimit
}

// ErrNotRabbitMQ is returned for an event that did not come from an Amazon MQ for RabbitMQ
// mapping (a misconfigured trigger, or a test event of another shape).
var ErrNotRabbitMQ = codec.ErrNotRabbitMQ

// ErrNoDeadLetterStore means a message failed for good and no dead-letter store is configured:
// the batch is returned, and the queue's delivery limit dead-letters the message in time.
var ErrNoDeadLetterStore = errors.New("no dead-letter store is configured: the batch is returned")

// safeProcess turns a panic of the business function into an error, so one bad message is
// dead-lettered instead of crashing the runtime.
func (h *Handler) safeProcess(ctx context.Context, m Message) (summary string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("business function panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return h.process(ctx, m)
}

// Summarise is the default business function: it checks that a JSON body is valid JSON and
// names its kind; other bodies are reported by size. Replace it with your own.
func Summarise(_ context.Context, m Message) (string, error) {
	if !looksJSON(m) {
		return strconv.Itoa(len(m.Body)) + " bytes of " + orUnknown(m.ContentType), nil
	}
	if !ValidJSON(m.Body) {
		return "", fmt.Errorf("body declared or shaped as JSON is not valid JSON (%d bytes)", len(m.Body))
	}
	// One allocation, the summary's own (strconv.Itoa of a size over 99 would be another).
	var buf [48]byte
	summary := append(append(append(buf[:0], "JSON "...), jsonKind(m.Body)...), ", "...)
	summary = append(strconv.AppendInt(summary, int64(len(m.Body)), 10), " bytes"...)
	return string(summary), nil
}

// ValidJSON reports whether data is exactly one JSON value, with optional whitespace around it:
// json.Valid's answer, several times faster. Business functions may use it too.
func ValidJSON(data []byte) bool { return codec.ValidJSON(data) }

func looksJSON(m Message) bool {
	if m.ContentType == "application/json" || strings.HasSuffix(m.ContentType, "+json") {
		return true
	}
	if m.ContentType != "" {
		return false
	}
	trimmed := bytes.TrimSpace(m.Body)
	return len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[')
}

func jsonKind(body []byte) string {
	switch bytes.TrimSpace(body)[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	default:
		return "value"
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown content type"
	}
	return s
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }
