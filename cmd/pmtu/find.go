package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/pmtu/pmtu/pmtucache"
	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/route"
	"github.com/urfave/cli/v2"
)

var findFlags = []cli.Flag{
	&cli.BoolFlag{Name: "4", Usage: "use IPv4 only"},
	&cli.BoolFlag{Name: "6", Usage: "use IPv6 only"},
	&cli.BoolFlag{Name: "json", Usage: "print one JSON object instead of text"},
	&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "print every probe answer, and what was ignored and why"},
	&cli.IntFlag{Name: "expect", Usage: "exit 3 unless the path MTU is exactly `N`", DefaultText: "no check"},
	&cli.IntFlag{Name: "at-least", Usage: "exit 3 if the path MTU is below `N`", DefaultText: "no check"},
	&cli.IntFlag{Name: "max-size", Usage: "largest probe, in IP bytes", DefaultText: "the egress interface MTU"},
	&cli.IntFlag{Name: "min-size", Usage: "smallest probe, in IP bytes", DefaultText: "68 for IPv4, 1280 for IPv6"},
	&cli.DurationFlag{Name: "timeout", Value: time.Second, Usage: "how long one probe waits for an answer"},
	&cli.DurationFlag{Name: "deadline", Usage: "give up after `D` in all, printing what was proved", DefaultText: "none"},
	&cli.IntFlag{Name: "tries", Value: probe.DefaultTries, Usage: "unanswered probes before a size counts as too big"},
	&cli.BoolFlag{Name: "no-cache", Usage: "probe even if the cache has a fresh answer (and update it)"},
}

// findOpts are find's flags, checked.
type findOpts struct {
	host            string
	family          string // "ip", "ip4" or "ip6"
	json, verbose   bool
	expect, atLeast int
	maxSize         probe.Size
	minSize         probe.Size
	wait            time.Duration
	deadline        time.Duration
	tries           int
	noCache         bool
	cacheFile       string
}

func parseFindOpts(cCtx *cli.Context) (findOpts, error) {
	o := findOpts{
		family:    "ip",
		json:      cCtx.Bool("json"),
		verbose:   cCtx.Bool("verbose"),
		expect:    cCtx.Int("expect"),
		atLeast:   cCtx.Int("at-least"),
		maxSize:   probe.Size(cCtx.Int("max-size")),
		minSize:   probe.Size(cCtx.Int("min-size")),
		wait:      cCtx.Duration("timeout"),
		deadline:  cCtx.Duration("deadline"),
		tries:     cCtx.Int("tries"),
		noCache:   cCtx.Bool("no-cache"),
		cacheFile: cCtx.String("cache-file"),
	}
	args := cCtx.Args().Slice()
	switch {
	case len(args) == 0:
		return o, usageError("pmtu: which host? usage: pmtu [flags] HOST")
	case len(args) > 1 && strings.HasPrefix(args[1], "-"):
		return o, usageError(fmt.Sprintf("pmtu: flags go before HOST: pmtu %s %s", strings.Join(args[1:], " "), args[0]))
	case len(args) > 1:
		return o, usageError(fmt.Sprintf("pmtu: one HOST at a time, got %d: %s", len(args), strings.Join(args, " ")))
	}
	o.host = strings.TrimSpace(args[0])
	if o.host == "" {
		return o, usageError("pmtu: the host is empty")
	}
	switch {
	case cCtx.Bool("4") && cCtx.Bool("6"):
		return o, usageError("pmtu: -4 and -6 exclude each other")
	case cCtx.Bool("4"):
		o.family = "ip4"
	case cCtx.Bool("6"):
		o.family = "ip6"
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"expect", o.expect}, {"at-least", o.atLeast}, {"max-size", int(o.maxSize)}, {"min-size", int(o.minSize)}} {
		if cCtx.IsSet(f.name) && (f.v < int(probe.MinIPv4) || f.v > int(probe.MaxSize)) {
			return o, usageError(fmt.Sprintf("pmtu: --%s %d is outside 68–65535 (sizes are whole IP packets)", f.name, f.v))
		}
	}
	if o.minSize != 0 && o.maxSize != 0 && o.minSize > o.maxSize {
		return o, usageError(fmt.Sprintf("pmtu: --min-size %d is above --max-size %d", o.minSize, o.maxSize))
	}
	if o.wait <= 0 {
		return o, usageError(fmt.Sprintf("pmtu: --timeout %v must be positive", o.wait))
	}
	if cCtx.IsSet("deadline") && o.deadline <= 0 {
		return o, usageError(fmt.Sprintf("pmtu: --deadline %v must be positive", o.deadline))
	}
	if o.tries < 1 || o.tries > 100 {
		return o, usageError(fmt.Sprintf("pmtu: --tries %d is outside 1–100", o.tries))
	}
	return o, nil
}

