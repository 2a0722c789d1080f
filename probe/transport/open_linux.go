package transport

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"github.com/pmtu/pmtu/probe/wire"
	"github.com/pmtu/pmtu/sockopt"
)

// OpenMethod opens method m toward dst; cfg may be nil. Sockets are made
// inside cfg.Enter, so in the right network namespace.
func OpenMethod(m Method, dst netip.Addr, cfg *OpenConfig) (wire.Conn, error) {
	c, dst, pinned, err := cfg.toward(dst)
	if err != nil {
		return nil, err
	}
	switch m {
	case MethodICMP:
		return openICMP(dst, &c, pinned)
	case MethodPing:
		return nonNil(openPing(dst, &c, pinned))
	case MethodUDP, MethodUDPRecvErr:
		return nonNil(openUDP(dst, &c, m, pinned))
	case MethodTCP:
		return nonNil(openTCP(dst, &c))
	case MethodTCPData:
		return nonNil(openTCPData(dst, &c, pinned))
	case MethodQUIC:
		u, err := openUDPProbe(dst, &c, m, pinned)
		if err != nil {
			return nil, err
		}
		return &QUICConn{u}, nil
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
		// The kernel's words, not the dial string around them (a UDP
		// connect to port 9 is how the source is chosen, which says
		// nothing to a user).
		var errno syscall.Errno
		if errors.As(err, &errno) {
			err = errno
		}
		return netip.Addr{}, fmt.Errorf("choosing a source address toward %s: %w", dst, err)
	}
	return src, nil
}

// openICMP opens MethodICMP: a raw ICMP socket, bound to the source and
// the interface when they are pinned.
func openICMP(dst netip.Addr, cfg *OpenConfig, pinned bool) (wire.Conn, error) {
	sc := socketConfig{kind: rawICMP, v6: dst.Is6(), ifname: cfg.Interface, probeMode: true, filter: acceptErrorEcho, fragSize: true}
	if pinned {
		sc.bind = cfg.Src
	}
	var conn wire.Conn
	err := cfg.enter(func() error {
		c, err := newSocket(sc)
		if err != nil {
			return err
		}
		conn = NewICMPConn(c, dst, &ICMPConfig{Src: cfg.Src, ID: cfg.Flow, Local: cfg.Local, Now: cfg.Now})
		return nil
	})
	return conn, err
}

// listenICMPErrors opens the raw ICMP socket that reads the errors about
// UDP and TCP probes: bound to src, so that only ICMP sent to us arrives,
// and filtered to the error types.
func listenICMPErrors(src netip.Addr) (net.PacketConn, error) {
	return newSocket(socketConfig{kind: rawICMP, v6: src.Is6(), bind: src, filter: acceptErrors})
}

// openUDP opens MethodUDP (a raw ICMP socket reads the errors) or
// MethodUDPRecvErr (the probe socket's error queue does): one probe
// socket, bound to cfg.Flow (0: an ephemeral port), for every probe.
func openUDP(dst netip.Addr, cfg *OpenConfig, m Method, pinned bool) (*UDPConn, error) {
	c, err := openUDPProbe(dst, cfg, m, pinned)
	if err != nil {
		return nil, err
	}
	if m == MethodUDP {
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

// openUDPProbe opens a UDPConn's probe socket and its reader: what the
// conn reads of its errors is the caller's to add (MethodUDP: a raw ICMP
// socket of its own, or the Engine's shared one).
func openUDPProbe(dst netip.Addr, cfg *OpenConfig, m Method, pinned bool) (*UDPConn, error) {
	c := newUDPConn(dst, m, cfg)
	recverr := m == MethodUDPRecvErr || m == MethodQUIC
	v6 := dst.Is6()
	bind := unspecified(v6)
	if pinned && cfg.Src.IsValid() {
		bind = cfg.Src
	}
	err := cfg.enter(func() error {
		var err error
		c.sock, err = newSocket(socketConfig{kind: udpSocket, v6: v6, bind: bind, port: cfg.Flow, ifname: cfg.Interface, probeMode: true, recvErr: recverr})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("opening the UDP probe socket: %w", err)
	}
	la, ok := c.sock.LocalAddr().(*net.UDPAddr)
	if !ok {
		c.sock.Close()
		return nil, fmt.Errorf("probe socket has no UDP address: %v", c.sock.LocalAddr())
	}
	c.sport = uint16(la.Port)
	rc, err := c.sock.(syscall.Conn).SyscallConn()
	if err != nil {
		c.sock.Close()
		return nil, err
	}
	c.in.run(func() {
		readDatagrams(rc, recverr, 1<<16, c.now, func(a arrival) bool {
			a.seq = -1
			return c.in.put(a)
		})
	})
	return c, nil
}

// nonNil returns c as a Conn, or a nil Conn with err: never a nil pointer
// of a concrete type inside a non-nil interface.
func nonNil[C wire.Conn](c C, err error) (wire.Conn, error) {
	if err != nil {
		return nil, err
	}
	return c, nil
}
