package main

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pmtu/pmtu/measure"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe"
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
			DefaultText: "icmp; when Echo is never answered, tcp to 443 and 80, quic to 443, then udp are tried",
			Usage: "probe with `PROTO`: icmp (Echo Requests), udp (datagrams to --port, answered by Port Unreachable), " +
				"tcp (SYNs to --port answered by SYN-ACK or RST with root; without, connections whose data the peer acknowledges) " +
				"or quic (QUIC packets of a reserved version to --port, answered by Version Negotiation; 1200 bytes and up)"},
		&cli.StringFlag{Name: "method", EnvVars: envVars("method"), DefaultText: "the first of --proto's this process may use",
			Usage: "probe with `METHOD` only: " + joinMethods() + "; it implies its --proto"},
		&cli.IntFlag{Name: "port", Usage: "destination `PORT` of udp, tcp and quic probes", DefaultText: "33434 for udp, 443 for tcp and quic", EnvVars: envVars("port")},
		&cli.IntFlag{Name: "flow", EnvVars: envVars("flow"), DefaultText: "one the system picks",
			Usage: fmt.Sprintf("keep every probe on flow `ID` (1–%d): source port %d+ID for udp and tcp, Echo identifier %d+ID for icmp, "+
				"so an ECMP router sends them down the same branch on every run; the cache is not used", probe.MaxFlow, probe.FlowBase, probe.FlowBase)},
		&cli.StringFlag{Name: "interface", Usage: "send probes out of interface `NAME` only (SO_BINDTODEVICE)", EnvVars: envVars("interface")},
		&cli.StringFlag{Name: "source", Usage: "send probes from address `ADDR`, one of this host's", EnvVars: envVars("source")},
		&cli.StringFlag{Name: "netns", EnvVars: envVars("netns"),
			Usage: "probe from the network namespace `NAME` (/run/netns/NAME, or a path), as `ip netns exec NAME pmtu` would; needs root"},
	}
}

// joinMethods names every probe method, for usage messages.
func joinMethods() string {
	s := make([]string, len(probe.Methods))
	for i, m := range probe.Methods {
		s[i] = string(m)
	}
	return strings.Join(s, ", ")
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

	proto probe.Proto
	// protoChosen is true when --proto (or PMTU_PROTO) was given: the
	// search then uses it alone, with no fallback (probe.Options.Proto).
	protoChosen bool
	// method is --method: the one method used; "" for the first of
	// proto's this process may use.
	method probe.Method
	port   int // 0: the protocol's default
	flow   int // 0: the system's choice
	iface  string
	source netip.Addr // invalid: the kernel's choice
	netns  string
	// noReverse turns off the probes that tell which way a black hole
	// lies (--no-reverse).
	noReverse bool
	// log, when -v is set, is where the probe method chosen is said.
	log io.Writer
	// notes is where lookup writes what the user should know about
	// the target (a mapped address unmapped, a path that stays on the
	// host); nil for none.
	notes io.Writer
	// net is the world probed: nil for the kernel, a fake in tests.
	net *probe.Network
}

// parseProbeOpts checks the probe flags and the one HOST argument.
func parseProbeOpts(cCtx *cli.Context, cmd string) (probeOpts, error) {
	o := probeOpts{family: "ip"}
	args := cCtx.Args().Slice()
	switch {
	case len(args) == 0:
		return o, usageError(fmt.Sprintf("pmtu: which host? usage: %s [flags] HOST", cmd))
	case len(args) > 1 && strings.HasPrefix(args[1], "-"):
		return o, usageError(fmt.Sprintf("pmtu: flags go before HOST: %s %s %s", cmd, strings.Join(args[1:], " "), args[0]))
	case len(args) > 1:
		return o, usageError(fmt.Sprintf("pmtu: one HOST at a time, got %d: %s", len(args), strings.Join(args, " ")))
	}
	host := strings.TrimSpace(args[0])
	if host == "" {
		return o, usageError("pmtu: the host is empty")
	}
	o, err := parseProbeFlags(cCtx)
	o.host = host
	return o, err
}

