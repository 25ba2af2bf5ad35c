module github.com/duplexws/websocket

go 1.25.0

require (
	github.com/klauspost/compress v1.20.4
	golang.org/x/sys v0.47.0
)
