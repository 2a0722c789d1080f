package main

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"

	"github.com/pmtu/pmtu/probe"
	"github.com/urfave/cli/v2"
)

// Messages shown to users say what was wrong and what to do, in words:
// never Go's dial strings ("dial udp6 [fe80::1]:9: connect: ..."), the
// names of socket calls, or the port the source address is chosen with.
// The underlying error goes to -v's log where it helps.

// routeError is a failed route lookup toward Dst, said in words; it
// wraps the kernel's errno for errors.Is.
type routeError struct {
	Dst   netip.Addr
	Netns string // --netns, "" if none
	Err   error
}

func (e *routeError) Error() string {
	where := fmt.Sprintf("no route from here to %s%s", e.Dst, inNetns(e.Netns))
	var errno syscall.Errno
	if !errors.As(e.Err, &errno) {
		return fmt.Sprintf("%s: the route lookup failed (%v)", where, e.Err)
	}
	switch errno {
	case syscall.ENETUNREACH:
		return fmt.Sprintf("%s: no entry of the routing table reaches it (see `ip route get %s`)", where, e.Dst)
	case syscall.EHOSTUNREACH:
		return fmt.Sprintf("%s: its route is marked unreachable (see `ip route get %s`)", where, e.Dst)
	case syscall.EACCES, syscall.EPERM:
		return fmt.Sprintf("%s: its route is marked prohibit (see `ip route get %s`)", where, e.Dst)
	}
	return fmt.Sprintf("%s: %v", where, errno)
}

func (e *routeError) Unwrap() error { return e.Err }

// methodReason says in words why one method was refused.
func methodReason(m probe.MethodError) string {
	if !probe.IsPermission(m.Err) {
		return fmt.Sprintf("%s could not be opened (%s)", m.Method, plainErr(m.Err))
	}
	switch m.Method {
	case probe.MethodPing:
		return fmt.Sprintf("%s is closed to your groups (net.ipv4.ping_group_range)", m.Method)
	case probe.MethodICMP, probe.MethodUDP, probe.MethodTCP:
		return fmt.Sprintf("%s needs raw sockets (root or CAP_NET_RAW)", m.Method)
	}
	return fmt.Sprintf("%s is not permitted to this user", m.Method)
}

// plainErr is the kernel's words for err (its errno), without the call
// and address Go puts around them; err's own text if it has no errno.
func plainErr(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	return err.Error()
}

// openError says why no probe socket opened toward dst, and what would
// fix it (exit 2). With -v, log gets the underlying error.
func openError(proto probe.Proto, dst netip.Addr, o probeOpts, err error) error {
	if o.log != nil {
		fmt.Fprintf(o.log, "pmtu: opening the prober failed: %v\n", err)
	}
	var nm *probe.NoMethodError
	if !errors.As(err, &nm) {
		return cli.Exit("pmtu: "+socketTrouble(dst, o, err), exitUsage)
	}
	why := ""
	for i, t := range nm.Tried {
		if i > 0 {
			why += "; "
		}
		why += methodReason(t)
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
	return cli.Exit(fmt.Sprintf("pmtu: no way to send %s probes here: %s. To fix: %s", proto, why, fix), exitUsage)
}

// socketTrouble says in words why a probe socket toward dst could not be
// set up, for errors other than a lack of privilege.
func socketTrouble(dst netip.Addr, o probeOpts, err error) string {
	out := ""
	if o.iface != "" {
		out = " out of --interface " + o.iface
	}
	var errno syscall.Errno
	errors.As(err, &errno)
	switch errno {
	case syscall.ENETUNREACH, syscall.EHOSTUNREACH:
		return fmt.Sprintf("no route from here to %s%s%s: see `ip route get %s`", dst, out, inNetns(o.netns), dst)
	case syscall.EADDRNOTAVAIL:
		return fmt.Sprintf("cannot send from %s toward %s%s: that source is not usable here; leave out --source to let the kernel choose", o.source, dst, out)
	case syscall.ENODEV:
		return fmt.Sprintf("--interface %s: no such interface%s", o.iface, inNetns(o.netns))
	case 0:
		return fmt.Sprintf("cannot probe %s%s: %v", dst, out, err)
	}
	return fmt.Sprintf("cannot probe %s%s: the kernel refused (%v)", dst, out, errno)
}

// inNetns is " in network namespace NAME" for --netns, "" without it.
func inNetns(name string) string {
	if name == "" {
		return ""
	}
	return " in network namespace " + name
}
