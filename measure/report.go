package measure

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/pmtu/pmtu/explain"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/pmtucache"
	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/probe/search"
	"github.com/pmtu/pmtu/probe/wire"
)

// Report is the answer for one target: what `pmtu HOST --json` prints,
// field for field. Its JSON is the schema docs/json.md documents.
type Report struct {
	Target  string `json:"target"`
	Address string `json:"address"`
	Family  string `json:"family"`
	Source  string `json:"source"`           // "probe" or "cache"
	Method  string `json:"method,omitempty"` // how the probes went (probe.Method); absent from the cache
	Flow    *Flow  `json:"flow,omitempty"`   // the flow every probe carried; absent from the cache
	Port    int    `json:"port,omitempty"`   // the port TCP and UDP probes went to
	// Tried lists the ways the target was asked when no protocol was
	// chosen: ICMP Echo, then the fallbacks.
	Tried []Attempt `json:"methods_tried,omitempty"`
	// Traffic is what the probes cost a target that answered them as a
	// service (methods tcp-data and quic): absent for the others.
	Traffic *Traffic `json:"traffic,omitempty"`
	// Reached is true when the target answered a probe: pmtu is then a
	// size proved to pass; else, with pmtu > 0, an ICMP-proved bound.
	Reached      bool    `json:"reached"`
	PMTU         int     `json:"pmtu"`
	Exact        bool    `json:"exact"` // pmtu is the path MTU itself, not only a size proved to pass
	Interface    string  `json:"interface"`
	InterfaceMTU int     `json:"interface_mtu"`
	MSS          int     `json:"mss"`
	Confirmed    bool    `json:"confirmed"`
	Evidence     string  `json:"evidence"` // "icmp" or "probes"
	LimitingHop  string  `json:"limiting_hop"`
	Lo           int     `json:"proved_min"`   // the path carries this size
	Hi           int     `json:"refused_size"` // the smallest size known not to pass; 0 if none
	BlackHole    bool    `json:"black_hole"`   // sizes above pmtu vanished without an ICMP
	Probes       int     `json:"probes"`
	Rounds       int     `json:"rounds"`
	Voided       int     `json:"voided_rounds,omitempty"` // rounds not counted: the target's rate-limited answers ran out
	ElapsedMS    float64 `json:"elapsed_ms"`
	Events       []Event `json:"events"`
	Ignored      int     `json:"ignored"`
	ExpiresInS   *int    `json:"expires_in_s,omitempty"`
	Hint         string  `json:"hint,omitempty"`
	// LossHint says, when the search saw sizes lost below a size that
	// passed, more than loss explains, which: a window pmtu profile
	// would measure. The path MTU is never such a window's edge.
	LossHint string `json:"loss_hint,omitempty"`
	Error    string `json:"error,omitempty"`
	// Diagnosis explains the ICMP error that ended the search, from the
	// same table as the text (package explain).
	Diagnosis *Diagnosis `json:"diagnosis,omitempty"`

	// BlackHoleDirection is "forward" or "return" where a black hole was
	// found and its direction told; absent otherwise.
	BlackHoleDirection string `json:"black_hole_direction,omitempty"`
	// Reverse is what the replies proved of the return path's MTU; from
	// the cache, what the search that filled it proved.
	Reverse *Reverse `json:"reverse,omitempty"`
	// ForwardMethod is the method that found pmtu when it is not
	// method: udp, where the Echo Replies vanished on the way back.
	ForwardMethod string `json:"forward_method,omitempty"`
	// Capped says why the search stopped below the largest size with
	// nothing refused, when the method could send no larger: the
	// target's TCP MSS (perhaps clamped on the way) for tcp-data. pmtu
	// is then a lower bound (exact false).
	Capped string `json:"capped,omitempty"`

	// IgnoredEvents are the packets the search ignored, with why (-v).
	IgnoredEvents []probe.Event `json:"-"`

	target *probe.Target
}

// Probed is the target the report is of, as looked up: its address,
// route and options, for a further walk (Target.Trace) or a look at the
// kernel's route (Target.RouteNow); nil when the host was not looked up.
func (r *Report) Probed() *probe.Target { return r.target }

// Flow is the flow identity every probe of a search carried (probe.Flow).
type Flow struct {
	SrcPort int `json:"src_port,omitempty"`
	ICMPID  int `json:"icmp_id,omitempty"`
}

