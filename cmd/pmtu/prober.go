package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/netns"
	"github.com/pmtu/pmtu/pmtucache"
	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/probe/transport"
	"github.com/pmtu/pmtu/route"
)

// newProbeFlags makes the flags of every command that sends probes (pmtu
// HOST and pmtu trace HOST). Each can also be set by its environment
// variable, PMTU_ and the flag's name in capitals, "-" as "_"
// (PMTU_PROTO=tcp, PMTU_MAX_SIZE=1400); a flag on the command line wins.
//
// They are made afresh for every app: urfave/cli writes a value read from
// the environment into the flag itself, so a shared flag would carry one
// run's PMTU_* into the next.
func newProbeFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "4", Usage: "use IPv4 only", EnvVars: envVars("4")},
		&cli.BoolFlag{Name: "6", Usage: "use IPv6 only", EnvVars: envVars("6")},
		&cli.IntFlag{Name: "max-size", Usage: "largest probe, in IP bytes", DefaultText: "the egress interface MTU", EnvVars: envVars("max-size")},
		&cli.IntFlag{Name: "min-size", Usage: "smallest probe, in IP bytes", DefaultText: "68 for IPv4, 1280 for IPv6", EnvVars: envVars("min-size")},
		&cli.DurationFlag{Name: "timeout", Value: time.Second, Usage: "how long one probe waits for an answer", EnvVars: envVars("timeout")},
		&cli.IntFlag{Name: "tries", Value: probe.DefaultTries, Usage: "unanswered probes before a size counts as too big", EnvVars: envVars("tries")},
		&cli.StringFlag{Name: "proto", Value: string(probe.ProtoICMP), EnvVars: envVars("proto"),
			Usage: "probe with `PROTO`: icmp (Echo Requests), udp (datagrams to --port, answered by Port Unreachable) " +
				"or tcp (SYNs to --port, answered by SYN-ACK or RST; needs root)"},
		&cli.IntFlag{Name: "port", Usage: "destination `PORT` of udp and tcp probes", DefaultText: "33434 for udp, 443 for tcp", EnvVars: envVars("port")},
		&cli.StringFlag{Name: "interface", Usage: "send probes out of interface `NAME` only (SO_BINDTODEVICE)", EnvVars: envVars("interface")},
		&cli.StringFlag{Name: "source", Usage: "send probes from address `ADDR`, one of this host's", EnvVars: envVars("source")},
		&cli.StringFlag{Name: "netns", EnvVars: envVars("netns"),
			Usage: "probe from the network namespace `NAME` (/run/netns/NAME, or a path), as `ip netns exec NAME pmtu` would; needs root"},
	}
}

