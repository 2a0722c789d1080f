package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

	"github.com/pmtu/pmtu/probe/wire"
	"github.com/pmtu/pmtu/sockopt"
)

// errRaw is the permission error of the raw-socket methods.
var errRaw = errors.New("raw sockets need root or CAP_NET_RAW")

// OpenMethod opens method m toward dst; cfg may be nil. Sockets are made
// inside cfg.Enter, so in the right network namespace.
func OpenMethod(m Method, dst netip.Addr, cfg *OpenConfig) (Conn, error) {
	if cfg == nil {
		cfg = &OpenConfig{}
	}
	dst = dst.Unmap()
	if !dst.IsValid() {
		return nil, errors.New("invalid destination address")
	}
	c := *cfg
	c.Src = c.Src.Unmap()
	pinned := c.Src.IsValid() || c.Interface != ""
	if c.Src.IsValid() && c.Src.Is6() != dst.Is6() {
		return nil, fmt.Errorf("source %s and destination %s are not of one family", c.Src, dst)
	}
	if !c.Src.IsValid() {
		src, err := sourceFor(dst, &c)
		if err != nil {
			return nil, err
		}
		c.Src = src
	}
	switch m {
	case MethodICMP:
		return openICMP(dst, &c, pinned)
	case MethodPing:
		return openPing(dst, &c, pinned)
	case MethodUDP, MethodUDPRecvErr:
		return openUDP(dst, &c, m, pinned)
	case MethodTCP:
		return openTCP(dst, &c)
	}
	return nil, fmt.Errorf("unknown probe method %q", m)
}

// sourceFor returns the source address the kernel would use toward dst,
// learnt by connecting a UDP socket, which sends nothing.
func sourceFor(dst netip.Addr, cfg *OpenConfig) (netip.Addr, error) {
	var src netip.Addr
	err := cfg.enter(func() error {
		d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			if cfg.Interface != "" {
				return sockopt.BindToDevice(rc, cfg.Interface)
			}
			return nil
		}}
		c, err := d.Dial(udpNetwork(dst.Is6()), netip.AddrPortFrom(dst, 9).String())
		if err != nil {
			return err
		}
		defer c.Close()
		src = c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
		return nil
	})
	if err != nil {
		return netip.Addr{}, fmt.Errorf("choosing a source address toward %s: %w", dst, err)
	}
	return src, nil
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

// listenRaw opens a raw IP socket (network "ip4:icmp", "ip6:tcp"...)
// bound to bind (unspecified if invalid) and to the device ifname if set,
// in probe mode if probeMode. A refusal for lack of privilege wraps errRaw.
func listenRaw(network string, bind netip.Addr, ifname string, probeMode, v6 bool) (net.PacketConn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		if probeMode {
			if err := sockopt.SetProbeMode(rc, v6); err != nil {
				return err
			}
		}
		if ifname != "" {
			return sockopt.BindToDevice(rc, ifname)
		}
		return nil
	}}
	if !bind.IsValid() {
		bind = unspecified(v6)
	}
	c, err := lc.ListenPacket(context.Background(), network, bind.String())
	if err != nil {
		if IsPermission(err) {
			return nil, fmt.Errorf("%w: %w", errRaw, err)
		}
		return nil, err
	}
	return c, nil
}

