package hub

import (
	"encoding/base64"
	"encoding/json"

	"github.com/duplexws/websocket"
)

// envelope returns the message a positioned subscriber (see
// [SubscribeOptions.Positions]) receives for m at pos: one text message
// holding {"pos":"EPOCH:SEQ","text":"…"} or {"pos":"EPOCH:SEQ","binary":"<base64>"};
// "pos" is left out for a topic without history.
func envelope(pos Position, m Message) *websocket.PreparedMessage {
	b := make([]byte, 0, len(m.Data)+len(m.Data)/3+48)
	b = append(b, '{')
	if !pos.IsZero() {
		b = append(b, `"pos":"`...)
		b = append(b, pos.String()...)
		b = append(b, `",`...)
	}
	if m.messageType() == websocket.MessageBinary {
		b = append(b, `"binary":"`...)
		b = base64.StdEncoding.AppendEncode(b, m.Data)
		b = append(b, '"')
	} else {
		// A string never fails to encode; invalid UTF-8 becomes U+FFFD.
		s, _ := json.Marshal(string(m.Data))
		b = append(b, `"text":`...)
		b = append(b, s...)
	}
	b = append(b, '}')
	return websocket.NewPreparedMessage(websocket.MessageText, b)
}

// resetEnvelope returns the message that tells a positioned subscriber its
// history could not be recovered: {"reset":true,"pos":"EPOCH:SEQ"}, pos
// being where the live stream goes on from.
func resetEnvelope(pos Position) *websocket.PreparedMessage {
	return websocket.NewPreparedMessage(websocket.MessageText, []byte(`{"reset":true,"pos":"`+pos.String()+`"}`))
}
