package measure

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/pmtu/pmtu/explain"
	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/probe/search"
)

// NameWait bounds a hop's name lookup, and how long Trace waits for the
// lookups still running when the walk ends.
var NameWait = time.Second

// TraceOptions says how to trace: how to probe, the largest hop limit,
// and how hop addresses are named.
type TraceOptions struct {
	// Probe says how to probe, as for Host; its OnEvent is still told
	// every answer.
	Probe probe.Options
	// MaxHops is the largest hop limit probed; 0 means 30.
	MaxHops int
	// Numeric leaves hop addresses unnamed; else LookupAddr (nil: the
	// system's resolver) names them in the background, as the walk finds
	// them.
	Numeric    bool
	LookupAddr func(ctx context.Context, addr string) ([]string, error)
	// Exe is the program named in advice to grant raw sockets.
	Exe string
	// Notes, if set, is told what the user should know (as Options.Notes).
	Notes func(line string)
}

// Trace walks every hop to host and reports the path MTU up to each, as
// `pmtu trace HOST --json` prints it. o may be nil.
//
// The Report is nil only when the host could not be looked up or no
// probe could be sent (an *Error of Kind BadInput or CannotProbe). A walk
// that did not reach the target is no error: Report.Error says why.
// Without a route the Report says so, with an *Error of Kind NoAnswer.
func Trace(ctx context.Context, host string, o *TraceOptions) (*TraceReport, error) {
	if o == nil {
		o = &TraceOptions{}
	}
	t, po, names, err := o.lookup(ctx, host)
	if t == nil {
		return nil, err
	}
	rep := &TraceReport{Target: host, Address: t.Addr.String(), Family: FamilyName(t.Addr), Hops: []TraceHop{}}
	if err != nil {
		rep.Error = err.Error()
		return rep, err
	}
	res, terr := t.Trace(ctx, o.MaxHops)
	if res == nil {
		return nil, OpenError(po.Proto, t.Addr, po, o.Exe, terr)
	}
	rep.FromResult(&res.TraceResult, names.wait())
	rep.answeredBy(res.Method)
	rep.fromReturn(res)
	rep.Flow = FlowOf(res.Flow)
	rep.Method, rep.Port, rep.Tried = string(res.Method), res.Port, AttemptsOf(res.Tried)
	if lh := res.LastHop; lh != nil {
		rep.LastHopMethod, rep.Traffic = string(lh.Method), TrafficOf(lh.Traffic)
		if n := len(rep.Hops); n > 0 {
			rep.Hops[n-1].ICMP = nil // a TCP ACK or a Version Negotiation: no ICMP answered
		}
	}
	if terr != nil {
		rep.Error = "stopped before the walk ended: " + plainErr(terr)
		if errors.Is(terr, context.Canceled) || errors.Is(terr, context.DeadlineExceeded) {
			rep.Error = "stopped before the walk ended"
		}
	}
	return rep, nil
}

// lookup is Lookup for a walk: the probe options it runs with, whose
// OnEvent also starts a name lookup for every hop that answers, and the
// namer that holds those lookups. What the user should know of the
// target goes to Notes.
func (o *TraceOptions) lookup(ctx context.Context, host string) (*probe.Target, *probe.Options, *namer, error) {
	lookup := o.LookupAddr
	if lookup == nil {
		lookup = net.DefaultResolver.LookupAddr
	}
	names := newNamer(ctx, lookup, !o.Numeric)
	po := o.Probe
	onEvent := po.OnEvent
	po.OnEvent = func(ev probe.Event) {
		if onEvent != nil {
			onEvent(ev)
		}
		if ev.Kind == probe.TimeExceeded || ev.Kind == probe.Reached || ev.Kind == probe.Unreachable {
			names.start(ev.From)
		}
	}
	t, err := Lookup(ctx, host, &po)
	if t != nil && t.Note != "" && o.Notes != nil {
		o.Notes("note: " + t.Note)
	}
	return t, &po, names, err
}

