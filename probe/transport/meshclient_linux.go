package transport

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pmtu/pmtu/sockopt"
)

// DialMesh opens a MeshClient toward the responder at dst, from cfg's
// source (the kernel's choice toward dst when none is set) and
// interface, in cfg's namespace (cfg.Enter).
func DialMesh(dst netip.AddrPort, cfg *OpenConfig) (*MeshClient, error) {
	c, addr, pinned, err := cfg.toward(dst.Addr())
	if err != nil {
		return nil, err
	}
	dst = netip.AddrPortFrom(addr, dst.Port())
	v6 := addr.Is6()
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		if err := sockopt.SetProbeMode(rc, v6); err != nil {
			return err
		}
		if c.Interface != "" {
			if err := sockopt.BindToDevice(rc, c.Interface); err != nil {
				return err
			}
		}
		if v6 {
			return sockopt.SetRecvExtHeaders(rc)
		}
		return nil
	}}
	if pinned {
		d.LocalAddr = net.UDPAddrFromAddrPort(netip.AddrPortFrom(c.Src, 0))
	}
	var conn net.Conn
	err = c.enter(func() error {
		var err error
		conn, err = d.DialContext(context.Background(), udpNetwork(v6), dst.String())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("opening a UDP socket toward %s: %w", dst, err)
	}
	uc := conn.(*net.UDPConn)
	src := c.Src
	if la, ok := uc.LocalAddr().(*net.UDPAddr); ok {
		src = la.AddrPort().Addr().Unmap()
	}
	return &MeshClient{c: uc, src: src, dst: dst}, nil
}

// Read returns the next datagram from the responder, waiting until
// deadline at the latest; then it returns an error satisfying
// errors.Is(err, os.ErrDeadlineExceeded). A Port Unreachable from the
// responder's address is an error satisfying errors.Is(err,
// syscall.ECONNREFUSED).
func (c *MeshClient) Read(deadline time.Time) (MeshArrival, error) {
	if err := c.c.SetReadDeadline(deadline); err != nil {
		return MeshArrival{}, err
	}
	b := make([]byte, 1<<16)
	oob := make([]byte, 2048)
	n, oobn, _, _, err := c.c.ReadMsgUDPAddrPort(b, oob)
	if err != nil {
		return MeshArrival{}, err
	}
	a := MeshArrival{Data: b[:n:n], At: time.Now()}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return a, nil // the datagram stands; its headers are not known
	}
	for _, m := range msgs {
		if m.Header.Level != unix.IPPROTO_IPV6 {
			continue
		}
		switch m.Header.Type {
		case unix.IPV6_HOPOPTS:
			a.HopByHop = true
		case unix.IPV6_DSTOPTS:
			a.DstOpts = true
		}
	}
	return a, nil
}