// listenICMPErrors opens the raw ICMP socket that reads the errors about
// UDP and TCP probes: bound to src, so that only ICMP sent to us arrives,
// and filtered to the error types.
func listenICMPErrors(src netip.Addr) (net.PacketConn, error) {
	v6 := src.Is6()
	network := "ip4:icmp"
	if v6 {
		network = "ip6:ipv6-icmp"
	}
	c, err := listenRaw(network, src, "", false, v6)
	if err != nil {
		return nil, err
	}
	if err := filterICMPErrors(c, v6, false); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// filterICMPErrors lets only ICMP errors (and Echo Replies if echo) reach
// the raw socket c.
func filterICMPErrors(c net.PacketConn, v6, echo bool) error {
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

// openICMP opens MethodICMP: ListenICMP, or, when the source or the
// interface is pinned, the same socket bound to them.
func openICMP(dst netip.Addr, cfg *OpenConfig, pinned bool) (Conn, error) {
	icfg := &ICMPConfig{Src: cfg.Src, Local: cfg.Local, Now: cfg.Now}
	var conn Conn
	err := cfg.enter(func() error {
		if !pinned {
			c, err := ListenICMP(dst, icfg)
			if err != nil {
				return err
			}
			conn = c
			return nil
		}
		network := "ip4:icmp"
		if dst.Is6() {
			network = "ip6:ipv6-icmp"
		}
		pc, err := listenRaw(network, cfg.Src, cfg.Interface, true, dst.Is6())
		if err != nil {
			return err
		}
		if err := filterICMPErrors(pc, dst.Is6(), true); err != nil {
			pc.Close()
			return err
		}
		conn = NewICMPConn(pc, dst, icfg)
		return nil
	})
	return conn, err
}

// openUDP opens MethodUDP (a raw ICMP socket reads the errors) or
// MethodUDPRecvErr (each probe socket's error queue does).
func openUDP(dst netip.Addr, cfg *OpenConfig, m Method, pinned bool) (*UDPConn, error) {
	c := newUDPConn(dst, m, cfg)
	recverr := m == MethodUDPRecvErr
	v6 := dst.Is6()
	bind := unspecified(v6)
	if pinned && cfg.Src.IsValid() {
		bind = cfg.Src
	}
	c.open = func(ttl int) (net.PacketConn, error) {
		var s net.PacketConn
		err := cfg.enter(func() error {
			lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
				if err := sockopt.SetProbeMode(rc, v6); err != nil {
					return err
				}
				if recverr {
					if err := sockopt.SetRecvErr(rc, v6); err != nil {
						return err
					}
				}
				if cfg.Interface != "" {
					return sockopt.BindToDevice(rc, cfg.Interface)
				}
				return nil
			}}
			var err error
			s, err = lc.ListenPacket(context.Background(), udpNetwork(v6), netip.AddrPortFrom(bind, 0).String())
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("opening a UDP probe socket: %w", err)
		}
		if ttl > 0 {
			if err := setHopLimit(s, v6, ttl); err != nil {
				s.Close()
				return nil, err
			}
		}
		return s, nil
	}
	c.watch = func(seq int, s net.PacketConn) {
		sc, ok := s.(syscall.Conn)
		if !ok {
			return
		}
		rc, err := sc.SyscallConn()
		if err != nil {
			return
		}
		c.in.run(func() {
			readDatagrams(rc, recverr, 2048, c.now, func(a arrival) bool {
				a.seq = seq
				return c.in.put(a)
			})
		})
	}
	// Fail now, not at the first probe, if a probe socket cannot be had.
	s, err := c.open(0)
	if err != nil {
		c.Close()
		return nil, err
	}
	s.Close()
	if !recverr {
		err := cfg.enter(func() error {
			var err error
			c.icmp, err = listenICMPErrors(cfg.Src)
			return err
		})
		if err != nil {
			c.Close()
			return nil, err
		}
		c.in.run(func() { readPackets(c.icmp, fromICMP, c.now, c.in.put) })
	}
	return c, nil
}

// readDatagrams reads a datagram socket until it is closed: its error
// queue first when errqueue is set (recvmsg MSG_ERRQUEUE until EAGAIN),
// then its data. Each is handed to put; bufSize bounds what is kept of
// each (the length read is the whole one).
//
// A socket with IP_RECVERR also reports each error once as the result of
// the next plain read (ECONNREFUSED, EMSGSIZE...): that read consumes it,
// and the queued copy is the one that counts.
func readDatagrams(rc syscall.RawConn, errqueue bool, bufSize int, now func() time.Time, put func(arrival) bool) {
	buf := make([]byte, bufSize)
	oob := make([]byte, unix.CmsgSpace(wire.SizeofSockExtendedErr+unix.SizeofSockaddrInet6)+64)
	for {
		var got []arrival
		var fatal error
		err := rc.Read(func(fd uintptr) bool {
			for len(got) < 64 {
				if errqueue {
					n, oobn, _, _, err := unix.Recvmsg(int(fd), buf, oob, unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
					if err == nil {
						a := arrival{src: fromErrQueue, b: append([]byte(nil), buf[:min(n, len(buf))]...), n: n, at: now()}
						a.ee, a.eeErr = wire.ParseErrQueue(oob[:oobn])
						a.from = a.ee.Offender
						got = append(got, a)
						continue
					}
					if err == unix.EINTR {
						continue
					}
				}
				n, _, _, from, err := unix.Recvmsg(int(fd), buf, nil, unix.MSG_DONTWAIT|unix.MSG_TRUNC)
				switch {
				case err == nil:
					a := arrival{src: fromData, b: append([]byte(nil), buf[:min(n, len(buf))]...), n: n, at: now()}
					switch sa := from.(type) {
					case *unix.SockaddrInet4:
						a.from, a.port = netip.AddrFrom4(sa.Addr), sa.Port
					case *unix.SockaddrInet6:
						a.from, a.port = netip.AddrFrom16(sa.Addr).Unmap(), sa.Port
					}
					got = append(got, a)
				case err == unix.EAGAIN:
					return len(got) > 0
				case err == unix.EINTR:
				case softErr(err):
					// A pending error, reported once; the queue holds it.
				default:
					fatal = os.NewSyscallError("recvmsg", err)
					return true
				}
			}
			return true
		})
		for _, a := range got {
			if !put(a) {
				return
			}
		}
		if err != nil || fatal != nil {
			return // closed, or the socket is broken
		}
	}
}

// softErr reports whether err is an ICMP error the socket reports once
// on the next read (icmp_err_convert, icmpv6_err_convert).
func softErr(err error) bool {
	switch err {
	case unix.ECONNREFUSED, unix.EMSGSIZE, unix.EHOSTUNREACH, unix.ENETUNREACH, unix.EPROTO,
		unix.EACCES, unix.EPERM, unix.EHOSTDOWN, unix.ENONET, unix.ENOPROTOOPT, unix.EREMOTEIO,
		unix.ETIMEDOUT, unix.EOPNOTSUPP, unix.ECONNRESET:
		return true
	}
	return false
}
