package mesh

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/probe/search"
	"github.com/pmtu/pmtu/probe/transport"
	"github.com/pmtu/pmtu/route"
)

// Defaults of Options.
const (
	DefaultInterval = 30 * time.Second
	DefaultRate     = 200 // probes a second, all searches together
	DefaultParallel = 8   // searches at once
	DefaultWait     = time.Second
)

// Evidence says how a path MTU is known.
const (
	// EvidenceAck: the peer acknowledged a probe the size of the egress
	// interface's MTU; nothing larger can leave.
	EvidenceAck = "ack"
	// EvidenceICMP: a Fragmentation Needed or Packet Too Big named the
	// size, and the peer acknowledged a probe of it.
	EvidenceICMP = "icmp"
	// EvidenceSilence: larger probes vanished with no ICMP (an L2 port
	// with a smaller MTU, ICMP filtered: a black hole); the peer
	// acknowledged this size.
	EvidenceSilence = "silence"
)

// Options configure an Agent. Peers is required; the rest may be zero.
type Options struct {
	// Peers is the peer set's spec.
	Peers Spec
	// Interval is how often each peer is measured and the spec
	// resolved again; 0 means DefaultInterval.
	Interval time.Duration
	// Key, if set, is the mesh's shared key (--key-file): probes carry
	// its HMAC, and only probes and acknowledgements with a valid one
	// are answered and believed.
	Key []byte
	// Rate is the probe budget of all searches together, probes a
	// second; 0 means DefaultRate. Parallel is how many searches run at
	// once; 0 means DefaultParallel. Wait is how long one try waits for
	// an acknowledgement; 0 means DefaultWait.
	Rate     float64
	Parallel int
	Wait     time.Duration
	// Resolve looks up names; nil is net.DefaultResolver's LookupNetIP.
	Resolve Resolver
	// Local reports whether an address is this host's; nil reads the
	// interfaces' addresses at each refresh.
	Local func(netip.Addr) bool
	// Route finds the egress interface toward a peer; nil is route.Get.
	Route func(ctx context.Context, dst netip.Addr) (route.Route, error)
	// Fetch reads a URL for the page (peers' /metrics); nil uses an
	// http.Client with a 2 s timeout.
	Fetch func(ctx context.Context, url string) ([]byte, error)
	// Logf, if set, is told of changes: a peer that came or went, a path
	// MTU that changed, a search that failed.
	Logf func(format string, args ...any)
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Enter runs fn where the UDP sockets must be made (a network
	// namespace); nil runs it here.
	Enter func(fn func() error) error
}

// Measurement is the last search of one ordered pair (source → target).
type Measurement struct {
	Source, Target netip.Addr
	// PMTU is the path MTU; 0 when the last search found none (Err).
	PMTU mtu.Size
	// Evidence is EvidenceAck, EvidenceICMP or EvidenceSilence.
	Evidence string
	// LimitingHop sent the ICMP that named PMTU (EvidenceICMP).
	LimitingHop netip.Addr
	// Interface and InterfaceMTU are the egress interface toward the
	// target and its MTU: what this node believes the path carries.
	Interface    string
	InterfaceMTU mtu.Size
	// At is when the last search ended; LastSuccess when the last one
	// that found a path MTU did (zero: never).
	At, LastSuccess time.Time
	Probes          int
	Duration        time.Duration
	Err             string
}

// Agent is one node of pmtu mesh: it measures its outbound path MTU to
// every peer, answers its peers' probes, and serves /metrics and the
// page. Make one with New, then Run it.
type Agent struct {
	opts   Options
	now    func() time.Time
	route  func(context.Context, netip.Addr) (route.Route, error)
	fetch  func(context.Context, string) ([]byte, error)
	budget *probe.Budget
	peers  *PeerSet
	resp   *Responder
	port   int
	socks  map[bool]*transport.MeshSocket // by IPv6

	mu    sync.Mutex
	state map[netip.Addr]*peerState
	local map[netip.Addr]bool

	trigger chan struct{}
	wake    chan struct{} // a peer became due before the next tick
	stats   agentStats
	handler http.Handler
}

type peerState struct {
	m       Measurement
	phase   time.Duration // where in the interval this peer's searches fall
	next    time.Time
	running bool
	confirm bool // the last result changed: search again at once, once
	fails   int  // searches in a row that found no path MTU
	// again: a signal came while a search ran; search once more when
	// it ends. signalled is when the last signal was acted on.
	again     bool
	signalled time.Time
}

type agentStats struct {
	searchOK, searchFail atomic.Uint64
	probes               atomic.Uint64
	ignored              atomic.Uint64
	resolveErrs          atomic.Uint64
	dropped              atomic.Uint64
	signals, signalsUsed atomic.Uint64
}

// New checks opts and returns an Agent.
func New(opts Options) (*Agent, error) {
	if opts.Peers.Kind == 0 {
		return nil, fmt.Errorf("%w: no peers", ErrSpec)
	}
	if opts.Interval == 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Interval < 100*time.Millisecond {
		return nil, fmt.Errorf("interval %v is below 100ms", opts.Interval)
	}
	if opts.Rate == 0 {
		opts.Rate = DefaultRate
	}
	if opts.Parallel == 0 {
		opts.Parallel = DefaultParallel
	}
	if opts.Wait == 0 {
		opts.Wait = DefaultWait
	}
	if opts.Resolve == nil {
		opts.Resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	a := &Agent{opts: opts, now: opts.Now, route: opts.Route, fetch: opts.Fetch,
		budget: probe.NewBudget(opts.Rate, max(1, int(opts.Rate/10))), state: map[netip.Addr]*peerState{},
		trigger: make(chan struct{}, 1), wake: make(chan struct{}, 1)}
	if a.now == nil {
		a.now = time.Now
	}
	if a.route == nil {
		a.route = route.Get
	}
	if a.fetch == nil {
		a.fetch = httpFetch
	}
	a.peers = NewPeerSet(opts.Peers, opts.Resolve, a.isLocal, a.canProbe)
	a.resp = &Responder{Key: opts.Key, IsPeer: a.peers.Contains, Now: a.now}
	a.handler = a.newHandler()
	return a, nil
}

// isLocal: Options.Local, or the interfaces' addresses read at the last
// refresh.
func (a *Agent) isLocal(addr netip.Addr) bool {
	if a.opts.Local != nil {
		return a.opts.Local(addr)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.local[addr] || addr.IsLoopback() || addr.IsUnspecified()
}

// canProbe: a socket of the address's family is open.
func (a *Agent) canProbe(addr netip.Addr) bool {
	return a.socks[addr.Is6()] != nil
}

// Trigger searches every peer again at once (SIGHUP).
func (a *Agent) Trigger() {
	select {
	case a.trigger <- struct{}{}:
	default:
	}
}

// Handler serves /metrics and the page at /.
func (a *Agent) Handler() http.Handler { return a.handler }

// Run listens on ln (HTTP: /metrics and /) and on UDP at ln's address and
// port (the responder and the probes: one socket per family; an
// unspecified address opens both families, as far as the host has them),
// and measures every peer until ctx ends. It returns nil then.
func (a *Agent) Run(ctx context.Context, ln net.Listener) error {
	ap, err := netip.ParseAddrPort(ln.Addr().String())
	if err != nil {
		return fmt.Errorf("listener address %s: %w", ln.Addr(), err)
	}
	a.port = int(ap.Port())
	if err := a.listenUDP(ap); err != nil {
		return err
	}
	defer func() {
		for _, s := range a.socks {
			s.Close()
		}
	}()
	srv := &http.Server{Handler: a.handler, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	a.loop(ctx)
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (a *Agent) listenUDP(ap netip.AddrPort) error {
	a.socks = map[bool]*transport.MeshSocket{}
	cfg := &transport.MeshConfig{Key: a.opts.Key, Now: a.now, Local: a.isLocal, Enter: a.opts.Enter,
		Respond: func(from netip.Addr, b []byte) []byte { ack, _ := a.resp.Answer(from, b); return ack },
		Signal:  a.signal}
	addrs := []netip.Addr{ap.Addr().Unmap()}
	if ap.Addr().IsUnspecified() {
		addrs = []netip.Addr{netip.IPv4Unspecified(), netip.IPv6Unspecified()}
	}
	var errs []error
	for _, addr := range addrs {
		s, err := transport.ListenMesh(netip.AddrPortFrom(addr, ap.Port()), cfg)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		a.socks[addr.Is6()] = s
	}
	if len(a.socks) == 0 {
		return errors.Join(errs...)
	}
	return nil
}

// loop is the scheduler: it refreshes the peer set every interval (and
// when a file: spec's file changes), and starts each peer's search when
// it is due, at most Parallel at once.
func (a *Agent) loop(ctx context.Context) {
	tick := min(max(a.opts.Interval/20, 50*time.Millisecond), time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	sem := make(chan struct{}, a.opts.Parallel)
	var wg sync.WaitGroup
	defer wg.Wait()
	var refreshed time.Time
	for {
		now := a.now()
		if refreshed.IsZero() || now.Sub(refreshed) >= a.opts.Interval || a.peers.FileChanged() {
			a.refresh(ctx)
			refreshed = now
		}
		for _, peer := range a.due(now) {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				a.measure(ctx, peer)
			}()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-a.wake:
		case <-a.trigger:
			a.mu.Lock()
			for _, st := range a.state {
				st.next = time.Time{}
			}
			a.mu.Unlock()
			refreshed = time.Time{}
		}
	}
}

// refresh resolves the peer set again: a new peer is due at once, a
// peer that left is forgotten (its series end).
func (a *Agent) refresh(ctx context.Context) {
	if a.opts.Local == nil {
		a.readLocal()
	}
	rctx, cancel := context.WithTimeout(ctx, min(a.opts.Interval, 10*time.Second))
	defer cancel()
	added, removed, err := a.peers.Refresh(rctx)
	if err != nil {
		a.stats.resolveErrs.Add(1)
		a.logf("peers: %v (keeping the %d known)", err, len(a.peers.Addrs()))
		return
	}
	a.resp.Prune()
	a.mu.Lock()
	for _, p := range added {
		a.state[p] = &peerState{phase: time.Duration(rand.Int64N(int64(a.opts.Interval)))}
	}
	for _, p := range removed {
		delete(a.state, p)
	}
	a.mu.Unlock()
	for _, p := range added {
		a.logf("peer %s joined", p)
	}
	for _, p := range removed {
		a.logf("peer %s left", p)
	}
}

// readLocal reads the host's addresses.
func (a *Agent) readLocal() {
	set := map[netip.Addr]bool{}
	if ifs, err := net.InterfaceAddrs(); err == nil {
		for _, ia := range ifs {
			if p, err := netip.ParsePrefix(ia.String()); err == nil {
				set[p.Addr().Unmap().WithZone("")] = true
			}
		}
	}
	a.mu.Lock()
	a.local = set
	a.mu.Unlock()
}

// due returns the peers whose search is due at now and marks them
// running.
func (a *Agent) due(now time.Time) []netip.Addr {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []netip.Addr
	for p, st := range a.state {
		if !st.running && !now.Before(st.next) {
			st.running = true
			out = append(out, p)
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}

// nextRun is when a peer searched at now is next due: at its phase of
// the interval, at least half an interval on, give or take 5% of jitter,
// so that the searches stay spread over the interval.
func (a *Agent) nextRun(now time.Time, phase time.Duration) time.Time {
	iv := a.opts.Interval
	base := now.Add(iv / 2)
	off := (phase - time.Duration(base.UnixNano()%int64(iv)) + iv) % iv
	jitter := time.Duration(rand.Int64N(int64(iv)/10+1)) - iv/20
	return base.Add(off + jitter)
}

// signal is told of a Fragmentation Needed or Packet Too Big about a
// probe toward peer that arrived outside any search (transport.MeshConfig
// Signal): it names an MTU below the path MTU the last search found, so
// the path shrank since, and the peer is searched again at once (or as
// soon as its running search ends). An ICMP about a size above the path
// MTU (a late answer to the last search) says nothing new. At most one
// signal a tenth of an interval acts for a peer, so ICMP, forged or not,
// cannot make the agent search a peer more often than that.
func (a *Agent) signal(peer netip.Addr, size, named mtu.Size) {
	a.stats.signals.Add(1)
	now := a.now()
	a.mu.Lock()
	st := a.state[peer]
	act := st != nil && st.m.PMTU > 0 && (named != 0 && named < st.m.PMTU || named == 0 && size <= st.m.PMTU) &&
		(st.signalled.IsZero() || now.Sub(st.signalled) >= a.opts.Interval/10)
	if act {
		st.signalled = now
		if st.running {
			st.again = true
		} else {
			st.next = time.Time{}
		}
	}
	a.mu.Unlock()
	if !act {
		return
	}
	a.stats.signalsUsed.Add(1)
	a.logf("%s: an ICMP from outside a search names %d, below the path MTU: searching again", peer, named)
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// measure searches one peer and records the result.
func (a *Agent) measure(ctx context.Context, peer netip.Addr) {
	m := a.search(ctx, peer)
	if ctx.Err() != nil {
		return
	}
	a.record(peer, m)
}

// record keeps the result of a search of peer and says when the peer is
// next due.
func (a *Agent) record(peer netip.Addr, m Measurement) {
	a.mu.Lock()
	st := a.state[peer]
	if st == nil { // left meanwhile
		a.mu.Unlock()
		return
	}
	prev := st.m
	if m.PMTU == 0 {
		m.LastSuccess = prev.LastSuccess
	}
	changed := !prev.At.IsZero() && (prev.PMTU != m.PMTU)
	st.m, st.running = m, false
	if m.PMTU == 0 {
		st.fails++
	} else {
		st.fails = 0
	}
	switch {
	case st.again:
		// A signal came while this search ran, maybe about one of its
		// own probes the search had judged before the path changed.
		st.again, st.next = false, time.Time{}
	case changed && !st.confirm:
		// A path that changed is searched again at once: a change is
		// worth a second look before the next interval.
		st.confirm, st.next = true, time.Time{}
	case st.fails == 1:
		// A first failure (a peer whose agent is still starting, a
		// lost burst) is tried again a tenth of an interval later;
		// failures in a row wait for their turn.
		st.confirm, st.next = false, a.now().Add(a.opts.Interval/10)
	default:
		st.confirm, st.next = false, a.nextRun(a.now(), st.phase)
	}
	a.mu.Unlock()
	switch {
	case m.PMTU == 0 && (prev.PMTU != 0 || prev.At.IsZero()):
		a.logf("%s → %s: no path MTU: %s", m.Source, peer, m.Err)
	case m.PMTU != prev.PMTU:
		a.logf("%s → %s: path MTU %d (%s; interface %s %d)", m.Source, peer, m.PMTU, m.Evidence, m.Interface, m.InterfaceMTU)
	}
}

// search runs one search toward peer over the socket of its family.
func (a *Agent) search(ctx context.Context, peer netip.Addr) Measurement {
	start := a.now()
	m := Measurement{Target: peer}
	fail := func(err error) Measurement {
		m.At, m.Duration, m.Err = a.now(), a.now().Sub(start), err.Error()
		a.stats.searchFail.Add(1)
		return m
	}
	r, err := a.route(ctx, peer)
	if err != nil {
		return fail(err)
	}
	m.Source, m.Interface, m.InterfaceMTU = a.sourceFor(r), r.IfName, r.IfMTU
	s := a.socks[peer.Is6()]
	if s == nil {
		return fail(fmt.Errorf("no socket for %s", peer))
	}
	c, err := s.Open(peer, a.port)
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	sctx, cancel := context.WithTimeout(ctx, max(a.opts.Interval, 30*a.opts.Wait))
	defer cancel()
	res, err := search.Discover(sctx, c, &search.Config{
		Floor: max(mtu.Floor(peer.Is6()), c.MinSize()),
		Ceil:  r.IfMTU,
		Wait:  a.opts.Wait,
		Pace:  a.budget.Wait,
		Now:   a.now,
	})
	if res != nil {
		m.Probes = res.Probes
		a.stats.probes.Add(uint64(res.Probes))
		a.stats.ignored.Add(uint64(len(res.Ignored)))
	}
	a.stats.dropped.Add(uint64(c.Dropped()))
	if err != nil {
		var ue *search.UnreachableError
		if errors.As(err, &ue) && ue.Event.From == peer {
			err = fmt.Errorf("%w (no agent listens on port %d?)", err, a.port)
		}
		return fail(err)
	}
	m.PMTU, m.LimitingHop = res.PMTU, res.LimitingHop
	switch {
	case res.ByICMP:
		m.Evidence = EvidenceICMP
	case res.PMTU >= r.IfMTU:
		m.Evidence = EvidenceAck
	default:
		m.Evidence = EvidenceSilence
	}
	m.At = a.now()
	m.Duration, m.LastSuccess = m.At.Sub(start), m.At
	a.stats.searchOK.Add(1)
	return m
}

// sourceFor names this node in a pair: the source address the route
// gives, else the address the peer spec named for this host.
func (a *Agent) sourceFor(r route.Route) netip.Addr {
	if r.Src.IsValid() {
		return r.Src.Unmap()
	}
	if self := a.peers.Self(); len(self) > 0 {
		return self[0]
	}
	return netip.Addr{}
}

// Measurements returns the last measurement of every current peer,
// sorted by target; peers not searched yet are left out.
func (a *Agent) Measurements() []Measurement {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]Measurement, 0, len(a.state))
	for _, st := range a.state {
		if !st.m.At.IsZero() {
			out = append(out, st.m)
		}
	}
	slices.SortFunc(out, func(x, y Measurement) int { return x.Target.Compare(y.Target) })
	return out
}

// Peers returns the current peer set.
func (a *Agent) Peers() []netip.Addr { return a.peers.Addrs() }

func (a *Agent) logf(format string, args ...any) {
	if a.opts.Logf != nil {
		a.opts.Logf(format, args...)
	}
}
