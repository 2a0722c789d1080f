package probe

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/netns"
	"github.com/pmtu/pmtu/probe/search"
	"github.com/pmtu/pmtu/probe/transport"
	"github.com/pmtu/pmtu/probe/wire"
)

// Options says how to probe. The zero value (or nil) probes with ICMP,
// IPv4 or IPv6 as the name resolves, from this namespace, bounded by the
// egress interface's MTU, waiting 1 s for each answer, 3 tries a size.
type Options struct {
	// Network is "ip" (either family; the default), "ip4" or "ip6".
	Network string
	// Proto is what probes are made of; "" is ProtoICMP, and when ICMP
	// Echo earns no answer at any size, Find asks by TCP to 443 and 80,
	// then UDP (fallback.go): "" means the caller did not choose. The
	// method is the first of Proto.Methods this process may use: raw
	// sockets with root or CAP_NET_RAW, else ICMP datagram sockets or UDP
	// with the error queue, which need no privilege.
	Proto Proto
	// Method, if set, is the one method the probes use (the user named
	// it, as --method tcp-data); Proto is then its protocol, and no
	// other is tried.
	Method Method
	// Port is the destination port of UDP, TCP and QUIC probes; 0 is
	// the protocol's default (33434 for UDP, 443 for TCP and QUIC).
	Port int
	// Flow, if set (1..MaxFlow), pins the flow every probe carries, so
	// that a router spreading flows over equal-cost paths (ECMP) sends
	// them all down one branch, the same on every run: source port
	// FlowBase+Flow for UDP and TCP, Echo identifier FlowBase+Flow for
	// ICMP. 0 lets the system choose one, which still stays the same for
	// the whole search.
	Flow int
	// Interface, if set, sends every probe out of that device
	// (SO_BINDTODEVICE); Source, if valid, from that address of this
	// host.
	Interface string
	Source    netip.Addr
	// Netns, if set, probes from that network namespace (a name under
	// /run/netns, or a path), as `ip netns exec NAME` would; it needs
	// CAP_SYS_ADMIN.
	Netns string
	// MinSize and MaxSize bound the probes, in IP bytes; 0 means the
	// family's floor (68 or 1280) and the egress interface MTU.
	MinSize, MaxSize mtu.Size
	// Wait is how long a probe waits for an answer; 0 means 1 s.
	Wait time.Duration
	// Tries is how many unanswered probes make a size too big; 0 means
	// DefaultTries (more where loss is measured).
	Tries int
	// OnEvent, if set, is told every answer as it is read, and every
	// packet ignored with the reason.
	OnEvent func(Event)
	// Log, if set, is told in one line how the probes go: the address,
	// port and method chosen.
	Log func(line string)
	// Pace, if set, is called before every probe is sent and may wait:
	// one packet budget shared by many searches (pmtu's --rate). Its
	// error ends the search.
	Pace func(ctx context.Context) error
	// NoReverse turns off the extra probes that tell which way a black
	// hole lies (Result.BlackHoleDirection). What replies say of the
	// return path (Result.Return) costs nothing and stays.
	NoReverse bool
	// Engine, if set, lets Find share its sockets with the other
	// searches of the Engine (see Engine): what a program that probes
	// many hosts at once should use.
	Engine *Engine

	// Net, if set, is the world probed instead of this host's kernel: a
	// fake network in tests (see Network). nil probes for real.
	Net *Network

	// sys is the world probed in this package's tests; nil is Net, else
	// defaultNetwork.
	sys *network
}

func (o *Options) network() string { return cmp.Or(o.Network, "ip") }

func (o *Options) world() *network {
	switch {
	case o.sys != nil:
		return o.sys
	case o.Net != nil:
		return o.Net.world()
	}
	return defaultNetwork
}

