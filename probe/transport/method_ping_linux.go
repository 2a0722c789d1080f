package transport

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/pmtu/pmtu/sockopt"
)

// errPingGroup is the permission error of MethodPing.
var errPingGroup = errors.New("ICMP datagram sockets are closed to this user's groups (net.ipv4.ping_group_range)")

// openPing opens MethodPing.
func openPing(dst netip.Addr, cfg *OpenConfig, pinned bool) (*PingConn, error) {
	v6 := dst.Is6()
	bind := unspecified(v6)
	if pinned && cfg.Src.IsValid() {
		bind = cfg.Src
	}
	var c net.PacketConn
	err := cfg.enter(func() error {
		var err error
		c, err = listenPing(bind, cfg.Interface)
		return err
	})
	if err != nil {
		return nil, err
	}
	la, ok := c.LocalAddr().(*net.UDPAddr)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("ICMP datagram socket has no identifier: %v", c.LocalAddr())
	}
	pc := newPingConn(c, dst, uint16(la.Port), cfg)
	rc, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		c.Close()
		return nil, err
	}
	pc.in.run(func() { readDatagrams(rc, true, 1<<16, pc.now, pc.in.put) })
	return pc, nil
}

// listenPing opens an ICMP datagram socket bound to bind (the kernel
// chooses the Echo identifier, its "port") and to the device ifname if
// set, in probe mode, with IP_RECVERR.
func listenPing(bind netip.Addr, ifname string) (net.PacketConn, error) {
	v6 := bind.Is6()
	family, proto := unix.AF_INET, unix.IPPROTO_ICMP
	var sa unix.Sockaddr
	if v6 {
		family, proto = unix.AF_INET6, unix.IPPROTO_ICMPV6
		sa = &unix.SockaddrInet6{Addr: bind.As16()}
	} else {
		sa = &unix.SockaddrInet4{Addr: bind.As4()}
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		err = os.NewSyscallError("socket", err)
		if IsPermission(err) {
			return nil, fmt.Errorf("%w: %w", errPingGroup, err)
		}
		return nil, err
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("bind", err)
	}
	f := os.NewFile(uintptr(fd), "icmp-datagram")
	c, err := net.FilePacketConn(f) // a copy of the descriptor, in Go's poller
	f.Close()
	if err != nil {
		return nil, err
	}
	rc, err := c.(syscall.Conn).SyscallConn()
	if err == nil {
		err = sockopt.SetProbeMode(rc, v6)
	}
	if err == nil {
		err = sockopt.SetRecvErr(rc, v6)
	}
	if err == nil && ifname != "" {
		err = sockopt.BindToDevice(rc, ifname)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}
