package hub

import (
	"encoding/json"
	"testing"
)

// FuzzAppendJSONString checks that appendJSONString writes a JSON string
// that decodes as encoding/json decodes its own encoding of the same bytes.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "hello", `a"b\c`, "line\nbreak\t\r\x00\x1f", "caf\u00e9 \u2028", "\xff\xfe bad", "\xe2\x82"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		got := appendJSONString(nil, s)
		var dec string
		if err := json.Unmarshal(got, &dec); err != nil {
			t.Fatalf("%q encoded as %s, which is not JSON: %v", s, got, err)
		}
		want, _ := json.Marshal(string(s))
		var wantDec string
		json.Unmarshal(want, &wantDec)
		if dec != wantDec {
			t.Fatalf("%q decodes as %q, want %q", s, dec, wantDec)
		}
	})
}
