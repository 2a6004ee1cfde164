package handler

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// EventSourceRabbitMQ is the eventSource of every event Amazon MQ for RabbitMQ mappings send.
const EventSourceRabbitMQ = "aws:rmq"

// Process is the business function: it handles one message and returns a short summary for
// the log, or an error, which fails the batch (it comes back, and after the queue's delivery
// limit goes to the dead-letter queue). It may be called again with the same message.
type Process func(ctx context.Context, m Message) (summary string, err error)

// Options configure a Handler.
type Options struct {
	// Process is the business function. Default: Summarise.
	Process Process
	// LogBodies adds each message's body to its log line. Default false: bodies may hold
	// personal data. Env LISTENER_LOG_BODIES.
	LogBodies bool
	// Output receives the JSON log lines. Default: stdout, which Lambda ships to CloudWatch.
	Output io.Writer
}

// EnvLogBodies turns body logging on ("true"); the Pulumi program sets it from logMessageBodies.
const EnvLogBodies = "LISTENER_LOG_BODIES"

// OptionsFromEnv reads the options from the function's environment. A value it cannot parse
// is an error naming the variable: the function must fail at start, not guess.
func OptionsFromEnv() (Options, error) {
	opts := Options{}
	if raw, set := os.LookupEnv(EnvLogBodies); set && raw != "" {
		v, err := strconv.ParseBool(raw)
		if err != nil {
			return Options{}, fmt.Errorf("%s=%q: must be true or false", EnvLogBodies, raw)
		}
		opts.LogBodies = v
	}
	return opts, nil
}

// Handler handles RabbitMQ batches.
type Handler struct {
	process   Process
	logBodies bool
	output    io.Writer
}

// New returns a Handler with opts' defaults filled in.
func New(opts Options) *Handler {
	h := &Handler{process: opts.Process, logBodies: opts.LogBodies, output: opts.Output}
	if h.process == nil {
		h.process = Summarise
	}
	if h.output == nil {
		h.output = os.Stdout
	}
	return h
}

// Handle processes one batch. It first decodes every message, so a malformed message fails the
// batch before the business function sees any of it, then processes the messages in order and
// stops at the first failure: the whole batch is redelivered anyway.
func (h *Handler) Handle(ctx context.Context, ev events.RabbitMQEvent) error {
	start := time.Now()
	// The batch's lines are written at once at the end: one write instead of one per message.
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		logger = logger.With("requestId", lc.AwsRequestID)
	}
	defer func() { _, _ = h.output.Write(buf.Bytes()) }()

	messages, err := decodeBatch(ev)
	if err != nil {
		logger.Error("batch", "outcome", "rejected", "error", err.Error(), "durationMs", msSince(start))
		return err
	}

	processed := 0
	for i := range messages {
		m := &messages[i]
		summary, err := h.safeProcess(ctx, *m)
		attrs := []slog.Attr{
			slog.String("queue", m.Queue), slog.String("vhost", m.VHost), slog.Int("index", m.Index),
			slog.String("id", m.ID), slog.String("messageId", m.MessageID), slog.String("correlationId", m.CorrelationID),
			slog.Bool("redelivered", m.Redelivered), slog.Int("bodyBytes", len(m.Body)),
		}
		if h.logBodies {
			attrs = append(attrs, slog.String("body", string(m.Body)))
		}
		if err != nil {
			err = fmt.Errorf("queue %s (vhost %s), message %d (%s): %w", m.Queue, m.VHost, m.Index, m.ID, err)
			logger.LogAttrs(ctx, slog.LevelError, "message", append(attrs, slog.String("outcome", "failed"), slog.String("error", err.Error()))...)
			logger.Error("batch", "outcome", "failed", "messages", len(messages), "processed", processed,
				"notAttempted", len(messages)-processed-1, "durationMs", msSince(start))
			return err
		}
		processed++
		logger.LogAttrs(ctx, slog.LevelInfo, "message", append(attrs, slog.String("outcome", "processed"), slog.String("summary", summary))...)
	}
	logger.Info("batch", "outcome", "processed", "messages", len(messages), "processed", processed, "durationMs", msSince(start))
	return nil
}

// safeProcess turns a panic of the business function into an error, so one bad message fails
// its batch (and is dead-lettered in time) instead of crashing the runtime.
func (h *Handler) safeProcess(ctx context.Context, m Message) (summary string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("business function panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return h.process(ctx, m)
}

// ErrNotRabbitMQ is returned for an event that did not come from an Amazon MQ for RabbitMQ
// mapping (a misconfigured trigger, or a test event of another shape).
var ErrNotRabbitMQ = errors.New("not a RabbitMQ event")

// decodeBatch validates and decodes every message, queues in a stable order.
func decodeBatch(ev events.RabbitMQEvent) ([]Message, error) {
	if ev.EventSource != EventSourceRabbitMQ {
		return nil, fmt.Errorf("%w: eventSource is %q, want %q", ErrNotRabbitMQ, ev.EventSource, EventSourceRabbitMQ)
	}
	keys := make([]string, 0, len(ev.MessagesByQueue))
	total := 0
	for k, list := range ev.MessagesByQueue {
		keys = append(keys, k)
		total += len(list)
	}
	sort.Strings(keys)
	messages := make([]Message, 0, total)
	for _, key := range keys {
		queue, vhost, err := splitQueueKey(key)
		if err != nil {
			return nil, err
		}
		list := ev.MessagesByQueue[key]
		for i := range list {
			raw := &list[i]
			body, err := base64.StdEncoding.DecodeString(raw.Data)
			if err != nil {
				return nil, fmt.Errorf("queue %s (vhost %s), message %d: data is not valid base64: %w", queue, vhost, i, err)
			}
			// bodySize is only roughly the payload's size (AWS's own sample disagrees with its
			// data), but a message with a size and no data at all lost its payload.
			if raw.Data == "" && raw.BasicProperties.BodySize > 0 {
				return nil, fmt.Errorf("queue %s (vhost %s), message %d: data is missing (bodySize is %d)",
					queue, vhost, i, raw.BasicProperties.BodySize)
			}
			m := Message{Queue: queue, VHost: vhost, Index: i, Body: body, Redelivered: raw.Redelivered}
			decodeProperties(&m, raw.BasicProperties)
			m.ID = messageID(raw.BasicProperties.MessageID, body)
			messages = append(messages, m)
		}
	}
	return messages, nil
}

// Summarise is the default business function: it checks that a JSON body is valid JSON and
// names its kind; other bodies are reported by size. Replace it with your own.
func Summarise(_ context.Context, m Message) (string, error) {
	if !looksJSON(m) {
		return fmt.Sprintf("%d bytes of %s", len(m.Body), orUnknown(m.ContentType)), nil
	}
	if !json.Valid(m.Body) {
		return "", fmt.Errorf("body declared or shaped as JSON is not valid JSON (%d bytes)", len(m.Body))
	}
	return fmt.Sprintf("JSON %s, %d bytes", jsonKind(m.Body), len(m.Body)), nil
}

func looksJSON(m Message) bool {
	if m.ContentType == "application/json" || bytes.HasSuffix([]byte(m.ContentType), []byte("+json")) {
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
