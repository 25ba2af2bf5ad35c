package pmdeflate_test

import (
	"bytes"
	"fmt"
	"io"

	"github.com/duplexws/websocket/internal/pmdeflate"
)

// A server answers a browser's offer, then both ends exchange a message.
func Example() {
	cfg := pmdeflate.Params{}
	offer := pmdeflate.Offer(cfg)
	params, response, ok := pmdeflate.Negotiate([]string{offer}, cfg)
	fmt.Println(offer)
	fmt.Println(response, ok)
	clientParams, _, err := pmdeflate.ParseAnswer([]string{response}, cfg)
	if err != nil {
		panic(err)
	}

	server := pmdeflate.NewState(params, true, 1)
	client := pmdeflate.NewState(clientParams, false, 1)

	// Write path: the payload of the first frame, which gets RSV1.
	var payload bytes.Buffer
	w := server.Writer(&payload)
	io.WriteString(w, "hello, hello, hello")
	if err := w.Close(); err != nil {
		panic(err)
	}

	// Read path: the limit is the connection's read limit.
	r := client.Reader(&payload, 1<<20)
	msg, err := io.ReadAll(r)
	r.Close()
	fmt.Printf("%s %v\n", msg, err)
	// Output:
	// permessage-deflate; client_max_window_bits
	// permessage-deflate; server_max_window_bits=12; client_max_window_bits=12 true
	// hello, hello, hello <nil>
}
