//go:build js && wasm

// Command wasmdemo is package webapi running in a web page: built with
// GOOS=js GOARCH=wasm and started by the page with wasm_exec.js, it opens a
// WebSocket to the echo endpoint /echo of the page's own server through the
// browser's WebSocket, sends a text and a binary message, waits for both to
// come back, and closes with code 4000. Then it opens one to /nowhere, where
// the server answers no handshake, and sees that connection fail.
//
// It reports what it saw as JSON in the global variable wasmResult, which the
// page's scripts (and TestWasmInChromium in internal/interop) read, and logs it to the
// console.
//
//	GOOS=js GOARCH=wasm go build -o demo.wasm ./webapi/internal/wasmdemo
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"syscall/js"

	"github.com/duplexws/websocket/webapi"
)

// result is what the program reports to the page.
type result struct {
	// Checks lists the outcome of the rules checked before connecting.
	Checks []string `json:"checks"`
	// URL is the WebSocket's URL, resolved against the page's.
	URL string `json:"url"`
	// Events names the events in the order they came, each with the
	// ReadyState seen in its handler, for example "open:OPEN".
	Events []string `json:"events"`
	// Messages describes each message received: "text:" and the string, or
	// "binary:" and the bytes in hex.
	Messages []string `json:"messages"`
	// Close is the close event.
	Close webapi.CloseEvent `json:"close"`
	// FailureEvents and FailureClose are Events and Close of the
	// connection to /nowhere.
	FailureEvents []string          `json:"failureEvents"`
	FailureClose  webapi.CloseEvent `json:"failureClose"`
	// Errors lists what went wrong, if anything did.
	Errors []string `json:"errors"`
}

func main() {
	var res result
	fail := func(format string, args ...any) { res.Errors = append(res.Errors, fmt.Sprintf(format, args...)) }

	// The constructor's rules hold in the browser too.
	if _, err := webapi.New("ftp://example.com/"); errors.Is(err, webapi.ErrSyntax) {
		res.Checks = append(res.Checks, "bad scheme: SyntaxError")
	} else {
		fail("New with an ftp URL: %v", err)
	}

	ws, err := webapi.New("/echo")
	if err != nil {
		fail("New: %v", err)
		report(res)
		return
	}
	res.URL = ws.URL()
	if err := ws.SendText("too early"); errors.Is(err, webapi.ErrInvalidState) {
		res.Checks = append(res.Checks, "send while CONNECTING: InvalidStateError")
	} else {
		fail("SendText while CONNECTING: %v", err)
	}
	if err := ws.SetBinaryType(webapi.BinaryArrayBuffer); err != nil {
		fail("SetBinaryType: %v", err)
	}

	done := make(chan struct{})
	seen := func(name string) { res.Events = append(res.Events, name+":"+ws.ReadyState().String()) }
	ws.SetHandlers(webapi.Handlers{
		OnOpen: func(webapi.OpenEvent) {
			seen("open")
			if err := ws.SendText("hello from Go"); err != nil {
				fail("SendText: %v", err)
			}
			if err := ws.SendBinary([]byte{0, 1, 2, 0xfe, 0xff}); err != nil {
				fail("SendBinary: %v", err)
			}
		},
		OnMessage: func(ev webapi.MessageEvent) {
			seen("message")
			switch d := ev.Data.(type) {
			case string:
				res.Messages = append(res.Messages, "text:"+d)
			case []byte:
				res.Messages = append(res.Messages, fmt.Sprintf("binary:%x", d))
			default:
				fail("message of type %T", d)
			}
			if len(res.Messages) == 2 {
				if err := ws.Close(4000, "done from Go"); err != nil {
					fail("Close: %v", err)
				}
			}
		},
		OnError: func(ev webapi.ErrorEvent) {
			seen("error")
			fail("error event: %v", ev.Err)
		},
		OnClose: func(ev webapi.CloseEvent) {
			seen("close")
			res.Close = ev
			close(done)
		},
	})
	<-done

	ws, err = webapi.New("/nowhere")
	if err != nil {
		fail("New: %v", err)
		report(res)
		return
	}
	for ev := range ws.Events() {
		res.FailureEvents = append(res.FailureEvents, ev.Type()+":"+ws.ReadyState().String())
		if ce, ok := ev.(webapi.CloseEvent); ok {
			res.FailureClose = ce
		}
	}
	report(res)
}

// report hands the result to the page.
func report(res result) {
	b, err := json.Marshal(res)
	if err != nil {
		b = []byte(fmt.Sprintf(`{"errors":[%q]}`, err.Error()))
	}
	js.Global().Get("console").Call("log", "wasmdemo: "+string(b))
	js.Global().Set("wasmResult", string(b))
}