// answeredBy labels the target's own answer by the method that earned
// it: an Echo Reply for ICMP, the Port Unreachable itself for UDP (a
// real ICMP, kept as read), and no ICMP at all for any other method (a
// TCP SYN-ACK or RST is no ICMP message, though the walk records it as
// an event of type 0).
func (r *TraceReport) answeredBy(m probe.Method) {
	for i := range r.Hops {
		h := &r.Hops[i]
		if h.Reply != probe.ReplyReached.String() {
			continue
		}
		switch m.Proto() {
		case probe.ProtoICMP:
			typ := 0
			if r.Family == "ipv6" {
				typ = 129
			}
			h.ICMP = &TraceICMP{Type: typ, Name: "echo reply"}
		case probe.ProtoUDP:
		default:
			h.ICMP = nil
		}
	}
}

// TriedLine says how each way of asking fared, "" when only one was
// tried.
func (r *TraceReport) TriedLine() string { return triedLine(r.Tried) }

// fromReturn reports what the target's replies proved of the return path,
// when the walk reached it.
func (r *TraceReport) fromReturn(res *probe.TraceResult) {
	if res.Reached {
		r.Reverse = reverseOf(res.Return)
	}
}

// TraceReport is the answer to pmtu trace HOST, printed as text or as one
// JSON object.
type TraceReport struct {
	Target  string `json:"target"`
	Address string `json:"address"`
	Family  string `json:"family"`
	Flow    *Flow  `json:"flow,omitempty"` // the flow every probe carried
	// Method and Port say how the walk that stands went; Tried, without
	// a protocol chosen when Echo did not reach the target, every way
	// asked, as in Host's Report.
	Method string    `json:"method,omitempty"`
	Port   int       `json:"port,omitempty"`
	Tried  []Attempt `json:"methods_tried,omitempty"`
	// LastHopMethod is the method that found the target's path MTU
	// when it is not the walk's: the walk's probes never reached the
	// target, and the way that did sets no hop limit (tcp-data, quic);
	// Traffic is then what it cost the target's service.
	LastHopMethod string   `json:"last_hop_method,omitempty"`
	Traffic       *Traffic `json:"traffic,omitempty"`
	// PMTU is the path MTU: when the target never answered, what the
	// routers proved (pmtu_max, by pmtu_max_by), with Confirmed false,
	// if below what the hops' answers proved (proved_pmtu).
	PMTU      int  `json:"pmtu"`
	Confirmed bool `json:"confirmed"`
	// ProvedPMTU is what probes coming back proved: the path MTU up to
	// hop ProvedTTL, the farthest with a proved figure.
	ProvedPMTU int `json:"proved_pmtu"`
	ProvedTTL  int `json:"proved_ttl"`
	// PMTUMax and PMTUMaxBy, when the target did not answer, bound the
	// path MTU by what a router behind the last answering hop refused,
	// and name that router.
	PMTUMax   int        `json:"pmtu_max,omitempty"`
	PMTUMaxBy string     `json:"pmtu_max_by,omitempty"`
	Reached   bool       `json:"reached"`
	Hops      []TraceHop `json:"hops"`
	Probes    int        `json:"probes"`
	Rounds    int        `json:"rounds"`
	ElapsedMS float64    `json:"elapsed_ms"`
	Ignored   int        `json:"ignored"`
	Error     string     `json:"error,omitempty"`

	// Reverse is what the target's replies proved of the return path's
	// MTU (as in pmtu HOST's report); absent when it was not reached.
	Reverse *Reverse `json:"reverse,omitempty"`
}

// TraceHop is one hop of a TraceReport.
type TraceHop struct {
	TTL     int     `json:"ttl"`
	Address string  `json:"address"`
	Name    string  `json:"name"`
	RTTMS   float64 `json:"rtt_ms"`
	PMTU    int     `json:"pmtu"`
	// PMTUFrom, at a hop that sent no Time Exceeded, says its pmtu comes
	// from its own ICMP: "frag_needed" or "packet_too_big".
	PMTUFrom string     `json:"pmtu_from,omitempty"`
	Reply    string     `json:"reply"` // time_exceeded, reached, unreachable or none
	ICMP     *TraceICMP `json:"icmp"`  // null when none came back
	MTUDrop  bool       `json:"mtu_drop,omitempty"`
	// ReportedBy is set at a drop: the router whose ICMP named the MTU
	// (or refused without naming one), "" when no router said anything.
	ReportedBy *string `json:"reported_by,omitempty"`
	// BlackHoleAfter, at a drop no router reported, is the hop after
	// which larger probes vanish.
	BlackHoleAfter int `json:"black_hole_after,omitempty"`
	// PMTUMin and PMTUMax, for a hop that did not answer, bound its path
	// MTU by what farther hops and earlier routers proved.
	PMTUMin int `json:"pmtu_min,omitempty"`
	PMTUMax int `json:"pmtu_max,omitempty"`
	// Unconfirmed marks the last hop walked when the path's pmtu is a
	// router's word that no answer from there confirmed.
	Unconfirmed bool `json:"unconfirmed,omitempty"`

	ReportedMTU  int    `json:"-"` // what the ICMP named; 0: no size
	ReportedName string `json:"-"` // the ICMP's name, for the text
	VanishAddr   string `json:"-"` // the address of hop BlackHoleAfter
}

