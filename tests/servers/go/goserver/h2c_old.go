//go:build !go1.24

package main

import (
	"net"
	"net/http"
)

// serveH2C: before Go 1.24 the standard library has no h2c server (it is in
// golang.org/x/net, which this server does not use), so there is no such
// listener and the "listening" line says h2c=none.
func serveH2C(ln net.Listener, h http.Handler) (*http.Server, func() error) {
	return nil, nil
}
