package transport

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

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
		c, err = newSocket(socketConfig{kind: pingSocket, v6: v6, bind: bind, port: cfg.Flow, ifname: cfg.Interface, probeMode: true, recvErr: true})
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
