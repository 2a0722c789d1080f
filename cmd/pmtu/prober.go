package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/route"
	"github.com/urfave/cli/v2"
)

// probeFlags are the flags of every command that sends probes (pmtu HOST
// and pmtu trace HOST).
var probeFlags = []cli.Flag{
	&cli.BoolFlag{Name: "4", Usage: "use IPv4 only"},
	&cli.BoolFlag{Name: "6", Usage: "use IPv6 only"},
	&cli.IntFlag{Name: "max-size", Usage: "largest probe, in IP bytes", DefaultText: "the egress interface MTU"},
	&cli.IntFlag{Name: "min-size", Usage: "smallest probe, in IP bytes", DefaultText: "68 for IPv4, 1280 for IPv6"},
	&cli.DurationFlag{Name: "timeout", Value: time.Second, Usage: "how long one probe waits for an answer"},
	&cli.IntFlag{Name: "tries", Value: probe.DefaultTries, Usage: "unanswered probes before a size counts as too big"},
}

// probeOpts are the probe flags, checked.
type probeOpts struct {
	host    string
	family  string // "ip", "ip4" or "ip6"
	maxSize probe.Size
	minSize probe.Size
	wait    time.Duration
	tries   int
}

// parseProbeOpts checks the probe flags and the one HOST argument.
func parseProbeOpts(cCtx *cli.Context, cmd string) (probeOpts, error) {
	o := probeOpts{
		family:  "ip",
		maxSize: probe.Size(cCtx.Int("max-size")),
		minSize: probe.Size(cCtx.Int("min-size")),
		wait:    cCtx.Duration("timeout"),
		tries:   cCtx.Int("tries"),
	}
	args := cCtx.Args().Slice()
	switch {
	case len(args) == 0:
		return o, usageError(fmt.Sprintf("pmtu: which host? usage: %s [flags] HOST", cmd))
	case len(args) > 1 && strings.HasPrefix(args[1], "-"):
		return o, usageError(fmt.Sprintf("pmtu: flags go before HOST: %s %s %s", cmd, strings.Join(args[1:], " "), args[0]))
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
	if err := checkSizeFlags(cCtx, "max-size", "min-size"); err != nil {
		return o, err
	}
	if o.minSize != 0 && o.maxSize != 0 && o.minSize > o.maxSize {
		return o, usageError(fmt.Sprintf("pmtu: --min-size %d is above --max-size %d", o.minSize, o.maxSize))
	}
	if o.wait <= 0 {
		return o, usageError(fmt.Sprintf("pmtu: --timeout %v must be positive", o.wait))
	}
	if o.tries < 1 || o.tries > 100 {
		return o, usageError(fmt.Sprintf("pmtu: --tries %d is outside 1–100", o.tries))
	}
	return o, nil
}

// checkSizeFlags checks that the named flags, where set, are IP sizes.
func checkSizeFlags(cCtx *cli.Context, names ...string) error {
	for _, name := range names {
		if v := cCtx.Int(name); cCtx.IsSet(name) && (v < int(probe.MinIPv4) || v > int(probe.MaxSize)) {
			return usageError(fmt.Sprintf("pmtu: --%s %d is outside 68–65535 (sizes are whole IP packets)", name, v))
		}
	}
	return nil
}

func usageError(msg string) error { return cli.Exit(msg, exitUsage) }

// target is a destination and the kernel's route to it.
type target struct {
	host  string
	addr  netip.Addr
	route route.Route
}

// ceil is the largest probe: --max-size, else the egress interface MTU.
func (t target) ceil(o probeOpts) probe.Size {
	if o.maxSize != 0 {
		return o.maxSize
	}
	return probe.Size(min(t.route.IfMTU, int(probe.MaxSize)))
}

// findTarget resolves HOST and looks up the kernel's route to it. A name
// that does not resolve is a usage error (exit 2); a missing route is an
// unreachable host (exit 1), said in errRoute.
func findTarget(ctx context.Context, o probeOpts) (t target, errRoute error, err error) {
	t.host = o.host
	t.addr, err = resolve(ctx, o.host, o.family)
	if err != nil {
		return t, nil, err
	}
	t.route, errRoute = route.Get(ctx, t.addr)
	if errRoute != nil {
		errRoute = fmt.Errorf("no route to %s: %w", t.addr, errRoute)
	}
	return t, errRoute, nil
}

// openConn opens the prober toward t: ICMP Echo over a raw socket.
func openConn(t target) (probe.Conn, error) {
	conn, err := probe.ListenICMP(t.addr, &probe.ICMPConfig{Src: t.route.Src, Local: localAddrs()})
	if err != nil {
		if errors.Is(err, probe.ErrPermission) {
			return nil, cli.Exit("pmtu: raw ICMP sockets need root or CAP_NET_RAW: run as root, or grant it once with `sudo setcap cap_net_raw+ep "+exePath()+"`", exitUsage)
		}
		return nil, cli.Exit(fmt.Sprintf("pmtu: opening the probe socket: %v", err), exitUsage)
	}
	return conn, nil
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