func (f *Flow) String() string {
	if f.SrcPort != 0 {
		return fmt.Sprintf("source port %d", f.SrcPort)
	}
	return fmt.Sprintf("icmp id %d", f.ICMPID)
}

// FlowOf is f for JSON; nil for the zero Flow.
func FlowOf(f probe.Flow) *Flow {
	if f == (probe.Flow{}) {
		return nil
	}
	return &Flow{SrcPort: int(f.SrcPort), ICMPID: int(f.EchoID)}
}

// Diagnosis is an ICMP error that ended a search: who sent it, and the
// explain table's entry for it (name, sender, meaning, next step, kind).
type Diagnosis struct {
	From string `json:"from"`
	explain.Info
}

// Event is a believed ICMP error; identical ones (same sender, type, code
// and MTU) are counted in one.
type Event struct {
	From       string `json:"from"`
	Type       int    `json:"type"`
	Code       int    `json:"code"`
	Name       string `json:"name"`
	NextHopMTU int    `json:"next_hop_mtu"`
	Count      int    `json:"count"`
}

// Traffic is what a search's probes cost the target's service: the TCP
// connections opened (tcp-data), the datagrams sent (quic), and the bytes
// they carried, retransmissions included.
type Traffic struct {
	Connections int   `json:"connections"`
	Datagrams   int   `json:"datagrams"`
	Bytes       int64 `json:"bytes"`
}

// TrafficOf is t in JSON; nil for none.
func TrafficOf(t *probe.Traffic) *Traffic {
	if t == nil {
		return nil
	}
	return &Traffic{Connections: t.Connections, Datagrams: t.Datagrams, Bytes: t.Bytes}
}

// Attempt is one way the target was asked, in JSON (methods_tried).
type Attempt struct {
	Way      string `json:"way"` // "ICMP Echo", "TCP to port 443"
	Proto    string `json:"proto"`
	Port     int    `json:"port,omitempty"`
	Method   string `json:"method,omitempty"`
	Answered bool   `json:"answered"`
	Probes   int    `json:"probes"`
	Skipped  string `json:"skipped,omitempty"` // why this process could not use it
}

// Reverse is what the replies proved of the return path's MTU: the way
// back carries Min (0: nothing known) and no more than Max (0: no upper
// bound known); Evidence is "whole replies", "fragmented replies", "lost
// replies" or "unknown" (UDP and TCP answers are small).
type Reverse struct {
	Min      int    `json:"min"`
	Max      int    `json:"max"`
	Evidence string `json:"evidence"`
}

// IPv6 reports whether the target is an IPv6 address.
func (r *Report) IPv6() bool { return r.Family == "ipv6" }

func family(ipv6 bool) int {
	if ipv6 {
		return 6
	}
	return 4
}

// FamilyName is "ipv4" or "ipv6", as reports name a's family.
func FamilyName(a netip.Addr) string {
	if a.Is6() {
		return "ipv6"
	}
	return "ipv4"
}

// newReport is the report of target host resolved to t.
func newReport(host string, t *probe.Target) *Report {
	r := &Report{Target: host, Events: []Event{}}
	if t != nil {
		r.Address, r.Family = t.Addr.String(), FamilyName(t.Addr)
	}
	return r
}

// FromFind reports probe.Find's result: the method, port and ways tried,
// then the search (fromResult), then the upper bound routers proved when
// the target never answered.
func (r *Report) FromFind(res *probe.Result, ceil mtu.Size) {
	r.Method, r.Port = string(res.Method), res.Port
	r.Flow = FlowOf(res.Flow)
	r.Tried = AttemptsOf(res.Tried)
	r.Traffic = TrafficOf(res.Traffic)
	r.FromResult(&res.Result, ceil)
	r.Capped = res.Capped
	r.setBound(&res.Result, ceil)
	r.fromDirections(res)
}

// AttemptsOf is the ways tried (probe's Result.Tried, TraceResult.Tried)
// in JSON; nil when one way was tried (Echo answered, or a protocol
// chosen): nothing to list.
func AttemptsOf(tried []probe.Attempt) []Attempt {
	if len(tried) < 2 {
		return nil
	}
	out := make([]Attempt, len(tried))
	for i, a := range tried {
		out[i] = Attempt{Way: a.String(), Proto: string(a.Proto), Port: a.Port,
			Method: string(a.Method), Answered: a.Answered, Probes: a.Probes, Skipped: skippedText(a.Skipped)}
	}
	return out
}

