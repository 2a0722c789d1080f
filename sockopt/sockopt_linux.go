package sockopt

import (
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// SetProbeMode makes every packet sent on c a path MTU probe: DF set, no
// local fragmentation, sized against the device MTU and not the kernel's
// cached path MTU. ipv6 selects the IPv6 options.
func SetProbeMode(c syscall.RawConn, ipv6 bool) error {
	type opt struct {
		level, name, value int
		what               string
	}
	opts := []opt{{unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_PROBE, "IP_MTU_DISCOVER"}}
	if ipv6 {
		opts = []opt{
			{unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_PROBE, "IPV6_MTU_DISCOVER"},
			{unix.IPPROTO_IPV6, unix.IPV6_DONTFRAG, 1, "IPV6_DONTFRAG"},
		}
	}
	for _, o := range opts {
		if err := setInt(c, o.level, o.name, o.value); err != nil {
			return fmt.Errorf("%s: %w", o.what, err)
		}
	}
	return nil
}

// ProbeMode reports whether c is in the mode SetProbeMode sets.
func ProbeMode(c syscall.RawConn, ipv6 bool) (bool, error) {
	level, name, want := unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_PROBE
	if ipv6 {
		level, name, want = unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_PROBE
	}
	v, err := getInt(c, level, name)
	return v == want, err
}

func setInt(c syscall.RawConn, level, name, value int) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), level, name, value)
	})
	if err != nil {
		return err
	}
	return os.NewSyscallError("setsockopt", serr)
}

func getInt(c syscall.RawConn, level, name int) (int, error) {
	var v int
	var serr error
	err := c.Control(func(fd uintptr) {
		v, serr = unix.GetsockoptInt(int(fd), level, name)
	})
	if err != nil {
		return 0, err
	}
	return v, os.NewSyscallError("getsockopt", serr)
}
