package autobahn

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// This file is the suite's own permessage-deflate (RFC 7692): the extension
// header grammar, the negotiation rules both ends are judged by, and a codec
// built on the standard library's compress/flate. It shares nothing with the
// library's internal/pmdeflate, so the suite judges the library independently.

// deflateExtensionName is the extension token of RFC 7692 §7.
const deflateExtensionName = "permessage-deflate"

// deflateMaxWindowBits is the largest LZ77 window, 2^15 = 32 KiB (RFC 1951),
// used when no max_window_bits parameter limits a direction.
const deflateMaxWindowBits = 15

// deflateTail is the end of the empty stored block a sender strips from each
// compressed message and the receiver appends again (RFC 7692 §7.2.1, §7.2.2).
var deflateTail = [4]byte{0x00, 0x00, 0xff, 0xff}

// errDeflateHeader is wrapped by every error about a Sec-WebSocket-Extensions
// value or the permessage-deflate parameters in it.
var errDeflateHeader = errors.New("bad Sec-WebSocket-Extensions")

// errDeflateData is wrapped by every error about a compressed message.
var errDeflateData = errors.New("bad permessage-deflate data")

// extensionParam is one parameter of an extension element.
type extensionParam struct {
	name, value string
	hasValue    bool
}

// extensionElem is one element of a Sec-WebSocket-Extensions list.
type extensionElem struct {
	name   string
	params []extensionParam
}

// parseExtensionList parses Sec-WebSocket-Extensions values by the grammar of
// RFC 6455 §9.1: comma-separated elements, each a token followed by
// ';'-separated parameters whose value is a token or a quoted string that is
// a token once unquoted. Several header lines form one list.
func parseExtensionList(values []string) ([]extensionElem, error) {
	var out []extensionElem
	for _, v := range values {
		for _, part := range splitExtensionList(v, ',') {
			if strings.TrimSpace(part) == "" {
				continue // RFC 9110 §5.6.1: empty list elements are ignored.
			}
			fields := splitExtensionList(part, ';')
			name := strings.TrimSpace(fields[0])
			if !isExtensionToken(name) {
				return nil, fmt.Errorf("%w: extension name %q is not a token", errDeflateHeader, name)
			}
			e := extensionElem{name: name}
			for _, f := range fields[1:] {
				p, err := parseExtensionParam(f)
				if err != nil {
					return nil, err
				}
				e.params = append(e.params, p)
			}
			out = append(out, e)
		}
	}
	return out, nil
}

func parseExtensionParam(f string) (extensionParam, error) {
	name, value, hasValue := strings.Cut(f, "=")
	name = strings.TrimSpace(name)
	if !isExtensionToken(name) {
		return extensionParam{}, fmt.Errorf("%w: parameter name %q is not a token", errDeflateHeader, name)
	}
	if !hasValue {
		return extensionParam{name: name}, nil
	}
	value = strings.TrimSpace(value)
	if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
		var b strings.Builder
		for i := 1; i < len(value)-1; i++ {
			c := value[i]
			if c == '\\' && i+1 < len(value)-1 {
				i++
				c = value[i]
			}
			b.WriteByte(c)
		}
		value = b.String()
	}
	if !isExtensionToken(value) {
		return extensionParam{}, fmt.Errorf("%w: value %q of %s is not a token", errDeflateHeader, value, name)
	}
	return extensionParam{name: name, value: value, hasValue: true}, nil
}

// splitExtensionList splits s at sep where sep is not inside a quoted string.
func splitExtensionList(s string, sep byte) []string {
	var parts []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == sep:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// isExtensionToken reports whether s is an RFC 9110 token.
func isExtensionToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}

// deflateParams are the parameters of one permessage-deflate offer or
// response as written on the wire (RFC 7692 §7.1). A window of 0 means the
// parameter is absent; clientBitsSeen tells a client_max_window_bits without
// a value (allowed in an offer only) from an absent one.
type deflateParams struct {
	serverNoContextTakeover bool
	clientNoContextTakeover bool
	serverMaxWindowBits     int
	clientMaxWindowBits     int
	clientBitsSeen          bool
}

// String formats p as a Sec-WebSocket-Extensions element.
func (p deflateParams) String() string {
	s := deflateExtensionName
	if p.serverNoContextTakeover {
		s += "; server_no_context_takeover"
	}
	if p.clientNoContextTakeover {
		s += "; client_no_context_takeover"
	}
	if p.serverMaxWindowBits != 0 {
		s += "; server_max_window_bits=" + strconv.Itoa(p.serverMaxWindowBits)
	}
	switch {
	case p.clientMaxWindowBits != 0:
		s += "; client_max_window_bits=" + strconv.Itoa(p.clientMaxWindowBits)
	case p.clientBitsSeen:
		s += "; client_max_window_bits"
	}
	return s
}

