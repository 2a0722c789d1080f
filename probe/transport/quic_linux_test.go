package transport

import (
	"context"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/wire"
)

// quicServer runs a quic-go listener in the test's namespace and returns
// its port.
func quicServer(t *testing.T, enter func(func() error) error, addr string) int {
	t.Helper()
	cert, err := probetest.Certificate()
	if err != nil {
		t.Fatal(err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h3"}}
	var ln *quic.Listener
	if err := enter(func() error {
		var err error
		ln, err = quic.ListenAddr(addr, tc, nil)
		return err
	}); err != nil {
		t.Skipf("cannot listen for QUIC on %s: %v", addr, err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			if _, err := ln.Accept(context.Background()); err != nil {
				return
			}
		}
	}()
	return ln.Addr().(*net.UDPAddr).Port
}

// TestQUICLoopback sends QUIC probes through lo (MTU 1500) to a quic-go
// server: every size from 1200 bytes of payload up to the MTU is answered
// with a Version Negotiation, a datagram one byte smaller is not.
func TestQUICLoopback(t *testing.T) {
	enter := loNamespace(t)
	for _, fam := range loFamilies {
		t.Run(fam.name, func(t *testing.T) {
			port := quicServer(t, enter, fam.addr)
			c, err := OpenMethod(MethodQUIC, fam.dst, &OpenConfig{Port: port, Enter: enter})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			qc := c.(*QUICConn)
			floor := qc.MinSize()
			if want := mtu.Size(mtu.IPHeader(fam.dst.Is6()) + 8 + 1200); floor != want {
				t.Errorf("MinSize %d, want %d", floor, want)
			}
			if burst, _ := qc.ReplyLimit(); burst != 0 {
				t.Errorf("ReplyLimit burst %d: a QUIC server is not rate-limited as Port Unreachable is", burst)
			}
			got := sendAll(t, c, []mtu.Size{1500, 1400, floor, floor - 1}, 2*time.Second)
			wantReached(t, got, 3, fam.dst)
			if ev, ok := got[4]; ok {
				t.Errorf("a %d-byte probe (1199 bytes of payload) earned %v: servers need not answer below 1200", floor-1, ev.Kind)
			}
			if tr := qc.Traffic(); tr.Datagrams != 4 || tr.Bytes != int64(1500+1400+int(floor)+int(floor)-1-4*(mtu.IPHeader(fam.dst.Is6())+8)) {
				t.Errorf("traffic %+v: want 4 datagrams and their payload", tr)
			}
		})
	}
}

// TestQUICNoServer: a port where no QUIC server listens answers Port
// Unreachable, which is not arrival.
func TestQUICNoServer(t *testing.T) {
	enter := loNamespace(t)
	c, err := OpenMethod(MethodQUIC, lo4, &OpenConfig{Port: 9, Enter: enter})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Send(t.Context(), wire.Probe{Seq: 1, Size: 1400}); err != nil {
		t.Fatal(err)
	}
	ev, err := c.Recv(time.Now().Add(2 * time.Second))
	if err != nil || ev.Kind != wire.Unreachable {
		t.Fatalf("%v (%s), %v; want unreachable", ev.Kind, ev.Why, err)
	}
}
