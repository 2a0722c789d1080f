package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pmtu/pmtu/explain"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/pmtucache"
	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/probe/search"
)

// report is the answer to pmtu HOST, printed as text or as one JSON object.
// Its JSON field names are documented in README.md.
type report struct {
	Target  string `json:"target"`
	Address string `json:"address"`
	Family  string `json:"family"`
	Source  string `json:"source"`           // "probe" or "cache"
	Method  string `json:"method,omitempty"` // how the probes went (probe.Method); absent from the cache
	Flow    *flow  `json:"flow,omitempty"`   // the flow every probe carried; absent from the cache
	Port    int    `json:"port,omitempty"`   // the port TCP and UDP probes went to
	// Tried lists the ways the target was asked when --proto was not
	// given (silent.go): ICMP Echo, then the fallbacks.
	Tried []attempt `json:"methods_tried,omitempty"`
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
	Events       []event `json:"events"`
	Ignored      int     `json:"ignored"`
	ExpiresInS   *int    `json:"expires_in_s,omitempty"`
	Hint         string  `json:"hint,omitempty"`
	Error        string  `json:"error,omitempty"`
	// Diagnosis explains the ICMP error that ended the search, from the
	// same table as the text (package explain).
	Diagnosis *diagnosis `json:"diagnosis,omitempty"`

	// BlackHoleDirection is "forward" or "return" where a black hole was
	// found and its direction told; absent otherwise.
	BlackHoleDirection string `json:"black_hole_direction,omitempty"`
	// Reverse is what the replies proved of the return path's MTU; from
	// the cache, what the search that filled it proved.
	Reverse *reverse `json:"reverse,omitempty"`
	// ForwardMethod is the method that found pmtu when it is not
	// method: udp, where the Echo Replies vanished on the way back.
	ForwardMethod string `json:"forward_method,omitempty"`

	ignored []probe.Event
}

// flow is the flow identity every probe of a search carried (probe.Flow).
type flow struct {
	SrcPort int `json:"src_port,omitempty"`
	ICMPID  int `json:"icmp_id,omitempty"`
}

// flowOf is f for JSON; nil for the zero Flow.
func flowOf(f probe.Flow) *flow {
	if f == (probe.Flow{}) {
		return nil
	}
	return &flow{SrcPort: int(f.SrcPort), ICMPID: int(f.EchoID)}
}

// diagnosis is an ICMP error that ended a search: who sent it, and the
// explain table's entry for it (name, sender, meaning, next step, kind).
type diagnosis struct {
	From string `json:"from"`
	explain.Info
}

// event is a believed ICMP error; identical ones (same sender, type, code
// and MTU) are counted in one.
type event struct {
	From       string `json:"from"`
	Type       int    `json:"type"`
	Code       int    `json:"code"`
	Name       string `json:"name"`
	NextHopMTU int    `json:"next_hop_mtu"`
	Count      int    `json:"count"`
}

func (r *report) ipv6() bool { return r.Family == "ipv6" }

func family(ipv6 bool) int {
	if ipv6 {
		return 6
	}
	return 4
}