// parseDeflateParams checks the parameters of one permessage-deflate element:
// only the four of RFC 7692 §7.1, each at most once, no value on the
// no_context_takeover ones, window bits 8 to 15 without leading zeroes, a
// value on server_max_window_bits always and on client_max_window_bits in a
// response (§7.1.2.2).
func parseDeflateParams(ps []extensionParam, response bool) (deflateParams, error) {
	var p deflateParams
	seen := map[string]bool{}
	for _, x := range ps {
		if seen[x.name] {
			return deflateParams{}, fmt.Errorf("%w: %s appears twice", errDeflateHeader, x.name)
		}
		seen[x.name] = true
		switch x.name {
		case "server_no_context_takeover", "client_no_context_takeover":
			if x.hasValue {
				return deflateParams{}, fmt.Errorf("%w: %s takes no value", errDeflateHeader, x.name)
			}
			if x.name[0] == 's' {
				p.serverNoContextTakeover = true
			} else {
				p.clientNoContextTakeover = true
			}
		case "server_max_window_bits", "client_max_window_bits":
			client := x.name[0] == 'c'
			if !x.hasValue {
				if !client || response {
					return deflateParams{}, fmt.Errorf("%w: %s needs a value", errDeflateHeader, x.name)
				}
				p.clientBitsSeen = true
				continue
			}
			bits, err := parseWindowBits(x.value)
			if err != nil {
				return deflateParams{}, fmt.Errorf("%w: %s: %w", errDeflateHeader, x.name, err)
			}
			if client {
				p.clientMaxWindowBits, p.clientBitsSeen = bits, true
			} else {
				p.serverMaxWindowBits = bits
			}
		default:
			return deflateParams{}, fmt.Errorf("%w: unknown parameter %s", errDeflateHeader, x.name)
		}
	}
	return p, nil
}

func parseWindowBits(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 8 || n > deflateMaxWindowBits || strconv.Itoa(n) != v {
		return 0, fmt.Errorf("window bits %q are not a number from 8 to 15", v)
	}
	return n, nil
}

// deflateOffers parses a client's Sec-WebSocket-Extensions values and returns
// its permessage-deflate offers in order. Elements of other extensions are
// skipped; a malformed header or offer is an error, since a conforming client
// sends none.
func deflateOffers(values []string) ([]deflateParams, error) {
	elems, err := parseExtensionList(values)
	if err != nil {
		return nil, err
	}
	var offers []deflateParams
	for _, e := range elems {
		if e.name != deflateExtensionName {
			continue
		}
		p, err := parseDeflateParams(e.params, false)
		if err != nil {
			return nil, err
		}
		offers = append(offers, p)
	}
	return offers, nil
}

// deflateConfig is what one connection negotiated: for each direction,
// whether its sender keeps context between messages and the base-2 logarithm
// of its LZ77 window.
type deflateConfig struct {
	serverNoContextTakeover bool
	clientNoContextTakeover bool
	serverMaxWindowBits     int
	clientMaxWindowBits     int
}

// String names the configuration the way a response would write it.
func (c deflateConfig) String() string {
	return fmt.Sprintf("server_no_context_takeover=%t client_no_context_takeover=%t server_max_window_bits=%d client_max_window_bits=%d",
		c.serverNoContextTakeover, c.clientNoContextTakeover, c.serverMaxWindowBits, c.clientMaxWindowBits)
}

// checkDeflateResponse is the client side of RFC 7692 §7.1: it checks a
// server's Sec-WebSocket-Extensions values against the offers the client sent
// and returns the negotiated configuration. ok is false, with no error, when
// the server accepted no extension. A response must accept exactly one
// extension, permessage-deflate, with parameters some offer allows: a
// requested server_no_context_takeover echoed, a requested
// server_max_window_bits answered with the same or a smaller value,
// client_max_window_bits only when offered and no larger than its offered
// value.
func checkDeflateResponse(values []string, offers []deflateParams) (cfg deflateConfig, ok bool, err error) {
	elems, err := parseExtensionList(values)
	if err != nil {
		return deflateConfig{}, false, err
	}
	switch {
	case len(elems) == 0:
		return deflateConfig{}, false, nil
	case len(elems) > 1:
		return deflateConfig{}, false, fmt.Errorf("%w: server accepted %d extensions, one was offered", errDeflateHeader, len(elems))
	case elems[0].name != deflateExtensionName:
		return deflateConfig{}, false, fmt.Errorf("%w: server accepted %q, which was not offered", errDeflateHeader, elems[0].name)
	}
	resp, err := parseDeflateParams(elems[0].params, true)
	if err != nil {
		return deflateConfig{}, false, err
	}
	var reasons []string
	for _, o := range offers {
		cfg, err := deflateResponseTo(o, resp)
		if err == nil {
			return cfg, true, nil
		}
		reasons = append(reasons, err.Error())
	}
	return deflateConfig{}, false, fmt.Errorf("%w: %q answers no offer: %s", errDeflateHeader, resp, strings.Join(reasons, "; "))
}

