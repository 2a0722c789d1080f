package main

import (
	"context"
	"fmt"
	"time"

	"github.com/pmtu/pmtu/measure"
	"github.com/pmtu/pmtu/pmtucache"
	"github.com/pmtu/pmtu/probe"
	"github.com/urfave/cli/v2"
)

// newFindFlags makes the flags of pmtu HOST afresh (see newProbeFlags).
func newFindFlags() []cli.Flag {
	return append(append(newProbeFlags(),
		&cli.BoolFlag{Name: "json", Usage: "print one JSON object instead of text (with many hosts: one per host, a line each)"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "print every probe answer, and what was ignored and why"},
		&cli.IntFlag{Name: "expect", Usage: "exit 3 unless the path MTU is exactly `N`", DefaultText: "no check"},
		&cli.IntFlag{Name: "at-least", Usage: "exit 3 if the path MTU is below `N`", DefaultText: "no check"},
		&cli.DurationFlag{Name: "deadline", Usage: "give up after `D` in all, printing what was proved", DefaultText: "none"},
		&cli.BoolFlag{Name: "no-cache", Usage: "probe even if the cache has a fresh answer (and update it)"},
		newNoReverseFlag(),
		&cli.IntFlag{Name: "flows", DefaultText: "one flow",
			Usage: fmt.Sprintf("search on `N` flows at once (1–%d; flows 1..N, see --flow) and report the path MTU of every ECMP branch they took; "+
				"needs --proto udp or tcp (routers hash ICMP Echo by addresses only); the cache is not used", probe.MaxFlow)},
	), newManyFlags()...)
}

// findOpts are find's flags, checked.
type findOpts struct {
	probeOpts
	json, verbose   bool
	expect, atLeast int
	deadline        time.Duration
	noCache         bool
	cacheFile       string
	flows           int
}

func parseFindOpts(cCtx *cli.Context) (findOpts, error) {
	po, err := parseProbeOpts(cCtx, "pmtu")
	if err != nil {
		return findOpts{}, err
	}
	return findFlags(cCtx, po)
}

// findFlags checks find's own flags, beside the probe flags po.
func findFlags(cCtx *cli.Context, po probeOpts) (findOpts, error) {
	o := findOpts{
		probeOpts: po,
		json:      cCtx.Bool("json"),
		verbose:   cCtx.Bool("verbose"),
		expect:    cCtx.Int("expect"),
		atLeast:   cCtx.Int("at-least"),
		deadline:  cCtx.Duration("deadline"),
		noCache:   cCtx.Bool("no-cache"),
		cacheFile: cCtx.String("cache-file"),
		flows:     cCtx.Int("flows"),
	}
	if err := checkSizeFlags(cCtx, "expect", "at-least"); err != nil {
		return o, err
	}
	if err := checkFlowsFlag(cCtx, o.flows, o.proto, "probes"); err != nil {
		return o, err
	}
	if cCtx.IsSet("deadline") && o.deadline <= 0 {
		return o, usageError(fmt.Sprintf("pmtu: --deadline %v must be positive", o.deadline))
	}
	return o, nil
}

// find is the root command: pmtu [flags] HOST; with more than one HOST or
// -f FILE, findMany (many.go).
func find(cCtx *cli.Context) error {
	if manyTargets(cCtx) {
		for _, f := range []string{"flows", "flow"} {
			if cCtx.IsSet(f) {
				// Hosts are searched at once, and one source port binds once.
				return usageError(fmt.Sprintf("pmtu: --%s is for one HOST at a time", f))
			}
		}
		return findMany(cCtx)
	}
	o, err := parseFindOpts(cCtx)
	if err != nil {
		return err
	}
	ctx := cCtx.Context
	if o.deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.deadline)
		defer cancel()
	}
	w, ew := cCtx.App.Writer, cCtx.App.ErrWriter
	if o.flows > 0 {
		return findFlows(ctx, cCtx, o)
	}
	mo := o.measureOptions(cCtx)
	if o.verbose {
		mo.Probe.OnEvent = func(ev probe.Event) { traceEvent(ew, ev) }
	}
	rep, err := measure.Host(ctx, o.host, mo)
	switch {
	case err == nil:
		return finish(w, rep, o)
	case rep == nil, measure.KindOf(err) == measure.CannotProbe:
		return exitError(err)
	}
	if rep.Source == "" {
		// No route: nothing was probed, no assertion judged.
		return fail(w, rep, o.json, exitNoAnswer)
	}
	return failAsserting(w, rep, o)
}

// measureOptions are the flags as the workflow's options.
func (o findOpts) measureOptions(cCtx *cli.Context) *measure.Options {
	mo := &measure.Options{Probe: *o.options(), NoCache: o.noCache, Now: cacheNow}
	if o.cacheFile != "" {
		mo.Cache = &pmtucache.Store{Path: o.cacheFile, Clock: cacheNow}
	}
	ew := cCtx.App.ErrWriter
	mo.Notes = func(line string) { fmt.Fprintf(ew, "pmtu: %s\n", line) }
	if o.verbose {
		mo.Log = func(line string) { fmt.Fprintf(ew, "pmtu: %s\n", line) }
	}
	return mo
}

// exitError is the one line and exit status of a failure the workflow
// said in words: 2 for bad input or no way to probe, else 1.
func exitError(err error) error {
	code := exitNoAnswer
	switch measure.KindOf(err) {
	case measure.BadInput, measure.CannotProbe:
		code = exitUsage
	}
	return cli.Exit("pmtu: "+err.Error(), code)
}

// newNoReverseFlag is --no-reverse, for pmtu HOST and pmtu watch.
func newNoReverseFlag() cli.Flag {
	return &cli.BoolFlag{Name: "no-reverse", Usage: "send no UDP probes to tell which way an ICMP black hole lies (black_hole_direction)"}
}

// checkFlowsFlag checks --flows N, where set, for pmtu HOST ("probes")
// and pmtu trace ("traces").
func checkFlowsFlag(cCtx *cli.Context, flows int, proto probe.Proto, verb string) error {
	if !cCtx.IsSet("flows") {
		return nil
	}
	switch {
	case flows < 1 || flows > probe.MaxFlow:
		return usageError(fmt.Sprintf("pmtu: --flows %d is outside 1–%d", flows, probe.MaxFlow))
	case proto == probe.ProtoICMP:
		return usageError("pmtu: --flows needs --proto udp or tcp: routers hash ICMP Echo by its addresses only " +
			"(Linux does), so every Echo flow takes the same branch")
	case cCtx.IsSet("flow"):
		return usageError("pmtu: --flow and --flows exclude each other: --flows N " + verb + " flows 1 to N")
	}
	return nil
}
