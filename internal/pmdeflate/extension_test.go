package pmdeflate

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseExtensions(t *testing.T) {
	t.Parallel()
	pmd := func(ps ...Param) Extension { return Extension{Name: "permessage-deflate", Params: ps} }
	flag := func(n string) Param { return Param{Name: n} }
	val := func(n, v string) Param { return Param{Name: n, Value: v, HasValue: true} }
	tests := []struct {
		name   string
		values []string
		want   []Extension
	}{
		{"none", nil, nil},
		{"blank", []string{"  "}, nil},
		{"one", []string{"permessage-deflate"}, []Extension{pmd()}},
		{"chrome", []string{"permessage-deflate; client_max_window_bits"}, []Extension{pmd(flag("client_max_window_bits"))}},
		{"no spaces", []string{"permessage-deflate;client_max_window_bits=10;server_no_context_takeover"},
			[]Extension{pmd(val("client_max_window_bits", "10"), flag("server_no_context_takeover"))}},
		{"tabs and spaces", []string{"\tpermessage-deflate \t; client_max_window_bits = 10 \t"},
			[]Extension{pmd(val("client_max_window_bits", "10"))}},
		{"quoted", []string{`permessage-deflate; server_max_window_bits="10"`}, []Extension{pmd(val("server_max_window_bits", "10"))}},
		{"quoted pair", []string{`permessage-deflate; x="a\b"`}, []Extension{pmd(val("x", "ab"))}},
		{"several", []string{"permessage-deflate; client_max_window_bits, x-webkit-deflate-frame"},
			[]Extension{pmd(flag("client_max_window_bits")), {Name: "x-webkit-deflate-frame"}}},
		{"several lines", []string{"a", "b; c=d"}, []Extension{{Name: "a"}, {Name: "b", Params: []Param{val("c", "d")}}}},
		{"empty elements", []string{", a ,, b ,"}, []Extension{{Name: "a"}, {Name: "b"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseExtensions(tt.values)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseExtensions(%q) = %+v, want %+v", tt.values, got, tt.want)
			}
		})
	}
}

func TestParseExtensionsErrors(t *testing.T) {
	t.Parallel()
	for _, v := range []string{
		";",
		"a;",
		"a; ;b",
		"a; b=",
		"a; =1",
		"a b",
		"a; b=c d",
		`a; b="10`,
		`a; b="1 0"`,
		`a; b=""`,
		`a; b="x\`,
		"a; b=\"\x01\"",
		"a\x00",
		"a; b=c; ,",
		"per(message)",
		"a; b=c=d",
	} {
		t.Run(v, func(t *testing.T) {
			if got, err := ParseExtensions([]string{v}); !errors.Is(err, ErrSyntax) {
				t.Fatalf("ParseExtensions(%q) = %+v, %v; want ErrSyntax", v, got, err)
			}
		})
	}
}
