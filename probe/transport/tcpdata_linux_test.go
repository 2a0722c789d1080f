package transport

import (
	"bufio"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pmtu/pmtu/internal/nstest"
	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/netns"
	"github.com/pmtu/pmtu/probe/wire"
)

// loNamespace makes a namespace of the test's own whose lo is up with an
// MTU of 1500, and returns what enters it.
func loNamespace(t *testing.T) func(func() error) error {
	t.Helper()
	path := nstest.New(t, func() error {
		if err := nstest.LoopbackUp(); err != nil {
			return err
		}
		return nstest.SetMTU("lo", 1500)
	})
	return func(fn func() error) error { return netns.Do(path, fn) }
}

// loFamilies are the loopback addresses of each family, and where a test
// server listens on them (any port).
var loFamilies = []struct {
	name string
	dst  netip.Addr
	addr string
}{{"ipv4", lo4, "127.0.0.1:0"}, {"ipv6", lo6, "[::1]:0"}}

// segServer is a TCP server in the test's namespace that records, for
// each connection, the first segment's payload length (tcpi_rcv_mss once
// data came) and what the client sent.
type segServer struct {
	ln    net.Listener
	mu    sync.Mutex
	segs  []int
	names []string // TLS SNI, or HTTP Host
}

func (s *segServer) record(seg int, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.segs = append(s.segs, seg)
	s.names = append(s.names, name)
}

func listen(t *testing.T, enter func(func() error) error, addr string) net.Listener {
	t.Helper()
	var ln net.Listener
	if err := enter(func() error {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err
	}); err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// rcvMSS is the largest segment payload the connection received so far.
func rcvMSS(c net.Conn) int {
	rc, _ := c.(syscall.Conn).SyscallConn()
	var mss int
	_ = rc.Control(func(fd uintptr) {
		if info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO); err == nil {
			mss = int(info.Rcv_mss)
		}
	})
	return mss
}

// serveTLS answers every connection as a TLS server.
func serveTLS(t *testing.T, ln net.Listener) *segServer {
	s := &segServer{ln: ln}
	cert, err := probetest.Certificate()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				var name string
				tc := tls.Server(&peekConn{Conn: c, onRead: func() { s.record(rcvMSS(c), name) }}, &tls.Config{
					Certificates: []tls.Certificate{cert},
					GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
						name = h.ServerName
						return nil, nil
					}})
				_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
				_ = tc.Handshake() // the client never finishes it
			}()
		}
	}()
	return s
}

// peekConn calls onRead once the whole ClientHello is read: after the
// server's first write.
type peekConn struct {
	net.Conn
	once   sync.Once
	onRead func()
}

func (p *peekConn) Write(b []byte) (int, error) {
	p.once.Do(p.onRead)
	return p.Conn.Write(b)
}

// TestTCPDataLoopback sends TCP data probes through lo (MTU 1500) to a
// TLS server: every size that fits is acknowledged, its first segment
// the exact size (the server's tcpi_rcv_mss), the hello well-formed
// enough for the server to answer, with the SNI; a size above the
// interface MTU is TooBig, 1500 named by the kernel.
func TestTCPDataLoopback(t *testing.T) {
	enter := loNamespace(t)
	for _, fam := range loFamilies {
		t.Run(fam.name, func(t *testing.T) {
			ln := listen(t, enter, fam.addr)
			srv := serveTLS(t, ln)
			port := ln.Addr().(*net.TCPAddr).Port
			c, err := OpenMethod(MethodTCPData, fam.dst, &OpenConfig{Port: port, Enter: enter, ServerName: "www.example"})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			tc := c.(*TCPDataConn)
			sizes := []mtu.Size{1500, 1400, 1280, tc.MinSize(), 1501}
			got := sendAll(t, c, sizes, 5*time.Second)
			wantReached(t, got, 4, fam.dst)
			if ev := got[5]; ev.Kind != wire.TooBig || ev.MTU != 1500 {
				t.Errorf("1501 bytes: %v MTU %d (%s), want too big, 1500", ev.Kind, ev.MTU, ev.Why)
			}
			c.Close()
			tr := tc.Traffic()
			if tr.Connections != len(sizes) || tr.Bytes < 1448+1388+1228 {
				t.Errorf("traffic %+v: want %d connections and the bytes of four probes", tr, len(sizes))
			}
			time.Sleep(100 * time.Millisecond)
			srv.mu.Lock()
			defer srv.mu.Unlock()
			hdr := mtu.IPHeader(fam.dst.Is6()) + mtu.TCPHeader + tcpTimestamps
			want := []int{1500 - hdr, 1400 - hdr, 1280 - hdr, int(tc.MinSize()) - hdr}
			if !sameSet(srv.segs, want) {
				t.Errorf("the server saw segments of %v bytes, want %v", srv.segs, want)
			}
			for _, n := range srv.names {
				if n != "www.example" {
					t.Errorf("the server saw SNI %q, want www.example", n)
				}
			}
		})
	}
}

func sameSet(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[int]int{}
	for _, x := range a {
		seen[x]++
	}
	for _, x := range b {
		seen[x]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

// TestTCPDataHTTP sends a probe to port 80: an HTTP HEAD request the
// server parses, of the probe's size.
func TestTCPDataHTTP(t *testing.T) {
	enter := loNamespace(t)
	ln := listen(t, enter, "127.0.0.1:80")
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			got <- err.Error()
			return
		}
		got <- req.Method + " " + req.Host + " " + req.UserAgent()
		_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
	}()
	c, err := OpenMethod(MethodTCPData, lo4, &OpenConfig{Port: 80, Enter: enter})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	wantReached(t, sendAll(t, c, []mtu.Size{1400}, 5*time.Second), 1, lo4)
	if s := <-got; !strings.HasPrefix(s, "HEAD 127.0.0.1 pmtu") {
		t.Errorf("the server read %q, want a HEAD request for 127.0.0.1 from pmtu", s)
	}
}

// TestTCPDataRefused: a port where nothing listens ends the conn's use
// with the kernel's words.
func TestTCPDataRefused(t *testing.T) {
	enter := loNamespace(t)
	ln := listen(t, enter, "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	c, err := OpenMethod(MethodTCPData, lo4, &OpenConfig{Port: port, Enter: enter})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Send(t.Context(), wire.Probe{Seq: 1, Size: 1400}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Recv(time.Now().Add(5 * time.Second))
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Recv = %v, want connection refused", err)
	}
	if err := c.Send(t.Context(), wire.Probe{Seq: 2, Size: 1400, TTL: 3}); !errors.Is(err, ErrNoHopLimit) {
		t.Errorf("Send with a TTL = %v, want ErrNoHopLimit", err)
	}
}
