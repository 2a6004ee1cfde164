// Package handler turns the batches that Lambda's Amazon MQ event source mapping delivers into
// typed messages, hands each to one business function, and logs what happened to each.
//
// It is the code to copy and extend: replace Process (the business function) and keep the
// rest. The contract it implements:
//
//   - The mapping delivers at least once, in batches, and has no partial-batch response: a
//     failed invocation returns the whole batch to the queue, where the quorum queue counts a
//     delivery against every message in it. So the handler fails a batch only when trying
//     again can help.
//   - A message that fails for good — its data cannot be decoded, the business function
//     returned an error, or panicked — is dead-lettered alone (Options.DeadLetters), with the
//     error, its body and its properties, and the batch goes on. If storing a dead letter
//     fails, the batch fails: nothing is lost.
//   - A message whose business function returned Retry(err) returns the batch, to come again,
//     until its last allowed delivery (Options.DeliveryLimit), when it is dead-lettered too.
//   - Business functions must be idempotent: a returned batch brings back the messages it had
//     already processed, flagged redelivered. Every log line carries the message id (or a hash
//     of the body when the publisher set none) so duplicates can be traced.
package handler

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Message is one RabbitMQ message of a batch, decoded.
type Message struct {
	// Queue and VHost the message was consumed from.
	Queue, VHost string
	// Index is the message's position within its queue's part of the batch.
	Index int
	// Body is the decoded payload. The bodies and strings of a batch share one buffer, the
	// size of the event (one allocation instead of one per value): a message kept after its
	// batch keeps that buffer alive, so keep copies (bytes.Clone) of what you store.
	Body []byte
	// ContentType and ContentEncoding as the publisher set them (may be empty).
	ContentType, ContentEncoding string
	// Headers are the AMQP headers: Headers.Get("tenant"), or Headers.Map() for all of them.
	Headers Headers
	// MessageID and CorrelationID as the publisher set them (may be empty).
	MessageID, CorrelationID string
	// ID identifies the message in logs: MessageID, or "sha256:<hex>" of the body when the
	// publisher set none, so that a redelivered duplicate can be traced either way.
	ID string
	// Redelivered is true when the broker delivered the message before (for example in a
	// batch that failed): the business function may already have seen it.
	Redelivered bool
	// Timestamp is the publisher's timestamp; zero when absent or unparseable.
	Timestamp time.Time
	// DeliveryMode is 2 for persistent, 1 for transient messages, 0 when unset.
	DeliveryMode uint8
	// Priority, Type, AppID and ReplyTo as the publisher set them (zero or empty when unset);
	// a dead letter keeps them.
	Priority             uint8
	Type, AppID, ReplyTo string
	// Attempt is this delivery's number, 1 for the first: from the quorum queue's count of
	// earlier returns (x-delivery-count, x-acquired-count from RabbitMQ 4.3), or 1 for a
	// message not redelivered. 0 when not known (redelivered, without a count).
	Attempt int

	// problem is why the message could not be decoded; such a message is dead-lettered
	// without reaching the business function.
	problem error
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
