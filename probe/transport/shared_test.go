package transport_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/time/rate"

	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/probe/search"
	"github.com/pmtu/pmtu/probe/transport"
	"github.com/pmtu/pmtu/probe/wire"
)

var (
	src4 = netip.MustParseAddr("198.18.0.1")
	rtr4 = netip.MustParseAddr("198.18.1.2")
	src6 = netip.MustParseAddr("2001:db8::1")
	rtr6 = netip.MustParseAddr("2001:db8:1::2")
)

// fleetPaths returns n paths behind one router, each target with its own
// MTU: 1300+i for IPv4, 1281+i for IPv6 (n ≤ 200, so all distinct).
func fleetPaths(v6 bool, n int) []*probetest.Path {
	ps := make([]*probetest.Path, n)
	for i := range ps {
		src, rtr, dst, m := src4, rtr4, netip.AddrFrom4([4]byte{198, 19, byte(i >> 8), byte(i)}), 1300+i%200
		if v6 {
			a := netip.MustParseAddr("2001:db8:f::").As16()
			a[14], a[15] = byte(i>>8), byte(i)
			src, rtr, dst, m = src6, rtr6, netip.AddrFrom16(a), 1281+i%200
		}
		ps[i] = &probetest.Path{Src: src, Dst: dst, RTT: time.Millisecond,
			Hops: []probetest.Hop{{Addr: rtr, MTU: m}, {Addr: dst, MTU: 1500}}}
	}
	return ps
}

// fakeEngine is an Engine whose sockets are the given fake networks, one a
// family; it says how many sockets were opened.
func fakeEngine(n4, n6 net.PacketConn) (*transport.Engine, *atomic.Int32) {
	var opened atomic.Int32
	e := transport.NewEngine(&transport.EngineConfig{Listen: func(v6 bool, _ *transport.OpenConfig) (net.PacketConn, error) {
		opened.Add(1)
		if v6 {
			return n6, nil
		}
		return n4, nil
	}})
	return e, &opened
}

func srcOf(dst netip.Addr) netip.Addr {
	if dst.Is6() {
		return src6
	}
	return src4
}

// paced makes every Send wait for the budget first, as probe's Options.Pace.
type paced struct {
	*transport.SharedConn
	wait func(context.Context) error
}

func (p paced) Send(ctx context.Context, pr wire.Probe) error {
	if err := p.wait(ctx); err != nil {
		return err
	}
	return p.SharedConn.Send(ctx, pr)
}

// discoverAll runs one Discover per path at once over e and returns each
// target's path MTU (0 with the error's text on failure).
func discoverAll(t *testing.T, e *transport.Engine, paths []*probetest.Path, pace func(context.Context) error) map[netip.Addr]string {
	t.Helper()
	var mu sync.Mutex
	got := map[netip.Addr]string{}
	var wg sync.WaitGroup
	for _, p := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := e.Open(p.Dst, &transport.OpenConfig{Src: srcOf(p.Dst)})
			if err != nil {
				mu.Lock()
				got[p.Dst] = err.Error()
				mu.Unlock()
				return
			}
			defer c.Close()
			var sc wire.Conn = c
			if pace != nil {
				sc = paced{c, pace}
			}
			res, err := search.Discover(context.Background(), sc, &search.Config{Ceil: 1500, Wait: 2 * time.Second})
			s := fmt.Sprint(res.PMTU)
			if err != nil {
				s += " " + err.Error()
			}
			mu.Lock()
			got[p.Dst] = s
			mu.Unlock()
		}()
	}
	wg.Wait()
	return got
}

func want(paths []*probetest.Path) map[netip.Addr]string {
	w := map[netip.Addr]string{}
	for _, p := range paths {
		w[p.Dst] = fmt.Sprint(p.Hops[0].MTU)
	}
	return w
}

// TestSharedSocket200: 200 searches at once, IPv4 and IPv6 mixed, over one
// shared socket a family, each path with its own MTU: 200 exact answers.
func TestSharedSocket200(t *testing.T) {
	p4, p6 := fleetPaths(false, 100), fleetPaths(true, 100)
	n4, n6 := probetest.NewNetwork(p4...), probetest.NewNetwork(p6...)
	e, opened := fakeEngine(n4, n6)
	defer e.Close()
	paths := append(p4, p6...)
	got := discoverAll(t, e, paths, nil)
	if diff := cmp.Diff(want(paths), got); diff != "" {
		t.Errorf("path MTUs (-want +got):\n%s", diff)
	}
	if n := opened.Load(); n != 2 {
		t.Errorf("opened %d sockets, want 2 (one a family)", n)
	}
	if s := e.Stats(); s.Foreign != 0 || s.Overflow != 0 || s.Delivered != s.Read {
		t.Errorf("stats %+v: want every packet read delivered", s)
	}
}