// parseProbeFlags checks the probe flags, without the host.
func parseProbeFlags(cCtx *cli.Context) (probeOpts, error) {
	o := probeOpts{
		family:  "ip",
		maxSize: mtu.Size(cCtx.Int("max-size")),
		minSize: mtu.Size(cCtx.Int("min-size")),
		wait:    cCtx.Duration("timeout"),
		tries:   cCtx.Int("tries"),
		proto:   probe.Proto(strings.ToLower(strings.TrimSpace(cCtx.String("proto")))),
		port:    cCtx.Int("port"),
		flow:    cCtx.Int("flow"),
		// IsSet is true for the environment variable too.
		protoChosen: cCtx.IsSet("proto"),
		method:      probe.Method(strings.ToLower(strings.TrimSpace(cCtx.String("method")))),
		iface:       strings.TrimSpace(cCtx.String("interface")),
		netns:       strings.TrimSpace(cCtx.String("netns")),
		notes:       cCtx.App.ErrWriter,
		noReverse:   cCtx.Bool("no-reverse"),
		net:         worldOf(cCtx).net,
	}
	if cCtx.Bool("verbose") {
		o.log = cCtx.App.ErrWriter
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
		return usageError(fmt.Sprintf("pmtu: --proto %q: want icmp, udp, tcp or quic", cCtx.String("proto")))
	}
	if cCtx.IsSet("method") {
		p := o.method.Proto()
		switch {
		case p == "":
			return usageError(fmt.Sprintf("pmtu: --method %q: want one of %s", cCtx.String("method"), joinMethods()))
		case o.protoChosen && p != o.proto:
			return usageError(fmt.Sprintf("pmtu: --method %s sends %s probes, not --proto %s", o.method, p, o.proto))
		}
		o.proto, o.protoChosen = p, true
	}
	if cCtx.IsSet("port") {
		if o.proto == probe.ProtoICMP {
			return usageError("pmtu: --port is for --proto udp, tcp and quic; ICMP has no ports")
		}
		if o.port < 1 || o.port > 65535 {
			return usageError(fmt.Sprintf("pmtu: --port %d is outside 1–65535", o.port))
		}
	}
	if cCtx.IsSet("flow") && (o.flow < 1 || o.flow > probe.MaxFlow) {
		return usageError(fmt.Sprintf("pmtu: --flow %d is outside 1–%d", o.flow, probe.MaxFlow))
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

// options are the probe flags as the probe package's Options.
func (o probeOpts) options() *probe.Options {
	proto := o.proto
	if !o.protoChosen {
		proto = "" // ICMP, then the fallbacks (probe.Target.Find)
	}
	po := &probe.Options{
		Network: o.family, Proto: proto, Method: o.method, Port: o.port, Flow: o.flow, Interface: o.iface, Source: o.source, Netns: o.netns,
		MinSize: o.minSize, MaxSize: o.maxSize, Wait: o.wait, Tries: o.tries, NoReverse: o.noReverse, Net: o.net,
	}
	if o.log != nil {
		log := o.log
		po.Log = func(line string) { fmt.Fprintf(log, "pmtu: %s\n", line) }
	}
	return po
}

// lookup resolves HOST and looks up the kernel's route to it
// (measure.Lookup). A name that does not resolve is a usage error (exit
// 2), and so are a missing interface or namespace and a source that is
// not ours; a missing route is an unreachable host (exit 1), said in
// errRoute with the target.
func lookup(ctx context.Context, o probeOpts, po *probe.Options) (t *probe.Target, errRoute error, err error) {
	t, err = measure.Lookup(ctx, o.host, po)
	switch {
	case t == nil:
		return nil, nil, exitError(err)
	case t.Note != "" && o.notes != nil:
		fmt.Fprintf(o.notes, "pmtu: note: %s\n", t.Note)
	}
	return t, err, nil
}
