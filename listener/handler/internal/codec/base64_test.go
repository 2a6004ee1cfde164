package codec

import (
	"bytes"
	"encoding/base64"
	"testing"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/rmqevent"
)

var base64Cases = []string{"", "e30=", "eyJ0aW1lb3V0IjowfQ==", "YQ==", "YWI=", "YWJj", "YQ=", "Y===", "====", "YW=j", "e30\n=", "e3 0=",
	"e30=e30=", "AP8QgH8=", "//++", "-_-_", "YWJjZGVmZ2hpamtsbW5vcA==", "YWJjZGVmZ2hpamtsbW5vcHE=", "YR==", "YWJ=", "\xff\xff\xff\xff"}

// checkBase64 fails t unless decodeBase64 either leaves src to encoding/base64 or gives its bytes.
func checkBase64(t *testing.T, src []byte) (handled bool) {
	t.Helper()
	want, err := base64.StdEncoding.DecodeString(string(src))
	dst := make([]byte, len(src)/4*3)
	n, ok := decodeBase64(dst, src)
	if !ok {
		return false
	}
	if err != nil || !bytes.Equal(dst[:n], want) {
		t.Fatalf("decodeBase64(%q) = %q; encoding/base64: %q, %v", src, dst[:n], want, err)
	}
	return true
}

func TestDecodeBase64IsEncodingBase64(t *testing.T) {
	for _, c := range base64Cases {
		checkBase64(t, []byte(c))
	}
	for _, data := range rmqevent.Generate(20, rmqevent.Options{}).Data {
		if !checkBase64(t, []byte(data)) {
			t.Errorf("left %q to encoding/base64", data)
		}
	}
	for n := range 40 {
		if src := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xa5}, n)); !checkBase64(t, []byte(src)) {
			t.Errorf("left %q to encoding/base64", src)
		}
	}
}

func FuzzDecodeBase64(f *testing.F) {
	for _, c := range base64Cases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		checkBase64(t, src)
		if enc := base64.StdEncoding.EncodeToString(src); !checkBase64(t, []byte(enc)) {
			t.Fatalf("left %q to encoding/base64", enc)
		}
	})
}
