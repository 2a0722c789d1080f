package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/pmtu/pmtu/measure"
	"github.com/pmtu/pmtu/probe"
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
	to := &measure.TraceOptions{Probe: *o.options(), MaxHops: o.maxHops, Numeric: o.numeric, LookupAddr: worldOf(cCtx).lookupAddr,
		Notes: func(line string) { fmt.Fprintf(ew, "pmtu: %s\n", line) }}
	if o.verbose {
		to.Probe.OnEvent = func(ev probe.Event) { traceEvent(ew, ev) }
	}
	if o.flows > 0 {
		return traceFlows(ctx, w, o, to)
	}
	rep, err := measure.Trace(ctx, o.host, to)
	if rep == nil {
		return exitError(err)
	}
	return printTrace(w, rep, o.json)
}

// print writes the report and returns the exit: 0 when the target was
// reached with a path MTU, else 1 with the reason.
func printTrace(w io.Writer, r *measure.TraceReport, asJSON bool) error {
	var err error
	if asJSON {
		err = writeTraceJSON(w, r)
	} else {
		err = writeTraceText(w, r)
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

func writeTraceJSON(w io.Writer, r *measure.TraceReport) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// writeText prints tracepath-like lines, one per hop, then a summary.
func writeTraceText(w io.Writer, r *measure.TraceReport) error {
	if len(r.Hops) == 0 && r.Error != "" {
		return nil // nothing was probed: the error says why
	}
	var b strings.Builder
	width := 20
	for _, h := range r.Hops {
		width = max(width, len(hopHost(h)))
	}
	for i := 0; i < len(r.Hops); i++ {
		h := r.Hops[i]
		if n := silentRun(r, i); n >= 3 {
			b.WriteString(silentLine(h, fmt.Sprintf("%2d-%d", h.TTL, h.TTL+n-1), width))
			i += n - 1
			continue
		}
		b.WriteString(hopLine(h, width))
	}
	b.WriteString(traceSummary(r))
	if line := r.TriedLine(); line != "" {
		b.WriteString("    " + line + "\n")
	}
	if r.LastHopMethod != "" {
		fmt.Fprintf(&b, "    the last hop (the target) by %s, which sets no hop limit: it follows the last hop that answered", r.LastHopMethod)
		if t := r.Traffic; t != nil {
			fmt.Fprintf(&b, "; the target's service got %s", trafficText(t))
		}
		b.WriteString("\n")
	}
	if r.Reverse != nil {
		b.WriteString("    return path from the target: " + reverseText(r.Reverse) + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// silentRun returns how many hops from i on said nothing and have the
// same bounds, if they run to the end; 0 otherwise.
func silentRun(r *measure.TraceReport, i int) int {
	first := r.Hops[i]
	for _, h := range r.Hops[i:] {
		if h.Reply != "none" || h.MTUDrop || h.Address != "" || h.PMTUMin != first.PMTUMin || h.PMTUMax != first.PMTUMax {
			return 0
		}
	}
	return len(r.Hops) - i
}

func hopHost(h measure.TraceHop) string {
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
func silentLine(h measure.TraceHop, label string, width int) string {
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
		b.WriteString("   ← MTU drops here: " + dropText(h))
	}
	b.WriteString("\n")
	return b.String()
}

func hopLine(h measure.TraceHop, width int) string {
	if h.Reply == "none" && h.PMTUFrom == "" {
		return silentLine(h, fmt.Sprintf("%2d", h.TTL), width)
	}
	var b strings.Builder
	if h.Reply == "none" {
		// Silent, but placed and measured by its own Frag Needed.
		fmt.Fprintf(&b, "%2d  %-*s %11s", h.TTL, width, hopHost(h), "no reply")
	} else {
		fmt.Fprintf(&b, "%2d  %-*s %8.2f ms", h.TTL, width, hopHost(h), h.RTTMS)
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
		b.WriteString("   ← MTU drops here: " + dropText(h))
	}
	b.WriteString("\n")
	for _, l := range extensionLines(h.ICMP) {
		fmt.Fprintf(&b, "      %s\n", l)
	}
	return b.String()
}

// dropText says who reported the drop, or where larger probes vanish.
func dropText(h measure.TraceHop) string {
	switch {
	case *h.ReportedBy != "" && h.ReportedMTU > 0:
		return fmt.Sprintf("%s said %d (%s)", *h.ReportedBy, h.ReportedMTU, h.ReportedName)
	case *h.ReportedBy != "":
		return fmt.Sprintf("%s refused without naming a size (%s with MTU 0); %d found by probes", *h.ReportedBy, h.ReportedName, h.PMTU)
	case h.BlackHoleAfter > 0:
		return fmt.Sprintf("larger probes vanish after hop %d (%s) without an ICMP: a PMTUD black hole", h.BlackHoleAfter, h.VanishAddr)
	}
	return "no router said so (found by probes)"
}

func traceSummary(r *measure.TraceReport) string {
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
		if r.ProvedPMTU > 0 && r.ProvedTTL > 0 {
			pmtu += fmt.Sprintf("; %d confirmed up to hop %d, nothing beyond", r.ProvedPMTU, r.ProvedTTL)
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

// extensionLines are the extensions, for the text report: one line each.
func extensionLines(ti *measure.TraceICMP) []string {
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
