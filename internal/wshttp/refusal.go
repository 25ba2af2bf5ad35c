package wshttp

import "fmt"

// Refusal is an opening handshake refused: the HTTP status a server answers
// (or a client received) and why. Package websocket hands it to its users
// as a HandshakeError.
type Refusal struct {
	Status int
	Reason string
}

// Error returns the reason.
func (r *Refusal) Error() string { return r.Reason }

// refusef makes the Refusal of status, its reason formatted.
func refusef(status int, format string, args ...any) *Refusal {
	return &Refusal{Status: status, Reason: fmt.Sprintf(format, args...)}
}
