package legacy

import (
	"testing"
	"unicode/utf8"
)

var utf8Samples = []string{
	"", "a", "grüße", "世界", "🌍🌍", "a\xffb", "\xc3\x28", "\xe2\x82", "\xe2\x82\xac",
	"\xed\xa0\x80", "\xed\x9f\xbf", "\xc0\xaf", "\xf4\x8f\xbf\xbf", "\xf4\x90\x80\x80",
	"\xf0\x9f\x8c", "abc\xf0", "\x80", "\xf5\x80\x80\x80",
}

// TestUTF8StreamAgreesWithValid splits every sample at every pair of points:
// the stream must judge the whole as utf8.Valid does, however it is cut.
func TestUTF8StreamAgreesWithValid(t *testing.T) {
	for _, s := range utf8Samples {
		want := utf8.ValidString(s)
		for i := 0; i <= len(s); i++ {
			for j := i; j <= len(s); j++ {
				var st utf8Stream
				ok := st.write([]byte(s[:i])) && st.write([]byte(s[i:j])) && st.write([]byte(s[j:])) && st.end()
				if ok != want {
					t.Errorf("%q cut at %d and %d: stream says %v, utf8.Valid %v", s, i, j, ok, want)
				}
			}
		}
	}
}

func TestUTF8StreamFailsFast(t *testing.T) {
	// A prefix that can never become valid is refused before the rune ends.
	for _, prefix := range []string{"\xed\xa0", "\xf4\x90", "\xe0\x80", "\xff"} {
		var st utf8Stream
		if st.write([]byte(prefix)) {
			t.Errorf("%q accepted as a possible start of UTF-8", prefix)
		}
	}
}