// deflateResponseTo checks resp as the answer to offer o.
func deflateResponseTo(o, resp deflateParams) (deflateConfig, error) {
	if o.serverNoContextTakeover && !resp.serverNoContextTakeover {
		return deflateConfig{}, fmt.Errorf("offer %q: server_no_context_takeover was requested but not echoed (RFC 7692 §7.1.1.1)", o)
	}
	if o.serverMaxWindowBits != 0 && (resp.serverMaxWindowBits == 0 || resp.serverMaxWindowBits > o.serverMaxWindowBits) {
		return deflateConfig{}, fmt.Errorf("offer %q: server_max_window_bits must be answered with %d or less (RFC 7692 §7.1.2.1)", o, o.serverMaxWindowBits)
	}
	if resp.clientBitsSeen {
		if !o.clientBitsSeen {
			return deflateConfig{}, fmt.Errorf("offer %q: client_max_window_bits was not offered (RFC 7692 §7.1.2.2)", o)
		}
		if o.clientMaxWindowBits != 0 && resp.clientMaxWindowBits > o.clientMaxWindowBits {
			return deflateConfig{}, fmt.Errorf("offer %q: client_max_window_bits=%d is above the offered %d", o, resp.clientMaxWindowBits, o.clientMaxWindowBits)
		}
	}
	return deflateConfig{
		serverNoContextTakeover: resp.serverNoContextTakeover,
		clientNoContextTakeover: resp.clientNoContextTakeover,
		serverMaxWindowBits:     deflateBitsOr(resp.serverMaxWindowBits),
		clientMaxWindowBits:     deflateBitsOr(resp.clientMaxWindowBits),
	}, nil
}

func deflateBitsOr(b int) int {
	if b == 0 {
		return deflateMaxWindowBits
	}
	return b
}

// deflateAcceptance is how the suite, as the server, answers an offer: the
// client_no_context_takeover and client_max_window_bits it requests of the
// client (0: none). Like Autobahn, it echoes what the offer asks of the
// server.
type deflateAcceptance struct {
	clientNoContextTakeover bool
	clientMaxWindowBits     int
}

// answer returns the response to offer o and whether a can be used with it:
// client_max_window_bits may only be requested of a client that offered the
// parameter (RFC 7692 §7.1.2.2), and then no larger than its offered value.
func (a deflateAcceptance) answer(o deflateParams) (deflateParams, deflateConfig, bool) {
	if a.clientMaxWindowBits != 0 && !o.clientBitsSeen {
		return deflateParams{}, deflateConfig{}, false
	}
	resp := deflateParams{
		serverNoContextTakeover: o.serverNoContextTakeover,
		serverMaxWindowBits:     o.serverMaxWindowBits,
		clientNoContextTakeover: a.clientNoContextTakeover,
		clientMaxWindowBits:     a.clientMaxWindowBits,
		clientBitsSeen:          a.clientMaxWindowBits != 0,
	}
	if o.clientMaxWindowBits != 0 && resp.clientMaxWindowBits > o.clientMaxWindowBits {
		resp.clientMaxWindowBits = o.clientMaxWindowBits
	}
	cfg, err := deflateResponseTo(o, resp)
	return resp, cfg, err == nil
}

// deflateCompressor compresses the messages one endpoint sends, within the
// window and context rules negotiated for its direction.
//
// The standard library's compressor always uses a 32 KiB window, so it alone
// decides how to stay inside a smaller one. With a 15-bit window it runs as
// the RFC intends: one flate stream for the whole connection under context
// takeover, flushed at the end of each message, or a fresh stream per message
// without it. With a smaller window it never keeps context (a sender may
// always choose not to, RFC 7692 §7.2.1) and compresses each message with a
// fresh stream: a message no longer than the window gets full LZ77, since
// no back-reference in a fresh stream can reach farther than the message
// itself; a longer one gets Huffman-only blocks, which hold no
// back-references at all. The peer's decompressor is thus exercised with
// back-references under every window the suite negotiates.
type deflateCompressor struct {
	bits        int
	takeover    bool
	buf         bytes.Buffer
	lz          *flate.Writer
	inflateCode *flate.Writer
}

