// Package web holds the chat page that `duplex serve` serves at "/": an
// HTML page with its stylesheet and script, embedded in the binary, with no
// external resources. The page talks to /chat?room=NAME on the host that
// served it (ws:// or wss:// as the page's own scheme); the JSON messages it
// exchanges are described in package internal/chat.
package web

import (
	"embed"
	"net/http"
)

// files holds the page: index.html, style.css and app.js.
//
//go:embed index.html style.css app.js
var files embed.FS

// Handler returns a handler that serves the page's files, index.html at the
// root.
func Handler() http.Handler {
	return http.FileServerFS(files)
}
