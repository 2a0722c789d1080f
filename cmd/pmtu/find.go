package main

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/netns"
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

	po := o.probeOpts.options()
	if o.verbose {
		po.OnEvent = func(ev probe.Event) { traceEvent(ew, ev) }
	}
	t, errRoute, err := lookup(ctx, o.probeOpts, po)
	if err != nil {
		return err
	}
	rep := &report{Target: o.host, Address: t.Addr.String(), Family: familyName(t.Addr)}
	if errRoute != nil {
		rep.Error = errRoute.Error()
		return rep.fail(w, o.json, exitNoAnswer)
	}
	rep.Interface, rep.InterfaceMTU = t.Route.IfName, int(t.Route.IfMTU)
	if o.flows > 0 {
		return findFlows(ctx, cCtx, o, t, rep)
	}

	ceil := t.Ceil()
	cq := newCacheQuery(o, t, ceil, time.Now())
	if o.verbose && cq.err != nil {
		fmt.Fprintf(ew, "pmtu: cache: not used: %v\n", cq.err)
	}
	if cq.store != nil && !o.noCache {
		c, warn := cq.store.Load(ctx)
		if warn != nil {
			fmt.Fprintf(ew, "pmtu: warning: %v\n", warn)
		}
		e, err := c.Answer(cq.q)
		if err == nil {
			rep.fromCache(e, time.Now())
			return rep.finish(w, o)
		}
		if o.verbose {
			fmt.Fprintf(ew, "pmtu: cache: %s\n", missText(e, err, time.Now()))
		}
	}

	res, derr := t.Find(ctx)
	if res == nil {
		return openError(o.proto, t.Addr, o.probeOpts, derr)
	}
	rep.fromFind(res, ceil)
	if derr != nil {
		if !rep.belowFloor(derr, o.minSize, &res.Result) {
			rep.explainFailure(derr, o.host, &res.Result)
		}
		return rep.failAsserting(w, o)
	}
	if cq.store != nil && rep.Confirmed && cacheable(res.Method, o.proto) {
		e := rep.cacheEntry(cq.q, cq.inode, kernelNow(ctx, o.netns, t.Addr))
		err := cq.store.Update(ctx, func(c *pmtucache.Cache) error {
			r, err := c.Measured(e)
			if err == nil && o.verbose {
				fmt.Fprintf(ew, "pmtu: cache: %s (%s)\n", r.Action, r.Reason)
			}
			return err
		})
		if err != nil {
			fmt.Fprintf(ew, "pmtu: warning: the answer was not cached: %v\n", err)
		}
	}
	return rep.finish(w, o)
}

// cacheQuery is what find asks the cache, and where the cache is.
type cacheQuery struct {
	store *pmtucache.Store // nil: no cache this run
	q     pmtucache.Query
	inode uint64 // the probing namespace's inode number, for cache list
	err   error  // why there is no cache this run, for -v
}

// newCacheQuery names the question a run toward t asks: its key (the
// probing namespace's identity, read inside it, the source, the probe
// protocol and port), the search's bounds, and the world as it is now (the
// egress interface and the kernel's path MTU exception, from t.route). A
// namespace without a readable identity gets no cache: an answer could not
// be told from another namespace's.
func newCacheQuery(o findOpts, t *probe.Target, ceil mtu.Size, now time.Time) cacheQuery {
	return newCacheQueryIn(o, t, ceil, now, func() (pmtucache.Network, uint64, error) { return probingNetwork(o.netns) })
}

// probingNetwork is the identity of the namespace ns ("" this one), read
// inside it.
func probingNetwork(ns string) (n pmtucache.Network, inode uint64, err error) {
	read := func() error {
		var err error
		n, inode, err = pmtucache.CurrentNetwork()
		return err
	}
	if ns == "" {
		err = read()
	} else {
		err = netns.Do(ns, read)
	}
	return n, inode, err
}

// newCacheQueryIn is newCacheQuery with the namespace's identity from
// ident: a run over many targets reads it once.
func newCacheQueryIn(o findOpts, t *probe.Target, ceil mtu.Size, now time.Time, ident func() (pmtucache.Network, uint64, error)) cacheQuery {
	proto := cmp.Or(o.proto, probe.ProtoICMP)
	port := 0
	if proto != probe.ProtoICMP {
		port = cmp.Or(o.port, proto.DefaultPort())
	}
	cq := cacheQuery{q: pmtucache.Query{
		Key:     pmtucache.Key{Dst: t.Addr, Src: t.Route.Src, Proto: string(proto), Port: port},
		Floor:   int(cmp.Or(o.minSize, mtu.Floor(t.Addr.Is6()))),
		Ceil:    int(ceil),
		IfIndex: t.Route.IfIndex,
		IfMTU:   int(t.Route.IfMTU),
		Kernel:  pmtucache.ExceptionOf(t.Route, now),
	}}
	if o.flow != 0 {
		// An answer holds for its flow's ECMP branch; the cache keys
		// answers by host and port, for any flow.
		cq.err = fmt.Errorf("--flow %d: the answer is one flow's, and the cache holds answers for any flow", o.flow)
		return cq
	}
	var err error
	cq.q.Net, cq.inode, err = ident()
	if err != nil {
		cq.err = err
		return cq
	}
	cq.store, cq.err = storeAt(o.cacheFile)
	return cq
}

// storeAt is the cache file at path, or the default one where path is "".
func storeAt(path string) (*pmtucache.Store, error) {
	if path == "" {
		var err error
		if path, err = pmtucache.DefaultPath(); err != nil {
			return nil, err
		}
	}
	return &pmtucache.Store{Path: path, Clock: cacheNow}, nil
}

// kernelNow is the kernel's path MTU exception toward dst now, as seen
// from the namespace ns ("" for this one): the twin an ICMP-learned entry
// keeps. The zero Exception if there is none or it cannot be read.
func kernelNow(ctx context.Context, ns string, dst netip.Addr) pmtucache.Exception {
	r, err := kernelRoute(ctx, ns, dst)
	if err != nil {
		return pmtucache.Exception{}
	}
	return pmtucache.ExceptionOf(r, time.Now())
}

// missText says, for -v, why the cache gave no answer: "nothing cached",
// or the entry it judged and why it was not used.
func missText(e pmtucache.Entry, err error, now time.Time) string {
	if e.PMTU == 0 {
		return err.Error()
	}
	return fmt.Sprintf("not using the entry %d (%s, learned %v ago): %v", e.PMTU, e.Evidence, now.Sub(e.Learned).Truncate(time.Second), err)
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
