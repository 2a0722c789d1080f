// Package checktest is a fake path for the checks of pmtu check (package
// check): routers that quote what reaches them in their Time Exceeded (as
// much as Linux does, or only 8 bytes), rewrite the MSS of SYNs, drop
// fragments one way or the other and drop IPv6 extension headers; and a
// target that answers SYNs and Echo Requests, puts fragments back
// together and fragments big replies, and may run a pmtu mesh responder
// (responder.go). Its Conn is what check.Options.Open returns in tests,
// its ResponderConn what check.Options.OpenResponder returns: packets are
// parsed as the real ones are (package wire), so no test sends a real
// packet.
package checktest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/wire"
)

// Hop is a router on the path.
type Hop struct {
	Addr netip.Addr
	// Quote is how many bytes past the IP header its Time Exceeded
	// quotes; 0 is as many as Linux (576 bytes in all).
	Quote int
	// Silent makes it send no Time Exceeded.
	Silent bool
	// Limited is how many of its first Time Exceeded it does not send,
	// as a router whose ICMP rate limit is spent.
	Limited int
	// ClampMSS, if set, rewrites the MSS option of every SYN it forwards
	// (both ways) down to this.
	ClampMSS int
	// DropFragments and DropFragmentsBack drop fragments toward the
	// target and back from it.
	DropFragments, DropFragmentsBack bool
	// DropHopByHop and DropDstOpts drop IPv6 packets carrying these
	// headers, toward the target.
	DropHopByHop, DropDstOpts bool
	// DropHopByHopBack and DropDstOptsBack drop them on the way back
	// (the mesh responder's shaped acknowledgements).
	DropHopByHopBack, DropDstOptsBack bool
}

// Path is a fake path from Src through Hops to Dst.
type Path struct {
	Src, Dst netip.Addr
	Hops     []Hop
	// MTU is the path MTU both ways; 0 is 1500.
	MTU int
	// SynAckMSS is the MSS the target's SYN-ACK advertises; 0 means
	// nothing listens (it answers RST).
	SynAckMSS int
	// NoEcho makes the target answer no Echo Request.
	NoEcho bool
	// NoFragSize is a host whose socket cannot tell a reassembled reply
	// from a whole one.
	NoFragSize bool
	// Responder is the pmtu mesh responder on the target (at whatever
	// port it is asked at); nil: none listens.
	Responder *Responder
}

// Conn is a conn on a Path: check.Conn.
type Conn struct {
	gate
	p     *Path
	in    chan wire.Received
	frags map[uint32][]wire.IPPacket // under mu
}

// gate is what the conns on a path have in common: a lock, a count of
// what was written, and whether they are closed.
type gate struct {
	mu     sync.Mutex
	sent   int
	closed bool
}

// enter starts a write: it fails when ctx is done or the conn closed, and
// otherwise counts the write and returns with mu locked, for the caller
// to unlock.
func (g *gate) enter(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return net.ErrClosed
	}
	g.sent++
	return nil
}

// Sent is how many packets were written.
func (g *gate) Sent() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.sent
}

// Conn returns a new conn on p.
func (p *Path) Conn() *Conn {
	return &Conn{p: p, in: make(chan wire.Received, 1024), frags: map[uint32][]wire.IPPacket{}}
}

// Src is the path's source.
func (c *Conn) Src() netip.Addr { return c.p.Src }

func (c *Conn) mtu() int { return c.p.pathMTU() }

// WritePacket carries the IP packet b along the path.
func (c *Conn) WritePacket(ctx context.Context, b []byte) error {
	if err := c.enter(ctx); err != nil {
		return err
	}
	defer c.mu.Unlock()
	p, err := wire.ParseIP(b)
	if err != nil {
		return fmt.Errorf("checktest: %w", err)
	}
	if p.Src != c.p.Src || p.Dst != c.p.Dst {
		return fmt.Errorf("checktest: a packet from %s to %s on the path from %s to %s", p.Src, p.Dst, c.p.Src, c.p.Dst)
	}
	if len(b) > c.mtu() {
		return nil // too big for the path: lost (the checks never send such)
	}
	for i := range c.p.Hops {
		h := &c.p.Hops[i]
		if p.TTL <= 1 {
			switch {
			case h.Limited > 0:
				h.Limited--
			case !h.Silent:
				c.timeExceeded(*h, p)
			}
			return nil
		}
		p.TTL--
		switch {
		case p.Fragment && h.DropFragments,
			p.HopByHop && h.DropHopByHop,
			p.DstOpts && h.DropDstOpts:
			return nil
		}
		if h.ClampMSS > 0 {
			clamp(p.Payload, p.Proto, h.ClampMSS)
		}
	}
	c.arrive(p)
	return nil
}

// timeExceeded sends the Time Exceeded of hop h about p, as p reached it.
func (c *Conn) timeExceeded(h Hop, p wire.IPPacket) {
	b, err := wire.MarshalIP(p)
	if err != nil {
		return
	}
	limit := 576 - p.HeaderLen() - mtu.ICMPHeader
	if h.Quote > 0 {
		limit = p.HeaderLen() + h.Quote
	}
	b = b[:min(len(b), limit)]
	typ := wire.ICMPv4TimeExceeded
	if p.IPv6() {
		typ = wire.ICMPv6TimeExceeded
	}
	c.deliver(wire.Received{From: h.Addr, Proto: wire.ICMPProto(p.IPv6()), Data: append([]byte{byte(typ), 0, 0, 0, 0, 0, 0, 0}, b...)})
}