// newDeflateCompressor returns a compressor for a direction with a window of
// 2^bits bytes that may keep context between messages when takeover is true.
func newDeflateCompressor(bits int, takeover bool) *deflateCompressor {
	return &deflateCompressor{bits: bits, takeover: takeover && bits == deflateMaxWindowBits}
}

// compress returns the payload of the compressed message msg: its DEFLATE
// data ending in a sync flush, without the flush's last four octets
// (RFC 7692 §7.2.1).
func (c *deflateCompressor) compress(msg []byte) ([]byte, error) {
	c.buf.Reset()
	var w *flate.Writer
	var err error
	switch {
	case c.bits < deflateMaxWindowBits && len(msg) > 1<<c.bits:
		if c.inflateCode == nil {
			c.inflateCode, err = flate.NewWriter(&c.buf, flate.HuffmanOnly)
		} else {
			c.inflateCode.Reset(&c.buf)
		}
		w = c.inflateCode
	case c.lz == nil:
		c.lz, err = flate.NewWriter(&c.buf, flate.DefaultCompression)
		w = c.lz
	default:
		if !c.takeover {
			c.lz.Reset(&c.buf)
		}
		w = c.lz
	}
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(msg); err != nil {
		return nil, err
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	out := c.buf.Bytes()
	if !bytes.HasSuffix(out, deflateTail[:]) {
		return nil, fmt.Errorf("%w: sync flush did not end in 00 00 ff ff", errDeflateData)
	}
	return bytes.Clone(out[:len(out)-len(deflateTail)]), nil
}

// deflateDecompressor decompresses the messages one endpoint receives and
// judges them by the parameters negotiated for the sender's direction.
//
// The standard library's inflater produces the message. Under context
// takeover it is primed with the last 2^bits bytes of earlier messages, and
// without it with nothing, so a back-reference into an earlier message that
// the sender was not allowed to make fails. A back-reference within one
// message that reaches beyond a window below 15 bits is invisible to that
// inflater; the suite's strict inflater (deflate_strict.go) decodes every
// message a second time to catch it, and its output must equal the standard
// library's.
type deflateDecompressor struct {
	bits     int
	takeover bool
	hist     []byte
	fr       io.ReadCloser
}

// newDeflateDecompressor returns a decompressor for messages sent with a
// window of 2^bits bytes and, when takeover is true, context kept between
// messages.
func newDeflateDecompressor(bits int, takeover bool) *deflateDecompressor {
	return &deflateDecompressor{bits: bits, takeover: takeover}
}

// decompress returns the message whose compressed payload is p. A message
// that would grow beyond limit bytes is an error.
func (d *deflateDecompressor) decompress(p []byte, limit int) ([]byte, error) {
	src := make([]byte, 0, len(p)+len(deflateTail))
	src = append(append(src, p...), deflateTail[:]...)
	var dict []byte
	if d.takeover {
		dict = d.hist
	}
	if d.fr == nil {
		d.fr = flate.NewReaderDict(bytes.NewReader(src), dict)
	} else if err := d.fr.(flate.Resetter).Reset(bytes.NewReader(src), dict); err != nil {
		return nil, err
	}
	// The strict inflater goes first for its more precise errors.
	strict, err := strictInflate(src, dict, 1<<d.bits, limit)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errDeflateData, err)
	}
	var out bytes.Buffer
	_, err = io.Copy(&out, io.LimitReader(d.fr, int64(limit)+1))
	// A stream ending in a sync flush has no final block, so the standard
	// library reports io.ErrUnexpectedEOF once all input is used; a sender
	// may also end a message with a final block (RFC 7692 §7.2.3.3).
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("%w: %w", errDeflateData, err)
	}
	msg := out.Bytes()
	if !bytes.Equal(strict, msg) {
		return nil, fmt.Errorf("%w: the suite's two inflaters disagree (%d and %d bytes)", errDeflateData, len(strict), len(msg))
	}
	if d.takeover {
		d.hist = appendDeflateWindow(d.hist, msg, 1<<d.bits)
	}
	return msg, nil
}

// appendDeflateWindow appends p to the window w and keeps its last size bytes.
func appendDeflateWindow(w, p []byte, size int) []byte {
	if len(p) >= size {
		return append(w[:0], p[len(p)-size:]...)
	}
	if drop := len(w) + len(p) - size; drop > 0 {
		w = append(w[:0], w[drop:]...)
	}
	return append(w, p...)
}
