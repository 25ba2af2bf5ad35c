package autobahn

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// Section 12 sends many compressed messages of one size, cut one after the
// other from a body of test data, and expects each echoed back unchanged; the
// default permessage-deflate offer is made and accepted. Subsections 12.1 to
// 12.5 differ in their data (JSON, a bitmap, prose, HTML, a PDF-like file),
// and the 18 cases of each in message size and fragmentation.

// cases12 returns section 12: every data set with every row of deflateRuns,
// the default offer from the suite as client, and any offer accepted with
// its own parameters by the suite as server.
func cases12() []Case {
	var out []Case
	for j, data := range deflateDatasets {
		for i, run := range deflateRuns {
			spec := deflateSpec{
				data:   data,
				run:    run,
				offers: []deflateParams{defaultDeflateOffer},
				accept: []deflateAcceptance{{}},
			}
			out = append(out, spec.newCase(fmt.Sprintf("12.%d.%d", j+1, i+1)))
		}
	}
	return out
}

// defaultDeflateOffer is the offer Autobahn makes by default: the client
// tells that it can do without context takeover and accepts a limit on its
// window.
var defaultDeflateOffer = deflateParams{clientNoContextTakeover: true, clientBitsSeen: true}

// deflateSpec is one case of sections 12 and 13: its data and size, the
// offers the suite makes as client and how it accepts an offer as server,
// in order of preference.
type deflateSpec struct {
	data   deflateDataset
	run    deflateRun
	offers []deflateParams
	accept []deflateAcceptance
}

func (sp deflateSpec) newCase(id string) Case {
	kind := "text"
	if sp.data.binary {
		kind = "binary"
	}
	frames := "one frame each"
	if sp.run.fragment > 0 {
		frames = fmt.Sprintf("frames of %d compressed bytes", sp.run.fragment)
	}
	offers := make([]string, len(sp.offers))
	for i, o := range sp.offers {
		offers[i] = o.String()
	}
	offer := strings.Join(offers, ", ")
	return Case{
		ID: id,
		Desc: fmt.Sprintf("Send %d compressed %s messages of %s cut from %s, in %s, offering %q; expect each echoed unchanged within %d seconds.",
			sp.run.count, kind, sizeName(sp.run.size), sp.data.desc, frames, offer, sp.run.timeoutSeconds),
		Offer:  offer,
		Answer: sp.answer,
		Run:    sp.play,
	}
}

// answer is the suite's response, as server, to the client's offers: the
// first acceptance that some offer allows, applied to the first such offer.
// A client whose offers allow none of them gets no extension.
func (sp deflateSpec) answer(offer string) string {
	offers, err := deflateOffers([]string{offer})
	if err != nil {
		return ""
	}
	for _, a := range sp.accept {
		for _, o := range offers {
			if resp, _, ok := a.answer(o); ok {
				return resp.String()
			}
		}
	}
	return ""
}

// negotiated returns what the opening handshake of s settled. ok is false
// when the peer did not take up permessage-deflate; err says what a peer
// got wrong.
func (sp deflateSpec) negotiated(s *Session) (cfg deflateConfig, ok bool, err error) {
	offers, err := deflateOffers([]string{s.Offer()})
	if err != nil {
		return deflateConfig{}, false, fmt.Errorf("the client's offer %q: %w", s.Offer(), err)
	}
	var answer []string
	if s.Answer() != "" {
		answer = []string{s.Answer()}
	}
	cfg, ok, err = checkDeflateResponse(answer, offers)
	if err != nil {
		return deflateConfig{}, false, fmt.Errorf("the server's answer %q: %w", s.Answer(), err)
	}
	return cfg, ok, nil
}

