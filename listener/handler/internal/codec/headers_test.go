package codec

import (
	"fmt"
	"testing"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/rmqevent"
)

// TestHeadersDecodedWhenAskedAreTheBatchsHeaders: headers checked with the batch and decoded
// when asked for (Get, Map) are the headers encoding/json's decoding gives, value for value,
// whichever way they are asked for; and Map's map is the caller's own.
func TestHeadersDecodedWhenAskedAreTheBatchsHeaders(t *testing.T) {
	for _, payload := range [][]byte{[]byte(rmqevent.EveryHeaderType), rmqevent.Generate(20, rmqevent.Options{Seed: 5}).Payload} {
		lazy, handled, err := Payload(payload)
		if !handled || err != nil {
			t.Fatalf("handled %v, err %v", handled, err)
		}
		eager, _, err := reference(payload)
		if err != nil || len(eager) != len(lazy) {
			t.Fatalf("reference: %d messages, err %v", len(eager), err)
		}
		for i, m := range lazy {
			if m.Headers.raw == nil {
				t.Fatalf("message %d: headers decoded with the batch, want them decoded when asked for", i)
			}
			all, want := m.Headers.Map(), eager[i].Headers.Map()
			if len(all) == 0 || fmt.Sprintf("%#v", all) != fmt.Sprintf("%#v", want) {
				t.Fatalf("message %d: Map() = %#v, want %#v", i, all, want)
			}
			for key, v := range want {
				if got, ok := m.Headers.Get(key); !ok || fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", v) {
					t.Errorf("message %d: Get(%q) = %#v, %v; want %#v", i, key, got, ok, v)
				}
			}
			if v, ok := m.Headers.Get("absent"); ok || v != nil {
				t.Errorf("message %d: Get(absent) = %#v, %v", i, v, ok)
			}
			for key := range all {
				all[key] = "changed"
			}
			if fmt.Sprintf("%#v", m.Headers.Map()) != fmt.Sprintf("%#v", want) {
				t.Errorf("message %d: changing Map()'s map changed the message's headers", i)
			}
		}
	}
}

func TestHeadersWithoutAny(t *testing.T) {
	for _, h := range []Headers{{}, HeadersOf(nil), {raw: []byte(`{}`)}} {
		if v, ok := h.Get("x"); ok || v != nil || h.Map() != nil {
			t.Errorf("%#v: Get = %v, %v; Map = %#v", h, v, ok, h.Map())
		}
	}
}
