package bench

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Frame opcodes the raw client uses (RFC 6455 §5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// clientKey is the Sec-WebSocket-Key of every raw client. A fixed key is
// enough for a benchmark: the servers check its form, not its freshness.
const clientKey = "ZHVwbGV4LWJlbmNoLWtleQ=="

// clientMask is the masking key of every frame the raw client sends, so that
// a frame can be built once and written many times.
const clientMask = 0x37fa213d

// errServerClosed reports a close frame from the server.
var errServerClosed = errors.New("bench: server sent a close frame")

// rawClient is a minimal WebSocket client with the same small, fixed cost
// whichever server it talks to: it writes frames masked in advance and reads
// whole messages into one reused buffer.
type rawClient struct {
	nc  net.Conn
	br  *bufio.Reader
	msg []byte
	hdr [8]byte
}

// dialRaw connects to ws://addr+path and completes the opening handshake.
func dialRaw(ctx context.Context, addr, path string, readBuffer int) (*rawClient, error) {
	return dialRawProtocol(ctx, addr, path, "", readBuffer)
}

// dialRawProtocol is dialRaw offering the subprotocol protocol, unless "".
func dialRawProtocol(ctx context.Context, addr, path, protocol string, readBuffer int) (*rawClient, error) {
	d := net.Dialer{KeepAlive: -1} // as the servers' listeners (serveChild)
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
		defer nc.SetDeadline(time.Time{})
	}
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + clientKey +
		"\r\nSec-WebSocket-Version: 13\r\n"
	if protocol != "" {
		req += "Sec-WebSocket-Protocol: " + protocol + "\r\n"
	}
	req += "\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		nc.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(nc, readBuffer)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		nc.Close()
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		nc.Close()
		return nil, fmt.Errorf("bench: handshake with %s%s: status %s", addr, path, resp.Status)
	}
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != acceptKey(clientKey) {
		nc.Close()
		return nil, fmt.Errorf("bench: handshake with %s%s: Sec-WebSocket-Accept %q", addr, path, got)
	}
	return &rawClient{nc: nc, br: br}, nil
}

// acceptKey is the Sec-WebSocket-Accept answer to key (RFC 6455 §4.2.2).
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// maskedFrame returns a final client frame of opcode op carrying payload,
// masked with clientMask.
func maskedFrame(op byte, payload []byte) []byte {
	n := len(payload)
	f := make([]byte, 0, 14+n)
	f = append(f, 0x80|op)
	switch {
	case n < 126:
		f = append(f, 0x80|byte(n))
	case n <= 0xffff:
		f = append(f, 0x80|126)
		f = binary.BigEndian.AppendUint16(f, uint16(n))
	default:
		f = append(f, 0x80|127)
		f = binary.BigEndian.AppendUint64(f, uint64(n))
	}
	f = binary.BigEndian.AppendUint32(f, clientMask)
	key := f[len(f)-4:]
	for i, b := range payload {
		f = append(f, b^key[i&3])
	}
	return f
}

// write sends an encoded frame.
func (c *rawClient) write(frame []byte) error {
	_, err := c.nc.Write(frame)
	return err
}

// readMessage reads the next data message whole, answering pings on the way.
// The payload is valid until the next call.
func (c *rawClient) readMessage() (op byte, p []byte, err error) {
	c.msg = c.msg[:0]
	hdr := c.hdr[:]
	for {
		if _, err := io.ReadFull(c.br, hdr[:2]); err != nil {
			return 0, nil, err
		}
		fin := hdr[0]&0x80 != 0
		fop := hdr[0] & 0x0f
		if hdr[1]&0x80 != 0 {
			return 0, nil, errors.New("bench: masked frame from the server")
		}
		n := uint64(hdr[1] & 0x7f)
		switch n {
		case 126:
			if _, err := io.ReadFull(c.br, hdr[:2]); err != nil {
				return 0, nil, err
			}
			n = uint64(binary.BigEndian.Uint16(hdr[:2]))
		case 127:
			if _, err := io.ReadFull(c.br, hdr[:8]); err != nil {
				return 0, nil, err
			}
			n = binary.BigEndian.Uint64(hdr[:8])
		}
		if n > maxMessage || uint64(len(c.msg))+n > maxMessage {
			return 0, nil, fmt.Errorf("bench: server frame of %d bytes", n)
		}
		start := len(c.msg)
		c.msg = append(c.msg, make([]byte, n)...)
		if _, err := io.ReadFull(c.br, c.msg[start:]); err != nil {
			return 0, nil, err
		}
		switch fop {
		case opClose:
			return 0, nil, errServerClosed
		case opPing:
			pong := maskedFrame(opPong, c.msg[start:])
			c.msg = c.msg[:start]
			if err := c.write(pong); err != nil {
				return 0, nil, err
			}
			continue
		case opPong:
			c.msg = c.msg[:start]
			continue
		case opText, opBinary:
			op = fop
		case opContinuation:
		default:
			return 0, nil, fmt.Errorf("bench: server frame with opcode %#x", fop)
		}
		if fin {
			return op, c.msg, nil
		}
	}
}

// close drops the TCP connection without a closing handshake.
func (c *rawClient) close() error { return c.nc.Close() }
