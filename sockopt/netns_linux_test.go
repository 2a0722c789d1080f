package sockopt

import (
	"errors"
	"net"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestNetnsCookie(t *testing.T) {
	var cookies []uint64
	forEachFamily(t, func(t *testing.T, rc syscall.RawConn, _ bool) {
		v, err := NetnsCookie(rc)
		if errors.Is(err, unix.ENOPROTOOPT) {
			t.Skipf("kernel without SO_NETNS_COOKIE: %v", err)
		}
		if err != nil {
			t.Fatalf("NetnsCookie: %v", err)
		}
		if v == 0 {
			t.Fatal("NetnsCookie = 0, want a cookie")
		}
		cookies = append(cookies, v)
	})
	// Two sockets of one namespace share its cookie.
	if len(cookies) == 2 && cookies[0] != cookies[1] {
		t.Errorf("cookies of two sockets in one namespace differ: %d and %d", cookies[0], cookies[1])
	}
}

func TestNetnsCookieClosed(t *testing.T) {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no udp4 socket here: %v", err)
	}
	rc, err := c.(*net.UDPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if v, err := NetnsCookie(rc); err == nil {
		t.Errorf("NetnsCookie on a closed socket = %d, nil; want an error", v)
	}
}
