package codec

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"
)

// This file decodes the Runtime API's payload into the batch's messages in one pass over its
// bytes: no events.RabbitMQEvent in between, no reflection, no map[string]interface{} that is
// then normalised, and the strings and bodies of a batch in one buffer instead of one
// allocation each. Its answer is exactly FromEvent's on what encoding/json would decode from
// the same payload (FuzzDecodePayload holds it to that); whatever this pass does not handle
// itself — a syntax or type error, a key repeated or matched only case-insensitively, a
// top-level null — it hands back undecoded, and the caller lets encoding/json decide, as
// aws-lambda-go would have.

// Payload decodes payload as aws-lambda-go's reflection would decode it into an
// events.RabbitMQEvent, followed by FromEvent. handled is false when the payload is left to
// encoding/json.
func Payload(payload []byte) (messages []Message, handled bool, err error) {
	p := decoder{d: payload, arena: make([]byte, 0, len(payload)), msgs: make([]Message, 0, len(payload)/1024+1)}
	if !p.event() {
		return nil, false, nil
	}
	if p.eventSource != EventSourceRabbitMQ {
		return nil, true, fmt.Errorf("%w: eventSource is %q, want %q", ErrNotRabbitMQ, p.eventSource, EventSourceRabbitMQ)
	}
	sorted := slices.IsSortedFunc(p.queues, compareKeys)
	if !sorted {
		slices.SortStableFunc(p.queues, compareKeys)
	}
	for i := range p.queues {
		if i > 0 && p.queues[i].key == p.queues[i-1].key {
			return nil, false, nil // the last of a repeated key wins in encoding/json: left to it
		}
	}
	for _, q := range p.queues {
		if q.err != nil {
			return nil, true, q.err
		}
	}
	if sorted {
		return p.msgs, true, nil
	}
	messages = make([]Message, 0, len(p.msgs))
	for _, q := range p.queues {
		messages = append(messages, p.msgs[q.start:q.end]...)
	}
	return messages, true, nil
}

func compareKeys(a, b queueSpan) int { return strings.Compare(a.key, b.key) }

// queueSpan is one queue's messages: msgs[start:end].
type queueSpan struct {
	key        string
	err        error
	start, end int
}

type decoder struct {
	d []byte
	i int
	// arena holds the batch's strings and bodies. It is allocated once, as large as the
	// payload (nothing decoded is longer than its JSON), so it never moves: a string or body
	// points into it for as long as anything refers to it.
	arena       []byte
	eventSource string
	keyPlain    bool // the last key was all ASCII
	queues      []queueSpan
	msgs        []Message
}

// keep copies b into the arena and returns it as a string.
func (p *decoder) keep(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	kept := p.keepBytes(b)
	// The arena's bytes are never written again once appended: the string is immutable.
	return unsafe.String(&kept[0], len(kept)) //nolint:gosec // G103: see above
}

// keepBytes copies b into the arena.
func (p *decoder) keepBytes(b []byte) []byte {
	start := len(p.arena)
	p.arena = append(p.arena, b...)
	return p.arena[start:len(p.arena):len(p.arena)]
}

// view returns b as a string without copying, for a value that is only read during the decode.
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b)) //nolint:gosec // G103: only read while b is unchanged
}

func (p *decoder) ws() { p.i = skipSpace(p.d, p.i) }

func (p *decoder) peek() byte {
	if p.i < len(p.d) {
		return p.d[p.i]
	}
	return 0
}

// next consumes c and the whitespace after it.
func (p *decoder) next(c byte) bool {
	if p.i < len(p.d) && p.d[p.i] == c {
		p.i = skipSpace(p.d, p.i+1)
		return true
	}
	return false
}

func (p *decoder) null() bool {
	if end, ok := skipLiteral(p.d, p.i, "null"); ok {
		p.i = skipSpace(p.d, end)
		return true
	}
	return false
}

// rawString consumes a string: its contents between the quotes, and whether they hold an escape.
func (p *decoder) rawString() (raw []byte, escaped, ok bool) {
	raw, escaped, _, ok = p.scanString()
	return raw, escaped, ok
}