// budgetConn checks, at every probe written, that no more probes went out
// than the budget granted.
type budgetConn struct {
	*probetest.Network
	granted, written *atomic.Int64
	over             atomic.Int64
}

func (b *budgetConn) WriteTo(p []byte, a net.Addr) (int, error) {
	if b.written.Add(1) > b.granted.Load() {
		b.over.Add(1)
	}
	return b.Network.WriteTo(p, a)
}

// TestSharedSocket1000Budget: 1000 searches at once on one shared socket,
// paced by one token bucket: all exact, no probe written without a token,
// and the probes took at least the time the budget allows them.
func TestSharedSocket1000Budget(t *testing.T) {
	const pps, burst = 5000, 20
	paths := fleetPaths(false, 1000)
	for i, p := range paths {
		p.Dst = netip.AddrFrom4([4]byte{198, 19, byte(i >> 8), byte(i)})
		p.Hops[1].Addr = p.Dst
		p.Hops[0].MTU = 1280 + i%221
	}
	net4 := probetest.NewNetwork(paths...)
	var granted, written atomic.Int64
	bc := &budgetConn{Network: net4, granted: &granted, written: &written}
	e, opened := fakeEngine(bc, nil)
	defer e.Close()
	// The clock read under one lock, as probe.Budget does: rate.Limiter's
	// Wait grants more than its rate when many wait at once.
	budget := rate.NewLimiter(pps, burst)
	var mu sync.Mutex
	start := time.Now()
	pace := func(ctx context.Context) error {
		mu.Lock()
		now := time.Now()
		r := budget.ReserveN(now, 1)
		mu.Unlock()
		time.Sleep(r.DelayFrom(now))
		granted.Add(1)
		return nil
	}
	got := discoverAll(t, e, paths, pace)
	if diff := cmp.Diff(want(paths), got); diff != "" {
		t.Errorf("path MTUs (-want +got):\n%s", diff)
	}
	if n := opened.Load(); n != 1 {
		t.Errorf("opened %d sockets, want 1", n)
	}
	if n := bc.over.Load(); n != 0 {
		t.Errorf("%d probes written beyond the tokens granted", n)
	}
	sends := net4.Sends()
	n := len(sends)
	if n < len(paths) {
		t.Fatalf("%d probes for %d searches", n, len(paths))
	}
	// N tokens need (N - burst)/rate of time from a full bucket.
	least := time.Duration(float64(n-burst) / pps * float64(time.Second))
	if took := sends[n-1].Sub(start); took < least {
		t.Errorf("%d probes went out in %v; the budget allows no less than %v", n, took, least)
	}
}

// echoOf returns the identifier and sequence of a written Echo Request.
func echoOf(t *testing.T, b []byte) (id, seq uint16) {
	t.Helper()
	if len(b) < 8 {
		t.Fatalf("probe of %d bytes", len(b))
	}
	return binary.BigEndian.Uint16(b[4:6]), binary.BigEndian.Uint16(b[6:8])
}

func echoReply(id, seq uint16, data []byte) []byte {
	b := make([]byte, 8+len(data))
	b[0] = wire.ICMPv4EchoReply
	binary.BigEndian.PutUint16(b[4:], id)
	binary.BigEndian.PutUint16(b[6:], seq)
	copy(b[8:], data)
	return b
}