func usageError(msg string) error { return cli.Exit(msg, exitUsage) }

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

	dst, err := resolve(ctx, o.host, o.family)
	if err != nil {
		return err
	}
	rep := &report{Target: o.host, Address: dst.String(), Family: familyName(dst)}
	rt, err := route.Get(ctx, dst)
	if err != nil {
		rep.Error = fmt.Sprintf("no route to %s: %v", dst, err)
		return rep.fail(w, o.json, exitNoAnswer)
	}
	rep.Interface, rep.InterfaceMTU = rt.IfName, rt.IfMTU

	store, key := openCache(o.cacheFile, dst, rt.Src)
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

	conn, err := probe.ListenICMP(dst, &probe.ICMPConfig{Src: rt.Src, Local: localAddrs()})
	if err != nil {
		if errors.Is(err, probe.ErrPermission) {
			return cli.Exit("pmtu: raw ICMP sockets need root or CAP_NET_RAW: run as root, or grant it once with `sudo setcap cap_net_raw+ep "+exePath()+"`", exitUsage)
		}
		return cli.Exit(fmt.Sprintf("pmtu: opening the probe socket: %v", err), exitUsage)
	}
	defer conn.Close()

	ceil := probe.Size(min(rt.IfMTU, int(probe.MaxSize)))
	if o.maxSize != 0 {
		ceil = o.maxSize
	}
	cfg := &probe.Config{Floor: o.minSize, Ceil: ceil, Wait: o.wait, Tries: o.tries}
	if o.verbose {
		cfg.Trace = func(ev probe.Event) { traceEvent(ew, ev) }
	}
	res, derr := probe.Discover(ctx, conn, cfg)
	rep.fromResult(res)
	if derr != nil {
		rep.explainFailure(derr, o.host, res)
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

// resolve turns HOST into one address of the family asked for.
func resolve(ctx context.Context, host, family string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		a = a.Unmap()
		if (family == "ip4" && !a.Is4()) || (family == "ip6" && !a.Is6()) {
			return netip.Addr{}, usageError(fmt.Sprintf("pmtu: %s is not an %s address", host, map[string]string{"ip4": "IPv4", "ip6": "IPv6"}[family]))
		}
		return a, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, family, host)
	if err != nil || len(addrs) == 0 {
		why := "no such host"
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && !dnsErr.IsNotFound {
			why = dnsErr.Err
		}
		return netip.Addr{}, usageError(fmt.Sprintf("pmtu: cannot resolve %q: %s", host, why))
	}
	return addrs[0].Unmap(), nil
}

func familyName(a netip.Addr) string {
	if a.Is6() {
		return "ipv6"
	}
	return "ipv4"
}

// openCache returns the cache store and this destination's key, or a nil
// store if no cache file can be named.
func openCache(path string, dst, src netip.Addr) (*pmtucache.Store, pmtucache.Key) {
	key := pmtucache.Key{Dst: dst, Src: src, Netns: pmtucache.CurrentNetns()}
	if path == "" {
		p, err := pmtucache.DefaultPath()
		if err != nil {
			return nil, key
		}
		path = p
	}
	return &pmtucache.Store{Path: path}, key
}

// localAddrs returns a function that says whether an address is this
// host's, so the kernel's looped-back ICMP is not taken for a router's.
func localAddrs() func(netip.Addr) bool {
	set := map[netip.Addr]bool{}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil {
				set[p.Addr().Unmap()] = true
			}
		}
	}
	return func(a netip.Addr) bool { return a.IsLoopback() || set[a.Unmap()] }
}
