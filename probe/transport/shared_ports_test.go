package transport

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
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
	// Once the Engine is closed, its conns are closed too.
	e.Close()
	if _, err := a.Recv(time.Now().Add(time.Second)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Recv after Engine.Close: %v, want net.ErrClosed", err)
	}
	if err := a.Send(ctx, wire.Probe{Seq: 2, Size: 1000}); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Send after Engine.Close: %v, want net.ErrClosed", err)
	}
}

// chanConn is a fake raw socket: what is written is kept, what is pushed
// is read, and a read blocks until something is pushed or it is closed.
type chanConn struct {
	net.PacketConn
	in      chan chanPacket
	mu      sync.Mutex
	written [][]byte
	closed  chan struct{}
	once    sync.Once
}

type chanPacket struct {
	from netip.Addr
	b    []byte
}

func newChanConn() *chanConn {
	return &chanConn{in: make(chan chanPacket, 16), closed: make(chan struct{})}
}

func (c *chanConn) push(from netip.Addr, b []byte) { c.in <- chanPacket{from, b} }

func (c *chanConn) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case p := <-c.in:
		return copy(b, p.b), &net.IPAddr{IP: p.from.AsSlice()}, nil
	case <-c.closed:
		return 0, nil, net.ErrClosed
	}
}

func (c *chanConn) WriteTo(b []byte, _ net.Addr) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.written = append(c.written, append([]byte(nil), b...))
	return len(b), nil
}

func (c *chanConn) Close() error { c.once.Do(func() { close(c.closed) }); return nil }

// TCP searches on an Engine write their SYNs through one shared raw TCP
// socket and read their answers from it, each only the segments sent to
// its own port from its target's port; their ICMP errors come by the
// shared ICMP socket, routed by the port they quote.
func TestEngineTCP(t *testing.T) {
	src, dst := netip.MustParseAddr("198.18.0.1"), netip.MustParseAddr("198.19.0.1")
	router, other := netip.MustParseAddr("198.18.1.2"), netip.MustParseAddr("198.19.0.99")
	icmp, raw := newChanConn(), newChanConn()
	listens := 0
	e := NewEngine(&EngineConfig{
		Listen:    func(bool, *OpenConfig) (net.PacketConn, error) { listens++; return icmp, nil },
		ListenTCP: func(bool, *OpenConfig) (net.PacketConn, error) { listens++; return raw, nil },
	})
	defer e.Close()
	cfg := &OpenConfig{Src: src, Local: func(netip.Addr) bool { return false }}
	a, err := e.OpenTCP(dst, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := e.OpenTCP(dst, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if listens != 2 || a.basePort == b.basePort {
		t.Fatalf("%d sockets opened, ports %d and %d; want 2 (ICMP, TCP) and two ports", listens, a.basePort, b.basePort)
	}
	ctx := context.Background()
	for _, c := range []*TCPConn{a, b} {
		if err := c.Send(ctx, wire.Probe{Seq: 1, Size: 1000}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Send(ctx, wire.Probe{Seq: 2, Size: 1000, TTL: 3}); !errors.Is(err, ErrSharedTTL) {
		t.Errorf("a probe with a hop limit on the shared socket: %v, want ErrSharedTTL", err)
	}
	if n := len(raw.written); n != 2 {
		t.Fatalf("%d SYNs written to the shared socket, want 2", n)
	}
	pa, pb := a.probes[1], b.probes[1]
	raw.push(other, answer(a, pa, wire.TCPSYN|wire.TCPACK, pa.isn+1)) // another host to a's port: not a's business
	raw.push(dst, answer(a, pa, wire.TCPSYN|wire.TCPACK, pa.isn+1))
	// b's SYN was too big for a router: it quotes b's segment.
	syn := append(probetest.IPHeader(src, dst, wire.ProtoTCP, 1000),
		wire.MarshalSYN(src, dst, pb.sport, b.port, pb.isn, wire.ProbeData(b.cookie, 1, 1000-20-20))...)
	icmp.push(router, probetest.Error(false, 3, 4, 900, syn))
	got := func(c *TCPConn) wire.Event {
		t.Helper()
		ev, err := c.Recv(time.Now().Add(2 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	if ev := got(a); ev.Kind != wire.Reached || ev.Seq != 1 {
		t.Errorf("a: %v seq %d (%s), want reached, 1", ev.Kind, ev.Seq, ev.Why)
	}
	if ev := got(b); ev.Kind != wire.TooBig || ev.MTU != 900 {
		t.Errorf("b: %v MTU %d (%s), want too big, 900", ev.Kind, ev.MTU, ev.Why)
	}
	b.Close()
	raw.push(dst, answer(b, pb, wire.TCPRST|wire.TCPACK, pb.isn+1)) // after Close: nobody's
	deadline := time.Now().Add(2 * time.Second)
	for e.Stats().Read < 4 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if s := e.Stats(); s.Read != 4 || s.Delivered != 2 || s.Foreign != 2 {
		t.Errorf("stats %+v; want 4 read, 2 delivered, 2 foreign (another host's segment, a closed search's)", s)
	}
	if _, err := e.OpenTCP(dst, &OpenConfig{Src: src, Flow: a.basePort}); !errors.Is(err, ErrPortShared) {
		t.Errorf("a second search pinned to a's port: %v, want ErrPortShared", err)
	}
	// Once the Engine is closed, its conns are closed too.
	e.Close()
	if _, err := a.Recv(time.Now().Add(time.Second)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Recv after Engine.Close: %v, want net.ErrClosed", err)
	}
	if err := a.Send(ctx, wire.Probe{Seq: 3, Size: 1000}); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Send after Engine.Close: %v, want net.ErrClosed", err)
	}
}