// TraceICMP is the message that answered for a hop.
type TraceICMP struct {
	Type int    `json:"type"`
	Code int    `json:"code"`
	Name string `json:"name"`
	// RFC 4884 extensions the router attached: its MPLS label stack (RFC
	// 4950) and interface information (RFC 5837).
	MPLS       []TraceMPLS      `json:"mpls,omitempty"`
	Interfaces []TraceInterface `json:"interfaces,omitempty"`
}

// TraceMPLS is one MPLS label stack entry.
type TraceMPLS struct {
	Label  uint32 `json:"label"`
	TC     uint8  `json:"tc"`
	Bottom bool   `json:"bottom"`
	TTL    uint8  `json:"ttl"`
}

// TraceInterface is an RFC 5837 interface object.
type TraceInterface struct {
	Role    string `json:"role"` // incoming, sub-ip, outgoing, next-hop
	IfIndex uint32 `json:"ifindex,omitempty"`
	Address string `json:"address,omitempty"`
	Name    string `json:"name,omitempty"`
	MTU     int    `json:"mtu,omitempty"`
}

var interfaceRoles = [...]string{probe.RoleIncoming: "incoming", probe.RoleSubIP: "sub-ip", probe.RoleOutgoing: "outgoing", probe.RoleNextHop: "next-hop"}

// addExtensions copies what RFC 4884 extensions an ICMP carried.
func (ti *TraceICMP) addExtensions(ext *probe.Extensions) {
	if ext == nil {
		return
	}
	for _, l := range ext.MPLS {
		ti.MPLS = append(ti.MPLS, TraceMPLS{Label: l.Label, TC: l.TC, Bottom: l.Bottom, TTL: l.TTL})
	}
	for _, in := range ext.Interfaces {
		ji := TraceInterface{Role: interfaceRoles[in.Role&3], IfIndex: in.IfIndex, Name: in.Name, MTU: in.MTU}
		if in.Addr.IsValid() {
			ji.Address = in.Addr.String()
		}
		ti.Interfaces = append(ti.Interfaces, ji)
	}
}

func (r *TraceReport) FromResult(res *search.TraceResult, names map[netip.Addr]string) {
	if res == nil {
		return
	}
	r.PMTU, r.Confirmed, r.Reached = int(res.PMTU), res.Confirmed, res.Reached
	r.ProvedPMTU, r.ProvedTTL = int(res.Proved), res.ProvedTTL
	if !res.Reached && res.Max > 0 && (res.Proved == 0 || res.Max < res.Proved) {
		r.PMTUMax = int(res.Max)
		if res.MaxBy.IsValid() {
			r.PMTUMaxBy = res.MaxBy.String()
		}
	}
	r.Probes, r.Rounds, r.Ignored = res.Probes, res.Rounds, len(res.Ignored)
	r.ElapsedMS = float64(res.Elapsed.Microseconds()) / 1000
	for _, h := range res.Hops {
		th := TraceHopOf(h, names)
		if k := h.VanishAfter; k > 0 && k <= len(res.Hops) {
			th.BlackHoleAfter, th.VanishAddr = k, res.Hops[k-1].Addr.String()
		}
		r.Hops = append(r.Hops, th)
	}
	if !res.Reached {
		r.Error = r.whyNotReached(res)
	}
	if n := len(r.Hops); n > 0 && !res.Confirmed && res.PMTU > 0 {
		r.Hops[n-1].Unconfirmed = true
	}
}

