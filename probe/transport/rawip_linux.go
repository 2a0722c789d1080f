package transport

import "net/netip"

// OpenRawIP opens a RawIPConn toward dst, bound to cfg's source (the
// kernel's choice toward dst when none is set) and interface, in cfg's
// namespace (cfg.Enter). Without root or CAP_NET_RAW the error wraps
// ErrPermission.
func OpenRawIP(dst netip.Addr, cfg *OpenConfig) (*RawIPConn, error) {
	c, dst, _, err := cfg.toward(dst)
	if err != nil {
		return nil, err
	}
	rc := &RawIPConn{src: c.Src, dst: dst, in: newInbox()}
	v6 := dst.Is6()
	err = c.enter(func() error {
		var err error
		if rc.out, err = newSocket(socketConfig{kind: rawIP, v6: v6, bind: rc.src, ifname: c.Interface}); err != nil {
			return err
		}
		if rc.icmp, err = newSocket(socketConfig{kind: rawICMP, v6: v6, bind: rc.src, ifname: c.Interface, filter: acceptErrorEcho, fragSize: true}); err != nil {
			return err
		}
		rc.tcp, err = newSocket(socketConfig{kind: rawTCP, v6: v6, bind: rc.src, ifname: c.Interface})
		return err
	})
	if err != nil {
		rc.Close()
		return nil, err
	}
	now := c.now()
	rc.in.run(func() { readPackets(rc.icmp, fromICMP, now, rc.in.put) })
	rc.in.run(func() { readPackets(rc.tcp, fromTCP, now, rc.in.put) })
	return rc, nil
}