// fromResult reports a search whose largest probe was ceil. A search
// that ended with nothing refused (res.Hi above ceil) proved only that
// the path carries its largest probe: that is the path MTU when the
// probe was as large as the interface allows, and otherwise (a
// --max-size below it) only a lower bound, with no refused size.
func (r *report) fromResult(res *search.Result, ceil mtu.Size) {
	r.Source = "probe"
	r.Events = []event{}
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
		r.LimitingHop = res.LimitingHop.String()
	}
	r.Probes, r.Rounds, r.Voided = res.Probes, res.Rounds, res.Voided
	r.ElapsedMS = float64(res.Elapsed.Microseconds()) / 1000
	seen := map[event]int{} // event without Count → index in r.Events
	for _, ev := range res.Events {
		e := event{From: ev.From.String(), Type: ev.Type, Code: ev.Code, NextHopMTU: int(ev.MTU),
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
	r.Ignored, r.ignored = len(res.Ignored), res.Ignored
	r.setDerived()
}

func (r *report) setDerived() {
	if r.PMTU > 0 {
		r.MSS = mtu.MSS(mtu.Size(r.PMTU), r.ipv6())
		if h, ok := explain.LinkHint(family(r.ipv6()), r.PMTU); ok {
			r.Hint = h
		}
	}
}

func (r *report) fromCache(e pmtucache.Entry, now time.Time) {
	r.Source = "cache"
	r.Method, r.Port = e.Method, e.Port
	r.PMTU, r.Confirmed, r.Reached, r.Evidence = e.PMTU, true, true, string(e.Evidence)
	r.Exact, r.Lo, r.Hi = e.Full, e.PMTU, e.Refused
	if e.Hop.IsValid() {
		r.LimitingHop = e.Hop.String()
	}
	if v := e.Return; v.Evidence != "" {
		r.Reverse = &reverse{Min: v.Min, Max: v.Max, Evidence: v.Evidence}
	}
	r.BlackHoleDirection = e.BlackHoleDirection
	s := int(e.ExpiresIn(now).Seconds())
	r.ExpiresInS = &s
	r.Events = []event{}
	r.setDerived()
}

// cacheEntry is what this search proved, for the cache: the answer to q,
// learned in the namespace whose inode number is inode, with the kernel's
// exception toward the destination right after the search.
func (r *report) cacheEntry(q pmtucache.Query, inode uint64, kernel pmtucache.Exception) pmtucache.Entry {
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

// explainFailure says, in the user's terms, why no path MTU came out.
func (r *report) explainFailure(err error, host string, res *search.Result) {
	var ue *probe.UnreachableError
	switch {
	case errors.As(err, &ue):
		info := explain.Describe(family(ue.Event.IPv6), ue.Event.Type, ue.Event.Code)
		r.Error = info.Sentence(ue.Event.From.String())
		r.Diagnosis = &diagnosis{From: ue.Event.From.String(), Info: info}
	case errors.Is(err, probe.ErrNoReply) && r.bounded():
		r.Error = r.boundSentence()
	case errors.Is(err, probe.ErrNoReply) && len(r.Tried) > 1:
		r.Error = fmt.Sprintf("no reply from %s at any size, whichever way it was asked: %s", host, r.triedLine())
	case errors.Is(err, probe.ErrNoReply):
		r.Error = fmt.Sprintf("no reply from %s at any size: probes or replies are dropped silently (%s)", host, noReplyCauses(r.Method))
	case errors.Is(err, probe.ErrAnswersStopped) && res != nil:
		r.Error = fmt.Sprintf("%s stopped answering, even probes of a size it had answered, in %s: "+
			"its ICMP rate limit (Linux: a burst of 6 Port Unreachables toward each host, then 1 a second) "+
			"is being spent by other probes of that host (its other addresses, another program); proved so far: %s. "+
			"Probe fewer addresses of that host at once, or use --proto icmp", host, plural(res.Voided, "round"), bounds(res))
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		r.Error = "stopped before the search ended: " + bounds(res)
	default:
		// In the kernel's words: a send that failed, not the call.
		r.Error = fmt.Sprintf("probing %s stopped: %s", host, plainErr(err))
	}
}

// belowFloor says, when a search bounded by --min-size floor ended with
// no reply because every size it could still try was known not to pass,
// what was proved instead: the path MTU is below the floor. It returns
// false when the search said nothing of the kind (the sizes were tried and
// lost, or no --min-size was given).
func (r *report) belowFloor(err error, floor mtu.Size, res *search.Result) bool {
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

// bounds says what a cut-short search proved.
func bounds(res *search.Result) string {
	if res == nil || res.Lo == 0 {
		return "no probe came back yet"
	}
	if res.Hi > mtu.Max {
		return fmt.Sprintf("path MTU ≥ %d", res.Lo)
	}
	return fmt.Sprintf("%d ≤ path MTU ≤ %d", res.Lo, res.Hi-1)
}

// fail prints what is known and returns exit code.
func (r *report) fail(w io.Writer, asJSON bool, code int) error {
	if r.Events == nil {
		r.Events = []event{}
	}
	if asJSON {
		if err := r.writeJSON(w); err != nil {
			return err
		}
		return cli.Exit("pmtu: "+r.Error, code)
	}
	if err := r.writeUnanswered(w); err != nil {
		return err
	}
	return cli.Exit("pmtu: "+r.Error, code)
}

// failAsserting is fail for a search the target did not answer, with
// --expect and --at-least judged on what was proved (judgeUnanswered).
func (r *report) failAsserting(w io.Writer, o findOpts) error {
	err := r.fail(w, o.json, exitNoAnswer)
	if aerr := r.judgeUnanswered(o.expect, o.atLeast); aerr != nil {
		return aerr
	}
	return err
}

// finish prints the answer and checks the assertions.
func (r *report) finish(w io.Writer, o findOpts) error {
	var err error
	if o.json {
		err = r.writeJSON(w)
	} else {
		err = r.writeText(w, o.verbose)
	}
	if err != nil {
		return err
	}
	if o.expect != 0 && r.PMTU != o.expect {
		return cli.Exit(fmt.Sprintf("pmtu: assertion failed: path MTU is %d, expected %d", r.PMTU, o.expect), exitAssertion)
	}
	if o.atLeast != 0 && r.PMTU < o.atLeast {
		return cli.Exit(fmt.Sprintf("pmtu: assertion failed: path MTU %d is below %d", r.PMTU, o.atLeast), exitAssertion)
	}
	return nil
}

func (r *report) writeJSON(w io.Writer) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func (r *report) writeText(w io.Writer, verbose bool) error {
	var b strings.Builder
	name := hostName(r.Target, r.Address)
	if r.Exact {
		fmt.Fprintf(&b, "path MTU to %s: %d\n", name, r.PMTU)
	} else {
		fmt.Fprintf(&b, "path MTU to %s: at least %d\n", name, r.PMTU)
	}
	switch {
	case r.Source == "cache":
		fmt.Fprintf(&b, "  cached, expires in %v (learned from %s", time.Duration(*r.ExpiresInS)*time.Second, r.evidenceText())
		b.WriteString("); --no-cache probes again\n")
	case r.BlackHoleDirection == probe.BlackHoleReturn && r.Evidence != "icmp":
		fmt.Fprintf(&b, "  Echo Replies larger than %d vanished on the way back (a return-path black hole); "+
			"%s probes, whose answers are small, found the forward path MTU\n", r.Reverse.Max, r.ForwardMethod)
	case r.Evidence == "icmp":
		fmt.Fprintf(&b, "  limited by %s, which answered %q naming MTU %d; a %d-byte probe came back\n",
			r.LimitingHop, r.lastEventName(), r.PMTU, r.PMTU)
	case !r.Exact:
		fmt.Fprintf(&b, "  a %d-byte probe, the largest this search sent (--max-size), came back; larger sizes were not tried\n", r.PMTU)
	case r.Hi == 0 && r.InterfaceMTU > int(mtu.Max):
		fmt.Fprintf(&b, "  a %d-byte probe, the largest IP packet, came back; the egress interface allows %d\n", r.PMTU, r.InterfaceMTU)
	case r.Hi == 0:
		fmt.Fprintf(&b, "  the egress interface is the limit: a %d-byte probe (its MTU) came back\n", r.PMTU)
	case r.BlackHole:
		fmt.Fprintf(&b, "  no Fragmentation Needed came back: ICMP is filtered on this path (PMTUD black hole); "+
			"path MTU %d proved by probing (%d came back, %d vanished)\n", r.PMTU, r.PMTU, r.Hi)
	default:
		fmt.Fprintf(&b, "  proved by probes: %d bytes came back, %d did not", r.PMTU, r.Hi)
		if len(r.Events) == 0 {
			b.WriteString(", and no router named a size")
		} else {
			b.WriteString(", and routers refused without naming a size (Next-Hop MTU 0, RFC 1191 §5)")
		}
		b.WriteString("\n")
	}
	b.WriteString(r.directionText())
	if line := r.triedLine(); line != "" {
		fmt.Fprintf(&b, "  %s\n", line)
	}
	fmt.Fprintf(&b, "  TCP MSS %d\n", r.MSS)
	if r.Interface != "" {
		fmt.Fprintf(&b, "  interface %s, MTU %d\n", r.Interface, r.InterfaceMTU)
	}
	if r.Source != "cache" {
		fmt.Fprintf(&b, "  %s in %s, %s", plural(r.Probes, "probe"), plural(r.Rounds, "round trip"), formatMS(r.ElapsedMS))
		if r.Ignored > 0 {
			fmt.Fprintf(&b, "; %s ignored (-v lists them)", plural(r.Ignored, "packet"))
		}
		if r.Voided > 0 {
			fmt.Fprintf(&b, "; %s not counted: the target's rate-limited answers ran out", plural(r.Voided, "round"))
		}
		b.WriteString("\n")
	}
	if r.Hint != "" {
		fmt.Fprintf(&b, "  %s\n", r.Hint)
	}
	if verbose && r.Flow != nil {
		fmt.Fprintf(&b, "  every probe on one flow: %s\n", r.Flow)
	}
	if verbose {
		for _, ev := range r.ignored {
			fmt.Fprintf(&b, "  ignored from %s: %s\n", ev.From, ev.Why)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (f *flow) String() string {
	if f.SrcPort != 0 {
		return fmt.Sprintf("source port %d", f.SrcPort)
	}
	return fmt.Sprintf("icmp id %d", f.ICMPID)
}

func (r *report) evidenceText() string {
	if r.Evidence == "icmp" && r.LimitingHop != "" {
		return "an ICMP from " + r.LimitingHop
	}
	return "probes"
}

func (r *report) lastEventName() string {
	for i := len(r.Events) - 1; i >= 0; i-- {
		if r.Events[i].NextHopMTU == r.PMTU {
			return r.Events[i].Name
		}
	}
	return "too big"
}

// plural is "1 probe", "2 probes".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func formatMS(ms float64) string {
	if ms < 10 {
		return fmt.Sprintf("%.1f ms", ms)
	}
	return (time.Duration(ms*1000) * time.Microsecond).Round(time.Millisecond).String()
}

// traceEvent prints one event for -v.
func traceEvent(w io.Writer, ev probe.Event) {
	switch ev.Kind {
	case probe.Ignored:
		fmt.Fprintf(w, "pmtu: ignored %d bytes from %s: %s\n", ev.Bytes, ev.From, ev.Why)
	case probe.Reached:
		fmt.Fprintf(w, "pmtu: probe %d came back from %s\n", ev.Seq, ev.From)
	default:
		info := explain.Describe(family(ev.IPv6), ev.Type, ev.Code)
		extra := ""
		if ev.Kind == probe.TooBig {
			extra = fmt.Sprintf(", MTU %d", ev.MTU)
		}
		fmt.Fprintf(w, "pmtu: probe %d: %s sent %s%s\n", ev.Seq, ev.From, info.Name, extra)
	}
}

func exePath() string {
	p, err := os.Executable()
	if err != nil {
		return "pmtu"
	}
	return p
}

// hostName is how a report names its host: the address, with the name as
// given before it when that was not the address itself.
func hostName(target, address string) string {
	if target == address {
		return address
	}
	return fmt.Sprintf("%s (%s)", target, address)
}
