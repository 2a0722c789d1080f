// Command webtarget is a web server for the namespace tests of the
// methods that need no ICMP (tcp-data, quic): HTTPS on TCP 443, HTTP on
// TCP 80 and HTTP/3 (quic-go) on UDP 443, on every address of the
// namespace it runs in, with a self-signed certificate made at start. It
// is an unmodified server as far as pmtu can tell: Go's net/http, and
// quic-go answering unknown versions with Version Negotiation.
//
// It writes one line per TCP connection it accepts to -log ("tcp
// REMOTE"), so a test counts from the server's side what pmtu cost it;
// the QUIC datagrams are counted by nft on the target. It runs until
// killed. Only the namespace tests build it (scripts/cases/plpmtud.sh).
//
//	webtarget [-log FILE] [-http :80] [-https :443] [-quic :443]
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/quic-go/quic-go/http3"

	"github.com/pmtu/pmtu/internal/probetest"
)

func main() {
	logFile := flag.String("log", "", "append a line per accepted TCP connection to `FILE`")
	httpAddr := flag.String("http", ":80", "HTTP `ADDR` (\"\" for none)")
	httpsAddr := flag.String("https", ":443", "HTTPS `ADDR` (\"\" for none)")
	quicAddr := flag.String("quic", ":443", "HTTP/3 `ADDR` (\"\" for none)")
	flag.Parse()

	var mu sync.Mutex
	conns := os.Stdout
	if *logFile != "" {
		f, err := os.OpenFile(*logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			log.Fatal(err)
		}
		conns = f
	}
	state := func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			fmt.Fprintf(conns, "tcp %s %s\n", c.LocalAddr(), c.RemoteAddr())
			mu.Unlock()
		}
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "hello over %s\n", r.Proto)
	})
	cert, err := probetest.Certificate()
	if err != nil {
		log.Fatal(err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}}

	errs := make(chan error, 3)
	if *httpAddr != "" {
		srv := &http.Server{Addr: *httpAddr, Handler: handler, ConnState: state, ReadHeaderTimeout: 5 * time.Second}
		go func() { errs <- srv.ListenAndServe() }()
	}
	if *httpsAddr != "" {
		srv := &http.Server{Addr: *httpsAddr, Handler: handler, ConnState: state, TLSConfig: tc, ReadHeaderTimeout: 5 * time.Second,
			ErrorLog: log.New(discard{}, "", 0)} // handshakes the probes never finish are no news
		go func() { errs <- srv.ListenAndServeTLS("", "") }()
	}
	if *quicAddr != "" {
		srv := &http3.Server{Addr: *quicAddr, Handler: handler, TLSConfig: http3.ConfigureTLSConfig(tc)}
		go func() { errs <- srv.ListenAndServe() }()
	}
	log.Fatal(<-errs)
}

// discard drops the TLS server's complaints.
type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }
