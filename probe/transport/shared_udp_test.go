package transport

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/probe/wire"
)

// UDP searches on an Engine read their ICMP errors from its one shared
// socket: each gets the errors that quote its own source port, and no
// other's; a closed conn's port is nobody's. The probes are real
// datagrams to the discard port of 127.0.0.1; the shared socket is a fake
// the test writes the errors into.
func TestEngineUDP(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	router := netip.MustParseAddr("198.18.1.2")
	shared := probetest.NewNetwork(&probetest.Path{Src: lo, Dst: lo})
	opened := 0
	e := NewEngine(&EngineConfig{Listen: func(bool, *OpenConfig) (net.PacketConn, error) {
		opened++
		return shared, nil
	}})
	defer e.Close()
	cfg := &OpenConfig{Src: lo, Port: 9, Local: func(netip.Addr) bool { return false }}
	a, err := e.OpenUDP(lo, cfg)
	if err != nil {
		t.Skipf("no UDP socket on loopback here: %v", err)
	}
	defer a.Close()
	b, err := e.OpenUDP(lo, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if opened != 1 || a.sport == b.sport || a.Method() != MethodUDP {
		t.Fatalf("%d shared sockets, ports %d and %d, method %s; want 1, two ports, udp", opened, a.sport, b.sport, a.Method())
	}
	ctx := context.Background()
	for _, c := range []*UDPConn{a, b} {
		if err := c.Send(ctx, wire.Probe{Seq: 1, Size: 1000}); err != nil {
			t.Fatal(err)
		}
	}
	// a's probe reaches the target; b's is refused by a router.
	shared.Inject(lo, probetest.Error(false, 3, 3, 0, udpProbe(a, 1, a.sport, 1000)))
	shared.Inject(router, probetest.Error(false, 3, 4, 900, udpProbe(b, 1, b.sport, 1000)))
	// An error about a port no search holds, and one quoting a's port
	// with b's cookie: routed by the port, refused by a's rules.
	shared.Inject(router, probetest.Error(false, 3, 4, 900, udpProbe(b, 1, 1, 1000)))
	shared.Inject(router, probetest.Error(false, 3, 4, 900, udpProbe(b, 1, a.sport, 1000)))
	got := func(c *UDPConn) wire.Event {
		t.Helper()
		ev, err := c.Recv(time.Now().Add(2 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	if ev := got(a); ev.Kind != wire.Reached || ev.Seq != 1 || ev.From != lo {
		t.Errorf("a: %v seq %d from %s, want reached, 1, %s", ev.Kind, ev.Seq, ev.From, lo)
	}
	if ev := got(a); ev.Kind != wire.Ignored {
		t.Errorf("a got an error with another search's cookie: %v, want it ignored", ev.Kind)
	}
	if ev := got(b); ev.Kind != wire.TooBig || ev.MTU != 900 || ev.From != router {
		t.Errorf("b: %v MTU %d from %s, want too big, 900, %s", ev.Kind, ev.MTU, ev.From, router)
	}
	if ev, err := b.Recv(time.Now().Add(50 * time.Millisecond)); err == nil {
		t.Errorf("b got a second event: %v %s", ev.Kind, ev.Why)
	}
	b.Close()
	shared.Inject(router, probetest.Error(false, 3, 4, 900, udpProbe(b, 1, b.sport, 1000)))
	deadline := time.Now().Add(2 * time.Second)
	for e.Stats().Read < 5 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if s := e.Stats(); s.Read != 5 || s.Delivered != 3 || s.Foreign != 2 {
		t.Errorf("stats %+v; want 5 read, 3 delivered, 2 foreign (nobody's port, a closed search's)", s)
	}
}
