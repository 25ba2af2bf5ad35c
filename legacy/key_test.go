package legacy

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// The two worked examples of draft-hixie-thewebsocketprotocol-76 (§1.3 and
// §5.2); the second is the one every implementation tests against.
var draftExamples = []struct {
	name             string
	key1, key2, key3 string
	answer           string
}{
	{
		name:   "section 1.3",
		key1:   "4 @1  46546xW%0l 1 5",
		key2:   "12998 5 Y3 1  .P00",
		key3:   "^n:ds[4U",
		answer: "8jKS'y:G*Co,Wxa-",
	},
	{
		name:   "section 5.2",
		key1:   "18x 6]8vM;54 *(5:  {   U1]8  z [  8",
		key2:   "1_ tx7X d  <  nw  334J702) 7]o}` 0",
		key3:   "Tm[K T2u",
		answer: "fQJ,fN/4F4!~K~MH",
	},
}

func TestChallengeAnswerDraftExamples(t *testing.T) {
	t.Parallel()
	for _, ex := range draftExamples {
		t.Run(ex.name, func(t *testing.T) {
			n1, err := parseKey(ex.key1)
			if err != nil {
				t.Fatal(err)
			}
			n2, err := parseKey(ex.key2)
			if err != nil {
				t.Fatal(err)
			}
			got := challengeAnswer(n1, n2, []byte(ex.key3))
			if string(got[:]) != ex.answer {
				t.Fatalf("answer %q, want %q", got[:], ex.answer)
			}
		})
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		key     string
		want    uint32
		wantErr string
	}{
		{key: "18x 6]8vM;54 *(5:  {   U1]8  z [  8", want: 1868545188 / 12},
		{key: "1_ tx7X d  <  nw  334J702) 7]o}` 0", want: 1733470270 / 10},
		{key: "4 @1  46546xW%0l 1 5", want: 4146546015 / 5},
		{key: "1 2", want: 12},
		{key: "4294967295 ", want: 4294967295},
		{key: "0 0", want: 0},
		// The draft's §5.2 Key2 with its last digit changed: 1733470278 is
		// not a multiple of its 10 spaces.
		{key: "1_ tx7X d  <  nw  334J702) 7]o}` 8", wantErr: "not a multiple"},
		{key: "12345", wantErr: "no spaces"},
		{key: "  x  ", wantErr: "no digits"},
		{key: "", wantErr: "no digits"},
		{key: "4294967296 ", wantErr: "exceed"},
		{key: "99999999999999999999999 ", wantErr: "exceed"},
		{key: "7  ", wantErr: "not a multiple"},
	} {
		got, err := parseKey(tt.key)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, errKey) {
				t.Errorf("parseKey(%q) = %d, %v; want an errKey error containing %q", tt.key, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseKey(%q) = %d, %v; want %d", tt.key, got, err, tt.want)
		}
	}
}

func TestKeyNoiseIsTheDraftsAlphabet(t *testing.T) {
	t.Parallel()
	// U+0021–U+002F and U+003A–U+007E, each once.
	var want []byte
	for c := byte(0x21); c <= 0x7e; c++ {
		if c < '0' || c > '9' {
			want = append(want, c)
		}
	}
	if keyNoise != string(want) {
		t.Fatalf("keyNoise = %q, want %q", keyNoise, want)
	}
}

func TestNewKeyFollowsTheDraft(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		key, number := newKey(rng)
		got, err := parseKey(key)
		if err != nil || got != number {
			t.Fatalf("parseKey(%q) = %d, %v; newKey meant %d", key, got, err, number)
		}
		if key[0] == ' ' || key[len(key)-1] == ' ' {
			t.Fatalf("key %q starts or ends with a space", key)
		}
		spaces, noise := 0, 0
		for i := 0; i < len(key); i++ {
			switch c := key[i]; {
			case c == ' ':
				spaces++
			case c >= '0' && c <= '9':
			case strings.IndexByte(keyNoise, c) >= 0:
				noise++
			default:
				t.Fatalf("key %q has the byte %q, outside the draft's alphabet", key, c)
			}
		}
		if spaces < 1 || spaces > 12 || noise < 1 || noise > 12 {
			t.Fatalf("key %q has %d spaces and %d noise characters; the draft wants 1 to 12 of each", key, spaces, noise)
		}
	}
}
