package sockopt

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// SetRecvFragSize turns on IP_RECVFRAGSIZE (IPV6_RECVFRAGSIZE when ipv6
// is set) on c: a packet the kernel reassembled from fragments then comes
// with a control message holding the size of its largest fragment, the IP
// packet as it crossed the smallest link of the way back (ip(7), Linux
// 4.10+). A packet that arrived whole carries none.
func SetRecvFragSize(c syscall.RawConn, ipv6 bool) error {
	if ipv6 {
		if err := setInt(c, unix.IPPROTO_IPV6, unix.IPV6_RECVFRAGSIZE, 1); err != nil {
			return fmt.Errorf("IPV6_RECVFRAGSIZE: %w", err)
		}
		return nil
	}
	if err := setInt(c, unix.IPPROTO_IP, unix.IP_RECVFRAGSIZE, 1); err != nil {
		return fmt.Errorf("IP_RECVFRAGSIZE: %w", err)
	}
	return nil
}
