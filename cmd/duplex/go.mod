module github.com/duplexws/websocket/cmd/duplex

go 1.26.0

require (
	github.com/chromedp/cdproto v0.159.0
	github.com/chromedp/chromedp v0.23.0
	github.com/creack/pty v1.1.24
	github.com/duplexws/websocket v0.0.0-00010101000000-000000000000
	github.com/duplexws/websocket/hub/natsbroker v0.0.0-00010101000000-000000000000
	github.com/duplexws/websocket/internal/peer v0.0.0-00010101000000-000000000000
	github.com/nats-io/nats-server/v2 v2.15.2
	golang.org/x/term v0.48.0
)

require (
	github.com/antithesishq/antithesis-sdk-go v0.9.0-default-no-op // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/google/go-tpm v0.9.8 // indirect
	github.com/klauspost/compress v1.20.4 // indirect
	github.com/minio/highwayhash v1.0.4 // indirect
	github.com/nats-io/jwt/v2 v2.8.3 // indirect
	github.com/nats-io/nats.go v1.55.0 // indirect
	github.com/nats-io/nkeys v0.4.17 // indirect
	github.com/nats-io/nuid v1.0.1 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/time v0.16.0 // indirect
)

replace (
	github.com/duplexws/websocket => ../..
	github.com/duplexws/websocket/hub/natsbroker => ../../hub/natsbroker
	github.com/duplexws/websocket/internal/peer => ../../internal/peer
)
