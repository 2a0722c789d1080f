package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/pmtu/pmtu/check"
	"github.com/pmtu/pmtu/measure"
	"github.com/pmtu/pmtu/probe"
)

// newCheckCommand builds `pmtu check`. Tests build a fresh one per run,
// since urfave/cli changes a command as it runs it.
func newCheckCommand() *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "look for middleboxes that break big packets: MSS clamping located to its hop, fragments and IPv6 extension headers each way",
		UsageText: "pmtu check [flags] HOST",
		Description: "pmtu check measures the path MTU as pmtu HOST does, then sends packets built by hand: TCP SYNs with an MSS option " +
			"at hop limits 1, 2, 3... (each router's Time Exceeded quotes the SYN as it arrived, so a rewrite of the MSS shows " +
			"between two hops), the target's SYN-ACK MSS and the stall risk it makes, a small Echo Request in two fragments and " +
			"one whose reply must come back in fragments, and for IPv6 Echo Requests with a Hop-by-Hop or Destination Options " +
			"header; the way back of those headers is asked of a pmtu mesh responder (--responder, else the target's port 10151). Each check prints what it found, its evidence and advice; checks this process may not run are listed with why. " +
			"Exit 3 when something breaks big packets. Raw IP sockets (root or CAP_NET_RAW) are needed for every check but the path MTU and the way back of the extension headers. " +
			"Flags go before HOST.",
		Flags: append(newProbeFlags(),
			&cli.BoolFlag{Name: "json", Usage: "print one JSON object instead of text"},
			&cli.IntFlag{Name: "max-hops", Value: 30, Usage: "the largest hop limit of the SYNs (1–255)"},
			&cli.IntFlag{Name: "syn-port", Value: 443, Usage: "destination `PORT` of the SYNs; something must listen there for the target's SYN-ACK MSS"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "print every packet the checks sent and what came back"},
			&cli.StringFlag{Name: "responder", Usage: "ask the pmtu mesh responder at `ADDR:PORT` to send IPv6 extension headers back (default: the target, port 10151); this host must be one of its peers"},
			&cli.StringFlag{Name: "key-file", Usage: "a `FILE` holding the responder's mesh key (pmtu mesh --key-file), if it is keyed"},
		),
		Action:          runCheck,
		HideHelpCommand: true,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return cli.Exit("pmtu check: "+err.Error()+" (see pmtu check --help)", exitUsage)
		},
	}
}

// runCheck is `pmtu check [flags] HOST`.
func runCheck(cCtx *cli.Context) error {
	po, err := parseProbeOpts(cCtx, "pmtu check")
	if err != nil {
		return err
	}
	maxHops := cCtx.Int("max-hops")
	if maxHops < 1 || maxHops > 255 {
		return usageError(fmt.Sprintf("pmtu: --max-hops %d is outside 1–255", maxHops))
	}
	synPort := cCtx.Int("syn-port")
	if synPort < 1 || synPort > 65535 {
		return usageError(fmt.Sprintf("pmtu: --syn-port %d is outside 1–65535", synPort))
	}
	var responder netip.AddrPort
	if s := cCtx.String("responder"); s != "" {
		if responder, err = netip.ParseAddrPort(s); err != nil || responder.Port() == 0 {
			return usageError(fmt.Sprintf("pmtu: --responder %q: want ADDR:PORT, e.g. [2001:db8::1]:%d", s, check.DefaultResponderPort))
		}
	}
	key, err := readKeyFile(cCtx, "pmtu check")
	if err != nil {
		return err
	}
	w, ew := cCtx.App.Writer, cCtx.App.ErrWriter
	co := &check.Options{Measure: measure.Options{Probe: *po.options()}, MaxHops: maxHops, Port: synPort, Open: worldOf(cCtx).openRaw,
		Responder: responder, Key: key, OpenResponder: worldOf(cCtx).openResponder}
	co.Measure.Notes = func(line string) { fmt.Fprintf(ew, "pmtu: %s\n", line) }
	if cCtx.Bool("verbose") {
		co.Log = func(line string) { fmt.Fprintf(ew, "pmtu: check: %s\n", line) }
		co.Measure.Log = func(line string) { fmt.Fprintf(ew, "pmtu: %s\n", line) }
		co.Measure.Probe.OnEvent = func(ev probe.Event) { traceEvent(ew, ev) }
	}
	rep, err := check.Host(cCtx.Context, po.host, co)
	if rep == nil {
		return exitError(err)
	}
	if cCtx.Bool("json") {
		b, jerr := json.Marshal(rep)
		if jerr != nil {
			return jerr
		}
		fmt.Fprintln(w, string(b))
	} else {
		writeCheckText(w, rep)
	}
	switch {
	case rep.Broken:
		return cli.Exit("", exitAssertion)
	case err != nil:
		return exitError(err)
	}
	return nil
}

// writeCheckText prints a check report: one block per finding, then the
// verdict.
func writeCheckText(w io.Writer, r *check.Report) {
	fmt.Fprintf(w, "pmtu check %s (%s, %s)\n", r.Target, r.Address, r.Family)
	for _, f := range r.Findings {
		if f.Result == check.NotRun {
			continue
		}
		fmt.Fprintf(w, "%-8s %s\n", strings.ReplaceAll(f.Result, "_", " "), f.Summary)
		if f.Evidence != "" {
			fmt.Fprintf(w, "         evidence: %s\n", f.Evidence)
		}
		if f.Advice != "" {
			fmt.Fprintf(w, "         advice: %s\n", f.Advice)
		}
	}
	if len(r.MSSHops) > 0 {
		var hops []string
		for _, h := range r.MSSHops {
			hops = append(hops, fmt.Sprintf("%d %s", h.TTL, mssHopText(h)))
		}
		fmt.Fprintf(w, "         SYN with MSS %d, as each hop quoted it: %s\n", r.MSSSent, strings.Join(hops, ", "))
	}
	for _, s := range r.NotRun {
		fmt.Fprintf(w, "not run  %s: %s\n", s.Check, s.Why)
	}
	if r.Broken {
		fmt.Fprintln(w, "verdict: something on this path breaks big packets (exit 3)")
	} else {
		fmt.Fprintln(w, "verdict: nothing found that breaks big packets")
	}
}

func mssHopText(h check.MSSHop) string {
	switch {
	case h.Address == "":
		return "*"
	case !h.Visible:
		return h.Address + " not visible"
	case h.MSS == 0:
		return h.Address + " no MSS"
	}
	return fmt.Sprintf("%s %d", h.Address, h.MSS)
}
