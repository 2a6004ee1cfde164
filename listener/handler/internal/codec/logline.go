package codec

import (
	"encoding/binary"
	"math/bits"
	"strconv"
	"time"
	"unicode/utf8"
)

// LineWriter appends JSON log lines to Buf byte for byte as slog's JSONHandler writes them (the
// same keys in the same order, the same time format and string escaping), without slog's
// per-record attribute slices, interface values and handler locking: the per-message line is
// most of what the listener does per message after decoding. TestLogLineIsSlog holds it to slog.
type LineWriter struct {
	Buf []byte
	// The time's text up to the second, and its zone, for the second last written.
	second     int64
	secondText []byte
	zoneText   []byte
}

// Start opens a line: time, level and msg, as slog writes them first.
func (l *LineWriter) Start(t time.Time, level, msg string) {
	l.Buf = append(l.Buf, `{"time":"`...)
	l.appendTime(t)
	l.Buf = append(l.Buf, `","level":"`...)
	l.Buf = append(l.Buf, level...)
	l.Buf = append(l.Buf, `","msg":`...)
	l.quote(msg)
}

// appendTime writes t as time.RFC3339Nano does (slog's JSON time), reusing the text of the
// second, which a batch's lines share.
func (l *LineWriter) appendTime(t time.Time) {
	if sec := t.Unix(); sec != l.second || l.secondText == nil {
		l.second = sec
		l.secondText = t.AppendFormat(l.secondText[:0], "2006-01-02T15:04:05")
		l.zoneText = t.AppendFormat(l.zoneText[:0], "Z07:00")
	}
	l.Buf = append(l.Buf, l.secondText...)
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i >= 1; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		l.Buf = append(l.Buf, frac[:n]...)
	}
	l.Buf = append(l.Buf, l.zoneText...)
}

// key writes a key, which must need no escaping (the handler's keys are constants).
func (l *LineWriter) key(k string) {
	l.Buf = append(l.Buf, ',', '"')
	l.Buf = append(l.Buf, k...)
	l.Buf = append(l.Buf, '"', ':')
}

// Str writes a string.
func (l *LineWriter) Str(k, v string) {
	l.key(k)
	l.quote(v)
}

// Int writes an integer.
func (l *LineWriter) Int(k string, v int) {
	l.key(k)
	l.Buf = strconv.AppendInt(l.Buf, int64(v), 10)
}

// Bytes writes v as a string, without copying it first.
func (l *LineWriter) Bytes(k string, v []byte) { l.Str(k, view(v)) }

// Bool writes a boolean.
func (l *LineWriter) Bool(k string, v bool) {
	l.key(k)
	l.Buf = strconv.AppendBool(l.Buf, v)
}

// End closes the line.
func (l *LineWriter) End() { l.Buf = append(l.Buf, '}', '\n') }

// quote writes s as a JSON string escaped as slog escapes it; text that needs no escape, most
// of it, is copied eight bytes at a time.
func (l *LineWriter) quote(s string) {
	l.Buf = append(l.Buf, '"')
	i := 0
	for i+8 <= len(s) {
		w := binary.LittleEndian.Uint64([]byte(s[i : i+8]))
		if m := stringStops(w) | (w & msb); m != 0 {
			i += bits.TrailingZeros64(m) >> 3
			break
		}
		i += 8
	}
	for i < len(s) && s[i] < utf8.RuneSelf && s[i] >= 0x20 && s[i] != '"' && s[i] != '\\' {
		i++
	}
	l.Buf = append(l.Buf, s[:i]...)
	if i < len(s) {
		l.Buf = appendEscaped(l.Buf, s[i:])
	}
	l.Buf = append(l.Buf, '"')
}

const hexDigits = "0123456789abcdef"

// appendEscaped is log/slog's appendEscapedJSONString.
func appendEscaped(buf []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\')
			switch b {
			case '\\', '"':
				buf = append(buf, b)
			case '\n':
				buf = append(buf, 'n')
			case '\r':
				buf = append(buf, 'r')
			case '\t':
				buf = append(buf, 't')
			default:
				buf = append(buf, 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\u202`...)
			buf = append(buf, hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(buf, s[start:]...)
}
