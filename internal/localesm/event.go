// Package localesm is a local stand-in for Lambda's Amazon MQ event source mapping: it
// consumes a RabbitMQ queue, builds events exactly in AWS's shape, in batches that honour a
// batch size, a batching window and the 6 MB payload limit, invokes a handler, and acks the
// batch on success or returns it to the queue on error — so a listener can run against a real
// broker on a laptop, and the data path can be tested end to end.
package localesm

import (
	"encoding/base64"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
	amqp "github.com/rabbitmq/amqp091-go"
)

// TimestampLayout is how AWS renders the AMQP timestamp in events (Java's default format).
const TimestampLayout = "Jan 2, 2006, 3:04:05 PM"

// QueueKey is the key AWS uses for a queue's messages: "<queue>::<vhost>".
func QueueKey(queue, vhost string) string { return queue + "::" + vhost }

// Message converts a delivery the way the mapping does.
func Message(d *amqp.Delivery) events.RabbitMQMessage {
	p := events.RabbitMQBasicProperties{
		ContentType:     d.ContentType,
		ContentEncoding: optional(d.ContentEncoding),
		Headers:         headers(d.Headers),
		DeliveryMode:    d.DeliveryMode,
		Priority:        d.Priority,
		CorrelationID:   optional(d.CorrelationId),
		ReplyTo:         optional(d.ReplyTo),
		Expiration:      d.Expiration,
		MessageID:       optional(d.MessageId),
		Type:            optional(d.Type),
		UserID:          d.UserId,
		AppID:           optional(d.AppId),
		BodySize:        uint64(len(d.Body)),
	}
	if !d.Timestamp.IsZero() {
		p.Timestamp = d.Timestamp.UTC().Format(TimestampLayout)
	}
	return events.RabbitMQMessage{BasicProperties: p, Data: base64.StdEncoding.EncodeToString(d.Body), Redelivered: d.Redelivered}
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// headers renders an AMQP table as AWS does: long strings and byte arrays as
// {"bytes":[...]} of signed bytes (the Java client's LongString), tables and arrays nested,
// numbers and booleans as they are.
func headers(t amqp.Table) map[string]any {
	if len(t) == 0 {
		return nil
	}
	out := make(map[string]any, len(t))
	for k, v := range t {
		out[k] = headerValue(v)
	}
	return out
}

func headerValue(v any) any {
	switch v := v.(type) {
	case string:
		return byteArray([]byte(v))
	case []byte:
		return byteArray(v)
	case amqp.Table:
		return headers(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = headerValue(e)
		}
		return out
	case time.Time:
		return v.UTC().Format(TimestampLayout)
	case amqp.Decimal:
		return fmt.Sprintf("%dE-%d", v.Value, v.Scale)
	default:
		return v
	}
}

func byteArray(b []byte) map[string]any {
	signed := make([]int, len(b))
	for i, c := range b {
		// Java's bytes are signed: 0x80..0xff are -128..-1.
		signed[i] = int(c)
		if signed[i] > 127 {
			signed[i] -= 256
		}
	}
	return map[string]any{"bytes": signed}
}
