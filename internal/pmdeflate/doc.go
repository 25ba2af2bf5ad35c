// Package pmdeflate implements the permessage-deflate WebSocket extension
// (RFC 7692): parsing Sec-WebSocket-Extensions headers, negotiating the
// extension's parameters on both ends, and compressing and decompressing
// messages with bounded memory and a decompressed-size limit.
//
// Its error messages do not name the package: they reach users inside the
// errors of package websocket, where an internal package's name means nothing.
//
// # Server negotiation
//
// Negotiate looks at the permessage-deflate offers of a request in the
// client's order and accepts the first one whose parameters are valid;
// Accept does the same and makes the server's State of the connection. Every
// valid combination of the four RFC 7692 parameters is accepted, so a valid
// offer is never declined. An offer is declined, and the next one considered,
// when it has:
//
//   - a parameter other than server_no_context_takeover,
//     client_no_context_takeover, server_max_window_bits and
//     client_max_window_bits (§7: an unknown parameter makes an offer
//     unusable);
//   - the same parameter twice;
//   - a value on server_no_context_takeover or client_no_context_takeover;
//   - server_max_window_bits without a value;
//   - a window value other than 8 to 15 written as a decimal integer without
//     leading zeroes (a quoted "10" is the same as 10).
//
// Extensions other than permessage-deflate, such as deflate-stream and
// x-webkit-deflate-frame, are never accepted. A header that does not follow
// the RFC 6455 §9.1 grammar declines compression as a whole, since where one
// offer ends cannot be known.
//
// The response to an accepted offer holds:
//
//   - server_no_context_takeover when offered (§7.1.1.1 requires echoing it)
//     or when cfg.ServerNoContextTakeover is set;
//   - client_no_context_takeover when offered (this spares keeping the
//     client's window) or when cfg.ClientNoContextTakeover is set; a server
//     may always send it (§7.1.1.2);
//   - server_max_window_bits when offered, with the offered value or the
//     server's own bound if smaller (§7.1.2.1), or unasked when the server's
//     bound is below 15. The bound is cfg.ServerMaxWindowBits; when that
//     is zero, TakeoverWindowBits (12: a 4 KiB window) if the server keeps
//     its context, else 15;
//   - client_max_window_bits only when offered (§7.1.2.2 forbids it
//     otherwise), with the offered value or the bound for the client if
//     smaller: cfg.ClientMaxWindowBits, or when that is zero
//     TakeoverWindowBits if the client keeps its context, else 15. A client
//     that did not offer the parameter is accepted with a 15-bit window even
//     when the bound is lower.
//
// The 4 KiB default under context takeover is a choice of memory over
// ratio that costs no ratio on the traffic WebSockets mostly carry: a
// direction with context takeover keeps its window between messages, on
// both ends, and on streams of small messages (JSON events of 1 KiB) a 4 KiB
// window compresses as well as a 32 KiB one. Each end then keeps 4 KiB a
// direction instead of 32. A server that wants the 32 KiB window (long
// messages that repeat each other from far back) sets the bits to 15.
//
// # Client negotiation
//
// Offer writes one offer from the Params asked for; the zero Params writes what browsers
// send, "permessage-deflate; client_max_window_bits". ParseAnswer checks the
// server's response against that offer and fails on anything the RFC does
// not let a server answer; Answered does the same and makes the client's
// State. Unoffered checks the answer to a client that offered nothing.
//
// # Compression and memory
//
// A State per connection compresses outgoing messages (State.Writer,
// State.AppendCompressed) and decompresses incoming ones (State.Reader).
// Compressors and inflaters are borrowed from pools for one message and
// returned when it ends, so an idle connection holds none. A direction
// without context takeover keeps nothing between messages; one with context
// takeover keeps only its sliding window, which grows with the data up to
// 2^bits bytes and is then a ring. An inflater is primed with the whole
// window at the start of each message; a compressor with the window's last
// three times the message's first write (at least 3 KiB, at most the whole
// window), since priming a fast compressor means compressing the dictionary,
// and the nearest data holds nearly every match.
// A window below 15 bits is honoured exactly when compressing: such
// messages use a compressor whose back-references never reach farther than
// the window. Compress makes the payload of a message shared by many
// connections (a prepared message) once.
//
// Decompression takes a limit: a message inflating beyond it stops with
// ErrTooLarge after at most limit+1 bytes were produced, with no allocation
// that grows with the message.
package pmdeflate