// Result is what Find found: the search's answer (search.Result: the path
// MTU, how it is known, what was proved, what it cost), the Target, and
// the Method that sent the probes.
type Result struct {
	search.Result
	Target *Target
	Method Method
	// Return is what the replies proved about the return path's MTU:
	// Evidence "unknown" where the answers are small (UDP, TCP) or the
	// method cannot see how they were cut.
	Return ReturnBounds
	// BlackHoleDirection says, when Silence found a black hole, which way
	// it lies: BlackHoleForward, BlackHoleReturn (PMTU is then the forward
	// path's, found by ForwardMethod), or "" when it could not be told.
	BlackHoleDirection string
	// ForwardMethod is the method that found PMTU when it is not Method:
	// UDP, where Echo Replies vanished on the way back.
	ForwardMethod Method
	// Flow is the flow every probe carried (see Options.Flow).
	Flow Flow
	// Port is the port the probes went to (0 for ICMP).
	Port int
	// Tried lists, when Options.Proto was not chosen, every way the
	// target was asked, in order (fallback.go); nil otherwise.
	Tried []Attempt
	// Capped, when set, says why the search stopped below the sizes it
	// could have tried, with nothing refused: the target's own limit
	// (its TCP MSS) for a method that can send no larger. PMTU is then a
	// lower bound, and Hi above the largest size.
	Capped string
	// Traffic is what the probes cost a target that answered them as a
	// service (MethodTCPData, MethodQUIC); nil for the other methods.
	Traffic *Traffic
}

// TraceOptions says how to trace: Options, and the largest hop limit.
type TraceOptions struct {
	Options
	// MaxHops is the largest hop limit probed; 0 means 30.
	MaxHops int
}

// TraceResult is what Trace found: every hop's path MTU
// (search.TraceResult), the Target, and the Method.
type TraceResult struct {
	search.TraceResult
	Target *Target
	Method Method
	// Return is what the target's replies proved about the return
	// path's MTU, as for Result.Return.
	Return ReturnBounds
	// Flow is the flow every probe carried (see Options.Flow).
	Flow Flow
	// Port is the port the probes went to (0 for ICMP).
	Port int
	// Tried lists, when Options.Proto was not chosen, every way the
	// target was asked, in order, as for Result.Tried (fallback.go);
	// nil otherwise. Probes counts only the walk that stands.
	Tried []Attempt
	// LastHop is, when Echo never reached the target and the way that
	// answered sets no hop limit (tcp-data, quic), the search that found
	// the target's path MTU, the walk's last hop; nil otherwise.
	LastHop *Result
}

// Find finds the path MTU to host: Lookup, then Target.Find. o may be
// nil. See Target.Find for what the errors mean.
func Find(ctx context.Context, host string, o *Options) (*Result, error) {
	t, err := Lookup(ctx, host, o)
	if err != nil {
		return nil, err
	}
	return t.Find(ctx)
}

// Trace finds the path MTU up to every hop on the way to host: Lookup,
// then Target.Trace. o may be nil.
func Trace(ctx context.Context, host string, o *TraceOptions) (*TraceResult, error) {
	if o == nil {
		o = &TraceOptions{}
	}
	t, err := Lookup(ctx, host, &o.Options)
	if err != nil {
		return nil, err
	}
	return t.Trace(ctx, o.MaxHops)
}

// Find probes t and returns the path MTU. When no probe could be sent
// (no method may be used here: a *NoMethodError; or a socket failed), the
// Result is nil. When the search could not finish, the Result says what
// was proved, with ErrNoReply, an *UnreachableError, or ctx's error.
//
// With Options.Proto "" (not chosen), a target that answers no ICMP Echo
// at any size is asked by other means in turn (fallback.go): the search
// ends with the first that it answers, and Result.Tried lists them all.
func (t *Target) Find(ctx context.Context) (*Result, error) {
	if m := t.opts.Method; m != "" {
		return t.find(ctx, m.Proto(), t.opts.Port, []Method{m})
	}
	if t.opts.Proto == "" {
		return t.findAny(ctx)
	}
	return t.find(ctx, t.opts.Proto, t.opts.Port, nil)
}

