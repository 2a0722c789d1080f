package sockopt

import (
	"net"
	"syscall"
	"testing"
)

func TestSetRecvErr(t *testing.T) {
	forEachFamily(t, func(t *testing.T, rc syscall.RawConn, ipv6 bool) {
		if on, err := RecvErr(rc, ipv6); err != nil || on {
			t.Fatalf("before: RecvErr = %v, %v; want false, nil", on, err)
		}
		if err := SetRecvErr(rc, ipv6); err != nil {
			t.Fatalf("SetRecvErr: %v", err)
		}
		if on, err := RecvErr(rc, ipv6); err != nil || !on {
			t.Fatalf("after: RecvErr = %v, %v; want true, nil", on, err)
		}
	})
}

// Binding to lo needs no privilege on Linux 5.7 and later; older kernels
// want CAP_NET_RAW, and the test skips there.
func TestBindToDevice(t *testing.T) {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no udp4 socket here: %v", err)
	}
	defer c.Close()
	rc, err := c.(*net.UDPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	if err := BindToDevice(rc, "lo"); err != nil {
		t.Skipf("SO_BINDTODEVICE not allowed here: %v", err)
	}
	if got, err := BoundDevice(rc); err != nil || got != "lo" {
		t.Fatalf("BoundDevice = %q, %v; want lo", got, err)
	}
	if err := BindToDevice(rc, "no-such-device0"); err == nil {
		t.Fatal("BindToDevice to a missing device succeeded")
	}
}