// play sends the case's messages one at a time, each once the echo of the
// one before has come back, and closes with 1000 after the last echo or at
// the first that differs. The case decides its own verdict, as Autobahn's
// does: OK when every echo came back unchanged, UNIMPLEMENTED when the peer
// did not take up permessage-deflate.
func (sp deflateSpec) play(s *Session) {
	verdict, reason := Failed, fmt.Sprintf("the case did not finish within %d seconds", sp.run.timeoutSeconds)
	s.OnEnd(func(j *Judgement) { j.Behavior, j.Reason = verdict, reason })
	s.ExpectClose(CloseExpectation{ByMe: true, Codes: []int{1000}, RequireClean: true})
	end := func(v Verdict, why string) {
		verdict, reason = v, why
		s.SendClose(1000, nil)
	}

	cfg, ok, err := sp.negotiated(s)
	switch {
	case err != nil:
		end(Failed, err.Error())
		return
	case !ok && s.IsClient():
		end(Unimplemented, fmt.Sprintf("the server declined the offer %q", s.Offer()))
		return
	case !ok:
		end(Unimplemented, fmt.Sprintf("the client's offer %q allows none of the answers the case makes", s.Offer()))
		return
	}
	sendBits, sendNCT, recvBits, recvNCT := cfg.clientMaxWindowBits, cfg.clientNoContextTakeover, cfg.serverMaxWindowBits, cfg.serverNoContextTakeover
	if !s.IsClient() {
		sendBits, sendNCT, recvBits, recvNCT = recvBits, recvNCT, sendBits, sendNCT
	}
	comp := newDeflateCompressor(sendBits, !sendNCT)
	dec := newDeflateDecompressor(recvBits, !recvNCT)
	limit := int(s.opts.maxFrame())
	s.SetDecoder(func(rsv byte, p []byte) ([]byte, error) {
		if rsv != rsv1 {
			return nil, fmt.Errorf("RSV bits %03b: permessage-deflate defines only RSV1", rsv)
		}
		return dec.decompress(p, limit)
	})

	opcode := byte(opText)
	if sp.data.binary {
		opcode = opBinary
	}
	count := sp.run.count
	if m := s.opts.Messages; m > 0 && m < count {
		count = m
	}
	deadline := time.Now().Add(s.Seconds(float64(sp.run.timeoutSeconds)))
	cut := &deflateCutter{data: sp.data.generate()}
	seen := 0 // events looked at
	for i := range count {
		msg := cut.next(sp.run.size)
		payload, err := comp.compress(msg)
		if err != nil {
			end(Failed, fmt.Sprintf("the suite could not compress message %d: %v", i+1, err))
			return
		}
		sp.send(s, opcode, payload)
		echo, ok := nextMessage(s, &seen, deadline)
		if !ok {
			if s.Open() {
				s.SendClose(1000, nil)
			} else {
				reason = fmt.Sprintf("the connection ended with %d of %d messages echoed", i, count)
			}
			return
		}
		if why := echoDiffers(echo, msg, sp.data.binary); why != "" {
			end(Failed, fmt.Sprintf("message %d of %d: %s", i+1, count, why))
			return
		}
	}
	end(OK, fmt.Sprintf("all %d messages came back unchanged (%s)", count, cfg))
}

// send writes one compressed message, RSV1 on its first frame only
// (RFC 7692 §6.1), cut into frames of the case's fragment size.
func (sp deflateSpec) send(s *Session, opcode byte, payload []byte) {
	size := sp.run.fragment
	if size <= 0 {
		size = len(payload)
	}
	op, rsv := opcode, byte(rsv1)
	for {
		n := min(size, len(payload))
		s.SendFrame(Frame{Fin: n == len(payload), RSV: rsv, Opcode: op, Payload: payload[:n]})
		payload, op, rsv = payload[n:], opContinuation, 0
		if len(payload) == 0 {
			return
		}
	}
}

// nextMessage waits until the deadline for the first message event after
// the *seen events looked at, skipping pings and pongs.
func nextMessage(s *Session, seen *int, deadline time.Time) (Event, bool) {
	for {
		events := s.Events()
		for ; *seen < len(events); *seen++ {
			if e := events[*seen]; e.Kind == EventMessage {
				*seen++
				return e, true
			}
		}
		if !s.WaitEvents(len(events)+1, time.Until(deadline)) {
			return Event{}, false
		}
	}
}

// echoDiffers says how an echoed message differs from the one sent, or "".
func echoDiffers(e Event, sent []byte, isBinary bool) string {
	kind := func(b bool) string {
		if b {
			return "binary"
		}
		return "text"
	}
	switch {
	case e.Binary != isBinary:
		return fmt.Sprintf("the echo is %s, the message was %s", kind(e.Binary), kind(isBinary))
	case len(e.Payload) != len(sent):
		return fmt.Sprintf("the echo has %d bytes, the message %d", len(e.Payload), len(sent))
	case !bytes.Equal(e.Payload, sent):
		return fmt.Sprintf("the echo's content differs from the message's (SHA-1 %x, sent %x)", sha1.Sum(e.Payload), sha1.Sum(sent))
	}
	return ""
}

// deflateRun is one row of the table of message sizes shared by sections 12
// and 13: how large each message is, how many are sent, the fragment size
// the compressed payload is cut into (0: one frame), and how long the case
// may take.
type deflateRun struct {
	size, count, fragment int
	timeoutSeconds        int
}

// deflateRuns are the 18 cases of every subsection of sections 12 and 13.
var deflateRuns = [18]deflateRun{
	{16, 1000, 0, 60},
	{64, 1000, 0, 60},
	{256, 1000, 0, 120},
	{1024, 1000, 0, 240},
	{4096, 1000, 0, 480},
	{8192, 1000, 0, 480},
	{16384, 1000, 0, 480},
	{32768, 1000, 0, 480},
	{65536, 1000, 0, 480},
	{131072, 1000, 0, 480},
	{8192, 1000, 256, 480},
	{16384, 1000, 256, 480},
	{32768, 1000, 256, 480},
	{65536, 1000, 256, 480},
	{131072, 1000, 256, 480},
	{131072, 1000, 1024, 480},
	{131072, 1000, 4096, 480},
	{131072, 1000, 32768, 480},
}

