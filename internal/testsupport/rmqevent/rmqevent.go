// Package rmqevent generates realistic Amazon MQ for RabbitMQ events, byte for byte as the
// event source mapping sends them to a function, for the listener's tests and benchmarks.
//
// Each message carries a JSON body of exactly BodySize bytes (an order document with nested
// objects, arrays, numbers and a little non-ASCII text) and the headers a publisher typically
// sets, in AWS's rendering: AMQP long strings as {"bytes":[...]} arrays, numbers, booleans,
// nested tables and arrays, and the timestamp in Java's default format
// ("Jan 2, 2006, 3:04:05 PM").
package rmqevent

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// BodySize is the size of every generated message body.
const BodySize = 1024

// Event is one generated event.
type Event struct {
	// Payload is the event's JSON, as the Runtime API hands it to the function.
	Payload []byte
	// Data is each message's base64 data, in order.
	Data []string
	// Bodies is each message's decoded body, in order.
	Bodies [][]byte
}

// Options shape a generated event.
type Options struct {
	// Queue is the queue's name; default "orders".
	Queue string
	// VHost is the virtual host; default "/".
	VHost string
	// Seed varies the messages' contents.
	Seed int
}

// Generate returns an event of n messages of one queue.
func Generate(n int, opts Options) Event {
	if opts.Queue == "" {
		opts.Queue = "orders"
	}
	if opts.VHost == "" {
		opts.VHost = "/"
	}
	ev := Event{Data: make([]string, n), Bodies: make([][]byte, n)}
	var b strings.Builder
	b.Grow(n * 2200)
	b.WriteString(`{"eventSource":"aws:rmq","eventSourceArn":"arn:aws:mq:us-east-1:111122223333:broker:orders-broker:b-9bcfa592-423a-4942-879d-eb284b418fc8","rmqMessagesByQueue":{`)
	b.WriteString(strconv.Quote(opts.Queue + "::" + opts.VHost))
	b.WriteString(":[")
	base := time.Date(2026, 11, 24, 13, 5, 9, 0, time.UTC)
	for i := range n {
		seq := opts.Seed*1_000_000 + i
		body := Body(seq)
		data := base64.StdEncoding.EncodeToString(body)
		ev.Data[i], ev.Bodies[i] = data, body
		if i > 0 {
			b.WriteByte(',')
		}
		ts := base.Add(time.Duration(seq) * 1370 * time.Millisecond).Format("Jan 2, 2006, 3:04:05 PM")
		corr := "null"
		if seq%3 == 0 {
			corr = strconv.Quote(fmt.Sprintf("saga-%d", seq/3))
		}
		fmt.Fprintf(&b, `{"basicProperties":{"contentType":"application/json","contentEncoding":null,"headers":{`+
			`"x-trace":%s,"x-tenant":%s,"x-attempt":%d,"x-score":%s,`+
			`"x-routing":{"region":%s,"shard":%d},"x-tags":[%s,%s],"x-replay":%t},`+
			`"deliveryMode":2,"priority":null,"correlationId":%s,"replyTo":null,"expiration":null,`+
			`"messageId":"%s","timestamp":"%s","type":null,"userId":"orders-svc","appId":null,"clusterId":null,"bodySize":%d},`+
			`"redelivered":%t,"data":"%s"}`,
			byteArray(fmt.Sprintf("%016x", uint64(seq)*0x9e3779b97f4a7c15)), //nolint:gosec // G115: seq is never negative
			byteArray([]string{"acme", "globex", "initech", "umbrella"}[seq%4]),
			seq%3, strconv.FormatFloat(float64(seq%100)/8, 'g', -1, 64),
			byteArray([]string{"eu-west-1", "us-east-1", "ap-south-1"}[seq%3]), seq%16,
			byteArray("priority"), byteArray("gift"), seq%10 == 0,
			corr, fmt.Sprintf("ord-%08d-%04x", seq, seq*7919%65536), ts, len(body), seq%50 == 0, data)
	}
	b.WriteString("]}}")
	ev.Payload = []byte(b.String())
	return ev
}

func byteArray(s string) string {
	var b strings.Builder
	b.WriteString(`{"bytes":[`)
	for i := range len(s) {
		if i > 0 {
			b.WriteByte(',')
		}
		v := int(s[i])
		if v > 127 {
			v -= 256 // Java's signed bytes
		}
		b.WriteString(strconv.Itoa(v))
	}
	b.WriteString("]}")
	return b.String()
}

// Body returns a JSON order document of exactly BodySize bytes.
func Body(seq int) []byte {
	names := []string{"Zoë Brontë", "Łukasz Nowak", "Ana \"Nina\" Souza", "Kenji Sato"}
	var b strings.Builder
	fmt.Fprintf(&b, `{"orderId":"ord-%08d","createdAt":"2026-11-24T13:05:%02d.%03dZ","customer":{"id":%d,"name":%s,"email":"customer%d@example.com","vip":%t},"items":[`,
		seq, seq%60, seq%1000, 100000+seq%9973, strconv.Quote(names[seq%4]), seq%9973, seq%7 == 0)
	for j := range 4 {
		if j > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"sku":"SKU-%05d","qty":%d,"unitPrice":%d.%02d,"tags":["tag-%d","tag-%d"]}`, (seq*31+j)%100000, 1+(seq+j)%5, 5+(seq*7+j)%95, (seq+j*13)%100, j, seq%9)
	}
	fmt.Fprintf(&b, `],"total":%d.%02d,"currency":"EUR","shipping":{"method":"express","address":{"street":"%d Rue de la Paix","city":"Paris","zip":"750%02d","country":"FR"}},"notes":"`,
		100+seq%900, seq%100, 1+seq%120, seq%20)
	const fill = "Leave at the door, ring twice. "
	for b.Len() < BodySize-2 {
		b.WriteByte(fill[b.Len()%len(fill)])
	}
	b.WriteString(`"}`)
	out := []byte(b.String())
	if len(out) != BodySize {
		panic(fmt.Sprintf("rmqevent: body of %d bytes", len(out)))
	}
	return out
}
