package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

	"github.com/pmtu/pmtu/sockopt"
)

// socketKind is what a socket carries.
type socketKind int

const (
	rawICMP    socketKind = iota // raw ICMP or ICMPv6: Echo probes, and the errors about any probe
	rawTCP                       // raw TCP: SYN probes out, SYN-ACK and RST in
	udpSocket                    // a UDP datagram socket: one UDP probe
	pingSocket                   // an ICMP datagram ("ping") socket
	rawIP                        // IPPROTO_RAW: whole IP packets out, header included; reads nothing
)

// icmpFilter says which ICMP types reach a raw ICMP socket (ICMP_FILTER):
// the kernel hands a raw ICMP socket every ICMP on the host.
type icmpFilter int

const (
	acceptAll       icmpFilter = iota // no filter
	acceptErrors                      // errors only: Destination Unreachable, Packet Too Big, Time Exceeded, Parameter Problem
	acceptErrorEcho                   // errors and Echo Replies
)

// socketConfig is what newSocket makes.
type socketConfig struct {
	kind socketKind
	v6   bool
	// bind is the local address; invalid means unspecified.
	bind netip.Addr
	// port is the local port of a udpSocket, the Echo identifier of a
	// pingSocket (0: the kernel's choice).
	port uint16
	// ifname, if set, binds the socket to that device (SO_BINDTODEVICE).
	ifname string
	// probeMode sets DF, sized against the device MTU and not the
	// kernel's cached path MTU (sockopt.SetProbeMode).
	probeMode bool
	// recvErr queues ICMP errors on the socket (IP_RECVERR).
	recvErr bool
	// filter is the ICMP filter of a rawICMP socket.
	filter icmpFilter
	// fragSize asks for the largest fragment of each reassembled packet
	// (sockopt.SetRecvFragSize): how the way back cut an Echo Reply.
	fragSize bool
}

// errPingGroup is the permission error of ICMP datagram sockets.
var errPingGroup = errors.New("ICMP datagram sockets are closed to this user's groups (net.ipv4.ping_group_range)")

// newSocket makes every socket pmtu probes with, so that all of them get
// the same options: those cfg asks for, and always receive timestamps
// (SO_TIMESTAMPNS), which the readers (reader_linux.go) turn into each
// Event's At. A refusal for lack of privilege wraps ErrPermission (raw
// sockets) or errPingGroup (ping sockets).
func newSocket(cfg socketConfig) (net.PacketConn, error) {
	if cfg.kind == pingSocket {
		return newPingSocket(cfg)
	}
	setup := func(rc syscall.RawConn) error {
		if cfg.probeMode {
			if err := sockopt.SetProbeMode(rc, cfg.v6); err != nil {
				return err
			}
		}
		if cfg.recvErr {
			if err := sockopt.SetRecvErr(rc, cfg.v6); err != nil {
				return err
			}
		}
		if cfg.ifname != "" {
			if err := sockopt.BindToDevice(rc, cfg.ifname); err != nil {
				return err
			}
		}
		if cfg.fragSize {
			// Without it the return path's MTU goes unreported; the
			// probes are no worse.
			_ = sockopt.SetRecvFragSize(rc, cfg.v6)
		}
		// Without receive times, arrivals are timed when read: still
		// right, a little long while a burst of probes goes out.
		_ = sockopt.SetRecvTimestamps(rc)
		return nil
	}
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error { return setup(rc) }}
	bind := cfg.bind
	if !bind.IsValid() {
		bind = unspecified(cfg.v6)
	}
	network, addr := cfg.network(), bind.String()
	if cfg.kind == udpSocket {
		addr = netip.AddrPortFrom(bind, cfg.port).String()
	}
	c, err := lc.ListenPacket(context.Background(), network, addr)
	if err != nil {
		if cfg.kind != udpSocket && IsPermission(err) {
			return nil, fmt.Errorf("%w: %w", ErrPermission, err)
		}
		return nil, err
	}
	if cfg.kind == rawICMP && cfg.filter != acceptAll {
		if err := setICMPFilter(c, cfg.v6, cfg.filter == acceptErrorEcho); err != nil {
			c.Close()
			return nil, fmt.Errorf("setting up the probe socket: %w", err)
		}
	}
	return c, nil
}

// network is the net.ListenPacket network of the socket.
func (cfg socketConfig) network() string {
	switch {
	case cfg.kind == rawIP && cfg.v6:
		return "ip6:255"
	case cfg.kind == rawIP:
		return "ip4:255"
	case cfg.kind == rawTCP && cfg.v6:
		return "ip6:tcp"
	case cfg.kind == rawTCP:
		return "ip4:tcp"
	case cfg.kind == udpSocket:
		return udpNetwork(cfg.v6)
	case cfg.v6:
		return "ip6:ipv6-icmp"
	}
	return "ip4:icmp"
}

// newPingSocket opens an ICMP datagram socket bound to cfg.bind (the
// kernel chooses the Echo identifier, its "port"), with cfg's options.
// Package net has no network name for it: it is made with socket(2) and
// handed to Go's poller.
func newPingSocket(cfg socketConfig) (net.PacketConn, error) {
	bind := cfg.bind
	if !bind.IsValid() {
		bind = unspecified(cfg.v6)
	}
	family, proto := unix.AF_INET, unix.IPPROTO_ICMP
	var sa unix.Sockaddr
	if cfg.v6 {
		family, proto = unix.AF_INET6, unix.IPPROTO_ICMPV6
		sa = &unix.SockaddrInet6{Addr: bind.As16(), Port: int(cfg.port)}
	} else {
		sa = &unix.SockaddrInet4{Addr: bind.As4(), Port: int(cfg.port)}
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
	if err == nil && cfg.probeMode {
		err = sockopt.SetProbeMode(rc, cfg.v6)
	}
	if err == nil && cfg.recvErr {
		err = sockopt.SetRecvErr(rc, cfg.v6)
	}
	if err == nil && cfg.ifname != "" {
		err = sockopt.BindToDevice(rc, cfg.ifname)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	_ = sockopt.SetRecvTimestamps(rc)
	return c, nil
}

// setICMPFilter lets only ICMP errors (and Echo Replies if echo) reach
// the raw socket c.
func setICMPFilter(c net.PacketConn, v6, echo bool) error {
	if v6 {
		var f ipv6.ICMPFilter
		f.SetAll(true)
		for _, t := range []ipv6.ICMPType{ipv6.ICMPTypePacketTooBig, ipv6.ICMPTypeDestinationUnreachable,
			ipv6.ICMPTypeTimeExceeded, ipv6.ICMPTypeParameterProblem} {
			f.Accept(t)
		}
		if echo {
			f.Accept(ipv6.ICMPTypeEchoReply)
		}
		return ipv6.NewPacketConn(c).SetICMPFilter(&f)
	}
	var f ipv4.ICMPFilter
	f.SetAll(true)
	for _, t := range []ipv4.ICMPType{ipv4.ICMPTypeDestinationUnreachable, ipv4.ICMPTypeTimeExceeded,
		ipv4.ICMPTypeParameterProblem} {
		f.Accept(t)
	}
	if echo {
		f.Accept(ipv4.ICMPTypeEchoReply)
	}
	return ipv4.NewPacketConn(c).SetICMPFilter(&f)
}

func udpNetwork(v6 bool) string {
	if v6 {
		return "udp6"
	}
	return "udp4"
}

func unspecified(v6 bool) netip.Addr {
	if v6 {
		return netip.IPv6Unspecified()
	}
	return netip.IPv4Unspecified()
}
