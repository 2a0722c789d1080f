package transport

import "net/netip"

// openTCP opens MethodTCP: a raw TCP socket bound to the source (whose
// address the checksum covers) and a raw ICMP socket for the errors.
func openTCP(dst netip.Addr, cfg *OpenConfig) (*TCPConn, error) {
	c := newTCPConn(dst, cfg)
	v6 := dst.Is6()
	err := cfg.enter(func() error {
		var err error
		if c.raw, err = newSocket(socketConfig{kind: rawTCP, v6: v6, bind: c.src, ifname: cfg.Interface, probeMode: true}); err != nil {
			return err
		}
		c.icmp, err = listenICMPErrors(c.src)
		return err
	})
	if err != nil {
		c.Close()
		return nil, err
	}
	raw := c.raw
	c.setTTL = func(ttl int) error { return setHopLimit(raw, v6, ttl) }
	c.in.run(func() {
		readPackets(c.raw, fromTCP, c.now, func(a arrival) bool {
			if !c.fromTarget(a) {
				return true // another connection's traffic: not ours to judge
			}
			return c.in.put(a)
		})
	})
	c.in.run(func() { readPackets(c.icmp, fromICMP, c.now, c.in.put) })
	return c, nil
}
