package probe

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/search"
	"github.com/pmtu/pmtu/probe/wire"
)

// Attempt is one way Find or Trace asked the target, when Options.Proto
// was not chosen: ICMP Echo first, then the Fallbacks.
type Attempt struct {
	Proto Proto
	// Port is the destination port; 0 for ICMP.
	Port int
	// Method is the method that sent the probes; "" when Skipped.
	Method Method
	// Answered is true when the target answered a probe of this way.
	Answered bool
	// Probes is how many probes this way cost before it was judged.
	Probes int
	// Skipped says why this way was not tried (nil if it was): no method
	// of the protocol may be used by this process (a *NoMethodError).
	Skipped error
}

// String says the way in words: "ICMP Echo", "TCP to port 443", "UDP to
// port 33434". It names what was sent: ICMP asked of a process that may
// only send UDP (method udp-recverr) is UDP.
func (a Attempt) String() string {
	p := a.Proto
	if a.Method != "" {
		p = a.Method.Proto()
	}
	switch p {
	case ProtoICMP:
		return "ICMP Echo"
	case ProtoTCP:
		return fmt.Sprintf("TCP to port %d", a.Port)
	case ProtoQUIC:
		return fmt.Sprintf("QUIC to port %d", a.Port)
	}
	return fmt.Sprintf("UDP to port %d", a.Port)
}

// Fallback is a way to ask a target that answers no ICMP Echo.
type Fallback struct {
	Proto Proto
	Port  int // 0: the protocol's default
}

// Fallbacks are tried in order when ICMP Echo earns no answer at any size
// (or, for Trace, no walk reaches the target) and the caller did not
// choose Options.Proto: TCP to 443, then 80 (with raw sockets a SYN-ACK
// or a RST proves a SYN arrived; without, the ACK of a connection's data
// segment proves it did), then QUIC to 443 (a Version Negotiation proves
// a datagram arrived), then UDP to a high port (a Port Unreachable).
// Web servers that drop ping and send no ICMP at all are found by the
// first three, with no privilege.
var Fallbacks = []Fallback{{ProtoTCP, 443}, {ProtoTCP, 80}, {ProtoQUIC, 443}, {ProtoUDP, 0}}

// echoMethods are the methods of the first way asked when no protocol
// was chosen: ICMP Echo itself, over a raw socket or a ping socket. A
// process that may use neither skips it, and asks by TCP and QUIC (which
// need no privilege) before UDP, whose Port Unreachable the target
// rate-limits; UDP comes last.
var echoMethods = []Method{MethodICMP, MethodPing}

// checkProbes is how many probes a fallback costs before it is judged
// unanswered: sent together, at the smallest size, waited for once.
const checkProbes = 2

// findAny is Find with no protocol chosen: ICMP Echo; when nothing comes
// back at any size, each Fallback in turn is asked with checkProbes small
// probes, and the first the target answers finishes the search. When none
// answers, the ICMP search's Result stands (its bounds are what routers
// proved), with every attempt in Tried.
func (t *Target) findAny(ctx context.Context) (*Result, error) {
	res, err := t.find(ctx, ProtoICMP, 0, echoMethods)
	var tried []Attempt
	if res == nil {
		tried = t.echoSkipped(err)
	} else {
		tried = []Attempt{{Proto: ProtoICMP, Port: res.Port, Method: res.Method, Probes: res.Probes,
			Answered: res.Lo > 0 || !errors.Is(err, ErrNoReply)}}
		if tried[0].Answered || res.Hi <= t.floor() {
			// Answered; or routers refused every size the search may
			// try (--min-size above the path MTU): no other protocol
			// would pass either.
			res.Tried = tried
			return res, err
		}
	}
	tried, fb := t.askFallbacks(ctx, tried)
	if fb != nil {
		t.logf("%s unanswered; %s answered: searching with it", tried[0], tried[len(tried)-1])
		r, err := t.find(ctx, fb.Proto, fb.Port, nil)
		// A way capped by the target's own limit (its TCP MSS) proved
		// only a lower bound: the ways after it may try larger sizes.
		for r != nil && err == nil && r.Capped != "" && ctx.Err() == nil {
			var next *Fallback
			if tried, next = t.askFallbacks(ctx, tried); next == nil {
				break
			}
			t.logf("%s; %s answered: searching with it too", r.Capped, tried[len(tried)-1])
			r2, err2 := t.find(ctx, next.Proto, next.Port, nil)
			if r2 != nil && err2 == nil && (r2.Capped == "" || r2.Lo > r.Lo) && r2.Lo >= r.Lo {
				r, err = r2, err2
			}
		}
		if r != nil {
			r.Tried = tried
		}
		return r, err
	}
	if res == nil {
		// Echo could not be sent and nothing answered: what routers
		// prove to ICMP asked by any means (UDP, without privilege)
		// is the answer, as with a chosen --proto icmp.
		r, ferr := t.find(ctx, ProtoICMP, 0, nil)
		if r == nil {
			return nil, err
		}
		r.Tried = tried
		return r, ferr
	}
	res.Tried = tried
	return res, err
}

