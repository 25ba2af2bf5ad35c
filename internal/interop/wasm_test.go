//go:build !js

package interop_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/internal/peer"
	"github.com/duplexws/websocket/webapi"
)

// wasmPage starts the Go program of webapi/internal/wasmdemo with wasm_exec.js;
// a failure to load it is reported where the program would report.
const wasmPage = `<!doctype html>
<meta charset="utf-8">
<title>webapi in WebAssembly</title>
<script src="/wasm_exec.js"></script>
<script>
"use strict";
const go = new Go();
WebAssembly.instantiateStreaming(fetch("/demo.wasm"), go.importObject)
  .then(r => go.run(r.instance))
  .catch(e => { window.wasmResult = JSON.stringify({errors: ["loading the program: " + e]}); });
</script>
`

// wasmDemo is the program of package webapi built for the browser.
const wasmDemo = "github.com/duplexws/websocket/webapi/internal/wasmdemo"

// buildWasmDemo compiles webapi/internal/wasmdemo for GOOS=js GOARCH=wasm and
// returns the program and wasm_exec.js of the same Go installation.
func buildWasmDemo(t *testing.T) (program, wasmExec []byte) {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not in PATH: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	goroot, err := exec.CommandContext(ctx, goCmd, "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	wasmExec, err = os.ReadFile(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "demo.wasm")
	build := exec.CommandContext(ctx, goCmd, "build", "-o", out, wasmDemo)
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if msg, err := build.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=js GOARCH=wasm go build %s: %v\n%s", wasmDemo, err, msg)
	}
	program, err = os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return program, wasmExec
}

// wasmResult is the JSON the program of webapi/internal/wasmdemo reports.
type wasmResult struct {
	Checks   []string
	URL      string
	Events   []string
	Messages []string
	Close    webapi.CloseEvent
	Errors   []string

	FailureEvents []string
	FailureClose  webapi.CloseEvent
}

// TestWasmInChromium runs package webapi compiled to WebAssembly in headless
// Chromium, on the browser's own WebSocket, against an echo server of ours:
// connect, send text and binary, receive both back, close with code 4000;
// then a connection the server refuses fails with an error event before its
// close event.
func TestWasmInChromium(t *testing.T) {
	browser := peer.Browser(t, 5*time.Minute)
	if browser == nil {
		return
	}
	program, wasmExec := buildWasmDemo(t)

	serverSaw := make(chan error, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(wasmPage))
	})
	mux.HandleFunc("/wasm_exec.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write(wasmExec)
	})
	mux.HandleFunc("/demo.wasm", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/wasm")
		w.Write(program)
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, p, err := c.Read(r.Context())
			if err != nil {
				serverSaw <- err
				return
			}
			if err := c.Write(r.Context(), typ, p); err != nil {
				serverSaw <- err
				return
			}
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithTimeout(browser, 2*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatalf("open the page: %v", err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Poll[string]("window.wasmResult",
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(time.Minute)))
	if err != nil {
		t.Fatalf("waiting for the program's result: %v", err)
	}
	var res wasmResult
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		t.Fatalf("the program reported %q: %v", raw, err)
	}
	t.Logf("the program reported %s", raw)

	for _, e := range res.Errors {
		t.Errorf("the program: %s", e)
	}
	for _, want := range []string{"bad scheme: SyntaxError", "send while CONNECTING: InvalidStateError"} {
		if !slices.Contains(res.Checks, want) {
			t.Errorf("checks %q lack %q", res.Checks, want)
		}
	}
	if want := "ws" + strings.TrimPrefix(srv.URL, "http") + "/echo"; res.URL != want {
		t.Errorf("URL() = %q; want %q (the relative /echo resolved against the page)", res.URL, want)
	}
	wantEvents := []string{"open:OPEN", "message:OPEN", "message:OPEN", "close:CLOSED"}
	if !slices.Equal(res.Events, wantEvents) {
		t.Errorf("events %q; want %q", res.Events, wantEvents)
	}
	wantMessages := []string{"text:hello from Go", "binary:000102feff"}
	if !slices.Equal(res.Messages, wantMessages) {
		t.Errorf("messages %q; want %q", res.Messages, wantMessages)
	}
	// The close event reports the server's answer, which repeats the code
	// without the reason.
	if res.Close != (webapi.CloseEvent{Code: 4000, WasClean: true}) {
		t.Errorf("close event %+v; want 4000, clean", res.Close)
	}

	wantFailure := []string{"error:CLOSED", "close:CLOSED"}
	if !slices.Equal(res.FailureEvents, wantFailure) {
		t.Errorf("events of the refused connection %q; want %q", res.FailureEvents, wantFailure)
	}
	if res.FailureClose != (webapi.CloseEvent{Code: 1006}) {
		t.Errorf("close event of the refused connection %+v; want 1006, not clean", res.FailureClose)
	}

	// The server saw the browser's close frame with the program's code and reason.
	select {
	case err := <-serverSaw:
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != 4000 || ce.Reason != "done from Go" {
			t.Errorf("the server's read ended with %v; want the close frame 4000, done from Go", err)
		}
	case <-ctx.Done():
		t.Fatal("the server's connection did not end")
	}
}