// TestDemux: what the shared socket's reader does with packets that are
// not a search's answer: another identifier goes to nobody; a forged
// cookie, a duplicate and a reply to a probe never sent reach the search
// of their identifier, which ignores them with the reason, and the true
// reply still counts.
func TestDemux(t *testing.T) {
	ps := fleetPaths(false, 2)
	ps[0].RTT = 200 * time.Millisecond // the forgeries arrive first
	ps[1].DuplicateReplies = true
	nw := probetest.NewNetwork(ps...)
	e, _ := fakeEngine(nw, nil)
	defer e.Close()
	ctx := context.Background()
	a, err := e.Open(ps[0].Dst, &transport.OpenConfig{Src: src4})
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.Open(ps[1].Dst, &transport.OpenConfig{Src: src4})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	next := func(c *transport.SharedConn) {
		ev, err := c.Recv(time.Now().Add(2 * time.Second))
		if err != nil {
			kinds = append(kinds, "error: "+err.Error())
			return
		}
		s := ev.Kind.String()
		if ev.Kind == wire.Ignored {
			s += ": " + ev.Why
		}
		kinds = append(kinds, s)
	}
	if err := a.Send(ctx, wire.Probe{Seq: 1, Size: 1000}); err != nil {
		t.Fatal(err)
	}
	w := nw.Written(ps[0].Dst)
	id, seq := echoOf(t, w[0])
	data := append([]byte(nil), w[0][8:]...)
	forged := append([]byte(nil), data...)
	forged[0] ^= 0xff
	nw.Inject(ps[0].Dst, echoReply(id+1000, seq, data)) // another identifier: nobody's
	nw.Inject(ps[0].Dst, echoReply(id, seq+4, data))    // a probe never sent
	nw.Inject(ps[0].Dst, echoReply(id, seq, forged))    // our probe, a forged cookie
	next(a)
	next(a)
	next(a)                                        // the true reply, 200 ms later
	nw.Inject(ps[0].Dst, echoReply(id, seq, data)) // a copy of it
	next(a)
	if err := b.Send(ctx, wire.Probe{Seq: 1, Size: 1000}); err != nil {
		t.Fatal(err)
	}
	next(b)
	next(b)
	wantKinds := []string{
		"ignored: Echo Reply for sequence 5, which we never sent",
		"ignored: Echo Reply without our cookie (forged or corrupted)",
		"reached",
		"ignored: Echo Reply duplicate answer for probe 1",
		"reached",
		"ignored: Echo Reply duplicate answer for probe 1",
	}
	if diff := cmp.Diff(wantKinds, kinds); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if s := e.Stats(); s.Foreign != 1 {
		t.Errorf("stats %+v: want the reply under another identifier counted foreign, once", s)
	}
}

// TestSharedNoHopLimit: a shared socket refuses probes with a hop limit
// (the socket's is everyone's), and a closed conn or engine sends nothing.
func TestSharedNoHopLimit(t *testing.T) {
	ps := fleetPaths(false, 1)
	e, _ := fakeEngine(probetest.NewNetwork(ps...), nil)
	c, err := e.Open(ps[0].Dst, &transport.OpenConfig{Src: src4})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Send(context.Background(), wire.Probe{Seq: 1, Size: 1000, TTL: 3}); err != transport.ErrSharedTTL {
		t.Errorf("Send with TTL 3: %v, want ErrSharedTTL", err)
	}
	c.Close()
	if err := c.Send(context.Background(), wire.Probe{Seq: 2, Size: 1000}); err == nil {
		t.Error("Send on a closed conn: no error")
	}
	e.Close()
	if _, err := e.Open(ps[0].Dst, &transport.OpenConfig{Src: src4}); err != transport.ErrEngineClosed {
		t.Errorf("Open on a closed engine: %v, want ErrEngineClosed", err)
	}
}

// A pinned flow keeps its Echo identifier on the shared socket, says so,
// and is not handed out twice.
func TestSharedPinnedFlow(t *testing.T) {
	ps := fleetPaths(false, 2)
	nw := probetest.NewNetwork(ps...)
	e, _ := fakeEngine(nw, nil)
	defer e.Close()
	a, err := e.Open(ps[0].Dst, &transport.OpenConfig{Src: src4, Flow: 40007})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if got := a.Flow().EchoID; got != 40007 {
		t.Errorf("Echo identifier %d, want the pinned 40007", got)
	}
	if _, err := e.Open(ps[1].Dst, &transport.OpenConfig{Src: src4, Flow: 40007}); !errors.Is(err, transport.ErrNoIdentifier) {
		t.Errorf("a second search on flow 40007: %v, want ErrNoIdentifier", err)
	}
	b, err := e.Open(ps[1].Dst, &transport.OpenConfig{Src: src4})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got := b.Flow().EchoID; got == 40007 || got == 0 {
		t.Errorf("an unpinned search got identifier %d", got)
	}
}