// traceAny is Trace with no protocol chosen, as findAny is Find: a walk
// with ICMP Echo; when the target never answered it, each Fallback in
// turn is asked with checkProbes small probes, and the first the target
// answers walks again. The walk that proved more stands (farther): the
// fallback's when it reached the target; else the Echo walk, whose
// per-hop figures are what routers proved. Tried lists every way asked.
// A walk ended by a Destination Unreachable was answered (as an
// *UnreachableError ends findAny): other protocols would meet the same
// refusal.
func (t *Target) traceAny(ctx context.Context, maxHops int) (*TraceResult, error) {
	res, err := t.trace(ctx, ProtoICMP, 0, maxHops, echoMethods)
	var tried []Attempt
	if res == nil {
		tried = t.echoSkipped(err)
	} else {
		tried = []Attempt{{Proto: ProtoICMP, Port: res.Port, Method: res.Method, Probes: res.Probes,
			Answered: answered(&res.TraceResult)}}
		if tried[0].Answered || err != nil || (res.Max > 0 && res.Max < t.floor()) {
			// Answered; or the walk could not go on; or routers
			// refused every size it may try: no other protocol
			// would pass either.
			res.Tried = tried
			return res, err
		}
	}
	tried, fb := t.askFallbacks(ctx, tried)
	if a := last(tried); fb != nil && !canWalk(a.Method) {
		// Connections and QUIC set no hop limit: the Echo walk's hops
		// stand, and a search with the way that answered is the last
		// hop, the target's.
		t.logf("%s unanswered; %s answered: the target's path MTU by %s, after the Echo walk's hops", tried[0], a, a.Method)
		if res == nil {
			// Echo could not be sent: the routers' hops come from a
			// walk by whatever ICMP may be sent as (UDP, without
			// privilege), which the target will not answer either.
			res, _ = t.trace(ctx, ProtoICMP, 0, maxHops, nil)
		}
		if res == nil {
			res = &TraceResult{TraceResult: search.TraceResult{Target: t.Addr}, Target: t, Method: a.Method, Port: a.Port, Return: returnUnknown}
		}
		r, ferr := t.find(ctx, fb.Proto, fb.Port, nil)
		if r != nil && r.Lo > 0 {
			appendTarget(&res.TraceResult, &r.Result)
			res.LastHop = r
		}
		res.Tried = tried
		if ferr != nil && ctx.Err() == nil {
			t.logf("the target's search by %s: %v", a.Method, ferr)
			ferr = nil // the walk stands, as far as it went
		}
		return res, ferr
	}
	if fb != nil {
		a := tried[len(tried)-1]
		t.logf("%s unanswered; %s answered: walking with it", tried[0], a)
		r, ferr := t.trace(ctx, fb.Proto, fb.Port, maxHops, nil)
		if r != nil && (res == nil || farther(&r.TraceResult, &res.TraceResult)) {
			res = r
		} else {
			t.logf("the walk with %s proved no more: the first walk stands", a)
		}
		err = ferr
	}
	if res == nil {
		// As findAny: the walk by any means ICMP may be sent.
		r, terr := t.trace(ctx, ProtoICMP, 0, maxHops, nil)
		if r == nil {
			return nil, err
		}
		r.Tried = tried
		return r, terr
	}
	res.Tried = tried
	return res, err
}

// canWalk reports whether probes of method m can carry a hop limit: not
// a TCP connection's data (the handshake would need it too), and not
// QUIC, whose answers start at 1200 bytes and say nothing of the routers.
func canWalk(m Method) bool { return m != MethodTCPData && m != MethodQUIC }

func last(tried []Attempt) Attempt {
	if len(tried) == 0 {
		return Attempt{}
	}
	return tried[len(tried)-1]
}

// appendTarget makes the target's search r (by a method that sets no hop
// limit) the last hop of the walk res, whose probes never reached it: it
// follows the last hop that answered (silent hop limits after it are
// dropped, since the target's distance is not known), and is a drop where
// its path MTU is below that hop's, a black hole when larger probes
// vanished without an ICMP.
func appendTarget(res *search.TraceResult, r *search.Result) {
	n := len(res.Hops)
	for n > 0 && res.Hops[n-1].Reply == search.NoReply {
		n--
	}
	res.Hops = res.Hops[:n]
	prev := mtu.Size(0)
	ttl := 1
	if n > 0 {
		prev, ttl = res.Hops[n-1].PMTU, res.Hops[n-1].TTL+1
	}
	h := search.TraceHop{TTL: ttl, Addr: r.Target, Reply: search.ReplyReached, PMTU: r.PMTU, Exact: r.Confirmed,
		Min: r.Lo, Max: r.Hi - 1, Probes: r.Probes, Rounds: r.Rounds,
		Event: wire.Event{Kind: wire.Reached, From: r.Target}}
	if prev > 0 && r.PMTU < prev {
		h.MTUDrop = true
		switch {
		case r.ByICMP:
			h.ReportedBy, h.ReportedMTU = r.LimitingHop, r.PMTU
		case r.Silence && n > 0:
			h.VanishAfter = res.Hops[n-1].TTL
		}
	}
	res.Hops = append(res.Hops, h)
	res.Reached, res.PMTU = true, r.PMTU
	if h.Max > 0 && (res.Max == 0 || h.Max < res.Max) {
		res.Max, res.MaxBy = h.Max, r.LimitingHop
	}
	res.Probes += r.Probes
	res.Rounds = max(res.Rounds, r.Rounds)
	res.Elapsed += r.Elapsed
}

