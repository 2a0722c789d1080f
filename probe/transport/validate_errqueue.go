package transport

import (
	"fmt"
	"net/netip"
	"syscall"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/wire"
)

// errQueueValidator are the checks of an error read from the error queue of a
// socket, about a probe the caller identified: the socket sent only that
// probe (UDPConn), or the quoted header names it (PingConn). The kernel
// matched the error to the socket by the quoted addresses, protocol and
// ports (or Echo identifier); the quoted IP header is not visible, so its
// length cannot be compared: the probe's identity gives its size.
type errQueueValidator struct {
	ipv6      bool
	dst       netip.Addr
	local     func(netip.Addr) bool
	portReach bool
}

// validate turns ee, about probe seq, into an Event.
func (r *errQueueValidator) validate(ee wire.ExtendedErr, seq int, fl *flight) wire.Event {
	from := ee.Offender
	ev := wire.Event{From: from, Type: ee.Type, Code: ee.Code}
	ignore := func(why string) wire.Event { ev.Kind, ev.Why = wire.Ignored, why; return ev }
	want := wire.OriginICMP
	if r.ipv6 {
		want = wire.OriginICMP6
	}
	switch {
	case ee.Origin == wire.OriginLocal:
		ev.Type, ev.Code = 0, 0
		if ee.Errno == syscall.EMSGSIZE {
			return ignore(fmt.Sprintf("the sending kernel refused probe %d: larger than the interface MTU %d", seq, ee.Info))
		}
		return ignore(fmt.Sprintf("the sending kernel refused probe %d: %v", seq, ee.Errno))
	case ee.Origin != want:
		return ignore(fmt.Sprintf("queued error of origin %v, not %v", ee.Origin, want))
	case !from.IsValid():
		return ignore("ICMP error without the sender's address")
	case r.local(from) && from != r.dst:
		return ignore("ICMP from this host (the kernel's own copy)")
	}
	size, ok := fl.size(seq)
	if !ok {
		return ignore(fmt.Sprintf("about probe %d, which we never sent", seq))
	}
	return verdict(ev, seq, size, mtu.Size(ee.Info), r.ipv6, from == r.dst, r.portReach, fl)
}
