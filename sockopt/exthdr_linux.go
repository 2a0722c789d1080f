package sockopt

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// SetRecvExtHeaders turns on IPV6_RECVHOPOPTS and IPV6_RECVDSTOPTS on c,
// an IPv6 socket: a datagram that arrived with a Hop-by-Hop or a
// Destination Options header then comes with a control message holding
// it (RFC 3542 §6, ipv6(7)). Any user may ask; only sending these headers
// needs CAP_NET_RAW.
func SetRecvExtHeaders(c syscall.RawConn) error {
	if err := setInt(c, unix.IPPROTO_IPV6, unix.IPV6_RECVHOPOPTS, 1); err != nil {
		return fmt.Errorf("IPV6_RECVHOPOPTS: %w", err)
	}
	if err := setInt(c, unix.IPPROTO_IPV6, unix.IPV6_RECVDSTOPTS, 1); err != nil {
		return fmt.Errorf("IPV6_RECVDSTOPTS: %w", err)
	}
	return nil
}
