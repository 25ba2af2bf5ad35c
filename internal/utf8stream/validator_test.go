package utf8stream

import (
	"testing"
	"unicode/utf8"
)

var utf8Samples = []string{
	"", "a", "grüße", "世界", "🌍🌍", "a\xffb", "\xc3\x28", "\xe2\x82", "\xe2\x82\xac",
	"\xed\xa0\x80", "\xed\x9f\xbf", "\xc0\xaf", "\xf4\x8f\xbf\xbf", "\xf4\x90\x80\x80",
	"\xf0\x9f\x8c", "abc\xf0", "\x80", "\xf5\x80\x80\x80",
}

// TestValidatorAgreesWithValid splits every sample at every pair of points:
// the stream must judge the whole as utf8.Valid does, however it is cut.
func TestValidatorAgreesWithValid(t *testing.T) {
	t.Parallel()
	for _, s := range utf8Samples {
		want := utf8.ValidString(s)
		for i := 0; i <= len(s); i++ {
			for j := i; j <= len(s); j++ {
				var st Validator
				ok := st.Write([]byte(s[:i])) && st.Write([]byte(s[i:j])) && st.Write([]byte(s[j:])) && st.Complete()
				if ok != want {
					t.Errorf("%q cut at %d and %d: stream says %v, utf8.Valid %v", s, i, j, ok, want)
				}
			}
		}
	}
}

func TestValidatorFailsFast(t *testing.T) {
	t.Parallel()
	// A prefix that can never become valid is refused before the rune ends.
	for _, prefix := range []string{"\xed\xa0", "\xf4\x90", "\xe0\x80", "\xff"} {
		var st Validator
		if st.Write([]byte(prefix)) {
			t.Errorf("%q accepted as a possible start of UTF-8", prefix)
		}
	}
}

// FuzzUTF8 compares the incremental check with utf8.Valid for any text cut
// at any point.
func FuzzUTF8(f *testing.F) {
	for _, s := range []string{"", "hello", "κόσμε", "\xce\xba\xe1\xbd\xb9\xcf\x83\xed\xa0\x80", "\xf4\x90\x80\x80", "\xef\xbf\xbf", "\xc0\xaf", "🎉"} {
		f.Add([]byte(s), 3)
	}
	f.Fuzz(func(t *testing.T, p []byte, split int) {
		want := utf8.Valid(p)
		var whole Validator
		if got := whole.Write(p) && whole.Complete(); got != want {
			t.Fatalf("Validator on %x whole = %v, want %v", p, got, want)
		}
		// Split anywhere, the incremental check agrees, and never fails
		// on a prefix of valid text.
		if split < 0 {
			split = -split
		}
		if len(p) > 0 {
			split %= len(p) + 1
		} else {
			split = 0
		}
		var v Validator
		ok1 := v.Write(p[:split])
		if want && !ok1 {
			t.Fatalf("failed on a prefix of valid text %x", p[:split])
		}
		got := ok1 && v.Write(p[split:]) && v.Complete()
		if got != want {
			t.Fatalf("split validation of %x at %d = %v, want %v", p, split, got, want)
		}
	})
}