// FromResult reports a search whose largest probe was ceil. A search
// that ended with nothing refused (res.Hi above ceil) proved only that
// the path carries its largest probe: that is the path MTU when the
// probe was as large as the interface allows, and otherwise (a
// --max-size below it) only a lower bound, with no refused size.
func (r *Report) FromResult(res *search.Result, ceil mtu.Size) {
	r.Source = "probe"
	r.Events = []Event{}
	if res == nil {
		return
	}
	r.PMTU, r.Confirmed, r.Reached = int(res.PMTU), res.Confirmed, res.Lo > 0
	r.Lo, r.Hi = int(res.Lo), int(res.Hi)
	if res.Hi > ceil {
		r.Hi = 0 // nothing was refused: no size is known not to pass
	}
	limit := min(r.InterfaceMTU, int(mtu.Max))
	r.Exact = res.Confirmed && (r.Hi != 0 || (limit > 0 && r.PMTU >= limit))
	r.Evidence = "probes"
	if res.ByICMP {
		r.Evidence = "icmp"
		r.LimitingHop = addrText(res.LimitingHop)
	}
	r.Probes, r.Rounds, r.Voided = res.Probes, res.Rounds, res.Voided
	r.ElapsedMS = float64(res.Elapsed.Microseconds()) / 1000
	seen := map[Event]int{} // event without Count → index in r.Events
	for _, ev := range res.Events {
		e := Event{From: addrText(ev.From), Type: ev.Type, Code: ev.Code, NextHopMTU: int(ev.MTU),
			Name: explain.Describe(family(ev.IPv6), ev.Type, ev.Code).Name}
		if i, ok := seen[e]; ok {
			r.Events[i].Count++
			continue
		}
		seen[e] = len(r.Events)
		e.Count = 1
		r.Events = append(r.Events, e)
	}
	// A black hole: sizes above the answer vanished, and no router said
	// a word about any size (computed once Events is filled).
	r.BlackHole = res.Silence && len(r.Events) == 0
	r.Ignored, r.IgnoredEvents = len(res.Ignored), res.Ignored
	r.setDerived()
}

// addrText is a as JSON gives it: "" when there is none (a Frag Needed
// the kernel believed for a TCP connection, which keeps no sender).
func addrText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func (r *Report) setDerived() {
	if r.PMTU > 0 {
		r.MSS = mtu.MSS(mtu.Size(r.PMTU), r.IPv6())
		if h, ok := explain.LinkHint(family(r.IPv6()), r.PMTU); ok {
			r.Hint = h
		}
	}
}

// setBound makes pmtu the upper bound an ICMP proved when no probe came
// back: one below the smallest size refused, as the router said, with
// confirmed and reached false and no MSS (nothing is known to pass).
func (r *Report) setBound(res *search.Result, ceil mtu.Size) {
	if res.Lo > 0 || res.Hi == 0 || res.Hi > ceil {
		return
	}
	r.PMTU, r.Confirmed, r.Exact, r.Evidence = int(res.Hi-1), false, false, "icmp"
	r.LimitingHop = ""
	if res.BoundBy.IsValid() && res.Bound == res.Hi-1 {
		r.LimitingHop = res.BoundBy.String()
	} else {
		for _, ev := range res.Events {
			if ev.Kind == wire.TooBig {
				r.LimitingHop = addrText(ev.From)
				break
			}
		}
	}
	r.MSS, r.Hint = 0, ""
}

// fromDirections reports what res says of the return path and which way
// its black hole lies.
func (r *Report) fromDirections(res *probe.Result) {
	r.Reverse = reverseOf(res.Return)
	r.BlackHoleDirection = res.BlackHoleDirection
	r.ForwardMethod = string(res.ForwardMethod)
	if res.BlackHoleDirection == probe.BlackHoleReturn {
		// The replies vanished without a word, whatever the forward
		// search saw.
		r.BlackHole = true
	}
}

// reverseOf is what replies proved of the return path, for JSON.
func reverseOf(b probe.ReturnBounds) *Reverse {
	if b.Evidence == "" {
		b.Evidence = search.ReturnUnknown
	}
	return &Reverse{Min: int(b.Min), Max: int(b.Max), Evidence: b.Evidence}
}

