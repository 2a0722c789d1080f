package sockopt

import (
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// SetRecvErr turns on IP_RECVERR (IPV6_RECVERR when ipv6 is set) on c: the
// kernel then queues every ICMP error it matches to the socket on the
// socket's error queue, with the ICMP type, code, the MTU a Fragmentation
// Needed or Packet Too Big names (ee_info) and the address of the router
// that sent it (ip(7), ipv6(7)). It needs no privilege: it is how tracepath
// works unprivileged. Read the queue with recvmsg(MSG_ERRQUEUE).
func SetRecvErr(c syscall.RawConn, ipv6 bool) error {
	if ipv6 {
		if err := setInt(c, unix.IPPROTO_IPV6, unix.IPV6_RECVERR, 1); err != nil {
			return fmt.Errorf("IPV6_RECVERR: %w", err)
		}
		return nil
	}
	if err := setInt(c, unix.IPPROTO_IP, unix.IP_RECVERR, 1); err != nil {
		return fmt.Errorf("IP_RECVERR: %w", err)
	}
	return nil
}

// RecvErr reports whether IP_RECVERR (IPV6_RECVERR) is on.
func RecvErr(c syscall.RawConn, ipv6 bool) (bool, error) {
	level, name := unix.IPPROTO_IP, unix.IP_RECVERR
	if ipv6 {
		level, name = unix.IPPROTO_IPV6, unix.IPV6_RECVERR
	}
	v, err := getInt(c, level, name)
	return v != 0, err
}

// BindToDevice makes c send through, and receive only from, the interface
// named ifname (SO_BINDTODEVICE, socket(7)). Since Linux 5.7 a socket not
// yet bound to a device needs no privilege for it.
func BindToDevice(c syscall.RawConn, ifname string) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, ifname)
	})
	if err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("SO_BINDTODEVICE %q: %w", ifname, os.NewSyscallError("setsockopt", serr))
	}
	return nil
}

// BoundDevice returns the name of the interface c is bound to, "" if none.
func BoundDevice(c syscall.RawConn) (string, error) {
	var name string
	var serr error
	err := c.Control(func(fd uintptr) {
		name, serr = unix.GetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE)
	})
	if err != nil {
		return "", err
	}
	return name, os.NewSyscallError("getsockopt", serr)
}
