package sockopt

import (
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestSetRecvExtHeaders(t *testing.T) {
	forEachFamily(t, func(t *testing.T, rc syscall.RawConn, ipv6 bool) {
		if !ipv6 {
			return
		}
		for _, name := range []int{unix.IPV6_RECVHOPOPTS, unix.IPV6_RECVDSTOPTS} {
			if v, err := getInt(rc, unix.IPPROTO_IPV6, name); err != nil || v != 0 {
				t.Fatalf("option %d before: %d, %v; want 0, nil", name, v, err)
			}
		}
		if err := SetRecvExtHeaders(rc); err != nil {
			t.Fatalf("SetRecvExtHeaders: %v", err)
		}
		for _, name := range []int{unix.IPV6_RECVHOPOPTS, unix.IPV6_RECVDSTOPTS} {
			if v, err := getInt(rc, unix.IPPROTO_IPV6, name); err != nil || v != 1 {
				t.Fatalf("option %d after: %d, %v; want 1, nil", name, v, err)
			}
		}
	})
}