// fromCache reports a cached answer, as it stands at now.
func (r *Report) fromCache(e pmtucache.Entry, now time.Time) {
	r.Source = "cache"
	r.Method, r.Port = e.Method, e.Port
	r.PMTU, r.Confirmed, r.Reached, r.Evidence = e.PMTU, true, true, string(e.Evidence)
	r.Exact, r.Lo, r.Hi = e.Full, e.PMTU, e.Refused
	if e.Hop.IsValid() {
		r.LimitingHop = e.Hop.String()
	}
	if v := e.Return; v.Evidence != "" {
		r.Reverse = &Reverse{Min: v.Min, Max: v.Max, Evidence: v.Evidence}
	}
	r.BlackHoleDirection = e.BlackHoleDirection
	// A direction is told only of a black hole (fromDirections).
	r.BlackHole = e.BlackHoleDirection != ""
	s := int(e.ExpiresIn(now).Seconds())
	r.ExpiresInS = &s
	r.Events = []Event{}
	r.setDerived()
}

// cacheEntry is what this search proved, for the cache: the answer to q,
// learned in the namespace whose inode number is inode, with the kernel's
// exception toward the destination right after the search.
func (r *Report) cacheEntry(q pmtucache.Query, inode uint64, kernel pmtucache.Exception) pmtucache.Entry {
	e := pmtucache.Entry{
		Key: q.Key, PMTU: r.PMTU, Full: r.Exact, Refused: r.Hi, Evidence: pmtucache.Evidence(r.Evidence),
		Method: r.Method, IfIndex: q.IfIndex, IfName: r.Interface, IfMTU: q.IfMTU,
		NetnsInode: inode, Kernel: kernel,
	}
	if hop, err := netip.ParseAddr(r.LimitingHop); err == nil {
		e.Hop = hop
	}
	if v := r.Reverse; v != nil {
		e.Return = pmtucache.ReturnPath{Min: v.Min, Max: v.Max, Evidence: v.Evidence}
	}
	e.BlackHoleDirection = r.BlackHoleDirection
	return e
}

// Bounded reports whether pmtu is an upper bound no probe confirmed.
func (r *Report) Bounded() bool { return r.PMTU > 0 && !r.Confirmed }

// BoundSentence says what a silent target's search proved: "path MTU ≤
// 1500: 198.18.1.2 said so; 198.18.2.2 never answered, so nothing beyond
// 198.18.1.2 is confirmed".
func (r *Report) BoundSentence() string {
	who := r.LimitingHop
	if who == "" {
		who = "a router"
	}
	return fmt.Sprintf("path MTU ≤ %d: %s said so; %s never answered, so nothing beyond %s is confirmed",
		r.PMTU, who, r.Address, who)
}

// TriedLine says how each way of asking fared, "" when only one was
// tried: "ICMP Echo unanswered; TCP to port 443 answered".
func (r *Report) TriedLine() string { return triedLine(r.Tried) }

// AssertUnanswered says how an assertion (the path MTU is exactly
// expect, or at least atLeast; 0 for none) stands when the target never
// answered: disproved when the routers' bound rules it out, else not
// proved, with the reason; "" when none was asked.
func (r *Report) AssertUnanswered(expect, atLeast int) (msg string, disproved bool) {
	if r.Bounded() {
		if expect > r.PMTU {
			return fmt.Sprintf("path MTU ≤ %d (%s said so), expected %d", r.PMTU, r.LimitingHop, expect), true
		}
		if atLeast > r.PMTU {
			return fmt.Sprintf("path MTU ≤ %d (%s said so) is below %d", r.PMTU, r.LimitingHop, atLeast), true
		}
	}
	var what string
	switch {
	case expect != 0:
		what = fmt.Sprintf("path MTU = %d", expect)
	case atLeast != 0:
		what = fmt.Sprintf("path MTU ≥ %d", atLeast)
	default:
		return "", false
	}
	why := r.Error
	if r.Bounded() {
		why = r.BoundSentence()
	}
	return what + ": " + why, false
}

// Assert says how an assertion stands on an answered report: "" when it
// holds (or none was asked), else what failed.
func (r *Report) Assert(expect, atLeast int) string {
	switch {
	case expect != 0 && r.PMTU != expect:
		return fmt.Sprintf("path MTU is %d, expected %d", r.PMTU, expect)
	case atLeast != 0 && r.PMTU < atLeast:
		return fmt.Sprintf("path MTU %d is below %d", r.PMTU, atLeast)
	}
	return ""
}