// envVars is the environment variable of a probe flag: PMTU_MAX_SIZE for
// max-size.
func envVars(flag string) []string {
	return []string{"PMTU_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))}
}

// probeOpts are the probe flags, checked.
type probeOpts struct {
	host    string
	family  string // "ip", "ip4" or "ip6"
	maxSize mtu.Size
	minSize mtu.Size
	wait    time.Duration
	tries   int

	proto  probe.Proto
	port   int // 0: the protocol's default
	iface  string
	source netip.Addr // invalid: the kernel's choice
	netns  string
	// log, when -v is set, is where openConn says how it probes.
	log io.Writer
}

// parseProbeOpts checks the probe flags and the one HOST argument.
func parseProbeOpts(cCtx *cli.Context, cmd string) (probeOpts, error) {
	o := probeOpts{
		family:  "ip",
		maxSize: mtu.Size(cCtx.Int("max-size")),
		minSize: mtu.Size(cCtx.Int("min-size")),
		wait:    cCtx.Duration("timeout"),
		tries:   cCtx.Int("tries"),
		proto:   probe.Proto(strings.ToLower(strings.TrimSpace(cCtx.String("proto")))),
		port:    cCtx.Int("port"),
		iface:   strings.TrimSpace(cCtx.String("interface")),
		netns:   strings.TrimSpace(cCtx.String("netns")),
	}
	if cCtx.Bool("verbose") {
		o.log = cCtx.App.ErrWriter
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
	if err := o.checkMethodFlags(cCtx); err != nil {
		return o, err
	}
	return o, nil
}

// checkMethodFlags checks --proto, --port, --interface, --source and
// --netns.
func (o *probeOpts) checkMethodFlags(cCtx *cli.Context) error {
	if o.proto.Methods() == nil {
		return usageError(fmt.Sprintf("pmtu: --proto %q: want icmp, udp or tcp", cCtx.String("proto")))
	}
	if cCtx.IsSet("port") {
		if o.proto == probe.ProtoICMP {
			return usageError("pmtu: --port is for --proto udp and tcp; ICMP has no ports")
		}
		if o.port < 1 || o.port > 65535 {
			return usageError(fmt.Sprintf("pmtu: --port %d is outside 1–65535", o.port))
		}
	}
	if cCtx.IsSet("interface") && (o.iface == "" || len(o.iface) >= 16 || strings.ContainsAny(o.iface, "/ ")) {
		return usageError(fmt.Sprintf("pmtu: --interface %q is not an interface name", cCtx.String("interface")))
	}
	if cCtx.IsSet("netns") && o.netns == "" {
		return usageError("pmtu: --netns needs a namespace name")
	}
	if s := strings.TrimSpace(cCtx.String("source")); s != "" {
		a, err := netip.ParseAddr(strings.Trim(s, "[]"))
		if err != nil || a.Zone() != "" {
			return usageError(fmt.Sprintf("pmtu: --source %q is not an IP address", s))
		}
		a = a.Unmap()
		switch {
		case o.family == "ip4" && !a.Is4(), o.family == "ip6" && !a.Is6():
			return usageError(fmt.Sprintf("pmtu: --source %s is not of the family -4/-6 asks for", a))
		case o.family == "ip" && a.Is4():
			o.family = "ip4"
		case o.family == "ip":
			o.family = "ip6"
		}
		o.source = a
	}
	return nil
}

// checkSizeFlags checks that the named flags, where set, are IP sizes.
func checkSizeFlags(cCtx *cli.Context, names ...string) error {
	for _, name := range names {
		if v := cCtx.Int(name); cCtx.IsSet(name) && (v < int(mtu.MinIPv4) || v > int(mtu.Max)) {
			return usageError(fmt.Sprintf("pmtu: --%s %d is outside 68–65535 (sizes are whole IP packets)", name, v))
		}
	}
	return nil
}

func usageError(msg string) error { return cli.Exit(msg, exitUsage) }

// target is a destination and the kernel's route to it, as seen from the
// namespace the probes leave from.
type target struct {
	host  string
	addr  netip.Addr
	route route.Route
	opts  probeOpts
	// local says whether an address is one of the probing namespace's.
	local func(netip.Addr) bool
	// netnsID identifies the namespace of --netns ("net:[INODE]"); ""
	// without --netns.
	netnsID string
}

// ceil is the largest probe: --max-size, else the egress interface MTU.
func (t target) ceil(o probeOpts) mtu.Size {
	if o.maxSize != 0 {
		return o.maxSize
	}
	return mtu.Size(min(t.route.IfMTU, int(mtu.Max)))
}

// netnsKey identifies the network namespace the probes leave from, for
// the cache key: --netns's, else this process's.
func (t target) netnsKey() string {
	if t.netnsID != "" {
		return t.netnsID
	}
	return pmtucache.CurrentNetns()
}

// findTarget resolves HOST and looks up the kernel's route to it, in the
// namespace of --netns if set, pinned to --interface and --source. A name
// that does not resolve is a usage error (exit 2), and so are a missing
// interface or namespace and a source that is not ours; a missing route is
// an unreachable host (exit 1), said in errRoute.
//
// Names are resolved here, in pmtu's own namespace, with its resolver.
func findTarget(ctx context.Context, o probeOpts) (t target, errRoute error, err error) {
	t.host, t.opts = o.host, o
	t.addr, err = resolve(ctx, o.host, o.family)
	if err != nil {
		return t, nil, err
	}
	if o.source.IsValid() && o.source.Is6() != t.addr.Is6() {
		return t, nil, usageError(fmt.Sprintf("pmtu: --source %s and %s are not of one family", o.source, t.addr))
	}
	look := func() error {
		t.local = localAddrs()
		if o.source.IsValid() && !t.local(o.source) {
			return usageError(fmt.Sprintf("pmtu: --source %s is not an address of this host%s", o.source, inNetns(o.netns)))
		}
		var ifi *net.Interface
		if o.iface != "" {
			var err error
			if ifi, err = net.InterfaceByName(o.iface); err != nil {
				return usageError(fmt.Sprintf("pmtu: --interface %s: no such interface%s", o.iface, inNetns(o.netns)))
			}
		}
		t.route, errRoute = route.Get(ctx, t.addr)
		if errRoute != nil {
			errRoute = fmt.Errorf("no route to %s%s: %w", t.addr, inNetns(o.netns), errRoute)
			return nil
		}
		if ifi != nil && ifi.Index != t.route.IfIndex {
			// The probes leave where the user said, not where the
			// table would send them: that interface's MTU bounds them.
			t.route.IfIndex, t.route.IfName, t.route.IfMTU = ifi.Index, ifi.Name, ifi.MTU
			t.route.Src = ifaceAddr(ifi, t.addr.Is6())
		}
		if o.source.IsValid() {
			t.route.Src = o.source
		}
		return nil
	}
	if o.netns == "" {
		err = look()
		return t, errRoute, err
	}
	if t.netnsID, err = netns.ID(o.netns); err == nil {
		err = netns.Do(o.netns, look)
	}
	if err != nil {
		var ec cli.ExitCoder
		if errors.As(err, &ec) {
			return t, nil, err
		}
		return t, nil, netnsError(o.netns, err)
	}
	return t, errRoute, nil
}

// ifaceAddr is an address of ifi of the family, a global one if it has
// one; invalid if none.
func ifaceAddr(ifi *net.Interface, v6 bool) netip.Addr {
	addrs, _ := ifi.Addrs()
	var best netip.Addr
	for _, a := range addrs {
		p, err := netip.ParsePrefix(a.String())
		if err != nil || p.Addr().Unmap().Is6() != v6 {
			continue
		}
		if ip := p.Addr().Unmap(); !best.IsValid() || (ip.IsGlobalUnicast() && !best.IsGlobalUnicast()) {
			best = ip
		}
	}
	return best
}

func inNetns(name string) string {
	if name == "" {
		return ""
	}
	return " in network namespace " + name
}

// netnsError says what went wrong with --netns, and what would fix it.
func netnsError(name string, err error) error {
	switch {
	case errors.Is(err, netns.ErrPermission):
		return cli.Exit(fmt.Sprintf("pmtu: --netns %s: entering a network namespace needs root (CAP_SYS_ADMIN): run pmtu as root, or with `ip netns exec %s pmtu` as root", name, name), exitUsage)
	case errors.Is(err, os.ErrNotExist):
		return cli.Exit(fmt.Sprintf("pmtu: --netns %s: no such network namespace (%s does not exist; `ip netns list` shows the names)", name, netns.Path(name)), exitUsage)
	}
	return cli.Exit(fmt.Sprintf("pmtu: --netns %s: %v", name, err), exitUsage)
}

// methodOf names the method of a conn openConn returned, for the JSON
// "method" field: "icmp", "ping-socket", "udp", "udp-recverr" or "tcp".
func methodOf(c transport.Conn) string {
	switch c := c.(type) {
	case interface{ Method() probe.Method }:
		return string(c.Method())
	case *transport.ICMPConn:
		return string(probe.MethodICMP)
	}
	return ""
}

// openConn opens the prober toward t: the first method of --proto this
// process may use (probe.Open), its sockets made in the namespace of
// --netns and bound to --interface and --source. With -v it says which.
func openConn(t target) (transport.Conn, error) {
	o := t.opts
	cfg := &transport.OpenConfig{Src: o.source, Interface: o.iface, Port: o.port, Local: t.local}
	if o.netns != "" {
		name := o.netns
		cfg.Enter = func(fn func() error) error { return netns.Do(name, fn) }
	}
	proto := o.proto
	if proto == "" {
		proto = probe.ProtoICMP
	}
	conn, m, err := transport.Open(proto, t.addr, cfg)
	if err != nil {
		return nil, openError(proto, err)
	}
	if o.log != nil {
		port := ""
		if proto != probe.ProtoICMP {
			port = fmt.Sprintf(" port %d", cmp.Or(o.port, proto.DefaultPort()))
		}
		fmt.Fprintf(o.log, "pmtu: probing %s%s with method %s: %s\n", t.addr, port, m, m.Describe())
	}
	return conn, nil
}

// openError says why no probe socket opened, and what would fix it
// (exit 2).
func openError(proto probe.Proto, err error) error {
	var nm *probe.NoMethodError
	if !errors.As(err, &nm) {
		return cli.Exit(fmt.Sprintf("pmtu: opening the probe socket: %v", err), exitUsage)
	}
	setcap := "run pmtu as root, or grant it raw sockets once: `sudo setcap cap_net_raw+ep " + exePath() + "`"
	var fix string
	switch proto {
	case probe.ProtoTCP:
		fix = "TCP probes are written to raw sockets: " + setcap + "; or probe without privilege with --proto udp or icmp"
	case probe.ProtoICMP:
		fix = setcap + "; or let your group use ICMP datagram sockets: `sudo sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"`"
	default:
		fix = setcap
	}
	return cli.Exit(fmt.Sprintf("pmtu: %v. To fix: %s", nm, fix), exitUsage)
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
// host's (in the calling thread's namespace), so the kernel's looped-back
// ICMP is not taken for a router's.
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
