package rmqevent

import (
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Documented is the example event of AWS's "Using Lambda with Amazon MQ" page.
//
//go:embed testdata/documented-event.json
var Documented []byte

// EveryHeaderType is an event whose one message has a header of each type AWS renders,
// byte arrays nested in tables and arrays among them.
const EveryHeaderType = `{"eventSource":"aws:rmq","rmqMessagesByQueue":{"h::/":[{"basicProperties":{"headers":{
	"string":"text","int":-7,"float":1.5,"bool":true,"null":null,
	"bytes":{"bytes":[104,105]},"signedBytes":{"bytes":[-1,-128,127]},
	"table":{"inner":{"bytes":[65]},"n":2},"array":[1,"two",{"bytes":[66]},[true]],
	"notBytes":{"bytes":[1],"other":2}
}},"data":"e30="}]}}`

// MessageOf is a message whose data is body, in base64.
func MessageOf(body string, props events.RabbitMQBasicProperties) events.RabbitMQMessage {
	return events.RabbitMQMessage{BasicProperties: props, Data: base64.StdEncoding.EncodeToString([]byte(body))}
}

// EventOf is an event of Amazon MQ for RabbitMQ with these messages.
func EventOf(byQueue map[string][]events.RabbitMQMessage) events.RabbitMQEvent {
	return events.RabbitMQEvent{EventSource: "aws:rmq", EventSourceARN: "arn:aws:mq:us-east-1:111122223333:broker:b:b-1", MessagesByQueue: byQueue}
}

// Ptr is a pointer to s, for the properties' optional strings.
func Ptr(s string) *string { return &s }

// PoisonBatch holds one message of each permanent failure among good ones (message ids g0, g2,
// g7): data that is not base64 (bad-base64), no data (no-data), a JSON body that is not JSON
// (bad-json), and two a test's business function is to fail: panics and refused.
func PoisonBatch() events.RabbitMQEvent {
	good := func(id string) events.RabbitMQMessage {
		return MessageOf(`{"ok":true}`, events.RabbitMQBasicProperties{ContentType: "application/json", MessageID: Ptr(id)})
	}
	return EventOf(map[string][]events.RabbitMQMessage{
		"q::/": {
			good("g0"),
			{Data: "not base64!", BasicProperties: events.RabbitMQBasicProperties{MessageID: Ptr("bad-base64"), AppID: Ptr("billing")}},
			good("g2"),
			{BasicProperties: events.RabbitMQBasicProperties{MessageID: Ptr("no-data"), BodySize: 12}},
			MessageOf(`{"a":`, events.RabbitMQBasicProperties{ContentType: "application/json", MessageID: Ptr("bad-json"),
				Headers: map[string]any{"tenant": map[string]any{"bytes": []any{float64('t'), float64('1')}}}}),
			MessageOf(`{"boom":1}`, events.RabbitMQBasicProperties{MessageID: Ptr("panics"), Priority: 3, Type: Ptr("order")}),
			MessageOf(`{"refuse":1}`, events.RabbitMQBasicProperties{MessageID: Ptr("refused"), CorrelationID: Ptr("c-9")}),
			good("g7"),
		},
	})
}

// Corpus is the listener's payloads for tests that hold two decoders to each other: the
// events above, and variants at every edge where encoding/json's answer is not the obvious one
// (repeated and case-folded keys, nulls, escapes, odd numbers and byte arrays, timestamps).
func Corpus() [][]byte {
	corpus := [][]byte{Documented, Generate(3, Options{}).Payload, []byte(EveryHeaderType)}
	for _, ev := range []events.RabbitMQEvent{
		PoisonBatch(),
		EventOf(map[string][]events.RabbitMQMessage{
			"orders::shop":    {MessageOf(`{"n":1}`, events.RabbitMQBasicProperties{MessageID: Ptr("o1")}), MessageOf(`{"n":2}`, events.RabbitMQBasicProperties{MessageID: Ptr("o2")})},
			"orders::/":       {MessageOf(`{"n":3}`, events.RabbitMQBasicProperties{MessageID: Ptr("o3")})},
			"a::b::c::vhost2": {MessageOf(`[1,2]`, events.RabbitMQBasicProperties{MessageID: Ptr("x1")})},
			"q":               {},
		}),
		{},
		{EventSource: "aws:sqs"},
	} {
		b, err := json.Marshal(ev)
		if err != nil {
			panic(err)
		}
		corpus = append(corpus, b)
	}
	for _, s := range []string{
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"orders::/":[{"data":"e30="},{"data":"%%%"}]}}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[null,{"data":null,"basicProperties":null},{"basicProperties":{"bodySize":12}}]}}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[{"data":"e3\/0=","basicProperties":{"messageId":"\u00e9","timestamp":"Nov 24, 2026, 1:05:09\u202fPM"}}]}}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[{"data":"e30\n=","basicProperties":{"timestamp":"2026-11-24T13:05:09Z"}}]}}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[{"data":"e30=","basicProperties":{"timestamp":"Nov 24, 2026, 1:05:09` + "\u202f" + `PM"}}]}}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"b::/":[],"a::/":null,"c::/":[{"data":""}]}}`,
		`{"EventSource":"aws:rmq","rmqMessagesByQueue":{}}`,
		`{"eventSource":"aws:rmq","eventSource":"aws:rmq"}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[],"q::/":[]}}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[{"data":"e30=","redelivered":1}]}}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[{"basicProperties":{"deliveryMode":256}}]}}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[{"basicProperties":{"deliveryMode":2.0}}]}}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[{"basicProperties":{"headers":{"n":1e400}}}]}}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[{"basicProperties":{"headers":{"a":-0,"b":-0.0,"c":1e2,"d":{"bytes":[1.0,-0,1e2]},"e":{"bytes":[]},"f":{},"g":[],"h":{"bytes":[256]},"i":{"bytes":[1],"bytes":[2]}}}}]}}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[{"basicProperties":{"headers":{"bytes":[1,2]}}}]}}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[{"basicProperties":{"headers":{"a":{"bytes":[0,00]},"b":{"bytes":[1000]},"c":{"bytes":[01]},"d":{"bytes":[ 1 , 2 ]},"e":{"bytes":[-0,-9,99,255,-128]},"f":{"bytes":[-]},"g":{"bytes":[9` + "\t" + `]},"h":{"bytes":[7]}}}}]}}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[{"basicProperties":{"headers":{"\u00e9":1,"é":{"bytes":[1]},"` + "\xff" + `":2}}}]}}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[{"basicProperties":{"headers":{"x-delivery-count":3}}}]}}`,
		`{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[{"redelivered":true,"basicProperties":{"headers":{"x-acquired-count":4,"x-delivery-count":1}}}]}}`,
		` {"eventSource":"aws:rmq","rmqMessagesByQueue":{}} trailing`,
		`null`, `[]`, `{}`, `{"eventSource":"aws:rmq"`, `{"eventSource":"aws:rmq","other":{"deep":[1,2,{"x":null}]}}`,
	} {
		corpus = append(corpus, []byte(s))
	}
	for _, ts := range []string{"Feb 29, 2024, 12:00:00 AM", "Feb 29, 2023, 12:00:00 AM", "Jan 1, 1970, 12:33:41 AM", "Dec 31, 9999, 11:59:59 PM",
		"Jan 02, 2026, 03:04:05 PM", "Jan 2, 2026, 13:04:05 PM", "Jan 2, 2026, 0:04:05 AM", "jan 2, 2026, 1:04:05 PM", "Jan 2, 2026, 1:04:05.5 PM",
		"Jan 2, 2026, 1:04:60 PM", " Jan 2, 2026, 1:04:05 PM", "Jan 2, 2026, 1:04:05 pm", "Jan 32, 2026, 1:04:05 PM", "Jan 2, 2026, 1:4:05 PM"} {
		corpus = append(corpus, fmt.Appendf(nil, `{"eventSource":"aws:rmq","rmqMessagesByQueue":{"q::/":[{"basicProperties":{"timestamp":%q}}]}}`, ts))
	}
	return corpus
}

// PerMessage reports ns, CPU ns (the process's, garbage collection included: steadier than wall
// time on a busy machine) and allocations per message of a benchmark whose every op handles n
// messages.
func PerMessage(b *testing.B, n int, op func()) {
	b.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu := processCPU()
	for b.Loop() {
		op()
	}
	cpu = processCPU() - cpu
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/msg")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*n), "cpu-ns/msg")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N*n), "allocs/msg")
}

// processCPU is the user and system CPU time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
