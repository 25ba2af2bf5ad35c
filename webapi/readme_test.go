package webapi

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// TestREADMENamesMethodsThatExist checks the README's section on package
// webapi: every exported name it quotes is a method of WebSocket (or the
// type itself, or the name of a DOMException), so that it never promises
// one that is not there, as it once did with Send.
func TestREADMENamesMethodsThatExist(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "## The browser's WebSocket interface\n")
	if !ok {
		t.Fatal("README has no section on the browser's WebSocket interface")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	known := map[string]bool{"WebSocket": true}
	for _, e := range []*DOMException{ErrSyntax, ErrInvalidAccess, ErrInvalidState} {
		known[e.Name] = true
	}
	ws := reflect.TypeOf(&WebSocket{})
	names := regexp.MustCompile("`([A-Z][A-Za-z0-9]*)(\\([^`]*\\))?`").FindAllStringSubmatch(section, -1)
	if len(names) == 0 {
		t.Fatal("the section quotes no names")
	}
	for _, m := range names {
		if _, ok := ws.MethodByName(m[1]); !ok && !known[m[1]] {
			t.Errorf("README quotes %s, which WebSocket does not have", m[0])
		}
	}
}
