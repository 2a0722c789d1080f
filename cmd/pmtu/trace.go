package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pmtu/pmtu/explain"
	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/probe/search"
)

// newTraceCommand builds `pmtu trace`. Tests build a fresh one per run,
// since urfave/cli changes a command as it runs it.
func newTraceCommand() *cli.Command {
	return &cli.Command{
		Name:      "trace",
		Usage:     "show every hop to HOST with the path MTU up to it, hops probed side by side",
		UsageText: "pmtu trace [flags] HOST",
		Description: "pmtu trace probes a window of hop limits that grows as hops answer, side by side, with DF set, " +
			"and finds each hop's path MTU with the same sizer as pmtu HOST, probing sizes only where the MTU can " +
			"change: a size counts only when a probe of it came back from that hop, or when the hop's own " +
			"Frag Needed quoted it. It marks the hop where the MTU drops and the router that said so, and waits " +
			"out the routers' ICMP rate limits before calling a hop silent. Flags go before HOST.",
		Flags: append(newProbeFlags(),
			&cli.BoolFlag{Name: "json", Usage: "print one JSON object instead of text"},
			&cli.BoolFlag{Name: "n", Usage: "print addresses only, without looking up their names"},
			&cli.IntFlag{Name: "max-hops", Value: 30, Usage: "the largest hop limit probed (1–255)"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "print every probe answer, and what was ignored and why"},
			&cli.IntFlag{Name: "flows", DefaultText: "one flow",
				Usage: fmt.Sprintf("trace on `N` flows at once (1–%d; flows 1..N, see --flow) and show, per hop, every address seen and the path MTU on each ECMP branch; "+
					"needs --proto udp or tcp", probe.MaxFlow)},
		),
		Action:          trace,
		HideHelpCommand: true,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return cli.Exit("pmtu trace: "+err.Error()+" (see pmtu trace --help)", exitUsage)
		},
	}
}

// What trace asks of the world; tests replace them.
var (
	traceLookupAddr = net.DefaultResolver.LookupAddr
	// traceNameWait bounds a name lookup, and how long the report waits
	// for the lookups still running when the walk ends.
	traceNameWait = time.Second
)

// traceOpts are trace's flags, checked.
type traceOpts struct {
	probeOpts
	json, numeric, verbose bool
	maxHops                int
	flows                  int
}

func parseTraceOpts(cCtx *cli.Context) (traceOpts, error) {
	po, err := parseProbeOpts(cCtx, "pmtu trace")
	if err != nil {
		return traceOpts{}, err
	}
	o := traceOpts{
		probeOpts: po,
		json:      cCtx.Bool("json"),
		numeric:   cCtx.Bool("n"),
		verbose:   cCtx.Bool("verbose"),
		maxHops:   cCtx.Int("max-hops"),
		flows:     cCtx.Int("flows"),
	}
	if o.maxHops < 1 || o.maxHops > 255 {
		return o, usageError(fmt.Sprintf("pmtu: --max-hops %d is outside 1–255", o.maxHops))
	}
	if err := checkFlowsFlag(cCtx, o.flows, o.proto, "traces"); err != nil {
		return o, err
	}
	return o, nil
}