// deflateDataset is a body of test data messages are cut from, in order and
// wrapping around at its end. Text data sets are ASCII, so any cut of them is
// valid UTF-8.
type deflateDataset struct {
	desc     string
	binary   bool
	generate func() []byte
}

// deflateDatasets are the data of subsections 12.1 to 12.5, made up by the
// suite in the likeness of Autobahn's files: same kinds, similar sizes.
var deflateDatasets = [5]deflateDataset{
	{"Large JSON data file", false, jsonDataset},
	{"Picture, bitmap 512x512 grey", true, bitmapDataset},
	{"Human readable text, a German play", true, proseDataset},
	{"Large HTML file", false, htmlDataset},
	{"A larger PDF", true, pdfDataset},
}

// deflateCutter cuts data into consecutive messages, wrapping around at its
// end.
type deflateCutter struct {
	data []byte
	pos  int
}

func (m *deflateCutter) next(n int) []byte {
	msg := make([]byte, 0, n)
	for len(msg) < n {
		k := min(n-len(msg), len(m.data)-m.pos)
		msg = append(msg, m.data[m.pos:m.pos+k]...)
		m.pos = (m.pos + k) % len(m.data)
	}
	return msg
}

func datasetPick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

var (
	datasetFirstNames = strings.Fields("Anna Bruno Clara David Emma Felix Greta Hugo Ida Jonas Klara Lukas Mia Noah Olga Paul")
	datasetLastNames  = strings.Fields("Adler Becker Fischer Hoffmann Keller Lang Meyer Neumann Richter Schmidt Vogel Wagner Weber Zimmer")
	datasetWords      = strings.Fields("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip ex ea commodo consequat")
)