// echoSkipped is the ways tried when ICMP Echo could not be sent, for
// err.
func (t *Target) echoSkipped(err error) []Attempt {
	t.logf("ICMP Echo skipped: %v", err)
	return []Attempt{{Proto: ProtoICMP, Skipped: err}}
}

// askFallbacks asks the target by each Fallback in turn (check), after
// the ways already tried, until one is answered; it returns every way
// tried and the one answered, nil if none was.
func (t *Target) askFallbacks(ctx context.Context, tried []Attempt) ([]Attempt, *Fallback) {
	for _, fb := range Fallbacks {
		if ctx.Err() != nil {
			break
		}
		if askedAlready(tried, fb) {
			continue
		}
		a := t.check(ctx, fb)
		tried = append(tried, a)
		if a.Answered {
			return tried, &fb
		}
	}
	return tried, nil
}

// answered reports whether the target answered a walk: it was reached,
// or a Destination Unreachable ended the walk.
func answered(res *search.TraceResult) bool {
	n := len(res.Hops)
	return res.Reached || (n > 0 && res.Hops[n-1].Reply == search.ReplyUnreachable)
}

// farther reports whether walk a proved more than walk b: a reached the
// target and b did not, or, neither reaching it, a proved a path MTU at
// a farther hop.
func farther(a, b *search.TraceResult) bool {
	if a.Reached != b.Reached {
		return a.Reached
	}
	return provedTTL(a) > provedTTL(b)
}

// provedTTL is the farthest hop limit with a proved path MTU; 0 if none.
func provedTTL(res *search.TraceResult) int {
	for i := len(res.Hops) - 1; i >= 0; i-- {
		if res.Hops[i].PMTU > 0 {
			return res.Hops[i].TTL
		}
	}
	return 0
}

// check asks the target by fb with checkProbes probes of the smallest
// size, which every path carries, and says whether any came back.
func (t *Target) check(ctx context.Context, fb Fallback) Attempt {
	a := Attempt{Proto: fb.Proto, Port: portOf(fb.Proto, fb.Port)}
	c, m, err := t.openProto(fb.Proto, fb.Port, false)
	if err != nil {
		a.Skipped = err
		t.logf("%s skipped: %v", a, err)
		return a
	}
	defer c.Close()
	a.Method = m
	o := &t.opts
	size := t.floor()
	if ms, ok := c.(minSizer); ok {
		// QUIC is answered only from 1200 bytes up; a TCP data probe
		// needs room for its ClientHello.
		size = max(size, ms.MinSize())
	}
	for seq := 1; seq <= checkProbes; seq++ {
		if err := c.Send(ctx, wire.Probe{Seq: seq, Size: size}); err != nil {
			t.logf("%s: sending failed: %v", a, err)
			return a
		}
		a.Probes++
	}
	deadline := o.world().now().Add(cmp.Or(o.Wait, time.Second))
	if cd, ok := ctx.Deadline(); ok && cd.Before(deadline) {
		deadline = cd
	}
	for {
		ev, err := c.Recv(deadline)
		if err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.logf("%s: reading failed: %v", a, err)
			}
			break
		}
		if o.OnEvent != nil {
			o.OnEvent(ev)
		}
		if ev.Kind == wire.Reached && ev.Seq >= 1 && ev.Seq <= checkProbes {
			a.Answered = true
			break
		}
	}
	t.logf("%s: %s", a, map[bool]string{true: "answered", false: "unanswered"}[a.Answered])
	return a
}

// askedAlready reports whether a way tried sent what fb would: ICMP
// asked of a process that may only send UDP sent UDP to its port.
func askedAlready(tried []Attempt, fb Fallback) bool {
	for _, a := range tried {
		if a.Skipped == nil && a.Method != "" && a.Method.Proto() == fb.Proto && a.Port == portOf(fb.Proto, fb.Port) {
			return true
		}
	}
	return false
}

// floor is the smallest probe of a search toward t.
func (t *Target) floor() mtu.Size { return cmp.Or(t.opts.MinSize, mtu.Floor(t.Addr.Is6())) }

// portOf is the port probes of proto go to: port, or the protocol's
// default; 0 for ICMP.
func portOf(proto Proto, port int) int {
	if proto == ProtoICMP || proto == "" {
		return 0
	}
	return cmp.Or(port, proto.DefaultPort())
}

func (t *Target) logf(format string, args ...any) {
	if t.opts.Log != nil {
		t.opts.Log(fmt.Sprintf(format, args...))
	}
}
