package websocket

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

type point struct {
	X, Y int
	Tag  string `json:",omitempty"`
}

func TestJSONRoundTrip(t *testing.T) {
	for _, comp := range []*CompressionOptions{nil, {}} {
		url := startEcho(t, &AcceptOptions{Compression: comp})
		c := dialT(t, url, &DialOptions{Compression: comp})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, in := range []point{{1, 2, ""}, {-3, 4, "<&> \n"}, {5, 6, strings.Repeat("long ", 4000)}} {
			if err := c.WriteJSON(ctx, in); err != nil {
				t.Fatalf("WriteJSON: %v", err)
			}
			var out point
			if err := c.ReadJSON(ctx, &out); err != nil {
				t.Fatalf("ReadJSON: %v", err)
			}
			if out != in {
				t.Fatalf("echo of %+v: got %+v", in, out)
			}
		}
	}
}

func TestWriteJSONSendsOneCompactTextMessage(t *testing.T) {
	url := startEcho(t, nil)
	c := dialT(t, url, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.WriteJSON(ctx, map[string]any{"a": 1, "b": []int{2}}); err != nil {
		t.Fatal(err)
	}
	typ, p, err := c.Read(ctx)
	if err != nil || typ != MessageText || string(p) != `{"a":1,"b":[2]}` {
		t.Fatalf("Read = %v %q %v; want the text message {\"a\":1,\"b\":[2]} with no newline", typ, p, err)
	}
}

func TestWriteJSONUnencodableSendsNothing(t *testing.T) {
	url := startEcho(t, nil)
	c := dialT(t, url, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.WriteJSON(ctx, map[string]any{"ch": make(chan int)}); err == nil {
		t.Fatal("WriteJSON of a channel succeeded")
	}
	// No message was started: the next one goes out, and is the first echoed.
	if err := c.WriteJSON(ctx, point{X: 7}); err != nil {
		t.Fatalf("WriteJSON after a failed one: %v", err)
	}
	if _, p, err := c.Read(ctx); err != nil || string(p) != `{"X":7,"Y":0}` {
		t.Fatalf("Read = %q %v", p, err)
	}
}

func TestReadJSONBadMessagesLeaveConnUsable(t *testing.T) {
	url := startEcho(t, nil)
	c := dialT(t, url, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, tc := range []struct {
		msg, err string
	}{
		{`{"X":`, "unexpected EOF"},
		{``, "empty message"},
		{`{"X":1} {"X":2}`, "more than one JSON value"},
		{`{"X":"one"}`, "cannot unmarshal"},
		{`[1,2]`, "cannot unmarshal"},
		{`not json`, "invalid character"},
	} {
		if err := c.Write(ctx, MessageText, []byte(tc.msg)); err != nil {
			t.Fatal(err)
		}
		var p point
		err := c.ReadJSON(ctx, &p)
		if err == nil || !strings.Contains(err.Error(), tc.err) || errors.Is(err, ErrClosed) {
			t.Errorf("ReadJSON of %q: %v; want an error mentioning %q", tc.msg, err, tc.err)
		}
	}
	// Surrounding white space is fine, binary messages too, and the
	// connection is still up after every error above.
	for _, typ := range []MessageType{MessageText, MessageBinary} {
		if err := c.Write(ctx, typ, []byte(" \r\n\t{\"X\":9,\"Y\":8}\n\n ")); err != nil {
			t.Fatal(err)
		}
		var p point
		if err := c.ReadJSON(ctx, &p); err != nil || p != (point{X: 9, Y: 8}) {
			t.Fatalf("ReadJSON of a %v message = %+v, %v", typ, p, err)
		}
	}
}

func TestReadJSONReportsClose(t *testing.T) {
	server, client := pipePair(t)
	go server.Close(StatusGoingAway, "bye")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var p point
	err := client.ReadJSON(ctx, &p)
	if CloseStatus(err) != StatusGoingAway || strings.Contains(err.Error(), "ReadJSON") {
		t.Fatalf("ReadJSON after the peer closed: %v; want its *CloseError as is", err)
	}
}
