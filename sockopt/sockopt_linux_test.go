package sockopt

import (
	"net"
	"syscall"
	"testing"
)

// forEachFamily runs fn as a subtest on a UDP socket of each family. UDP
// sockets take the same IP-level options as raw ones and need no
// privilege, so the options are checked on them.
func forEachFamily(t *testing.T, fn func(t *testing.T, rc syscall.RawConn, ipv6 bool)) {
	for _, tt := range []struct {
		name, network, addr string
		ipv6                bool
	}{
		{"ipv4", "udp4", "127.0.0.1:0", false},
		{"ipv6", "udp6", "[::1]:0", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.ListenPacket(tt.network, tt.addr)
			if err != nil {
				t.Skipf("no %s socket here: %v", tt.network, err)
			}
			defer c.Close()
			rc, err := c.(*net.UDPConn).SyscallConn()
			if err != nil {
				t.Fatal(err)
			}
			fn(t, rc, tt.ipv6)
		})
	}
}

func TestSetProbeMode(t *testing.T) {
	forEachFamily(t, func(t *testing.T, rc syscall.RawConn, ipv6 bool) {
		if on, err := ProbeMode(rc, ipv6); err != nil || on {
			t.Fatalf("before: ProbeMode = %v, %v; want false, nil", on, err)
		}
		if err := SetProbeMode(rc, ipv6); err != nil {
			t.Fatalf("SetProbeMode: %v", err)
		}
		if on, err := ProbeMode(rc, ipv6); err != nil || !on {
			t.Fatalf("after: ProbeMode = %v, %v; want true, nil", on, err)
		}
	})
}
