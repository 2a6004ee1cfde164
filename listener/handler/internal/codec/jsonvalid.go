package codec

import (
	"encoding/binary"
	"math/bits"
)

// This file is a JSON validator that answers exactly as encoding/json's Valid does (the same
// grammar, the same nesting limit, no UTF-8 check inside strings) in one pass without a
// per-byte state machine: string contents, most of a body's bytes, are scanned eight bytes at a
// time. It also skips values inside the event's envelope (decode.go). `make bench` and
// BenchmarkValidJSON compare it with the standard library and the JSON libraries docs/performance.md
// names; FuzzValidJSON holds it to json.Valid.

// maxNestingDepth is encoding/json's limit: deeper input is not valid.
const maxNestingDepth = 10000

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// stringStops marks, in the little-endian word w, each byte that ends the fast scan of a string's
// contents: '"', '\\' and the control characters below 0x20. Only the lowest marked byte is
// exact (a borrow may mark bytes above it), which is the one the scan uses.
func stringStops(w uint64) uint64 {
	quote := w ^ (lsb * '"')
	backslash := w ^ (lsb * '\\')
	return ((quote - lsb) &^ quote & msb) | ((backslash - lsb) &^ backslash & msb) | ((w - lsb*0x20) &^ w & msb)
}

// ValidJSON reports whether data is exactly one JSON value, with optional whitespace around it:
// json.Valid's answer, several times faster. Business functions may use it too.
func ValidJSON(data []byte) bool {
	end, ok := skipValue(data, skipSpace(data, 0))
	return ok && skipSpace(data, end) == len(data)
}

// skipSpace returns the index of the first byte at or after i that is not JSON whitespace.
func skipSpace(d []byte, i int) int {
	for i < len(d) {
		c := d[i]
		if c > ' ' || (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
			return i
		}
		i++
	}
	return i
}

// skipString returns the index after the closing quote of the string whose contents start at i
// (just after its opening quote), and whether the string holds an escape.
func skipString(d []byte, i int) (end int, escaped, ok bool) {
	n := len(d)
	for {
		for i+8 <= n {
			if m := stringStops(binary.LittleEndian.Uint64(d[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= n {
			return i, escaped, false
		}
		switch c := d[i]; {
		case c == '"':
			return i + 1, escaped, true
		case c == '\\':
			escaped = true
			if i+1 >= n {
				return i, escaped, false
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > n || !isHex(d[i+2]) || !isHex(d[i+3]) || !isHex(d[i+4]) || !isHex(d[i+5]) {
					return i, escaped, false
				}
				i += 6
			default:
				return i, escaped, false
			}
		case c < 0x20:
			return i, escaped, false
		default:
			i++
		}
	}
}

func isHex(c byte) bool {
	return c-'0' < 10 || (c|0x20)-'a' < 6
}

func isDigit(c byte) bool { return c-'0' < 10 }

// skipNumber returns the index after the number that starts at i.
func skipNumber(d []byte, i int) (int, bool) {
	n := len(d)
	if i < n && d[i] == '-' {
		i++
	}
	switch {
	case i >= n:
		return i, false
	case d[i] == '0':
		i++
	case isDigit(d[i]):
		i++
		for i < n && isDigit(d[i]) {
			i++
		}
	default:
		return i, false
	}
	if i < n && d[i] == '.' {
		i++
		if i >= n || !isDigit(d[i]) {
			return i, false
		}
		for i < n && isDigit(d[i]) {
			i++
		}
	}
	if i < n && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < n && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= n || !isDigit(d[i]) {
			return i, false
		}
		for i < n && isDigit(d[i]) {
			i++
		}
	}
	return i, true
}

// skipLiteral returns the index after lit if d holds it at i.
func skipLiteral(d []byte, i int, lit string) (int, bool) {
	if len(d)-i < len(lit) || string(d[i:i+len(lit)]) != lit {
		return i, false
	}
	return i + len(lit), true
}

// skipValue returns the index after the JSON value that starts at i. Containers are walked with
// an explicit stack (one bit per level: set for an object), not by recursion.
func skipValue(d []byte, i int) (int, bool) {
	var small [4]uint64
	stack := small[:]
	depth := 0
	n := len(d)
	var ok bool
	for {
		// A value starts at i.
		if i >= n {
			return i, false
		}
		switch c := d[i]; c {
		case '"':
			if i, _, ok = skipString(d, i+1); !ok {
				return i, false
			}
		case '{', '[':
			depth++
			if depth > maxNestingDepth {
				return i, false
			}
			word, bit := (depth-1)>>6, uint64(1)<<((depth-1)&63)
			if word == len(stack) {
				stack = append(stack, 0)
			}
			if c == '{' {
				stack[word] |= bit
			} else {
				stack[word] &^= bit
			}
			i = skipSpace(d, i+1)
			if i >= n {
				return i, false
			}
			if d[i] == c+2 { // '}' and ']' are two after '{' and '['
				i++
				depth--
				break
			}
			if c == '{' {
				if i, ok = skipKey(d, i); !ok {
					return i, false
				}
			}
			continue
		case 't':
			if i, ok = skipLiteral(d, i, "true"); !ok {
				return i, false
			}
		case 'f':
			if i, ok = skipLiteral(d, i, "false"); !ok {
				return i, false
			}
		case 'n':
			if i, ok = skipLiteral(d, i, "null"); !ok {
				return i, false
			}
		default:
			if i, ok = skipNumber(d, i); !ok {
				return i, false
			}
		}
		// A value ended before i: close every container that ends here, then find the next value.
		for {
			if depth == 0 {
				return i, true
			}
			i = skipSpace(d, i)
			if i >= n {
				return i, false
			}
			object := stack[(depth-1)>>6]&(uint64(1)<<((depth-1)&63)) != 0
			c := d[i]
			if c == ',' {
				i = skipSpace(d, i+1)
				if object {
					if i, ok = skipKey(d, i); !ok {
						return i, false
					}
				}
				break
			}
			if (object && c == '}') || (!object && c == ']') {
				i++
				depth--
				continue
			}
			return i, false
		}
	}
}

// skipKey skips an object's key and its colon, and the whitespace after both.
func skipKey(d []byte, i int) (int, bool) {
	if i >= len(d) || d[i] != '"' {
		return i, false
	}
	i, _, ok := skipString(d, i+1)
	if !ok {
		return i, false
	}
	i = skipSpace(d, i)
	if i >= len(d) || d[i] != ':' {
		return i, false
	}
	return skipSpace(d, i+1), true
}