// trace is `pmtu trace [flags] HOST`.
func trace(cCtx *cli.Context) error {
	o, err := parseTraceOpts(cCtx)
	if err != nil {
		return err
	}
	ctx, w, ew := cCtx.Context, cCtx.App.Writer, cCtx.App.ErrWriter
	names := newNamer(ctx, !o.numeric)
	po := o.probeOpts.options()
	po.OnEvent = func(ev probe.Event) {
		if o.verbose {
			traceEvent(ew, ev)
		}
		if ev.Kind == probe.TimeExceeded || ev.Kind == probe.Reached || ev.Kind == probe.Unreachable {
			names.start(ev.From)
		}
	}
	t, errRoute, err := lookup(ctx, o.probeOpts, po)
	if err != nil {
		return err
	}
	rep := &traceReport{Target: o.host, Address: t.Addr.String(), Family: familyName(t.Addr), Hops: []traceHop{}}
	if errRoute != nil {
		rep.Error = errRoute.Error()
		return rep.print(w, o.json)
	}
	if o.flows > 0 {
		return traceFlows(ctx, w, o, t, names)
	}
	res, terr := t.Trace(ctx, o.maxHops)
	if res == nil {
		return openError(o.proto, t.Addr, o.probeOpts, terr)
	}
	rep.fromResult(&res.TraceResult, names.wait())
	rep.fromReturn(res)
	rep.Flow = flowOf(res.Flow)
	rep.Method, rep.Port, rep.Tried = string(res.Method), res.Port, attemptsOf(res.Tried)
	if terr != nil {
		rep.Error = "stopped before the walk ended: " + plainErr(terr)
		if errors.Is(terr, context.Canceled) || errors.Is(terr, context.DeadlineExceeded) {
			rep.Error = "stopped before the walk ended"
		}
	}
	return rep.print(w, o.json)
}

// traceReport is the answer to pmtu trace HOST, printed as text or as one
// JSON object.
type traceReport struct {
	Target  string `json:"target"`
	Address string `json:"address"`
	Family  string `json:"family"`
	Flow    *flow  `json:"flow,omitempty"` // the flow every probe carried
	// Method and Port say how the walk that stands went; Tried, without
	// --proto when Echo did not reach the target, every way asked, as in
	// pmtu HOST's report (silent.go).
	Method string    `json:"method,omitempty"`
	Port   int       `json:"port,omitempty"`
	Tried  []attempt `json:"methods_tried,omitempty"`
	PMTU   int       `json:"pmtu"`
	// PMTUMax and PMTUMaxBy, when the target did not answer, bound the
	// path MTU by what a router behind the last answering hop refused,
	// and name that router.
	PMTUMax   int        `json:"pmtu_max,omitempty"`
	PMTUMaxBy string     `json:"pmtu_max_by,omitempty"`
	Reached   bool       `json:"reached"`
	Hops      []traceHop `json:"hops"`
	Probes    int        `json:"probes"`
	Rounds    int        `json:"rounds"`
	ElapsedMS float64    `json:"elapsed_ms"`
	Ignored   int        `json:"ignored"`
	Error     string     `json:"error,omitempty"`

	// Reverse is what the target's replies proved of the return path's
	// MTU (as in pmtu HOST's report); absent when it was not reached.
	Reverse *reverse `json:"reverse,omitempty"`

	provedTTL int // the farthest hop with a proved figure
}

// traceHop is one hop of a traceReport.
type traceHop struct {
	TTL     int     `json:"ttl"`
	Address string  `json:"address"`
	Name    string  `json:"name"`
	RTTMS   float64 `json:"rtt_ms"`
	PMTU    int     `json:"pmtu"`
	// PMTUFrom, at a hop that sent no Time Exceeded, says its pmtu comes
	// from its own ICMP: "frag_needed" or "packet_too_big".
	PMTUFrom string     `json:"pmtu_from,omitempty"`
	Reply    string     `json:"reply"` // time_exceeded, reached, unreachable or none
	ICMP     *traceICMP `json:"icmp"`  // null when none came back
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

	reportedMTU  int    // what the ICMP named; 0: no size
	reportedName string // the ICMP's name, for the text
	vanishAddr   string // the address of hop BlackHoleAfter
}

// traceICMP is the message that answered for a hop.
type traceICMP struct {
	Type int    `json:"type"`
	Code int    `json:"code"`
	Name string `json:"name"`
	// RFC 4884 extensions the router attached: its MPLS label stack (RFC
	// 4950) and interface information (RFC 5837).
	MPLS       []traceMPLS      `json:"mpls,omitempty"`
	Interfaces []traceInterface `json:"interfaces,omitempty"`
}

