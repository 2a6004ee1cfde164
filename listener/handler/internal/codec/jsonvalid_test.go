package codec

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/rmqevent"
)

var validJSONCases = []string{
	``, ` `, `{}`, `[]`, `{"a":1}`, `{"a":1,}`, `[1,]`, `[1 2]`, `{"a" 1}`, `{"a":}`, `{a:1}`, `"abc`, `"a\"b"`,
	`"\u00e9\uD834\uDD1E"`, `"\u00g0"`, `"\x"`, "\"tab\there\"", "\"nl\n\"", `"\/\b\f\n\r\t\\"`, "\"\xff\xfe\"",
	`0`, `-0`, `01`, `-`, `1.`, `1.5`, `.5`, `1e`, `1e+`, `1e+5`, `1E-5`, `-1.5e10`, `2.`, `00`, `1x`,
	`true`, `tru`, `truex`, `false`, `null`, `nul`, `nulll`, ` null `, "\t\r\n[ 1 , 2 ]\n", `[[[]]]`, `[[[]]`, `{"a":[{"b":{}}]}`,
	`{"a":1}}`, `{"a":1} {}`, `[1]]`, `"a" "b"`, `{"a":{"b":[1,{"c":null}]}}`, `[{]`, `[}`, `{]`, `{"a":1]`, `[1}`,
	"\xef\xbb\xbf{}", `{"":""}`, `{"a":"b","c":[true,false,null,-1e-7]}`, `"` + strings.Repeat("x", 100) + `\"` + strings.Repeat("y", 5) + `"`,
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000), strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat(`{"a":`, 200) + "1" + strings.Repeat("}", 200), strings.Repeat("[", 65) + strings.Repeat("]", 64),
}

func TestValidJSONIsJSONValid(t *testing.T) {
	cases := validJSONCases
	for _, b := range rmqevent.Generate(50, rmqevent.Options{}).Bodies {
		cases = append(cases, string(b))
		for cut := 1; cut < len(b); cut += 37 {
			cases = append(cases, string(b[:cut]), string(b[cut:]))
		}
	}
	for _, c := range cases {
		if got, want := ValidJSON([]byte(c)), json.Valid([]byte(c)); got != want {
			t.Errorf("ValidJSON(%.80q) = %t, json.Valid says %t", c, got, want)
		}
	}
}

func FuzzValidJSON(f *testing.F) {
	for _, c := range validJSONCases {
		f.Add([]byte(c))
	}
	f.Add(rmqevent.Body(1))
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := ValidJSON(data), json.Valid(data); got != want {
			t.Fatalf("ValidJSON(%q) = %t, json.Valid says %t", data, got, want)
		}
	})
}
