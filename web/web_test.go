package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/duplexws/websocket/web"
)

func TestHandlerServesThePage(t *testing.T) {
	srv := httptest.NewServer(web.Handler())
	defer srv.Close()
	for _, tc := range []struct {
		path, contentType, contains string
	}{
		{"/", "text/html", `<script src="app.js">`},
		{"/style.css", "text/css", ".messages"},
		{"/app.js", "javascript", "/chat?room="},
	} {
		resp, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d", tc.path, resp.StatusCode)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.Contains(ct, tc.contentType) {
			t.Errorf("GET %s: Content-Type %q, want %s", tc.path, ct, tc.contentType)
		}
		if !strings.Contains(string(body), tc.contains) {
			t.Errorf("GET %s: body lacks %q", tc.path, tc.contains)
		}
	}
}

// externalRef matches what would make the page load something from another
// host: absolute or scheme-relative URLs in attributes, CSS url() and
// @import.
var externalRef = regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?\s*(https?:)?//|url\(\s*["']?\s*(https?:)?//|@import`)

func TestPageLoadsNothingFromElsewhere(t *testing.T) {
	srv := httptest.NewServer(web.Handler())
	defer srv.Close()
	for _, path := range []string{"/", "/style.css", "/app.js"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if m := externalRef.Find(body); m != nil {
			t.Errorf("%s refers to an external resource: %s", path, m)
		}
	}
}
