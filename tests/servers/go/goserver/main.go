// goserver - a small Go HTTP and HTTPS server for beyla's Go tests.
//
// Four listeners share one set of handlers: plain HTTP, HTTPS with a
// self-signed certificate made in memory at startup (no files to manage),
// HTTPS as Go serves it by default (ListenAndServeTLS): HTTP/2 when the
// client offers h2 by ALPN, HTTP/1.1 otherwise; and, built with Go 1.24 or
// later, HTTP/2 without TLS (h2c, prior knowledge).
// /call and /call-async make an outgoing request to -downstream, so one
// binary exercises every Go function beyla probes: the handler run
// (serverHandler.ServeHTTP), TLS reads and writes, the client round trip,
// and goroutine creation.
//
// HTTP/2 is turned off on the plain and first HTTPS listeners and in the
// client of /call: tests (and samples) that check HTTP/1.1 requests use
// those.  Only Go 1.19 APIs are used outside h2c_go124.go: it is built with
// Debian's Go 1.19 too.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

var downstream string

// client skips certificate checks: the downstream is another goserver
// with its own throwaway certificate.
var client = &http.Client{
	Timeout: 10 * time.Second,
	Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		TLSNextProto:    map[string]func(string, *tls.Conn) http.RoundTripper{},
	},
}

func main() {
	httpAddr := flag.String("http", "127.0.0.1:0", "plain HTTP listen address")
	httpsAddr := flag.String("https", "127.0.0.1:0", "HTTPS listen address (self-signed certificate), HTTP/1.1 only")
	h2Addr := flag.String("h2", "127.0.0.1:0", "HTTPS listen address with Go's defaults: HTTP/2 by ALPN, else HTTP/1.1")
	h2cAddr := flag.String("h2c", "127.0.0.1:0", "HTTP/2 without TLS (prior knowledge) listen address; Go 1.24 and later")
	flag.StringVar(&downstream, "downstream", "", "base URL that /call and /call-async GET /hello from")
	flag.Parse()
	downstream = strings.TrimRight(downstream, "/")

	cert, err := selfSigned()
	if err != nil {
		log.Fatalf("certificate: %v", err)
	}
	hln, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		log.Fatalf("listen %s: %v", *httpAddr, err)
	}
	sln, err := net.Listen("tcp", *httpsAddr)
	if err != nil {
		log.Fatalf("listen %s: %v", *httpsAddr, err)
	}
	h2ln, err := net.Listen("tcp", *h2Addr)
	if err != nil {
		log.Fatalf("listen %s: %v", *h2Addr, err)
	}
	h2cln, err := net.Listen("tcp", *h2cAddr)
	if err != nil {
		log.Fatalf("listen %s: %v", *h2cAddr, err)
	}
	noH2 := map[string]func(*http.Server, *tls.Conn, http.Handler){}
	mux := routes()
	plain := &http.Server{Handler: mux, TLSNextProto: noH2}
	secure := &http.Server{
		Handler:      mux,
		TLSNextProto: noH2,
		TLSConfig:    &tls.Config{Certificates: []tls.Certificate{cert}},
	}
	// TLSNextProto left nil: ServeTLS configures HTTP/2 (h2 by ALPN)
	h2 := &http.Server{
		Handler:   mux,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}},
	}
	errs := make(chan error, 4)
	go func() { errs <- plain.Serve(hln) }()
	go func() { errs <- secure.ServeTLS(sln, "", "") }()
	go func() { errs <- h2.ServeTLS(h2ln, "", "") }()
	h2cAt := "none"
	h2c, serve := serveH2C(h2cln, mux)
	if serve != nil {
		go func() { errs <- serve() }()
		h2cAt = h2cln.Addr().String()
	} else {
		h2cln.Close()
	}
	// os.Stdout is unbuffered: the line is out when Printf returns.
	fmt.Printf("listening http=%s https=%s h2=%s h2c=%s\n", hln.Addr(), sln.Addr(), h2ln.Addr(), h2cAt)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	select {
	case <-sig:
	case err := <-errs:
		log.Fatalf("serve: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	plain.Shutdown(ctx)
	secure.Shutdown(ctx)
	h2.Shutdown(ctx)
	if h2c != nil {
		h2c.Shutdown(ctx)
	}
}

func routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", onlyGet(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello\n")
	}))
	mux.HandleFunc("/items/", onlyGet(items))
	mux.HandleFunc("/echo", echo)
	mux.HandleFunc("/status/", onlyGet(status))
	mux.HandleFunc("/sleep/", onlyGet(sleep))
	mux.HandleFunc("/call", onlyGet(func(w http.ResponseWriter, r *http.Request) {
		body, err := callDownstream(r.Context())
		reply(w, body, err)
	}))
	mux.HandleFunc("/call-async", onlyGet(func(w http.ResponseWriter, r *http.Request) {
		type result struct {
			body []byte
			err  error
		}
		done := make(chan result, 1)
		go func() {
			b, err := callDownstream(r.Context())
			done <- result{b, err}
		}()
		res := <-done
		reply(w, res.body, res.err)
	}))
	return mux
}

func onlyGet(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h(w, r)
	}
}

// items: GET /items/{n}, n a decimal integer.
func items(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, "/items/"), 10, 64)
	if err != nil {
		http.Error(w, "not an item number", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, "{\"item\":%d}\n", n)
}

func echo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	io.Copy(w, io.LimitReader(r.Body, 16<<20))
}

// status: GET /status/{code} answers with that code (200-599).
func status(w http.ResponseWriter, r *http.Request) {
	code, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/status/"))
	if err != nil || code < 200 || code > 599 {
		http.Error(w, "status must be 200-599", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(code)
	// 204 and 304 carry no body; Write then fails, which is fine.
	fmt.Fprintf(w, "status %d\n", code)
}

// sleep: GET /sleep/{ms} answers after ms milliseconds (0-10000): a
// handler whose run time is known.
func sleep(w http.ResponseWriter, r *http.Request) {
	ms, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/sleep/"))
	if err != nil || ms < 0 || ms > 10000 {
		http.Error(w, "sleep takes 0-10000 ms", http.StatusBadRequest)
		return
	}
	time.Sleep(time.Duration(ms) * time.Millisecond)
	fmt.Fprintf(w, "slept %d ms\n", ms)
}

func callDownstream(ctx context.Context) ([]byte, error) {
	if downstream == "" {
		return nil, fmt.Errorf("no -downstream given")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, downstream+"/hello", nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("downstream answered %d", resp.StatusCode)
	}
	return body, err
}

func reply(w http.ResponseWriter, body []byte, err error) {
	if err != nil {
		http.Error(w, "downstream: "+err.Error(), http.StatusBadGateway)
		return
	}
	w.Write(body)
}

// selfSigned makes an ECDSA P-256 certificate for localhost, 127.0.0.1 and ::1.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: "goserver"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
