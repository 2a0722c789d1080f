package wire

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