// arrive is p at the target.
func (c *Conn) arrive(p wire.IPPacket) {
	if p.Fragment {
		whole, ok := c.reassemble(p)
		if !ok {
			return
		}
		p = whole
	}
	switch p.Proto {
	case wire.ProtoTCP:
		c.answerSYN(p)
	case wire.ICMPProto(p.IPv6()):
		c.answerEcho(p)
	}
}

// reassemble keeps fragment f and returns the datagram once every part
// of it is there.
func (c *Conn) reassemble(f wire.IPPacket) (wire.IPPacket, bool) {
	fs := append(c.frags[f.ID], f)
	c.frags[f.ID] = fs
	total := -1
	for _, x := range fs {
		if !x.MoreFrags {
			total = x.FragOffset + len(x.Payload)
		}
	}
	if total < 0 {
		return wire.IPPacket{}, false
	}
	buf := make([]byte, total)
	have := make([]bool, total)
	for _, x := range fs {
		copy(buf[x.FragOffset:], x.Payload)
		for i := x.FragOffset; i < x.FragOffset+len(x.Payload) && i < total; i++ {
			have[i] = true
		}
	}
	for _, h := range have {
		if !h {
			return wire.IPPacket{}, false
		}
	}
	delete(c.frags, f.ID)
	w := f
	w.Fragment, w.MoreFrags, w.FragOffset, w.ID, w.Payload = false, false, 0, 0, buf
	return w, true
}

// answerSYN answers a SYN with a SYN-ACK (SynAckMSS) or a RST.
func (c *Conn) answerSYN(p wire.IPPacket) {
	seg, err := wire.ParseTCP(p.Payload)
	if err != nil || seg.Flags != wire.TCPSYN {
		return
	}
	mss := uint16(c.p.SynAckMSS)
	b := wire.MarshalSYNMSS(p.Dst, p.Src, seg.DstPort, seg.SrcPort, 0x5eed, mss)
	binary.BigEndian.PutUint32(b[8:], seg.Seq+1)
	b[13] = wire.TCPSYN | wire.TCPACK
	if mss == 0 {
		b = b[:mtu.TCPHeader]
		b[12] = (mtu.TCPHeader / 4) << 4
		b[13] = wire.TCPRST | wire.TCPACK
	}
	for i := len(c.p.Hops) - 1; i >= 0; i-- {
		if m := c.p.Hops[i].ClampMSS; m > 0 {
			clamp(b, wire.ProtoTCP, m)
		}
	}
	c.deliver(wire.Received{From: p.Dst, Proto: wire.ProtoTCP, Data: b})
}

// answerEcho answers an Echo Request with a reply of its size, in
// fragments when it is bigger than the path MTU.
func (c *Conn) answerEcho(p wire.IPPacket) {
	if c.p.NoEcho {
		return
	}
	m, err := wire.ParseMessage(p.Payload, p.IPv6())
	if err != nil || m.Type != wire.EchoRequestType(p.IPv6()) {
		return
	}
	reply := append([]byte(nil), p.Payload...)
	reply[0] = byte(wire.EchoReplyType(p.IPv6()))
	r := wire.Received{From: p.Dst, Proto: wire.ICMPProto(p.IPv6()), Data: reply}
	if size := mtu.IPHeader(p.IPv6()) + len(reply); size > c.mtu() {
		for _, h := range c.p.Hops {
			if h.DropFragmentsBack {
				return
			}
		}
		if !c.p.NoFragSize {
			r.FragSize = mtu.Size(c.mtu())
		}
	}
	c.deliver(r)
}

func (c *Conn) deliver(r wire.Received) {
	r.At = time.Now()
	select {
	case c.in <- r:
	default:
	}
}

// clamp lowers the MSS option of a TCP SYN in b to mss, as nft's
// "tcp option maxseg size set" does (never raising it).
func clamp(b []byte, proto, mss int) {
	if proto != wire.ProtoTCP || len(b) < mtu.TCPHeader || b[13]&wire.TCPSYN == 0 {
		return
	}
	hl := int(b[12]>>4) * 4
	for i := mtu.TCPHeader; i+1 < hl && i+1 < len(b); {
		switch b[i] {
		case wire.TCPOptEnd:
			return
		case wire.TCPOptNOP:
			i++
			continue
		case wire.TCPOptMSS:
			if i+4 <= len(b) && int(binary.BigEndian.Uint16(b[i+2:])) > mss {
				binary.BigEndian.PutUint16(b[i+2:], uint16(mss))
			}
			return
		}
		if b[i+1] < 2 {
			return
		}
		i += int(b[i+1])
	}
}

// ReadPacket returns the next packet back, waiting until deadline.
func (c *Conn) ReadPacket(deadline time.Time) (wire.Received, error) {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case r := <-c.in:
		return r, nil
	case <-t.C:
		return wire.Received{}, fmt.Errorf("checktest: %w", os.ErrDeadlineExceeded)
	}
}

// Close closes the conn.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errors.New("checktest: closed twice")
	}
	c.closed = true
	return nil
}