// traceMPLS is one MPLS label stack entry.
type traceMPLS struct {
	Label  uint32 `json:"label"`
	TC     uint8  `json:"tc"`
	Bottom bool   `json:"bottom"`
	TTL    uint8  `json:"ttl"`
}

// traceInterface is an RFC 5837 interface object.
type traceInterface struct {
	Role    string `json:"role"` // incoming, sub-ip, outgoing, next-hop
	IfIndex uint32 `json:"ifindex,omitempty"`
	Address string `json:"address,omitempty"`
	Name    string `json:"name,omitempty"`
	MTU     int    `json:"mtu,omitempty"`
}

var interfaceRoles = [...]string{probe.RoleIncoming: "incoming", probe.RoleSubIP: "sub-ip", probe.RoleOutgoing: "outgoing", probe.RoleNextHop: "next-hop"}

// addExtensions copies what RFC 4884 extensions an ICMP carried.
func (ti *traceICMP) addExtensions(ext *probe.Extensions) {
	if ext == nil {
		return
	}
	for _, l := range ext.MPLS {
		ti.MPLS = append(ti.MPLS, traceMPLS{Label: l.Label, TC: l.TC, Bottom: l.Bottom, TTL: l.TTL})
	}
	for _, in := range ext.Interfaces {
		ji := traceInterface{Role: interfaceRoles[in.Role&3], IfIndex: in.IfIndex, Name: in.Name, MTU: in.MTU}
		if in.Addr.IsValid() {
			ji.Address = in.Addr.String()
		}
		ti.Interfaces = append(ti.Interfaces, ji)
	}
}

// extensionLines are the extensions, for the text report: one line each.
func (ti *traceICMP) extensionLines() []string {
	if ti == nil {
		return nil
	}
	var out []string
	for _, l := range ti.MPLS {
		out = append(out, fmt.Sprintf("MPLS label %d, TC %d, TTL %d%s", l.Label, l.TC, l.TTL, map[bool]string{true: ", bottom of stack"}[l.Bottom]))
	}
	for _, in := range ti.Interfaces {
		words := []string{in.Role, "interface"}
		if in.Name != "" {
			words = append(words, in.Name)
		}
		if in.IfIndex != 0 {
			words = append(words, fmt.Sprintf("(index %d)", in.IfIndex))
		}
		if in.Address != "" {
			words = append(words, in.Address)
		}
		if in.MTU != 0 {
			words = append(words, fmt.Sprintf("MTU %d", in.MTU))
		}
		out = append(out, strings.Join(words, " "))
	}
	return out
}

func (r *traceReport) fromResult(res *search.TraceResult, names map[netip.Addr]string) {
	if res == nil {
		return
	}
	r.PMTU, r.Reached = int(res.PMTU), res.Reached
	if !res.Reached && res.Max > 0 && (res.PMTU == 0 || res.Max < res.PMTU) {
		r.PMTUMax = int(res.Max)
		if res.MaxBy.IsValid() {
			r.PMTUMaxBy = res.MaxBy.String()
		}
	}
	r.Probes, r.Rounds, r.Ignored = res.Probes, res.Rounds, len(res.Ignored)
	r.ElapsedMS = float64(res.Elapsed.Microseconds()) / 1000
	for _, h := range res.Hops {
		th := newTraceHop(h, names)
		if h.PMTU > 0 {
			r.provedTTL = h.TTL
		}
		if k := h.VanishAfter; k > 0 && k <= len(res.Hops) {
			th.BlackHoleAfter, th.vanishAddr = k, res.Hops[k-1].Addr.String()
		}
		r.Hops = append(r.Hops, th)
	}
	if !res.Reached {
		r.Error = r.whyNotReached(res)
	}
}

