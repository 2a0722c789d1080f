package probe

import (
	"fmt"
	"net/netip"
	"syscall"
)

// ErrOrigin is where an error on a socket's error queue came from
// (sock_extended_err.ee_origin, linux/errqueue.h).
type ErrOrigin uint8

// Origins of queued errors.
const (
	OriginNone  ErrOrigin = 0
	OriginLocal ErrOrigin = 1 // the sending kernel itself (EMSGSIZE above the device MTU)
	OriginICMP  ErrOrigin = 2 // an ICMP error
	OriginICMP6 ErrOrigin = 3 // an ICMPv6 error
)

func (o ErrOrigin) String() string {
	switch o {
	case OriginNone:
		return "none"
	case OriginLocal:
		return "local"
	case OriginICMP:
		return "icmp"
	case OriginICMP6:
		return "icmp6"
	}
	return fmt.Sprintf("origin %d", uint8(o))
}

// ExtendedErr is one error read from a socket's error queue with
// recvmsg(MSG_ERRQUEUE) on a socket with IP_RECVERR or IPV6_RECVERR: the
// kernel's struct sock_extended_err and the address that follows it
// (SO_EE_OFFENDER).
type ExtendedErr struct {
	Errno  syscall.Errno // what the socket reports: EMSGSIZE, ECONNREFUSED, EHOSTUNREACH...
	Origin ErrOrigin
	Type   int // ICMP type and code, for OriginICMP and OriginICMP6
	Code   int
	// Info is ee_info: for a Fragmentation Needed or Packet Too Big the
	// MTU it named, for a local EMSGSIZE the device MTU.
	Info uint32
	Data uint32
	// Offender is who sent the ICMP (SO_EE_OFFENDER); invalid for local
	// errors.
	Offender netip.Addr
}

// recvErrRules are the checks of an error read from the error queue of a
// socket, about a probe the caller identified: the socket sent only that
// probe (UDPConn), or the quoted header names it (PingConn). The kernel
// matched the error to the socket by the quoted addresses, protocol and
// ports (or Echo identifier); the quoted IP header is not visible, so its
// length cannot be compared: the probe's identity gives its size.
type recvErrRules struct {
	ipv6      bool
	dst       netip.Addr
	local     func(netip.Addr) bool
	portReach bool
}

// judge turns ee, about probe seq, into an Event.
func (r *recvErrRules) judge(ee ExtendedErr, seq int, fl *flight) Event {
	from := ee.Offender
	ev := Event{From: from, Type: ee.Type, Code: ee.Code}
	ignore := func(why string) Event { ev.Kind, ev.Why = Ignored, why; return ev }
	want := OriginICMP
	if r.ipv6 {
		want = OriginICMP6
	}
	switch {
	case ee.Origin == OriginLocal:
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
	return settle(ev, seq, size, Size(ee.Info), r.ipv6, from == r.dst, r.portReach, fl)
}
