package sockopt

import (
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestSetRecvFragSize(t *testing.T) {
	forEachFamily(t, func(t *testing.T, rc syscall.RawConn, ipv6 bool) {
		level, name := unix.IPPROTO_IP, unix.IP_RECVFRAGSIZE
		if ipv6 {
			level, name = unix.IPPROTO_IPV6, unix.IPV6_RECVFRAGSIZE
		}
		if v, err := getInt(rc, level, name); err != nil || v != 0 {
			t.Fatalf("before: %d, %v; want 0, nil", v, err)
		}
		if err := SetRecvFragSize(rc, ipv6); err != nil {
			t.Fatalf("SetRecvFragSize: %v", err)
		}
		if v, err := getInt(rc, level, name); err != nil || v != 1 {
			t.Fatalf("after: %d, %v; want 1, nil", v, err)
		}
	})
}
