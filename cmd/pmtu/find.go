package main

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pmtu/pmtu/pmtucache"
	"github.com/pmtu/pmtu/probe"
)

// newFindFlags makes the flags of pmtu HOST afresh (see newProbeFlags).
func newFindFlags() []cli.Flag {
	return append(newProbeFlags(),
		&cli.BoolFlag{Name: "json", Usage: "print one JSON object instead of text"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "print every probe answer, and what was ignored and why"},
		&cli.IntFlag{Name: "expect", Usage: "exit 3 unless the path MTU is exactly `N`", DefaultText: "no check"},
		&cli.IntFlag{Name: "at-least", Usage: "exit 3 if the path MTU is below `N`", DefaultText: "no check"},
		&cli.DurationFlag{Name: "deadline", Usage: "give up after `D` in all, printing what was proved", DefaultText: "none"},
		&cli.BoolFlag{Name: "no-cache", Usage: "probe even if the cache has a fresh answer (and update it)"},
	)
}

// findOpts are find's flags, checked.
type findOpts struct {
	probeOpts
	json, verbose   bool
	expect, atLeast int
	deadline        time.Duration
	noCache         bool
	cacheFile       string
}

func parseFindOpts(cCtx *cli.Context) (findOpts, error) {
	po, err := parseProbeOpts(cCtx, "pmtu")
	if err != nil {
		return findOpts{}, err
	}
	o := findOpts{
		probeOpts: po,
		json:      cCtx.Bool("json"),
		verbose:   cCtx.Bool("verbose"),
		expect:    cCtx.Int("expect"),
		atLeast:   cCtx.Int("at-least"),
		deadline:  cCtx.Duration("deadline"),
		noCache:   cCtx.Bool("no-cache"),
		cacheFile: cCtx.String("cache-file"),
	}
	if err := checkSizeFlags(cCtx, "expect", "at-least"); err != nil {
		return o, err
	}
	if cCtx.IsSet("deadline") && o.deadline <= 0 {
		return o, usageError(fmt.Sprintf("pmtu: --deadline %v must be positive", o.deadline))
	}
	return o, nil
}

// find is the root command: pmtu [flags] HOST.
func find(cCtx *cli.Context) error {
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

	store, key := openCache(o.cacheFile, t.Addr, t.Route.Src, netnsKey(t))
	if store != nil && !o.noCache {
		c, warn := store.Load(ctx)
		if warn != nil {
			fmt.Fprintf(ew, "pmtu: warning: %v\n", warn)
		}
		if e, ok := c.Lookup(key); ok {
			rep.fromCache(e, time.Now())
			return rep.finish(w, o)
		}
	}

	res, derr := t.Find(ctx)
	if res == nil {
		return openError(o.proto, derr)
	}
	rep.Method = string(res.Method)
	rep.fromResult(&res.Result)
	if derr != nil {
		rep.explainFailure(derr, o.host, &res.Result)
		return rep.fail(w, o.json, exitNoAnswer)
	}
	if store != nil {
		err := store.Update(ctx, func(c *pmtucache.Cache) error {
			_, err := c.Update(rep.cacheEntry(key))
			return err
		})
		if err != nil {
			fmt.Fprintf(ew, "pmtu: warning: the answer was not cached: %v\n", err)
		}
	}
	return rep.finish(w, o)
}

// openCache returns the cache store and this destination's key, or a nil
// store if no cache file can be named.
func openCache(path string, dst, src netip.Addr, netns string) (*pmtucache.Store, pmtucache.Key) {
	key := pmtucache.Key{Dst: dst, Src: src, Netns: netns}
	if path == "" {
		p, err := pmtucache.DefaultPath()
		if err != nil {
			return nil, key
		}
		path = p
	}
	return &pmtucache.Store{Path: path}, key
}