// TraceHopOf is the report of one hop of a walk, its address named from names.
func TraceHopOf(h probe.TraceHop, names map[netip.Addr]string) TraceHop {
	th := TraceHop{TTL: h.TTL, PMTU: int(h.PMTU), Reply: h.Reply.String(), MTUDrop: h.MTUDrop}
	switch {
	case h.Reply == probe.NoReply && h.FromICMP:
		th.Address, th.Name = h.Addr.String(), names[h.Addr]
		th.PMTUFrom = "frag_needed"
		if h.Addr.Is6() {
			th.PMTUFrom = "packet_too_big"
		}
	case h.Reply == probe.NoReply:
		th.PMTUMin, th.PMTUMax = int(h.Min), int(h.Max)
	}
	if h.Reply != probe.NoReply {
		th.Address, th.Name = h.Addr.String(), names[h.Addr]
		th.RTTMS = float64(h.RTT.Microseconds()) / 1000
		th.ICMP = &TraceICMP{Type: h.Event.Type, Code: h.Event.Code, Name: icmpName(h.Event)}
		th.ICMP.addExtensions(h.Event.Ext)
	}
	if h.MTUDrop {
		by := ""
		if h.ReportedBy.IsValid() {
			by, th.ReportedMTU = h.ReportedBy.String(), int(h.ReportedMTU)
			th.ReportedName = "fragmentation needed"
			if h.ReportedBy.Is6() {
				th.ReportedName = "packet too big"
			}
		}
		th.ReportedBy = &by
	}
	return th
}

// icmpName names the message that answered: explain's table has the
// errors; an Echo Reply is not one.
func icmpName(ev probe.Event) string {
	if ev.Kind == probe.Reached && ((!ev.IPv6 && ev.Type == 0) || (ev.IPv6 && ev.Type == 129)) {
		return "echo reply"
	}
	return explain.Describe(family(ev.IPv6), ev.Type, ev.Code).Name
}

// whyNotReached says, in one line, why the walk did not reach the target.
func (r *TraceReport) whyNotReached(res *search.TraceResult) string {
	if n := len(res.Hops); n > 0 && res.Hops[n-1].Reply == probe.ReplyUnreachable {
		ev := res.Hops[n-1].Event
		return explain.Describe(family(ev.IPv6), ev.Type, ev.Code).Sentence(ev.From.String())
	}
	return fmt.Sprintf("%s did not answer within %d hops", r.Target, len(res.Hops))
}

// namer looks hop addresses up in the background, as the walk finds them,
// each lookup bounded by NameWait.
type namer struct {
	ctx     context.Context
	enabled bool
	lookup  func(ctx context.Context, addr string) ([]string, error)
	timeout time.Duration
	mu      sync.Mutex
	lookups map[netip.Addr]*nameLookup
}

type nameLookup struct {
	done chan struct{}
	name string
}

func newNamer(ctx context.Context, lookup func(context.Context, string) ([]string, error), enabled bool) *namer {
	return &namer{ctx: ctx, enabled: enabled, lookup: lookup, timeout: NameWait, lookups: map[netip.Addr]*nameLookup{}}
}

// start looks addr up unless it is already being looked up.
func (n *namer) start(addr netip.Addr) {
	if !n.enabled || !addr.IsValid() {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.lookups[addr]; ok {
		return
	}
	l := &nameLookup{done: make(chan struct{})}
	n.lookups[addr] = l
	go func() {
		defer close(l.done)
		ctx, cancel := context.WithTimeout(n.ctx, n.timeout)
		defer cancel()
		if names, err := n.lookup(ctx, addr.String()); err == nil && len(names) > 0 {
			l.name = strings.TrimSuffix(names[0], ".")
		}
	}()
}

// wait returns the names found, waiting at most NameWait for the
// lookups still running.
func (n *namer) wait() map[netip.Addr]string {
	n.mu.Lock()
	defer n.mu.Unlock()
	timer := time.NewTimer(n.timeout)
	defer timer.Stop()
	out := map[netip.Addr]string{}
	expired := false
	for addr, l := range n.lookups {
		if !expired {
			select {
			case <-l.done:
			case <-timer.C:
				expired = true
			}
		}
		select {
		case <-l.done:
			if l.name != "" {
				out[addr] = l.name
			}
		default:
		}
	}
	return out
}