// scanString is rawString that also says whether the contents are plain: no escape, all ASCII
// (then they are the string, with no UTF-8 check to make).
func (p *decoder) scanString() (raw []byte, escaped, plain, ok bool) {
	if p.peek() != '"' {
		return nil, false, false, false
	}
	d, i, n := p.d, p.i+1, len(p.d)
	var high uint64
	for {
		for i+8 <= n {
			w := binary.LittleEndian.Uint64(d[i:])
			high |= w
			if m := stringStops(w); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= n {
			return nil, false, false, false
		}
		switch c := d[i]; {
		case c == '"':
			// high took in whole words, perhaps bytes past the quote: plain errs on the safe side.
			raw = d[p.i+1 : i]
			p.i = skipSpace(d, i+1)
			return raw, escaped, !escaped && high&msb == 0, true
		case c == '\\':
			end, _, ok := skipString(d, i) // the rest of the string, escapes and all
			if !ok {
				return nil, false, false, false
			}
			raw = d[p.i+1 : end-1]
			p.i = skipSpace(d, end)
			return raw, true, false, ok
		case c < 0x20:
			return nil, false, false, false
		default:
			high |= uint64(c)
			i++
		}
	}
}

// unquote is the string encoding/json decodes from a string's contents: the contents as they
// are when they hold no escape and are valid UTF-8, else encoding/json's own answer.
func unquote(raw []byte, escaped bool) (string, bool) {
	if !escaped && utf8.Valid(raw) {
		return string(raw), true
	}
	var s string
	quoted := make([]byte, 0, len(raw)+2)
	quoted = append(append(append(quoted, '"'), raw...), '"')
	if json.Unmarshal(quoted, &s) != nil {
		return "", false
	}
	return s, true
}

// str consumes a string (kept in the arena) or null ("").
func (p *decoder) str() (string, bool) { return p.stringValue(true) }

// stringValue is str; with build false it checks the string exactly as str decodes it and
// keeps nothing.
func (p *decoder) stringValue(build bool) (string, bool) {
	if p.null() {
		return "", true
	}
	raw, escaped, plain, ok := p.scanString()
	if !ok {
		return "", false
	}
	if plain || (!escaped && utf8.Valid(raw)) {
		if !build {
			return "", true
		}
		return p.keep(raw), true
	}
	return unquote(raw, escaped)
}

// key consumes an object's key and its colon. A key with an escape is left to encoding/json.
// keyPlain says whether it is all ASCII.
func (p *decoder) key() ([]byte, bool) {
	raw, escaped, plain, ok := p.scanString()
	if !ok || escaped || !p.next(':') {
		return nil, false
	}
	p.keyPlain = plain
	return raw, true
}

// unknownKey says whether key can be skipped: encoding/json matches a struct's fields
// case-insensitively (with Unicode folding), so a key that is not ASCII, or that folds to a
// field's name, is left to it.
func unknownKey(key []byte, fields ...string) bool {
	for _, c := range key {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	for _, f := range fields {
		if strings.EqualFold(view(key), f) {
			return false
		}
	}
	return true
}

// skip consumes any value.
func (p *decoder) skip() bool {
	end, ok := skipValue(p.d, p.i)
	p.i = skipSpace(p.d, end)
	return ok
}

// more consumes the comma before an object's next member (true) or its closing brace (false).
func (p *decoder) more(closing byte) (more, ok bool) {
	if p.next(',') {
		return true, true
	}
	return false, p.next(closing)
}

// object walks an object's members, calling member with each key (the value follows). A
// repeated key that member claims (seen bit) is left to encoding/json.
func (p *decoder) object(member func(key []byte) (bit uint32, ok bool)) bool {
	if !p.next('{') {
		return false
	}
	if p.next('}') {
		return true
	}
	var seen uint32
	for {
		key, ok := p.key()
		if !ok {
			return false
		}
		bit, ok := member(key)
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		more, ok := p.more('}')
		if !ok {
			return false
		}
		if !more {
			return true
		}
	}
}

func (p *decoder) event() bool {
	p.ws()
	return p.object(func(key []byte) (uint32, bool) {
		switch string(key) {
		case "eventSource":
			raw, escaped, ok := p.rawString()
			if !ok {
				return 1, p.null()
			}
			if string(raw) == EventSourceRabbitMQ {
				p.eventSource = EventSourceRabbitMQ
				return 1, true
			}
			p.eventSource, ok = unquote(raw, escaped)
			return 1, ok
		case "eventSourceArn":
			if p.null() {
				return 2, true
			}
			_, _, ok := p.rawString()
			return 2, ok
		case "rmqMessagesByQueue":
			return 4, p.byQueue()
		}
		return 0, unknownKey(key, "eventSource", "eventSourceArn", "rmqMessagesByQueue") && p.skip()
	})
}

func (p *decoder) byQueue() bool {
	if p.null() {
		return true
	}
	if !p.next('{') {
		return false
	}
	if p.next('}') {
		return true
	}
	for {
		raw, escaped, ok := p.rawString()
		if !ok || !p.next(':') {
			return false
		}
		var key string
		if !escaped && utf8.Valid(raw) {
			key = p.keep(raw)
		} else if key, ok = unquote(raw, escaped); !ok {
			return false
		}
		q := queueSpan{key: key, start: len(p.msgs)}
		queue, vhost, err := splitQueueKey(key)
		q.err = err
		if !p.null() {
			if !p.next('[') {
				return false
			}
			if !p.next(']') {
				for index := 0; ; index++ {
					if !p.message(queue, vhost, index) {
						return false
					}
					more, ok := p.more(']')
					if !ok {
						return false
					}
					if !more {
						break
					}
				}
			}
		}
		q.end = len(p.msgs)
		p.queues = append(p.queues, q)
		more, ok := p.more('}')
		if !ok {
			return false
		}
		if !more {
			return true
		}
	}
}

// message decodes one message as FromEvent does.
func (p *decoder) message(queue, vhost string, index int) bool {
	m := Message{Queue: queue, VHost: vhost, Index: index}
	var data, decodedBody []byte
	var dataEscaped, decoded bool
	var bodySize uint64
	var counts returnCounts
	if !p.null() {
		ok := p.object(func(key []byte) (uint32, bool) {
			switch string(key) {
			case "basicProperties":
				return 1, p.properties(&m, &bodySize, &counts)
			case "data":
				if p.null() {
					data, dataEscaped = nil, false
					return 2, true
				}
				if raw, body, ok := p.base64Data(); ok {
					data, dataEscaped, decoded, decodedBody = raw, false, true, body
					return 2, true
				}
				var ok bool
				data, dataEscaped, ok = p.rawString()
				decoded, decodedBody = false, nil
				return 2, ok
			case "redelivered":
				v, ok := p.boolean()
				m.Redelivered = v
				return 4, ok
			}
			return 0, unknownKey(key, "basicProperties", "data", "redelivered") && p.skip()
		})
		if !ok {
			return false
		}
	}
	m.Attempt = counts.attempt(m.Redelivered)
	if decoded {
		if len(data) == 0 && bodySize > 0 {
			m.Problem = fmt.Errorf("data is missing (bodySize is %d)", bodySize)
		} else {
			m.Body = decodedBody
		}
	}
	if !decoded {
		// What encoding/json and the standard library's base64 make of it, errors included.
		s, ok := unquote(data, dataEscaped)
		if !ok {
			return false
		}
		body, err := base64.StdEncoding.DecodeString(s)
		switch {
		case err != nil:
			m.Body, m.Problem = []byte(s), fmt.Errorf("data is not valid base64 (kept as the body): %w", err)
		case s == "" && bodySize > 0:
			m.Problem = fmt.Errorf("data is missing (bodySize is %d)", bodySize)
		default:
			m.Body = body
		}
	}
	if m.MessageID != "" {
		m.ID = m.MessageID
	} else {
		m.ID = messageID(nil, m.Body)
	}
	p.msgs = append(p.msgs, m)
	return true
}

var propertyFields = []string{"contentType", "contentEncoding", "headers", "deliveryMode", "priority", "correlationId",
	"replyTo", "expiration", "messageId", "timestamp", "type", "userId", "appId", "clusterId", "bodySize"}

// properties decodes basicProperties as decodeProperties does, and the return counts among
// its headers into counts.
func (p *decoder) properties(m *Message, bodySize *uint64, counts *returnCounts) bool {
	if p.null() {
		return true
	}
	return p.object(func(key []byte) (uint32, bool) {
		var ok bool
		switch string(key) {
		case "contentType":
			m.ContentType, ok = p.str()
			return 1 << 0, ok
		case "contentEncoding":
			m.ContentEncoding, ok = p.str()
			return 1 << 1, ok
		case "headers":
			if p.null() {
				return 1 << 2, true
			}
			// Checked now, decoded when asked for (Headers), except the return counts.
			start := p.i
			if !p.headerTable(isReturnCountHeader, counts.set) {
				return 1 << 2, false
			}
			m.Headers = Headers{raw: p.keepBytes(p.d[start:p.i])}
			return 1 << 2, true
		case "deliveryMode":
			m.DeliveryMode, ok = p.uint8()
			return 1 << 3, ok
		case "priority":
			m.Priority, ok = p.uint8()
			return 1 << 4, ok
		case "correlationId":
			m.CorrelationID, ok = p.str()
			return 1 << 5, ok
		case "replyTo":
			m.ReplyTo, ok = p.str()
			return 1 << 6, ok
		case "messageId":
			m.MessageID, ok = p.str()
			return 1 << 8, ok
		case "timestamp":
			if p.null() {
				return 1 << 9, true
			}
			raw, escaped, plain, ok := p.scanString()
			if !ok {
				return 1 << 9, false
			}
			if plain || (!escaped && utf8.Valid(raw)) {
				m.Timestamp = parseTimestampFast(view(raw))
				return 1 << 9, true
			}
			s, ok := unquote(raw, escaped)
			m.Timestamp = parseTimestamp(s)
			return 1 << 9, ok
		case "type":
			m.Type, ok = p.str()
			return 1 << 10, ok
		case "appId":
			m.AppID, ok = p.str()
			return 1 << 12, ok
		case "expiration":
			return 1 << 7, p.skipString()
		case "userId":
			return 1 << 11, p.skipString()
		case "clusterId":
			return 1 << 13, p.skipString()
		case "bodySize":
			*bodySize, ok = p.uint64()
			return 1 << 14, ok
		}
		return 0, unknownKey(key, propertyFields...) && p.skip()
	})
}

// skipString consumes a string the message does not keep, or null: checked, not copied.
func (p *decoder) skipString() bool {
	if p.null() {
		return true
	}
	_, _, ok := p.rawString()
	return ok
}

// base64Data consumes a message's data when it is plain base64 — every message AWS sends: a
// string of the alphabet and padding only, so its closing quote is the first quote (found at
// the speed of bytes.IndexByte) and its decoding, which accepts nothing else, proves it a JSON
// string without escapes. Anything else is left to the general path.
func (p *decoder) base64Data() (raw, body []byte, ok bool) {
	if p.peek() != '"' {
		return nil, nil, false
	}
	q := bytes.IndexByte(p.d[p.i+1:], '"')
	if q < 0 {
		return nil, nil, false
	}
	raw = p.d[p.i+1 : p.i+1+q]
	start := len(p.arena)
	if start+len(raw) > cap(p.arena) { // cannot happen (see arena); kept strings stay valid if it did
		p.arena = slices.Grow(p.arena, len(raw))
	}
	n, ok := decodeBase64(p.arena[start:start+len(raw)/4*3], raw)
	if !ok {
		return nil, nil, false
	}
	p.arena = p.arena[:start+n]
	p.i = skipSpace(p.d, p.i+2+q)
	return raw, p.arena[start : start+n : start+n], true
}

func (p *decoder) boolean() (v, ok bool) {
	if end, ok := skipLiteral(p.d, p.i, "true"); ok {
		p.i = skipSpace(p.d, end)
		return true, true
	}
	if end, ok := skipLiteral(p.d, p.i, "false"); ok {
		p.i = skipSpace(p.d, end)
		return false, true
	}
	return false, p.null()
}

// digits consumes an unsigned integer literal: what encoding/json accepts for an unsigned field.
func (p *decoder) digits() ([]byte, bool) {
	start := p.i
	end, ok := skipNumber(p.d, p.i)
	if !ok || end == start {
		return nil, false
	}
	lit := p.d[start:end]
	for _, c := range lit {
		if !isDigit(c) {
			return nil, false
		}
	}
	p.i = skipSpace(p.d, end)
	return lit, true
}

func (p *decoder) uint8() (uint8, bool) {
	if p.null() {
		return 0, true
	}
	lit, ok := p.digits()
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseUint(view(lit), 10, 8)
	return uint8(v), err == nil
}

func (p *decoder) uint64() (uint64, bool) {
	if p.null() {
		return 0, true
	}
	lit, ok := p.digits()
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseUint(view(lit), 10, 64)
	return v, err == nil
}

// number consumes a number as encoding/json decodes it into an interface{}: a float64.
func (p *decoder) number() (float64, bool) {
	start := p.i
	end, ok := skipNumber(p.d, p.i)
	if !ok {
		return 0, false
	}
	lit := p.d[start:end]
	p.i = skipSpace(p.d, end)
	neg := lit[0] == '-'
	digits := lit
	if neg {
		digits = lit[1:]
	}
	if len(digits) <= 15 && !bytes.ContainsAny(digits, ".eE") {
		var v int64
		for _, c := range digits {
			v = v*10 + int64(c-'0')
		}
		f := float64(v) // exact: below 2^53
		if neg {
			f = -f // -0 stays negative zero, as strconv gives it
		}
		return f, true
	}
	f, err := strconv.ParseFloat(view(lit), 64)
	return f, err == nil && !math.IsInf(f, 0)
}

// smallNumbers are the header numbers 0 to 255 already boxed: counts, flags and shards are
// small integers, and an interface holding one needs no allocation then.
var smallNumbers = func() (boxes [256]any) {
	for i := range boxes {
		boxes[i] = float64(i)
	}
	return boxes
}()

// headerValue decodes one header value already normalised (normaliseValue's result). With
// build false it only checks the value, accepting exactly what it would decode, and keeps
// nothing: how a batch's headers are checked before they are asked for (Headers).
func (p *decoder) headerValue(build bool) (any, bool) {
	switch p.peek() {
	case '"':
		return p.stringValue(build)
	case '{':
		return p.headerObject(false, build)
	case '[':
		if !p.next('[') {
			return nil, false
		}
		var list []any
		if build {
			list = []any{}
		}
		if p.next(']') {
			return list, true
		}
		for {
			v, ok := p.headerValue(build)
			if !ok {
				return nil, false
			}
			if build {
				list = append(list, v)
			}
			more, ok := p.more(']')
			if !ok {
				return nil, false
			}
			if !more {
				return list, true
			}
		}
	case 't', 'f':
		return p.boolean()
	case 'n':
		return nil, p.null()
	}
	f, ok := p.number()
	if !build {
		return nil, ok
	}
	if i := int(f); f == float64(i) && i >= 0 && i < len(smallNumbers) && !(f == 0 && math.Signbit(f)) {
		return smallNumbers[i], ok
	}
	return f, ok
}

// headerObject decodes a table of headers, normalised: AWS's {"bytes":[...]} is a []byte
// (except at the top, where normaliseHeaders keeps the map), an empty table a nil map. With
// build false it checks the table as headerValue does.
func (p *decoder) headerObject(top, build bool) (any, bool) {
	start := p.i
	if !top {
		kept := len(p.arena)
		if b, ok := p.byteArray(); ok {
			if !build {
				p.arena = p.arena[:kept]
				return nil, true
			}
			return b, true
		}
		p.i = start
	}
	var m map[string]any
	ok := p.headerTable(func([]byte) bool { return build }, func(key []byte, v any) {
		if m == nil {
			m = make(map[string]any, 8)
		}
		m[p.keep(key)] = v
	})
	if !ok || !build {
		return nil, ok
	}
	if !top && len(m) == 1 {
		if b, ok := byteArray(m); ok {
			return b, true
		}
	}
	if len(m) == 0 {
		return map[string]any(nil), true
	}
	return m, true
}

// headerTable walks a table of headers, checking every value as headerValue does and decoding
// those whose key pick accepts, each handed to found (a repeated key: each in turn, the last as
// encoding/json keeps it).
func (p *decoder) headerTable(pick func(key []byte) bool, found func(key []byte, v any)) bool {
	return p.object(func(key []byte) (uint32, bool) {
		if !p.headerKey(key) {
			return 0, false
		}
		build := pick(key)
		v, ok := p.headerValue(build)
		if ok && build {
			found(key, v)
		}
		return 0, ok
	})
}

// headerKey says whether a header's key is decoded here: a key that is not valid UTF-8 is left
// to encoding/json, which replaces the invalid bytes.
func (p *decoder) headerKey(key []byte) bool { return p.keyPlain || utf8.Valid(key) }

// byteArray consumes {"bytes":[n,...]} written the plain way (integers only, from -128 to 255)
// into the arena. Anything else is left to headerObject's general path.
func (p *decoder) byteArray() ([]byte, bool) {
	const prefix = `{"bytes":[`
	if !bytes.HasPrefix(p.d[p.i:], []byte(prefix)) {
		return nil, false
	}
	p.i = skipSpace(p.d, p.i+len(prefix))
	start := len(p.arena)
	if b, ok := p.byteList(start); ok {
		return b, true
	}
	p.arena = p.arena[:start] // nothing of a failed attempt stays in the arena
	return nil, false
}

func (p *decoder) byteList(start int) ([]byte, bool) {
	if !p.next(']') {
		// One tight loop over the digits, with the position and the arena in locals: a
		// header's byte array is the longest run of numbers in an event.
		d, i, arena := p.d, p.i, p.arena
		for {
			neg := i < len(d) && d[i] == '-'
			if neg {
				i++
			}
			// One to three digits, unrolled; no leading zero (JSON's rule), nothing after.
			if i+4 > len(d) {
				return nil, false
			}
			v := int(d[i] - '0')
			if v > 9 {
				return nil, false
			}
			i++
			if c := d[i] - '0'; c <= 9 && v != 0 {
				v = v*10 + int(c)
				i++
				if c := d[i] - '0'; c <= 9 {
					v = v*10 + int(c)
					i++
				}
			}
			if d[i]-'0' <= 9 {
				return nil, false // a fourth digit, or a digit after a leading zero
			}
			if neg {
				v = -v
			}
			if v < -128 || v > 255 {
				return nil, false
			}
			arena = append(arena, byte(v&0xff))
			c := d[i]
			if c == ',' {
				i++
				continue
			}
			if c == ']' {
				i++
				break
			}
			if c == '.' || c == 'e' || c == 'E' {
				return nil, false
			}
			if i = skipSpace(d, i); i >= len(d) {
				return nil, false
			}
			if d[i] == ']' {
				i++
				break
			}
			if d[i] != ',' {
				return nil, false
			}
			i = skipSpace(d, i+1)
		}
		p.i, p.arena = skipSpace(d, i), arena
	}
	if !p.next('}') {
		return nil, false
	}
	return p.arena[start:len(p.arena):len(p.arena)], true
}

// parseTimestampFast is parseTimestamp for the form AWS sends ("Jan 2, 2006, 3:04:05 PM",
// with a space, a narrow no-break space or a no-break space before PM) without time.Parse;
// anything else goes to parseTimestamp.
func parseTimestampFast(s string) time.Time {
	if t, ok := javaTimestamp(s); ok {
		return t
	}
	return parseTimestamp(s)
}

var shortMonths = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// javaTimestamp parses "Jan 2, 2006, 3:04:05 PM" exactly as time.Parse does, for the inputs it
// accepts (ok); it leaves every other input, and every out-of-range field, to time.Parse.
func javaTimestamp(s string) (time.Time, bool) {
	if len(s) < 22 || s[3] != ' ' {
		return time.Time{}, false
	}
	month := 0
	for i, name := range shortMonths {
		if s[:3] == name {
			month = i + 1
			break
		}
	}
	if month == 0 {
		return time.Time{}, false
	}
	i := 4
	num := func(minDigits, maxDigits int) (int, bool) {
		v, n := 0, 0
		for i < len(s) && n < maxDigits && isDigit(s[i]) {
			v = v*10 + int(s[i]-'0')
			i++
			n++
		}
		return v, n >= minDigits
	}
	lit := func(l string) bool {
		if !strings.HasPrefix(s[i:], l) {
			return false
		}
		i += len(l)
		return true
	}
	day, ok1 := num(1, 2)
	ok2 := lit(", ")
	year, ok3 := num(4, 4)
	ok4 := lit(", ")
	hour, ok5 := num(1, 2)
	ok6 := lit(":")
	minute, ok7 := num(2, 2)
	ok8 := lit(":")
	sec, ok9 := num(2, 2)
	fieldsOK := ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && ok8 && ok9
	if !fieldsOK || (!lit(" ") && !lit("\u202f") && !lit("\u00a0")) {
		return time.Time{}, false
	}
	if hour < 1 || hour > 12 {
		return time.Time{}, false
	}
	switch s[i:] {
	case "AM":
		if hour == 12 {
			hour = 0
		}
	case "PM":
		if hour < 12 {
			hour += 12
		}
	default:
		return time.Time{}, false
	}
	daysIn := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[month]
	if month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		daysIn = 29
	}
	if day < 1 || day > daysIn || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC), true
}
