package transport

import (
	"net"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// sharedRecvBuf is the receive buffer a shared socket asks for: the
// answers of every search in flight queue there between two reads, and a
// burst of the packet budget (a fiftieth of --rate) can bring thousands of
// them at once; the default (net.core.rmem_default, 208 KiB) holds about
// 140 of 1500 bytes.
const sharedRecvBuf = 8 << 20

// listenShared opens a real shared socket: raw ICMP in probe mode,
// errors and Echo Replies only, bound to cfg.Src if valid and to
// cfg.Interface if set, with a large receive buffer.
func listenShared(v6 bool, cfg *OpenConfig) (net.PacketConn, error) {
	return listenBig(cfg, socketConfig{kind: rawICMP, v6: v6, ifname: cfg.Interface, bind: cfg.Src, probeMode: true, filter: acceptErrorEcho, fragSize: true})
}

// listenBig opens sc inside cfg's namespace with a large receive buffer.
func listenBig(cfg *OpenConfig, sc socketConfig) (net.PacketConn, error) {
	var c net.PacketConn
	err := cfg.enter(func() error {
		var err error
		c, err = newSocket(sc)
		return err
	})
	if err != nil {
		return nil, err
	}
	growRecvBuf(c, sharedRecvBuf)
	return c, nil
}

// listenSharedTCP opens a real shared raw TCP socket: probe mode, bound to
// cfg.Src (the checksum covers it) and to cfg.Interface if set, with a
// large receive buffer (it reads every TCP segment sent to cfg.Src).
func listenSharedTCP(v6 bool, cfg *OpenConfig) (net.PacketConn, error) {
	return listenBig(cfg, socketConfig{kind: rawTCP, v6: v6, ifname: cfg.Interface, bind: cfg.Src, probeMode: true})
}

// growRecvBuf sets c's receive buffer to n bytes: past net.core.rmem_max
// with CAP_NET_ADMIN (SO_RCVBUFFORCE), else as far as rmem_max allows. A
// failure leaves the default, which still works, with more loss under
// large bursts.
func growRecvBuf(c net.PacketConn, n int) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n) != nil {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, n)
		}
	})
}

// chooseSource is sourceFor: the kernel's source toward dst.
func chooseSource(dst netip.Addr, cfg *OpenConfig) (netip.Addr, error) {
	return sourceFor(dst, cfg)
}
