package websocket

import (
	"errors"
	"net"
	"net/url"
	"time"
)

func asCloseError(err error, ce **CloseError) bool { return errors.As(err, ce) }

func isErr(err, target error) bool { return errors.Is(err, target) }

type urlURL = url.URL

func parseURL(s string) (*url.URL, error) { return url.Parse(s) }

type netDialer struct{}

func (netDialer) dial(addr string) (net.Conn, error) { return net.DialTimeout("tcp", addr, 5*time.Second) }
