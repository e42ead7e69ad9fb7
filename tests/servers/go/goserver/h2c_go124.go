//go:build go1.24

package main

import (
	"net"
	"net/http"
)

// serveH2C serves HTTP/2 without TLS (prior knowledge, RFC 9113 3.3) on ln,
// which the standard library does since Go 1.24 (http.Protocols).  Older
// toolchains have no h2c of their own: see h2c_old.go.
func serveH2C(ln net.Listener, h http.Handler) (*http.Server, func() error) {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	s := &http.Server{Handler: h, Protocols: &p}
	return s, func() error { return s.Serve(ln) }
}