// find searches with one protocol and port, by the first of methods (nil:
// of the protocol's) this process may use.
func (t *Target) find(ctx context.Context, proto Proto, port int, methods []Method) (out *Result, err error) {
	c, m, err := t.openWith(proto, port, true, methods)
	if err != nil {
		return nil, err
	}
	conn := c
	defer func() {
		conn.Close()
		if tc, ok := conn.(trafficker); ok && out != nil {
			tr := tc.Traffic() // after Close: the last connections counted
			out.Traffic = &tr
		}
	}()
	flow := flowOf(c)
	floor := t.connFloor(c, m)
	rc := watchReturns(c, m)
	if rc != nil {
		c = rc
	}
	res, err := search.Discover(ctx, c, t.searchConfig(c, floor))
	if errors.Is(err, ErrNoReply) && floor > t.floor() {
		err = fmt.Errorf("%w: %s probes cannot tell arrival below %d bytes, and none from %d up came back", err, m, floor, floor)
	}
	if res == nil {
		res = &search.Result{Target: t.Addr}
	}
	out = &Result{Result: *res, Target: t, Method: m, Port: portOf(m.Proto(), port), Return: returnUnknown, Flow: flow}
	out.capAtPeerLimit(t.Ceil())
	if rc != nil {
		out.Return = rc.bounds()
	}
	if err == nil {
		t.blackHoleDirection(ctx, out, rc)
	}
	return out, err
}

// capAtPeerLimit turns a search bounded by the target's own limit (a
// PeerLimit TooBig: its TCP MSS, perhaps clamped on the way) into what it
// is, a lower bound: the sizes above were never tried, and no router
// refused them. The event leaves the evidence, Hi says nothing was
// refused, and Capped says why the search stopped. ceil is the search's
// largest size.
func (r *Result) capAtPeerLimit(ceil mtu.Size) {
	var limit *wire.Event
	kept := r.Events[:0:0]
	for i, ev := range r.Events {
		if ev.PeerLimit {
			limit = &r.Events[i]
			continue
		}
		kept = append(kept, ev)
	}
	if limit == nil || r.Hi == 0 || r.Hi < limit.MTU+1 {
		return // a router refused below the target's limit: it stands
	}
	r.Events = kept
	r.Capped = fmt.Sprintf("the target's TCP MSS keeps %s probes to %d bytes; larger sizes were not tried this way", r.Method, limit.MTU)
	r.Hi = ceil + 1
	if r.ByICMP && r.LimitingHop == limit.From {
		r.ByICMP, r.LimitingHop = false, netip.Addr{}
	}
	r.Silence = false
}

// searchConfig is the Discover configuration of a search over c from
// floor up: Options' sizes, waits and tries, its packet budget
// (Options.Pace), and, over a conn whose answers the target rate-limits,
// the answer budget that the Engine's searches share for that target and
// the Engine's count of searches waiting for such answers.
func (t *Target) searchConfig(c wire.Conn, floor mtu.Size) *search.Config {
	o := &t.opts
	return &search.Config{Floor: floor, Ceil: t.Ceil(), Wait: o.Wait, Tries: o.Tries, Now: o.world().now,
		Trace: o.OnEvent, Pace: o.Pace, Answers: o.Engine.answers(o.Netns, t.Addr, c), Waiting: o.Engine.waitingFor(c)}
}

// Trace walks every hop limit up to maxHops (0 means 30) toward t at once
// and finds the path MTU up to each. The Result is nil when no probe
// could be sent, as for Find; not reaching the target is no error.
//
// With Options.Proto "" (not chosen), a target that never answered the
// walk with ICMP Echo is asked by other means in turn, as Find does, and
// the first that it answers walks again (fallback.go); TraceResult.Tried
// lists them all.
func (t *Target) Trace(ctx context.Context, maxHops int) (*TraceResult, error) {
	if m := t.opts.Method; m != "" {
		return t.trace(ctx, m.Proto(), t.opts.Port, maxHops, []Method{m})
	}
	if t.opts.Proto == "" {
		return t.traceAny(ctx, maxHops)
	}
	return t.trace(ctx, t.opts.Proto, t.opts.Port, maxHops, nil)
}

