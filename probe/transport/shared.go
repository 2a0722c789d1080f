package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/wire"
)

// Engine runs many searches over shared sockets: one raw ICMP socket per
// family and place (namespace, interface, bound source), read by one
// goroutine that parses each packet once and hands it to the search it
// belongs to (demux.go), and for TCP one raw TCP socket per family and
// source (shared_tcp.go). MethodICMP (Open), MethodUDP (OpenUDP) and
// MethodTCP (OpenTCP) share; see doc.go for why the unprivileged methods
// keep sockets of their own.
//
// An Engine is safe for concurrent use. Close it when the searches are
// done: it closes its sockets.
type Engine struct {
	listen func(v6 bool, cfg *OpenConfig) (net.PacketConn, error)
	now    func() time.Time

	listenTCP func(v6 bool, cfg *OpenConfig) (net.PacketConn, error)

	mu     sync.Mutex
	socks  map[sharedKey]*demux
	tcp    map[sharedKey]*tcpSocket
	denied map[sharedKey]error // sockets refused for want of privilege, not asked again
	closed bool
}

// EngineConfig is optional configuration of an Engine; nil means defaults.
type EngineConfig struct {
	// Now is the clock that stamps arrivals the kernel does not; nil is
	// time.Now.
	Now func() time.Time
	// Listen opens the raw ICMP socket of a family for cfg (inside
	// cfg.Enter); nil opens a real one. Tests give a fake network.
	Listen func(v6 bool, cfg *OpenConfig) (net.PacketConn, error)
	// ListenTCP opens the raw TCP socket of a family for cfg, bound to
	// cfg.Src; nil opens a real one.
	ListenTCP func(v6 bool, cfg *OpenConfig) (net.PacketConn, error)
}

// sharedKey is what makes two searches' sockets one: the family and where
// the socket is made and bound.
type sharedKey struct {
	v6        bool
	namespace string
	ifname    string
	bind      netip.Addr
}

// NewEngine returns an Engine with no sockets yet: each is opened by the
// first search that needs it.
func NewEngine(cfg *EngineConfig) *Engine {
	if cfg == nil {
		cfg = &EngineConfig{}
	}
	e := &Engine{listen: cfg.Listen, listenTCP: cfg.ListenTCP, now: cfg.Now, socks: map[sharedKey]*demux{}, tcp: map[sharedKey]*tcpSocket{}}
	if e.now == nil {
		e.now = time.Now
	}
	if e.listen == nil {
		e.listen = listenShared
	}
	if e.listenTCP == nil {
		e.listenTCP = listenSharedTCP
	}
	return e
}

// ErrEngineClosed is what opening a conn on a closed Engine returns.
var ErrEngineClosed = errors.New("probe engine closed")

// shared makes cfg ready for dst (OpenConfig.toward) and returns the
// Engine's raw ICMP socket for it: of dst's family and cfg's place, bound
// to the source only when the caller pinned one (pinned), under key.
func (e *Engine) shared(dst netip.Addr, cfg *OpenConfig) (c OpenConfig, d netip.Addr, pinned bool, key sharedKey, dm *demux, err error) {
	c, d, pinned, err = cfg.toward(dst)
	if err != nil {
		return c, d, pinned, key, nil, err
	}
	key = sharedKey{v6: d.Is6(), namespace: c.Namespace, ifname: c.Interface}
	if pinned {
		key.bind = c.Src
	}
	lc := c
	lc.Src = key.bind
	dm, err = e.socket(key, &lc)
	return c, d, pinned, key, dm, err
}

// Open opens a MethodICMP conn toward dst over the shared socket of its
// family and cfg's place (cfg.Namespace names the namespace cfg.Enter
// enters). cfg.Src must be the source address the probes leave from
// (quotes are checked against it); OpenMethod's rules for choosing it
// apply when it is invalid.
func (e *Engine) Open(dst netip.Addr, cfg *OpenConfig) (*SharedConn, error) {
	c, dst, _, _, d, err := e.shared(dst, cfg)
	if err != nil {
		return nil, err
	}
	return d.open(dst, &c)
}

// OpenUDP opens a MethodUDP conn toward dst: its probes leave from a UDP
// socket of its own (its own source port, so its own flow, as OpenMethod's
// are), and the ICMP errors they earn are read from the Engine's shared
// raw socket of its family and place, routed by the port they quote,
// instead of from a raw socket of its own that every ICMP the host gets
// is copied to. cfg is as for Open.
func (e *Engine) OpenUDP(dst netip.Addr, cfg *OpenConfig) (*UDPConn, error) {
	c, dst, pinned, _, d, err := e.shared(dst, cfg)
	if err != nil {
		return nil, err
	}
	uc, err := openUDPProbe(dst, &c, MethodUDP, pinned)
	if err != nil {
		return nil, err
	}
	if err := d.registerPort(wire.ProtoUDP, uc.sport, uc.in); err != nil {
		uc.Close()
		return nil, err
	}
	uc.engineLink = engineLink{
		gone:    d.closed,
		unshare: func() { d.unregisterPort(wire.ProtoUDP, uc.sport, uc.in) },
	}
	return uc, nil
}

