package codec

import (
	"fmt"
	"maps"
)

// Headers are a message's AMQP headers, checked with the batch and decoded only when asked
// for: most business functions read none, and building every message's table was a third of
// the listener's work per message. handler.Headers is their public face.
type Headers struct {
	// raw is the headers' JSON object, as the event holds it; or nil, and then m holds them
	// (headers that came already decoded: FromEvent, HeadersOf).
	raw []byte
	m   map[string]any
}

// HeadersOf are the headers m (a copy of it).
func HeadersOf(m map[string]any) Headers { return Headers{m: maps.Clone(m)} }

// Get is the value of header key, and whether the message has it, decoded now.
func (h Headers) Get(key string) (any, bool) {
	if h.raw == nil {
		v, ok := h.m[key]
		return v, ok
	}
	var value any
	var found bool
	p := decoder{d: h.raw, arena: make([]byte, 0, len(h.raw))}
	p.headerTable(func(k []byte) bool { return string(k) == key }, func(_ []byte, v any) { value, found = v, true })
	return value, found
}

// Map is every header, in a map of its own (nil when there are none).
func (h Headers) Map() map[string]any {
	if h.raw == nil {
		return maps.Clone(h.m)
	}
	p := decoder{d: h.raw, arena: make([]byte, 0, len(h.raw))}
	v, _ := p.headerObject(true, true) // checked when the batch was decoded
	m, _ := v.(map[string]any)
	return m
}

// GoString prints the headers as their map does with %#v, however they are held.
func (h Headers) GoString() string { return fmt.Sprintf("codec.HeadersOf(%#v)", h.Map()) }

// returnCountHeaders are the headers the quorum queue adds to a redelivered message. Up to
// RabbitMQ 4.2 x-delivery-count counts every return; from 4.3 it counts only failed returns
// (basic.reject, a closed channel) and x-acquired-count counts them all. The larger is the
// number of earlier deliveries.
var returnCountHeaders = [...]string{"x-delivery-count", "x-acquired-count"}

// returnCounts are a message's values of returnCountHeaders, in that order (nil: absent).
type returnCounts [len(returnCountHeaders)]any

func isReturnCountHeader(key []byte) bool {
	for _, name := range returnCountHeaders {
		if string(key) == name {
			return true
		}
	}
	return false
}

// set records the value of one of returnCountHeaders.
func (c *returnCounts) set(key []byte, v any) {
	for i, name := range returnCountHeaders {
		if string(key) == name {
			c[i] = v
		}
	}
}

// returnCountsOf looks the return counts up in h.
func returnCountsOf(h Headers) returnCounts {
	var c returnCounts
	for i, name := range returnCountHeaders {
		c[i], _ = h.Get(name)
	}
	return c
}

// attempt numbers a delivery from the queue's return counts (see Message.Attempt).
func (c *returnCounts) attempt(redelivered bool) int {
	returns, counted := 0, false
	for _, v := range c {
		if n, ok := v.(float64); ok && n >= 0 {
			returns, counted = max(returns, int(n)), true
		}
	}
	switch {
	case counted:
		return returns + 1
	case !redelivered:
		return 1
	}
	return 0
}
