//go:build !js

package webapi_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/webapi"
)

// echoServer starts a WebSocket server that echoes every message, and
// returns its ws:// URL and a function that stops it.
func echoServer() (url string, stop func()) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, p, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, p); err != nil {
				return
			}
		}
	}))
	return "ws" + strings.TrimPrefix(srv.URL, "http"), srv.Close
}

// New connects in the background; the handlers see the connection open,
// the echoed message, and the end of the closing handshake.
func ExampleNew() {
	url, stop := echoServer()
	defer stop()

	ws, err := webapi.New(url)
	if err != nil {
		fmt.Println(err)
		return
	}
	done := make(chan struct{})
	ws.SetHandlers(webapi.Handlers{
		OnOpen: func(webapi.OpenEvent) {
			fmt.Println("open:", ws.ReadyState())
			ws.SendText("hello")
		},
		OnMessage: func(ev webapi.MessageEvent) {
			fmt.Println("message:", ev.Data)
			ws.Close(1000, "bye")
			fmt.Println("after Close:", ws.ReadyState())
		},
		OnClose: func(ev webapi.CloseEvent) {
			fmt.Println("close:", ev.Code, ev.WasClean, ws.ReadyState())
			close(done)
		},
	})
	<-done
	// Output:
	// open: OPEN
	// message: hello
	// after Close: CLOSING
	// close: 1000 true CLOSED
}

// Events delivers the same events on a channel, closed after the close
// event. With BinaryArrayBuffer a binary message arrives as a []byte.
func ExampleWebSocket_Events() {
	url, stop := echoServer()
	defer stop()

	ws, err := webapi.New(url)
	if err != nil {
		fmt.Println(err)
		return
	}
	ws.SetBinaryType(webapi.BinaryArrayBuffer)
	for ev := range ws.Events() {
		switch ev := ev.(type) {
		case webapi.OpenEvent:
			ws.SendBinary([]byte{1, 2, 3})
		case webapi.MessageEvent:
			fmt.Printf("%s %T %v\n", ev.Type(), ev.Data, ev.Data)
			ws.Close(4000, "")
		case webapi.CloseEvent:
			fmt.Println(ev.Type(), ev.Code)
		}
	}
	// Output:
	// message []uint8 [1 2 3]
	// close 4000
}

// A binary message arrives by default as a *Blob, an immutable value.
func ExampleBlob() {
	url, stop := echoServer()
	defer stop()

	ws, err := webapi.New(url)
	if err != nil {
		fmt.Println(err)
		return
	}
	for ev := range ws.Events() {
		switch ev := ev.(type) {
		case webapi.OpenEvent:
			ws.SendBinary([]byte("raw bytes"))
		case webapi.MessageEvent:
			blob := ev.Data.(*webapi.Blob)
			fmt.Println(blob.Size(), blob.Text())
			ws.Close(0, "")
		}
	}
	// Output:
	// 9 raw bytes
}

// The arguments of Close are checked as a browser checks them; the errors
// match the DOMException sentinels.
func ExampleWebSocket_Close() {
	url, stop := echoServer()
	defer stop()

	ws, err := webapi.New(url)
	if err != nil {
		fmt.Println(err)
		return
	}
	for ev := range ws.Events() {
		if _, ok := ev.(webapi.OpenEvent); !ok {
			continue
		}
		err := ws.Close(1001, "")
		fmt.Println(errors.Is(err, webapi.ErrInvalidAccess), err)
		err = ws.Close(1000, strings.Repeat("x", 124))
		fmt.Println(errors.Is(err, webapi.ErrSyntax))
		fmt.Println(ws.Close(3000, "fine"))
	}
	// Output:
	// true InvalidAccessError: the close code 1001 is neither 1000 nor in 3000–4999
	// true
	// <nil>
}

// An Agent of one's own sets other limits than the default one.
func ExampleAgent() {
	url, stop := echoServer()
	defer stop()

	agent := &webapi.Agent{MaxConnections: 1}
	first, err := agent.New(url)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = agent.New(url)
	fmt.Println(errors.Is(err, webapi.ErrTooManyConnections))

	// Closing the first makes room: it leaves the count before its close
	// event is delivered.
	first.Close(1000, "")
	for range first.Events() {
	}
	second, err := agent.New(url)
	fmt.Println(err)
	second.Close(1000, "")
	for range second.Events() {
	}
	// Output:
	// true
	// <nil>
}

// New refuses what a browser's constructor refuses, with a SyntaxError.
func ExampleNew_syntaxError() {
	_, err := webapi.New("ws://example.com/chat#room")
	fmt.Println(errors.Is(err, webapi.ErrSyntax))
	_, err = webapi.New("ws://example.com/chat", "v1", "v1")
	fmt.Println(err)
	// Output:
	// true
	// SyntaxError: the subprotocol name "v1" is given twice
}
