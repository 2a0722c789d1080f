package measure

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"syscall"

	"github.com/pmtu/pmtu/netns"
	"github.com/pmtu/pmtu/probe"
)

// Messages shown to users say what was wrong and what to do, in words:
// never Go's dial strings ("dial udp6 [fe80::1]:9: connect: ..."), the
// names of socket calls, or the port the source address is chosen with.
// The underlying error goes to Options.Log where it helps.

// Kind is what kind of failure an *Error is: what a command line maps to
// its exit status.
type Kind int

// Kinds of failure.
const (
	// NoAnswer: the target did not answer, or cannot be reached (no
	// route, an ICMP error): the Report says what was proved and why.
	NoAnswer Kind = iota + 1
	// BadInput: the host or an option is at fault (a name that does not
	// resolve, a target with no path MTU, a missing interface or
	// namespace, a source that is not this host's).
	BadInput
	// CannotProbe: no probe could be sent from here (no permission for
	// any method, a socket the kernel refused); every other target would
	// meet it too.
	CannotProbe
	// Stopped: the context ended the search; the Report says what was
	// proved so far.
	Stopped
)

// Error is why Host gave no answer, in one sentence for the user.
type Error struct {
	Kind Kind
	Msg  string
	Err  error // the cause, for errors.Is and logs; may be nil
}

func (e *Error) Error() string { return e.Msg }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// KindOf is err's Kind: an *Error's, Stopped for a context's error, else
// NoAnswer.
func KindOf(err error) Kind {
	var me *Error
	switch {
	case errors.As(err, &me):
		return me.Kind
	case isStop(err):
		return Stopped
	}
	return NoAnswer
}

func isStop(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// lookupError says in words why probe.Lookup failed: a host or option at
// fault, or a namespace that cannot be entered (BadInput).
func lookupError(err error) *Error {
	var ie *probe.InputError
	var ne *probe.NetnsError
	switch {
	case errors.As(err, &ie) && ie.Option != "":
		return &Error{Kind: BadInput, Msg: fmt.Sprintf("--%s %s", ie.Option, ie.Msg), Err: err}
	case errors.As(err, &ie):
		return &Error{Kind: BadInput, Msg: ie.Msg, Err: err}
	case errors.As(err, &ne):
		return &Error{Kind: BadInput, Msg: netnsText(ne.Name, ne.Err), Err: err}
	case isStop(err):
		return &Error{Kind: Stopped, Msg: "stopped before the search ended: " + Bounds(nil), Err: err}
	}
	return &Error{Kind: BadInput, Msg: err.Error(), Err: err}
}

// netnsText says what went wrong with --netns, and what would fix it.
func netnsText(name string, err error) string {
	switch {
	case errors.Is(err, netns.ErrPermission):
		return fmt.Sprintf("--netns %s: entering a network namespace needs root (CAP_SYS_ADMIN): run pmtu as root, or with `ip netns exec %s pmtu` as root", name, name)
	case errors.Is(err, os.ErrNotExist):
		return fmt.Sprintf("--netns %s: no such network namespace (%s does not exist; `ip netns list` shows the names)", name, netns.Path(name))
	}
	return fmt.Sprintf("--netns %s: %v", name, err)
}

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

// MethodReason says in words why one method was refused.
func MethodReason(m probe.MethodError) string {
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

// PlainErr is the kernel's words for err (its errno), without the call
// and address Go puts around them; err's own text if it has no errno.
func PlainErr(err error) string { return plainErr(err) }

// plainErr is the kernel's words for err (its errno), without the call
// and address Go puts around them; err's own text if it has no errno.
func plainErr(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	return err.Error()
}

// OpenError says why no probe socket opened toward dst with o, and what
// would fix it (CannotProbe). exe is the program to grant raw sockets
// ("": this executable).
func OpenError(proto probe.Proto, dst netip.Addr, o *probe.Options, exe string, err error) *Error {
	if exe == "" {
		exe = exePath()
	}
	if proto == "" {
		proto = probe.ProtoICMP
	}
	var nm *probe.NoMethodError
	if !errors.As(err, &nm) {
		return &Error{Kind: CannotProbe, Msg: socketTrouble(dst, o, err), Err: err}
	}
	why := make([]string, len(nm.Tried))
	for i, t := range nm.Tried {
		why[i] = MethodReason(t)
	}
	setcap := "run pmtu as root, or grant it raw sockets once: `sudo setcap cap_net_raw+ep " + exe + "`"
	var fix string
	switch proto {
	case probe.ProtoTCP:
		fix = "TCP SYN probes are written to raw sockets: " + setcap + "; or probe without privilege with --method tcp-data (connections), or --proto udp or icmp"
	case probe.ProtoICMP:
		fix = setcap + "; or let your group use ICMP datagram sockets: `sudo sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"`"
	default:
		fix = setcap
	}
	return &Error{Kind: CannotProbe, Err: err,
		Msg: fmt.Sprintf("no way to send %s probes here: %s. To fix: %s", proto, strings.Join(why, "; "), fix)}
}

// socketTrouble says in words why a probe socket toward dst could not be
// set up, for errors other than a lack of privilege.
func socketTrouble(dst netip.Addr, o *probe.Options, err error) string {
	out := ""
	if o.Interface != "" {
		out = " out of --interface " + o.Interface
	}
	var errno syscall.Errno
	errors.As(err, &errno)
	switch errno {
	case syscall.ENETUNREACH, syscall.EHOSTUNREACH:
		return fmt.Sprintf("no route from here to %s%s%s: see `ip route get %s`", dst, out, inNetns(o.Netns), dst)
	case syscall.EADDRNOTAVAIL:
		return fmt.Sprintf("cannot send from %s toward %s%s: that source is not usable here; leave out --source to let the kernel choose", o.Source, dst, out)
	case syscall.ENODEV:
		return fmt.Sprintf("--interface %s: no such interface%s", o.Interface, inNetns(o.Netns))
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

// skippedText says in words why a way could not be used here ("" if it
// was used): each method's refusal (MethodReason), never the socket call.
func skippedText(err error) string {
	if err == nil {
		return ""
	}
	var nm *probe.NoMethodError
	if !errors.As(err, &nm) {
		return plainErr(err)
	}
	why := make([]string, len(nm.Tried))
	for i, m := range nm.Tried {
		why[i] = MethodReason(m)
	}
	return strings.Join(why, "; ")
}

// triedLine says how each way of asking fared, "" when only one was
// tried: "ICMP Echo unanswered; TCP to port 443 answered".
func triedLine(tried []Attempt) string {
	if len(tried) < 2 {
		return ""
	}
	parts := make([]string, len(tried))
	for i, a := range tried {
		switch {
		case a.Skipped != "":
			parts[i] = a.Way + " not tried: " + a.Skipped
		case a.Answered && a.Method != "":
			parts[i] = a.Way + " answered (method " + a.Method + ")"
		case a.Answered:
			parts[i] = a.Way + " answered"
		default:
			parts[i] = a.Way + " unanswered"
		}
	}
	return strings.Join(parts, "; ")
}
