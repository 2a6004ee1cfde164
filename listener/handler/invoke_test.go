package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/rmqevent"
)

// volatile are the parts of a log line that differ between two runs: the time and the duration.
var volatile = regexp.MustCompile(`"time":"[^"]*"|"durationMs":[0-9.e+-]+`)

// viaReflection is what the function did before Invoke: aws-lambda-go decoded the payload by
// reflection and called Handle.
func viaReflection(ctx context.Context, h *Handler, payload []byte) error {
	var ev events.RabbitMQEvent
	if err := json.NewDecoder(bytes.NewReader(payload)).Decode(&ev); err != nil {
		return err
	}
	return h.Handle(ctx, ev)
}

// sameInvocation fails t unless Invoke logs, returns and dead-letters exactly what the
// reflection path does for payload.
func sameInvocation(t *testing.T, payload []byte, opts Options) {
	t.Helper()
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-7"})
	run := func(invoke bool) (string, string, string) {
		var out bytes.Buffer
		store := &recordingStore{}
		o := opts
		o.Output = &out
		if o.DeadLetters != nil {
			o.DeadLetters = store
		}
		h := New(o)
		var err error
		if invoke {
			var res []byte
			res, err = h.Invoke(ctx, payload)
			if err == nil && string(res) != "null" {
				t.Fatalf("response %q", res)
			}
		} else {
			err = viaReflection(ctx, h, payload)
		}
		var letters []string
		for _, l := range store.letters {
			letters = append(letters, fmt.Sprintf("%s|%d|%s|%v", l.Message.ID, l.Message.Index, l.Message.Body, l.Err))
		}
		return volatile.ReplaceAllString(out.String(), ""), fmt.Sprintf("%T %v", err, err), volatile.ReplaceAllString(fmt.Sprint(letters), "")
	}
	gotLog, gotErr, gotLetters := run(true)
	wantLog, wantErr, wantLetters := run(false)
	if gotLog != wantLog || gotErr != wantErr || gotLetters != wantLetters {
		t.Fatalf("%.200q:\nInvoke:     %s\n%s\n%s\nreflection: %s\n%s\n%s", payload, gotErr, gotLetters, gotLog, wantErr, wantLetters, wantLog)
	}
}

func TestInvokeIsTheReflectionPath(t *testing.T) {
	refuse := func(ctx context.Context, m Message) (string, error) {
		switch m.MessageID {
		case "refused", "panics": // a panic's stack differs between the two paths: not compared

			return "", errors.New("order 9 does not exist")
		case "o2":
			return "", Retry(errors.New("database down"))
		}
		return Summarise(ctx, m)
	}
	for _, payload := range rmqevent.Corpus() {
		for _, opts := range []Options{{}, {LogBodies: true}, {Process: refuse, DeadLetters: &recordingStore{}, DeliveryLimit: 3}} {
			sameInvocation(t, payload, opts)
		}
	}
	sameInvocation(t, rmqevent.Generate(500, rmqevent.Options{Seed: 5}).Payload, Options{})
}

func FuzzInvoke(f *testing.F) {
	for _, payload := range rmqevent.Corpus() {
		f.Add(payload)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		sameInvocation(t, payload, Options{DeadLetters: &recordingStore{}})
	})
}
