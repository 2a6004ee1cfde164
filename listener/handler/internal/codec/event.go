// Package codec is the listener's JSON, read and written in one pass each: the Runtime API's
// payload decoded into a batch's messages (Payload, or FromEvent from an events.RabbitMQEvent),
// bodies validated (ValidJSON), and the log lines written (LineWriter). It is the hot path
// behind listener/handler, kept apart so that what a user copies stays small; each fast path
// is held by a fuzz test to the standard library's answer.
package codec

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// EventSourceRabbitMQ is the eventSource of every event Amazon MQ for RabbitMQ mappings send.
const EventSourceRabbitMQ = "aws:rmq"

// ErrNotRabbitMQ is returned for an event that did not come from an Amazon MQ for RabbitMQ
// mapping.
var ErrNotRabbitMQ = errors.New("not a RabbitMQ event")

// Message is one decoded message: handler.Message's fields (documented there), and Problem.
type Message struct {
	Queue, VHost                 string
	Index                        int
	Body                         []byte
	ContentType, ContentEncoding string
	Headers                      Headers
	MessageID, CorrelationID, ID string
	Redelivered                  bool
	Timestamp                    time.Time
	DeliveryMode                 uint8
	Priority                     uint8
	Type, AppID, ReplyTo         string
	Attempt                      int
	// Problem is why the message could not be decoded (its body is then the raw data, or
	// none); such a message is dead-lettered without reaching the business function.
	Problem error
}

// FromEvent decodes every message, queues in a stable order. Only an event that is not
// RabbitMQ's or a queue key that names no queue fails the batch; a message that cannot be
// decoded keeps its raw data as its body and carries the problem, to be dead-lettered alone.
func FromEvent(ev events.RabbitMQEvent) ([]Message, error) {
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
			m := Message{Queue: queue, VHost: vhost, Index: i, Redelivered: raw.Redelivered}
			decodeProperties(&m, raw.BasicProperties)
			counts := returnCountsOf(m.Headers)
			m.Attempt = counts.attempt(m.Redelivered)
			body, err := base64.StdEncoding.DecodeString(raw.Data)
			switch {
			case err != nil:
				m.Body, m.Problem = []byte(raw.Data), fmt.Errorf("data is not valid base64 (kept as the body): %w", err)
			case raw.Data == "" && raw.BasicProperties.BodySize > 0:
				// bodySize is only roughly the payload's size (AWS's own sample disagrees with
				// its data), but a message with a size and no data at all lost its payload.
				m.Problem = fmt.Errorf("data is missing (bodySize is %d)", raw.BasicProperties.BodySize)
			default:
				m.Body = body
			}
			m.ID = messageID(raw.BasicProperties.MessageID, m.Body)
			messages = append(messages, m)
		}
	}
	return messages, nil
}

// splitQueueKey splits the "<queue>::<vhost>" key the mapping uses for each queue's messages.
// A queue name may itself contain "::", the virtual host follows the last one.
func splitQueueKey(key string) (queue, vhost string, err error) {
	i := strings.LastIndex(key, "::")
	if i < 0 {
		return "", "", fmt.Errorf("queue key %q is not of the form <queue>::<vhost>", key)
	}
	return key[:i], key[i+2:], nil
}

// messageID returns the publisher's message id or a hash of the body.
func messageID(publisherID *string, body []byte) string {
	if publisherID != nil && *publisherID != "" {
		return *publisherID
	}
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// normaliseHeaders turns AWS's {"bytes":[...]} form of byte-array header values into []byte,
// recursively (tables and arrays may nest).
func normaliseHeaders(headers map[string]any) map[string]any {
	if len(headers) == 0 {
		return nil
	}
	out := make(map[string]any, len(headers))
	for k, v := range headers {
		out[k] = normaliseValue(v)
	}
	return out
}

func normaliseValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if b, ok := byteArray(v); ok {
			return b
		}
		return normaliseHeaders(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = normaliseValue(e)
		}
		return out
	default:
		return v
	}
}

func byteArray(m map[string]any) ([]byte, bool) {
	raw, ok := m["bytes"]
	if !ok || len(m) != 1 {
		return nil, false
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, false
	}
	out := make([]byte, len(list))
	for i, e := range list {
		n, ok := e.(float64)
		if !ok || n < -128 || n > 255 || n != float64(int(n)) {
			return nil, false
		}
		out[i] = byte(int(n) & 0xff) // Java sends signed bytes (-128..127)
	}
	return out, true
}

// timestampLayouts are the forms AWS has been seen to render the AMQP timestamp in (Java's
// default date format, which newer JDKs write with a narrow no-break space before AM/PM).
var timestampLayouts = []string{"Jan 2, 2006, 3:04:05 PM", time.RFC3339Nano}

func parseTimestamp(s string) time.Time {
	s = strings.Map(func(r rune) rune {
		if r == '\u202f' || r == '\u00a0' {
			return ' '
		}
		return r
	}, strings.TrimSpace(s))
	for _, layout := range timestampLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func decodeProperties(m *Message, p events.RabbitMQBasicProperties) {
	m.ContentType = p.ContentType
	m.ContentEncoding = deref(p.ContentEncoding)
	m.Headers = Headers{m: normaliseHeaders(p.Headers)}
	m.MessageID = deref(p.MessageID)
	m.CorrelationID = deref(p.CorrelationID)
	m.Timestamp = parseTimestamp(p.Timestamp)
	m.DeliveryMode = p.DeliveryMode
	m.Priority = p.Priority
	m.Type, m.AppID, m.ReplyTo = deref(p.Type), deref(p.AppID), deref(p.ReplyTo)
}