// OpenTCP opens a MethodTCP conn toward dst whose SYNs go out through the
// Engine's shared raw TCP socket of its family, place and source (the
// checksum covers the source, so that socket is always bound to it), and
// whose answers come back through it, routed by the conn's source port;
// its ICMP errors come by the shared raw ICMP socket, routed by the port
// they quote. A source port no other search of the socket holds is chosen
// (cfg.Flow pins it). cfg is as for Open; the conn sends no hop limits.
func (e *Engine) OpenTCP(dst netip.Addr, cfg *OpenConfig) (*TCPConn, error) {
	c, dst, _, key, d, err := e.shared(dst, cfg)
	if err != nil {
		return nil, err
	}
	tkey := key
	tkey.bind = c.Src
	ts, err := e.tcpSocket(tkey, &c)
	if err != nil {
		return nil, err
	}
	tc := newTCPConn(dst, &c)
	tc.raw = ts.c
	for try := 0; ; try++ {
		err := ts.register(tc.basePort, tc)
		if err == nil {
			if err = d.registerPort(wire.ProtoTCP, tc.basePort, tc.in); err == nil {
				break
			}
			ts.unregister(tc.basePort, tc)
		}
		if c.Flow != 0 || try == 16 || !errors.Is(err, ErrPortShared) {
			return nil, err
		}
		tc.basePort = randomTCPPort()
	}
	port := tc.basePort
	tc.engineLink = engineLink{
		gone: func() bool { return d.closed() || ts.closed() },
		unshare: func() {
			ts.unregister(port, tc)
			d.unregisterPort(wire.ProtoTCP, port, tc.in)
		},
	}
	return tc, nil
}

// engineLink ties a UDP or TCP conn to the Engine whose shared sockets it
// uses (OpenUDP, OpenTCP); the zero value is a conn with sockets of its
// own.
type engineLink struct {
	gone    func() bool // whether the Engine's sockets are closed
	unshare func()      // gives the conn's port back to them
}

// onEngine reports whether the conn uses an Engine's sockets.
func (l *engineLink) onEngine() bool { return l.unshare != nil }

// engineClosed reports whether the conn's Engine is closed: the conn is
// then closed too.
func (l *engineLink) engineClosed() bool { return l.gone != nil && l.gone() }

// release gives the conn's port back to its Engine, once; false for a
// conn with sockets of its own.
func (l *engineLink) release() bool {
	if l.unshare == nil {
		return false
	}
	l.unshare()
	l.unshare = nil
	return true
}

// tcpSocket returns the shared raw TCP socket of key, opening it on first
// use.
func (e *Engine) tcpSocket(key sharedKey, cfg *OpenConfig) (*tcpSocket, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrEngineClosed
	}
	if t, ok := e.tcp[key]; ok {
		return t, nil
	}
	c, err := e.listenTCP(key.v6, cfg)
	if err != nil {
		return nil, err
	}
	t := newTCPSocket(c, e.now)
	e.tcp[key] = t
	return t, nil
}

// socket returns the shared socket of key, opening it on first use.
func (e *Engine) socket(key sharedKey, cfg *OpenConfig) (*demux, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrEngineClosed
	}
	if d, ok := e.socks[key]; ok {
		return d, nil
	}
	if err, ok := e.denied[key]; ok {
		return nil, err
	}
	c, err := e.listen(key.v6, cfg)
	if err != nil {
		if IsPermission(err) {
			if e.denied == nil {
				e.denied = map[sharedKey]error{}
			}
			e.denied[key] = err
		}
		return nil, err
	}
	d := newDemux(c, key.v6, e.now)
	e.socks[key] = d
	return d, nil
}

// Close closes every shared socket; the conns on them then fail.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	var errs []error
	for k, d := range e.socks {
		errs = append(errs, d.close())
		delete(e.socks, k)
	}
	for k, t := range e.tcp {
		errs = append(errs, t.close())
		delete(e.tcp, k)
	}
	return errors.Join(errs...)
}

// EngineStats counts what an Engine's readers did with the packets they
// read.
type EngineStats struct {
	// Read is every packet read; Delivered those handed to a search.
	Read, Delivered int64
	// Foreign are packets for no search of the engine (another program's
	// Echo, an error about someone else's packet, garbage); Overflow
	// those dropped because their search was not reading.
	Foreign, Overflow int64
}

func (s *EngineStats) add(d *demuxStats) {
	s.Read += d.read.Load()
	s.Delivered += d.delivered.Load()
	s.Foreign += d.foreign.Load()
	s.Overflow += d.overflow.Load()
}

