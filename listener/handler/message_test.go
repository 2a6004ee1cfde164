package handler

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rabbitmq-esm/rabbitmq-esm/listener/handler/internal/codec"
)

// TestMessageHasTheDecodersFields: a field added to one of Message and codec.Message and not
// to the other would be lost between them (messageOf copies them one by one).
func TestMessageHasTheDecodersFields(t *testing.T) {
	fields := func(typ reflect.Type) []string {
		var out []string
		for f := range typ.Fields() {
			name, kind := strings.ToLower(f.Name), f.Type.String()
			if f.Name == "Headers" {
				kind = "headers"
			}
			out = append(out, name+" "+kind)
		}
		return out
	}
	if got, want := fmt.Sprint(fields(reflect.TypeFor[Message]())), fmt.Sprint(fields(reflect.TypeFor[codec.Message]())); got != want {
		t.Errorf("handler.Message has %s,\ncodec.Message has   %s", got, want)
	}
	headers := map[string]any{"h": "1"}
	problem := errors.New("p")
	d := codec.Message{Queue: "q", VHost: "v", Index: 1, Body: []byte("b"), ContentType: "c", ContentEncoding: "e",
		Headers: codec.HeadersOf(headers), MessageID: "m", CorrelationID: "c", ID: "i", Redelivered: true, Timestamp: time.Unix(7, 0),
		DeliveryMode: 2, Priority: 3, Type: "t", AppID: "a", ReplyTo: "r", Attempt: 4, Problem: problem}
	want := Message{Queue: "q", VHost: "v", Index: 1, Body: []byte("b"), ContentType: "c", ContentEncoding: "e",
		Headers: HeadersFrom(headers), MessageID: "m", CorrelationID: "c", ID: "i", Redelivered: true, Timestamp: time.Unix(7, 0),
		DeliveryMode: 2, Priority: 3, Type: "t", AppID: "a", ReplyTo: "r", Attempt: 4, problem: problem}
	if got := messageOf(&d); fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) {
		t.Errorf("messageOf:\n got %#v\nwant %#v", got, want)
	}
}

func TestHeadersFrom(t *testing.T) {
	given := map[string]any{"tenant": []byte("acme")}
	h := HeadersFrom(given)
	given["tenant"] = "changed"
	if v, _ := h.Get("tenant"); fmt.Sprint(v) != "[97 99 109 101]" {
		t.Errorf("HeadersFrom kept the caller's map: tenant = %v", v)
	}
	if got, err := json.Marshal(h); err != nil || string(got) != `{"tenant":"YWNtZQ=="}` {
		t.Errorf("MarshalJSON = %s, %v", got, err)
	}
	if s := (Headers{}).String(); s != "map[]" {
		t.Errorf("no headers print %q", s)
	}
}