// trace walks with one protocol and port, by the first of methods (nil:
// of the protocol's) this process may use.
func (t *Target) trace(ctx context.Context, proto Proto, port, maxHops int, methods []Method) (*TraceResult, error) {
	c, m, err := t.openWith(proto, port, false, methods)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	flow := flowOf(c)
	o := &t.opts
	rc := watchReturns(c, m)
	if rc != nil {
		c = rc
	}
	cfg := &search.TraceConfig{MaxHops: maxHops, Floor: o.MinSize, Ceil: t.Ceil(), Wait: o.Wait, Tries: o.Tries,
		Now: o.world().now, Trace: o.OnEvent, Pace: o.Pace}
	res, err := search.Trace(ctx, c, cfg)
	if res == nil {
		res = &search.TraceResult{Target: t.Addr}
	}
	out := &TraceResult{TraceResult: *res, Target: t, Method: m, Port: portOf(m.Proto(), port), Return: returnUnknown, Flow: flow}
	if rc != nil {
		out.Return = rc.bounds()
	}
	return out, err
}

// trafficker is a conn that counts what its probes cost the target's
// service (transport.TCPDataConn, a QUIC UDPConn).
type trafficker interface{ Traffic() Traffic }

// minSizer is a conn whose probes prove nothing below a size: QUIC's
// Version Negotiation is owed only to datagrams of 1200 bytes, a TCP data
// probe needs room for its ClientHello.
type minSizer interface{ MinSize() mtu.Size }

// connFloor is the smallest probe of a search over c: Options.MinSize,
// or the family's floor, raised to what c can tell, which it logs.
func (t *Target) connFloor(c wire.Conn, m Method) mtu.Size {
	floor := t.opts.MinSize
	if ms, ok := c.(minSizer); ok && ms.MinSize() > t.floor() {
		floor = ms.MinSize()
		t.logf("%s probes cannot tell arrival below %d bytes: the search starts there", m, floor)
	}
	return floor
}

// open opens the first method of the protocol this process may use
// toward t, its sockets made in Options.Netns and bound to Interface and
// Source, and says which through Options.Log. With shared (Find) and
// Options.Engine, ICMP probes go over the Engine's shared socket when
// this process may open it.
func (t *Target) open(shared bool) (wire.Conn, Method, error) {
	return t.openProto(cmp.Or(t.opts.Proto, ProtoICMP), t.opts.Port, shared)
}

// openProto opens the first method of proto this process may use toward
// t, to port (0: the protocol's default), as open does.
func (t *Target) openProto(proto Proto, port int, shared bool) (wire.Conn, Method, error) {
	return t.openWith(proto, port, shared, nil)
}

// openWith is openProto by the first of methods (nil: any of proto's).
func (t *Target) openWith(proto Proto, port int, shared bool, methods []Method) (wire.Conn, Method, error) {
	o := &t.opts
	cfg := &transport.OpenConfig{Src: o.Source.Unmap(), Interface: o.Interface, Port: port, Local: t.local,
		Namespace: o.Netns, RouteSrc: t.Route.Src, ServerName: t.Host, Methods: methods}
	if o.Flow > 0 {
		cfg.Flow = uint16(FlowBase + o.Flow)
	}
	if o.Netns != "" {
		name := o.Netns
		cfg.Enter = func(fn func() error) error { return netns.Do(name, fn) }
	}
	var c wire.Conn
	var m Method
	var err error
	if shared && o.Engine != nil && !o.world().fake {
		var ok bool
		c, m, ok, err = o.Engine.openShared(proto, t.Addr, cfg)
		// Without the privilege, or with a --flow port another search
		// on the shared socket holds (toward another target), the
		// search opens sockets of its own, as without an Engine.
		if ok && err != nil && !transport.IsPermission(err) && !errors.Is(err, transport.ErrPortShared) {
			return nil, "", fmt.Errorf("%s probes: %w", m, err)
		}
	}
	if c == nil {
		c, m, err = o.world().open(proto, t.Addr, cfg)
	}
	if err != nil {
		return nil, "", err
	}
	if m == "" {
		m = methodOf(c)
	}
	if o.Log != nil {
		at := ""
		if proto != ProtoICMP {
			at = fmt.Sprintf(" port %d", portOf(proto, port))
		}
		flow := ""
		if f := flowOf(c); f != (Flow{}) {
			flow = ", " + f.String()
		}
		o.Log(fmt.Sprintf("probing %s%s with method %s%s: %s", t.Addr, at, m, flow, m.Describe()))
	}
	return c, m, nil
}