// Stats sums the counts of every shared socket.
func (e *Engine) Stats() EngineStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	var s EngineStats
	for _, d := range e.socks {
		s.add(&d.stats)
	}
	for _, t := range e.tcp {
		s.add(&t.stats)
	}
	return s
}

// SharedConn is one search's conn on a shared socket: an ICMPConn whose
// reads come from the socket's demultiplexer instead of the socket. It
// satisfies Conn (and probe/search's Conn) as ICMPConn does.
type SharedConn struct {
	ic   *ICMPConn
	d    *demux
	in   chan delivery
	once sync.Once
	done chan struct{}
}

// delivery is one packet the demultiplexer handed a search: parsed once.
type delivery struct {
	m    *wire.Message
	from netip.Addr
	n    int
	at   time.Time
	frag mtu.Size // the largest fragment of a reassembled packet; 0 if whole
}

// Target is the address probes go to.
func (s *SharedConn) Target() netip.Addr { return s.ic.dst }

// Flow is the flow every probe of the search carries: its Echo
// identifier.
func (s *SharedConn) Flow() Flow { return s.ic.Flow() }

// Method is MethodICMP.
func (s *SharedConn) Method() Method { return MethodICMP }

// ErrSharedTTL is what a SharedConn's Send returns for a probe with a hop
// limit: the hop limit is the shared socket's, so probes that set one
// (trace) need a conn of their own.
var ErrSharedTTL = errors.New("a shared socket sends only probes without a hop limit")

// Send sends an Echo Request that makes an IP packet of exactly p.Size
// bytes, with the search's identifier and cookie.
func (s *SharedConn) Send(ctx context.Context, p wire.Probe) error {
	if p.TTL != 0 && p.TTL != defaultHopLimit {
		return ErrSharedTTL
	}
	select {
	case <-s.done:
		return net.ErrClosed
	default:
	}
	return s.ic.Send(ctx, p)
}

// Recv returns the next packet the demultiplexer handed this search,
// judged by the ICMPConn's rules, waiting until deadline at the latest.
func (s *SharedConn) Recv(deadline time.Time) (wire.Event, error) {
	select {
	case a := <-s.in:
		return s.event(a), nil
	case <-s.done:
		return wire.Event{}, net.ErrClosed
	default:
	}
	timeout := fmt.Errorf("%w: %w", ErrTimeout, os.ErrDeadlineExceeded)
	var expired <-chan time.Time
	if !deadline.IsZero() {
		d := time.Until(deadline)
		if d <= 0 {
			return wire.Event{}, timeout
		}
		t := time.NewTimer(d)
		defer t.Stop()
		expired = t.C
	}
	select {
	case a := <-s.in:
		return s.event(a), nil
	case <-s.done:
		return wire.Event{}, net.ErrClosed
	case <-s.d.dead:
		return wire.Event{}, net.ErrClosed
	case <-expired:
		return wire.Event{}, timeout
	}
}

func (s *SharedConn) event(a delivery) wire.Event {
	ev := s.ic.judge(a.m, a.from)
	ev.At, ev.Bytes, ev.IPv6 = a.at, a.n, s.ic.ipv6
	if ev.Kind == wire.Reached {
		ev.FragSize = a.frag
	}
	return ev
}

// Close gives the search's identifier back; the shared socket stays open
// for the others (Engine.Close closes it).
func (s *SharedConn) Close() error {
	s.once.Do(func() {
		close(s.done)
		s.d.unregister(s.ic.id)
	})
	return nil
}

// counters of a demux; atomic, read by Engine.Stats.
type demuxStats struct {
	read, delivered, foreign, overflow atomic.Int64
}

// toward is cfg (nil: the defaults) made ready to open a conn toward dst:
// the addresses unmapped, the source checked against dst's family, and
// chosen where the caller gave none (the route's source, cfg.RouteSrc,
// else the kernel's choice). pinned says whether the caller gave a
// source or an interface: the socket is then bound to the source.
func (cfg *OpenConfig) toward(dst netip.Addr) (c OpenConfig, d netip.Addr, pinned bool, err error) {
	if cfg != nil {
		c = *cfg
	}
	d = dst.Unmap()
	if !d.IsValid() {
		return c, d, false, errors.New("invalid destination address")
	}
	c.Src = c.Src.Unmap()
	pinned = c.Src.IsValid() || c.Interface != ""
	if c.Src.IsValid() && c.Src.Is6() != d.Is6() {
		return c, d, false, fmt.Errorf("source %s and destination %s are not of one family", c.Src, d)
	}
	if rs := c.RouteSrc.Unmap(); !c.Src.IsValid() && rs.IsValid() && rs.Is6() == d.Is6() {
		c.Src = rs
	}
	if !c.Src.IsValid() {
		if c.Src, err = chooseSource(d, &c); err != nil {
			return c, d, false, err
		}
	}
	return c, d, pinned, nil
}
