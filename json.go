package websocket

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ReadJSON reads the next message and decodes it as one JSON value into v,
// as json.Unmarshal would. The message is decoded as it streams in through
// [Conn.Reader], so it is held once, by the decoder, and never copied whole
// beforehand; the read limit bounds it. Text and binary messages are both
// accepted. A message that is not one JSON value (a syntax error, a value of
// the wrong type, a second value after the first) gives an error that leaves
// the connection usable: the next read starts with the next message.
func (c *Conn) ReadJSON(ctx context.Context, v any) error {
	_, r, err := c.Reader(ctx)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(r)
	if err := dec.Decode(v); err != nil {
		if err == io.EOF {
			return fmt.Errorf("websocket: ReadJSON: empty message: %w", io.ErrUnexpectedEOF)
		}
		if isConnError(err) {
			return err
		}
		return fmt.Errorf("websocket: ReadJSON: %w", err)
	}
	// Only white space may follow the value: the rest of what the decoder
	// buffered, then the rest of the message.
	if err := onlySpace(dec.Buffered()); err != nil {
		return err
	}
	return onlySpace(r)
}

// isConnError reports whether err came from the connection rather than from
// decoding: a closed connection or an ended context.
func isConnError(err error) bool {
	return errors.Is(err, ErrClosed) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// onlySpace reads r to its end and fails if it holds anything but JSON white space.
func onlySpace(r io.Reader) error {
	var buf [256]byte
	for {
		n, err := r.Read(buf[:])
		if len(bytes.TrimLeft(buf[:n], " \t\r\n")) > 0 {
			return errors.New("websocket: ReadJSON: the message holds more than one JSON value")
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// WriteJSON encodes v as JSON, as json.Marshal would, and sends it as one
// text message, without a trailing newline. The encoding goes out through
// [Conn.Writer] straight from the encoder's buffer; a value that cannot be
// encoded sends nothing.
func (c *Conn) WriteJSON(ctx context.Context, v any) error {
	w := &jsonWriter{c: c, ctx: ctx}
	err := json.NewEncoder(w).Encode(v)
	if w.openErr != nil {
		return w.openErr
	}
	if w.w == nil { // the value could not be encoded
		return fmt.Errorf("websocket: WriteJSON: %w", err)
	}
	if cerr := w.w.Close(); err == nil {
		err = cerr
	}
	return err
}

// jsonWriter opens the message's writer on the encoder's first write, so
// that a value that fails to encode starts no message. It drops the newline
// json.Encoder ends each value with: compact JSON holds no other raw newline
// (one in a string is escaped), so dropping a newline at the end of a write
// is always safe.
type jsonWriter struct {
	c       *Conn
	ctx     context.Context
	w       io.WriteCloser
	openErr error
}

func (j *jsonWriter) Write(p []byte) (int, error) {
	if j.w == nil {
		w, err := j.c.Writer(j.ctx, MessageText)
		if err != nil {
			j.openErr = err
			return 0, err
		}
		j.w = w
	}
	n := len(p)
	if n > 0 && p[n-1] == '\n' {
		p = p[:n-1]
	}
	if _, err := j.w.Write(p); err != nil {
		return 0, err
	}
	return n, nil
}
