package webapi

// DOMException is the error the Web platform's WebSocket throws, reproduced as
// a Go value: Name is the DOMException name ("SyntaxError",
// "InvalidAccessError", "InvalidStateError") and Message says what was wrong.
//
// errors.Is(err, ErrSyntax) holds for every *DOMException named
// "SyntaxError", whatever its Message; likewise for the other sentinels.
type DOMException struct {
	Name    string
	Message string
}

// Error returns the name and the message, for example
// "SyntaxError: the URL's scheme must be ws, wss, http or https".
func (e *DOMException) Error() string {
	if e.Message == "" {
		return e.Name
	}
	return e.Name + ": " + e.Message
}

// Is reports whether target is a *DOMException with the same Name and either
// the same Message or no Message at all (the sentinels below have none).
func (e *DOMException) Is(target error) bool {
	t, ok := target.(*DOMException)
	if !ok {
		return false
	}
	return t.Name == e.Name && (t.Message == "" || t.Message == e.Message)
}

// Sentinel DOMExceptions for errors.Is. They carry a Name only, so they match
// every DOMException of that name.
var (
	// ErrSyntax matches the "SyntaxError" DOMException: a bad URL, a bad or
	// repeated subprotocol name, or a close reason longer than 123 bytes.
	ErrSyntax = &DOMException{Name: "SyntaxError"}
	// ErrInvalidAccess matches the "InvalidAccessError" DOMException: a close
	// code other than 1000 or 3000–4999.
	ErrInvalidAccess = &DOMException{Name: "InvalidAccessError"}
	// ErrInvalidState matches the "InvalidStateError" DOMException: a send
	// while the socket is still CONNECTING.
	ErrInvalidState = &DOMException{Name: "InvalidStateError"}
)

func syntaxError(msg string) error { return &DOMException{Name: "SyntaxError", Message: msg} }
