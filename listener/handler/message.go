// Package handler is the listener's code to copy and extend: replace Process, the business
// function, and keep the rest. It fails a batch only when trying again can help, because the
// mapping has no partial-batch response and a returned batch costs every message in it a
// delivery (docs/datapath.md, "One poison message dead-letters only itself"); business functions must be
// idempotent, because delivery is at least once.
package handler

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/rabbitmq-esm/rabbitmq-esm/listener/handler/internal/codec"
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

// messageOf is a decoded message as the business function sees it. TestMessageHasTheDecodersFields
// keeps the two types' fields in step.
func messageOf(d *codec.Message) Message {
	return Message{Queue: d.Queue, VHost: d.VHost, Index: d.Index, Body: d.Body, ContentType: d.ContentType,
		ContentEncoding: d.ContentEncoding, Headers: Headers{d.Headers}, MessageID: d.MessageID, CorrelationID: d.CorrelationID,
		ID: d.ID, Redelivered: d.Redelivered, Timestamp: d.Timestamp, DeliveryMode: d.DeliveryMode, Priority: d.Priority,
		Type: d.Type, AppID: d.AppID, ReplyTo: d.ReplyTo, Attempt: d.Attempt, problem: d.Problem}
}

// Headers are a message's AMQP headers: Get one, or Map all of them. Values are as JSON gives
// them, except byte arrays, which AWS sends as {"bytes":[...]} and which are []byte here:
// strings, float64 numbers, bools, nil, map[string]any tables and []any arrays. They are
// decoded only when asked for (most business functions read none), so keep what Get returns
// rather than asking again in a loop. The zero value has no headers.
type Headers struct{ h codec.Headers }

// HeadersFrom are the headers m, in the form Headers gives them: for a Message built by hand
// (a test of a business function, a dead letter read back).
func HeadersFrom(m map[string]any) Headers { return Headers{codec.HeadersOf(m)} }

// Get is the value of header key, and whether the message has it.
func (h Headers) Get(key string) (any, bool) { return h.h.Get(key) }

// Map is every header, in a map of its own (nil when there are none): changing it changes
// nothing in the message.
func (h Headers) Map() map[string]any { return h.h.Map() }

// String prints the headers as their map prints.
func (h Headers) String() string { return fmt.Sprint(h.Map()) }

// GoString prints the headers as their map does with %#v.
func (h Headers) GoString() string { return fmt.Sprintf("handler.HeadersFrom(%#v)", h.Map()) }

// MarshalJSON writes the headers as their map: byte arrays in base64, as encoding/json writes
// a []byte.
func (h Headers) MarshalJSON() ([]byte, error) { return json.Marshal(h.Map()) }