func newTraceHop(h probe.TraceHop, names map[netip.Addr]string) traceHop {
	th := traceHop{TTL: h.TTL, PMTU: int(h.PMTU), Reply: h.Reply.String(), MTUDrop: h.MTUDrop}
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
		th.ICMP = &traceICMP{Type: h.Event.Type, Code: h.Event.Code, Name: icmpName(h.Event)}
		th.ICMP.addExtensions(h.Event.Ext)
	}
	if h.MTUDrop {
		by := ""
		if h.ReportedBy.IsValid() {
			by, th.reportedMTU = h.ReportedBy.String(), int(h.ReportedMTU)
			th.reportedName = "fragmentation needed"
			if h.ReportedBy.Is6() {
				th.reportedName = "packet too big"
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
func (r *traceReport) whyNotReached(res *search.TraceResult) string {
	if n := len(res.Hops); n > 0 && res.Hops[n-1].Reply == probe.ReplyUnreachable {
		ev := res.Hops[n-1].Event
		return explain.Describe(family(ev.IPv6), ev.Type, ev.Code).Sentence(ev.From.String())
	}
	return fmt.Sprintf("%s did not answer within %d hops", r.Target, len(res.Hops))
}

// print writes the report and returns the exit: 0 when the target was
// reached with a path MTU, else 1 with the reason.
func (r *traceReport) print(w io.Writer, asJSON bool) error {
	var err error
	if asJSON {
		err = r.writeJSON(w)
	} else {
		err = r.writeText(w)
	}
	if err != nil {
		return err
	}
	if r.Error != "" || !r.Reached || r.PMTU == 0 {
		msg := r.Error
		if msg == "" {
			msg = "no path MTU proved to " + r.Target
		}
		return cli.Exit("pmtu: "+msg, exitNoAnswer)
	}
	return nil
}

func (r *traceReport) writeJSON(w io.Writer) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// writeText prints tracepath-like lines, one per hop, then a summary.
func (r *traceReport) writeText(w io.Writer) error {
	if len(r.Hops) == 0 && r.Error != "" {
		return nil // nothing was probed: the error says why
	}
	var b strings.Builder
	width := 20
	for _, h := range r.Hops {
		width = max(width, len(h.host()))
	}
	for i := 0; i < len(r.Hops); i++ {
		h := r.Hops[i]
		if n := r.silentRun(i); n >= 3 {
			b.WriteString(h.silentLine(fmt.Sprintf("%2d-%d", h.TTL, h.TTL+n-1), width))
			i += n - 1
			continue
		}
		b.WriteString(h.line(width))
	}
	b.WriteString(r.summary())
	if line := triedText(r.Tried); line != "" {
		b.WriteString("    " + line + "\n")
	}
	if r.Reverse != nil {
		b.WriteString("    return path from the target: " + reverseText(r.Reverse) + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// silentRun returns how many hops from i on said nothing and have the
// same bounds, if they run to the end; 0 otherwise.
func (r *traceReport) silentRun(i int) int {
	first := r.Hops[i]
	for _, h := range r.Hops[i:] {
		if h.Reply != "none" || h.MTUDrop || h.Address != "" || h.PMTUMin != first.PMTUMin || h.PMTUMax != first.PMTUMax {
			return 0
		}
	}
	return len(r.Hops) - i
}

func (h traceHop) host() string {
	if h.Name != "" {
		return fmt.Sprintf("%s (%s)", h.Address, h.Name)
	}
	return h.Address
}

// silentLine is the line of a hop that sent nothing, labelled label (its
// hop limit, or a range of them): the bounds proved around it, and the
// drop a router before it reported. Bounds start in the pmtu column of
// answered lines: after the host (width), the RTT (" %8.2f ms") and two
// spaces.
func (h traceHop) silentLine(label string, width int) string {
	var b strings.Builder
	// A wider label (a range) takes its room from the padding.
	pad := max(width+14-(len(label)-2), len("no reply")+1)
	switch {
	case h.PMTUMin > 0:
		fmt.Fprintf(&b, "%s  %-*s%d ≤ pmtu ≤ %d, from the hops around it", label, pad, "no reply", h.PMTUMin, h.PMTUMax)
	case h.PMTUMax > 0:
		fmt.Fprintf(&b, "%s  %-*spmtu ≤ %d, from the hops before it", label, pad, "no reply", h.PMTUMax)
	default:
		fmt.Fprintf(&b, "%s  no reply", label)
	}
	if h.MTUDrop {
		b.WriteString("   ← MTU drops here: " + h.dropText())
	}
	b.WriteString("\n")
	return b.String()
}

func (h traceHop) line(width int) string {
	if h.Reply == "none" && h.PMTUFrom == "" {
		return h.silentLine(fmt.Sprintf("%2d", h.TTL), width)
	}
	var b strings.Builder
	if h.Reply == "none" {
		// Silent, but placed and measured by its own Frag Needed.
		fmt.Fprintf(&b, "%2d  %-*s %11s", h.TTL, width, h.host(), "no reply")
	} else {
		fmt.Fprintf(&b, "%2d  %-*s %8.2f ms", h.TTL, width, h.host(), h.RTTMS)
	}
	if h.PMTU > 0 {
		fmt.Fprintf(&b, "  pmtu %d", h.PMTU)
	}
	switch h.PMTUFrom {
	case "frag_needed":
		b.WriteString(" from its Frag Needed")
	case "packet_too_big":
		b.WriteString(" from its Packet Too Big")
	}
	switch h.Reply {
	case "reached":
		b.WriteString("  reached")
	case "unreachable":
		b.WriteString("  " + h.ICMP.Name)
	}
	if h.MTUDrop {
		b.WriteString("   ← MTU drops here: " + h.dropText())
	}
	b.WriteString("\n")
	for _, l := range h.ICMP.extensionLines() {
		fmt.Fprintf(&b, "      %s\n", l)
	}
	return b.String()
}

// dropText says who reported the drop, or where larger probes vanish.
func (h traceHop) dropText() string {
	switch {
	case *h.ReportedBy != "" && h.reportedMTU > 0:
		return fmt.Sprintf("%s said %d (%s)", *h.ReportedBy, h.reportedMTU, h.reportedName)
	case *h.ReportedBy != "":
		return fmt.Sprintf("%s refused without naming a size (%s with MTU 0); %d found by probes", *h.ReportedBy, h.reportedName, h.PMTU)
	case h.BlackHoleAfter > 0:
		return fmt.Sprintf("larger probes vanish after hop %d (%s) without an ICMP: a PMTUD black hole", h.BlackHoleAfter, h.vanishAddr)
	}
	return "no router said so (found by probes)"
}

func (r *traceReport) summary() string {
	state := "reached"
	if !r.Reached {
		state = "not reached"
	}
	pmtu, sep := fmt.Sprintf("path MTU %d", r.PMTU), ", "
	switch {
	case r.PMTUMax > 0:
		// A router behind the last hop that answered refused more: say
		// what it proved, not only what the answers did.
		pmtu = fmt.Sprintf("path MTU ≤ %d", r.PMTUMax)
		if r.PMTUMaxBy != "" {
			pmtu += fmt.Sprintf(": %s said so", r.PMTUMaxBy)
		}
		if r.PMTU > 0 && r.provedTTL > 0 {
			pmtu += fmt.Sprintf("; %d confirmed up to hop %d, nothing beyond", r.PMTU, r.provedTTL)
		}
		sep = "; "
	case r.PMTU == 0:
		pmtu = "no path MTU"
	case !r.Reached:
		pmtu += " as far as it answered"
	}
	return fmt.Sprintf("    %s%s%d hops, %s; %d probes in %d round trips, %s\n",
		pmtu, sep, len(r.Hops), state, r.Probes, r.Rounds, formatMS(r.ElapsedMS))
}

// namer looks hop addresses up in the background, as the walk finds them,
// each lookup bounded by traceNameWait.
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

func newNamer(ctx context.Context, enabled bool) *namer {
	return &namer{ctx: ctx, enabled: enabled, lookup: traceLookupAddr, timeout: traceNameWait, lookups: map[netip.Addr]*nameLookup{}}
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

// wait returns the names found, waiting at most traceNameWait for the
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