// LastEventName is the name of the ICMP that named the path MTU, "too
// big" if none did.
func (r *Report) LastEventName() string {
	for i := len(r.Events) - 1; i >= 0; i-- {
		if r.Events[i].NextHopMTU == r.PMTU {
			return r.Events[i].Name
		}
	}
	return "too big"
}

// ExplainFailure says, in the user's terms, why no path MTU came out.
func (r *Report) ExplainFailure(err error, host string, res *search.Result) {
	var ue *probe.UnreachableError
	switch {
	case errors.As(err, &ue):
		info := explain.Describe(family(ue.Event.IPv6), ue.Event.Type, ue.Event.Code)
		r.Error = info.Sentence(ue.Event.From.String())
		r.Diagnosis = &Diagnosis{From: ue.Event.From.String(), Info: info}
	case errors.Is(err, probe.ErrNoReply) && r.Bounded():
		r.Error = r.BoundSentence()
	case errors.Is(err, probe.ErrNoReply) && len(r.Tried) > 1:
		r.Error = fmt.Sprintf("no reply from %s at any size, whichever way it was asked: %s", host, r.TriedLine())
	case errors.Is(err, probe.ErrNoReply):
		r.Error = fmt.Sprintf("no reply from %s at any size: probes or replies are dropped silently (%s)", host, noReplyCauses(r.Method))
	case errors.Is(err, probe.ErrAnswersStopped) && res != nil:
		r.Error = fmt.Sprintf("%s stopped answering, even probes of a size it had answered, in %s: "+
			"its ICMP rate limit (Linux: a burst of 6 Port Unreachables toward each host, then 1 a second) "+
			"is being spent by other probes of that host (its other addresses, another program); proved so far: %s. "+
			"Probe fewer addresses of that host at once, or use --proto icmp", host, plural(res.Voided, "round"), Bounds(res))
	case isStop(err):
		r.Error = "stopped before the search ended: " + Bounds(res)
	default:
		// In the kernel's words: a send that failed, not the call.
		r.Error = fmt.Sprintf("probing %s stopped: %s", host, plainErr(err))
	}
}

// BelowFloor says, when a search bounded by --min-size floor ended with
// no reply because every size it could still try was known not to pass,
// what was proved instead: the path MTU is below the floor. It returns
// false when the search said nothing of the kind (the sizes were tried and
// lost, or no --min-size was given).
func (r *Report) BelowFloor(err error, floor mtu.Size, res *search.Result) bool {
	if floor == 0 || res == nil || res.Hi == 0 || res.Hi > floor || !errors.Is(err, probe.ErrNoReply) {
		return false
	}
	r.Error = fmt.Sprintf("the path MTU is below --min-size %d: sizes from %d up do not pass", floor, res.Hi)
	if n := len(r.Events); n > 0 && r.Events[n-1].NextHopMTU > 0 {
		ev := r.Events[n-1]
		r.Error += fmt.Sprintf(" (%s named MTU %d); lower --min-size to find it", ev.From, ev.NextHopMTU)
	} else {
		r.Error += "; lower --min-size to find it"
	}
	return true
}

// noReplyCauses are the usual reasons nothing answers probes of a method.
func noReplyCauses(method string) string {
	switch probe.Method(method).Proto() {
	case probe.ProtoUDP:
		return "is UDP to that port filtered, or its Port Unreachable rate-limited or filtered, the host down, or the way back broken? try --proto icmp or tcp"
	case probe.ProtoTCP:
		return "is the port filtered without a reset, the host down, or the way back broken? try another --port, or --proto icmp"
	}
	return "is ICMP echo filtered, the host down, or the way back broken? try --proto tcp"
}

// Bounds says what a cut-short search proved.
func Bounds(res *search.Result) string {
	if res == nil || res.Lo == 0 {
		return "no probe came back yet"
	}
	if res.Hi > mtu.Max {
		return fmt.Sprintf("path MTU ≥ %d", res.Lo)
	}
	return fmt.Sprintf("%d ≤ path MTU ≤ %d", res.Lo, res.Hi-1)
}

// plural is "1 probe", "2 probes".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