func datasetSentence(rng *rand.Rand, words []string, n int) string {
	ws := make([]string, n)
	for i := range ws {
		ws[i] = datasetPick(rng, words)
	}
	s := strings.Join(ws, " ")
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// jsonDataset is an array of records like those of a generated customer
// database: about 190 KB of ASCII JSON.
func jsonDataset() []byte {
	rng := rand.New(rand.NewPCG(12, 1))
	var b bytes.Buffer
	b.WriteString("[\n")
	for i := 0; b.Len() < 190000; i++ {
		if i > 0 {
			b.WriteString(",\n")
		}
		first, last := datasetPick(rng, datasetFirstNames), datasetPick(rng, datasetLastNames)
		fmt.Fprintf(&b, `  {"id": %d, "guid": "%08x-%04x-%04x", "isActive": %t, "balance": "$%d,%03d.%02d", "age": %d,`,
			i, rng.Uint32(), rng.IntN(1<<16), rng.IntN(1<<16), rng.IntN(2) == 0, rng.IntN(4), rng.IntN(1000), rng.IntN(100), 20+rng.IntN(50))
		fmt.Fprintf(&b, ` "name": "%s %s", "email": "%s.%s@example.com", "about": "%s",`,
			first, last, strings.ToLower(first), strings.ToLower(last), datasetSentence(rng, datasetWords, 12+rng.IntN(20)))
		fmt.Fprintf(&b, ` "latitude": %.6f, "longitude": %.6f, "tags": ["%s", "%s", "%s"],`,
			rng.Float64()*180-90, rng.Float64()*360-180, datasetPick(rng, datasetWords), datasetPick(rng, datasetWords), datasetPick(rng, datasetWords))
		fmt.Fprintf(&b, ` "friends": [{"id": 0, "name": "%s %s"}, {"id": 1, "name": "%s %s"}]}`,
			datasetPick(rng, datasetFirstNames), datasetPick(rng, datasetLastNames), datasetPick(rng, datasetFirstNames), datasetPick(rng, datasetLastNames))
	}
	b.WriteString("\n]\n")
	return b.Bytes()
}

// bitmapDataset is a 512x512 8-bit grey BMP file of smooth shapes with some
// noise, like a photograph: 263,222 bytes.
func bitmapDataset() []byte {
	const w, h, palette = 512, 512, 256 * 4
	const offset = 14 + 40 + palette
	b := make([]byte, offset, offset+w*h)
	copy(b, "BM")
	binary.LittleEndian.PutUint32(b[2:], offset+w*h)
	binary.LittleEndian.PutUint32(b[10:], offset)
	info := b[14:]
	binary.LittleEndian.PutUint32(info[0:], 40)
	binary.LittleEndian.PutUint32(info[4:], w)
	binary.LittleEndian.PutUint32(info[8:], h)
	binary.LittleEndian.PutUint16(info[12:], 1)
	binary.LittleEndian.PutUint16(info[14:], 8)
	binary.LittleEndian.PutUint32(info[20:], w*h)
	binary.LittleEndian.PutUint32(info[32:], 256)
	for i := range 256 {
		p := b[54+4*i:]
		p[0], p[1], p[2] = byte(i), byte(i), byte(i)
	}
	rng := rand.New(rand.NewPCG(12, 2))
	for y := range h {
		for x := range w {
			v := 128 + 60*math.Sin(float64(x)/37)*math.Cos(float64(y)/23) + 30*math.Sin(float64(x+y)/71) + float64(rng.IntN(17)-8)
			b = append(b, byte(max(0, min(255, v))))
		}
	}
	return b
}

// proseDataset is a play in German, speakers and verses, with umlauts in
// UTF-8: about 220 KB, sent as binary messages as Autobahn sends its text.
func proseDataset() []byte {
	rng := rand.New(rand.NewPCG(12, 3))
	words := strings.Fields("und der die das ich nicht zu mir mich ein sich du mit es so wie auf dem was ist den auch mein wenn nur noch dich dir " +
		"Welt Geist Herz Nacht Tag Himmel Erde Leben Seele Blut Gott Teufel Liebe Kraft Natur Wissen Buch Traum Glück Schmerz " +
		"schön süß größer hören fühlen träumen müssen können möchte würde blühen glühen öffnen schließen grün früh spät")
	speakers := strings.Fields("FAUST. MEPHISTOPHELES. GRETCHEN. WAGNER. MARTHE. CHOR. SCHÜLER.")
	var b bytes.Buffer
	for scene := 1; b.Len() < 220000; scene++ {
		fmt.Fprintf(&b, "\n\n%d. Szene\n\n", scene)
		for range 10 + rng.IntN(20) {
			fmt.Fprintf(&b, "%s\n", datasetPick(rng, speakers))
			for range 1 + rng.IntN(6) {
				line := datasetSentence(rng, words, 5+rng.IntN(5))
				b.WriteString(strings.TrimSuffix(line, ".") + datasetPick(rng, []string{",", ";", "!", "?", "."}) + "\n")
			}
			b.WriteString("\n")
		}
	}
	return b.Bytes()
}

// htmlDataset is an HTML page of navigation, sections, tables and links:
// about 84 KB of ASCII.
func htmlDataset() []byte {
	rng := rand.New(rand.NewPCG(12, 4))
	var b bytes.Buffer
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Data</title>\n" +
		"<link rel=\"stylesheet\" href=\"/static/site.css\">\n</head>\n<body>\n<nav class=\"top\"><ul>\n")
	for i := range 20 {
		fmt.Fprintf(&b, "  <li class=\"nav-item\"><a href=\"/section/%d\">%s</a></li>\n", i, datasetPick(rng, datasetWords))
	}
	b.WriteString("</ul></nav>\n<main>\n")
	for i := 0; b.Len() < 83000; i++ {
		fmt.Fprintf(&b, "<section id=\"s%d\">\n<h2>%s</h2>\n<p class=\"lead\">%s</p>\n", i, datasetSentence(rng, datasetWords, 4), datasetSentence(rng, datasetWords, 30))
		b.WriteString("<table class=\"data\">\n<tr><th>Name</th><th>Email</th><th>Score</th></tr>\n")
		for range 5 {
			first, last := datasetPick(rng, datasetFirstNames), datasetPick(rng, datasetLastNames)
			fmt.Fprintf(&b, "<tr><td>%s %s</td><td><a href=\"mailto:%s@example.com\">%s@example.com</a></td><td>%d</td></tr>\n",
				first, last, strings.ToLower(first), strings.ToLower(first), rng.IntN(1000))
		}
		b.WriteString("</table>\n</section>\n")
	}
	b.WriteString("</main>\n</body>\n</html>\n")
	return b.Bytes()
}

// pdfDataset is a file shaped like a PDF: text objects between streams of
// already compressed, high-entropy bytes, about 1 MB, most of which does not
// compress further.
func pdfDataset() []byte {
	rng := rand.New(rand.NewPCG(12, 5))
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	var offsets []int
	for obj := 1; b.Len() < 1040000; obj++ {
		offsets = append(offsets, b.Len())
		if obj%3 != 0 {
			fmt.Fprintf(&b, "%d 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R >>\nendobj\n", obj, obj+1)
			continue
		}
		n := 2000 + rng.IntN(14000)
		fmt.Fprintf(&b, "%d 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n", obj, n)
		for range n {
			b.WriteByte(byte(rng.Uint32()))
		}
		b.WriteString("\nendstream\nendobj\n")
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes()
}
