package transport

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/wire"
)

// PingConn sends Echo Request probes over an ICMP datagram socket (a
// "ping socket", SOCK_DGRAM with IPPROTO_ICMP or IPPROTO_ICMPV6), which
// needs no privilege where net.ipv4.ping_group_range admits the user's
// group (it covers IPv6 too). The kernel gives the socket an Echo
// identifier of its own, delivers to it only the Echo Replies that carry
// that identifier, and queues on its error queue (IP_RECVERR) the ICMP
// errors whose quote names that identifier: the sock_extended_err with
// type, code, MTU and sender, and the quoted Echo Request from its ICMP
// header on, which names the probe by its sequence number.
//
// It believes what ICMPConn believes, less what the kernel keeps from
// it: an Echo Reply from the target, for a probe in flight, as long as the
// probe, with our cookie; an error from a router that is not one of our
// addresses, quoting an Echo Request with our identifier, a sequence
// number in flight and our cookie (if the data is quoted), naming a sane
// MTU. The quoted IP header is not visible, so the quoted length cannot
// be compared: each sequence number is one probe of one size.
type PingConn struct {
	c      net.PacketConn
	dst    netip.Addr
	src    netip.Addr
	ipv6   bool
	id     uint16
	cookie [8]byte
	now    func() time.Time

	rerr errQueueValidator
	fl   flight
	in   *inbox
}

func newPingConn(c net.PacketConn, dst netip.Addr, id uint16, cfg *OpenConfig) *PingConn {
	if cfg == nil {
		cfg = &OpenConfig{}
	}
	dst = dst.Unmap()
	pc := &PingConn{
		c:      c,
		dst:    dst,
		src:    cfg.Src.Unmap(),
		ipv6:   dst.Is6(),
		id:     id,
		cookie: newCookie(),
		now:    cfg.now(),
		in:     newInbox(),
	}
	pc.rerr = errQueueValidator{ipv6: pc.ipv6, dst: dst, local: cfg.local(pc.src)}
	return pc
}

// Target is the address probes go to.
func (pc *PingConn) Target() netip.Addr { return pc.dst }

// Flow is the conn's flow: the Echo identifier the kernel gave its socket.
func (pc *PingConn) Flow() Flow { return Flow{EchoID: pc.id} }

// Method is MethodPing.
func (pc *PingConn) Method() Method { return MethodPing }

// Send sends an Echo Request that makes an IP packet of exactly p.Size
// bytes.
func (pc *PingConn) Send(ctx context.Context, p wire.Probe) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	n := int(p.Size) - mtu.IPHeader(pc.ipv6) - mtu.ICMPHeader
	if n < 0 || p.Size > mtu.Max {
		return fmt.Errorf("%w: %d bytes", wire.ErrSize, p.Size)
	}
	seq := p.Seq & 0xffff
	var typ icmp.Type = ipv4.ICMPTypeEcho
	if pc.ipv6 {
		typ = ipv6.ICMPTypeEchoRequest
	}
	m := icmp.Message{Type: typ, Body: &icmp.Echo{ID: int(pc.id), Seq: seq, Data: wire.ProbeData(pc.cookie, seq, n)}}
	b, err := m.Marshal(nil) // the kernel sets the identifier and the checksum
	if err != nil {
		return err
	}
	if p.TTL > 0 {
		if err := setHopLimit(pc.c, pc.ipv6, p.TTL); err != nil {
			return err
		}
	}
	pc.fl.add(seq, p.Size)
	_, err = pc.c.WriteTo(b, &net.UDPAddr{IP: pc.dst.AsSlice()})
	return err
}

// Recv returns the next event, waiting until deadline at the latest.
func (pc *PingConn) Recv(deadline time.Time) (wire.Event, error) {
	return pc.in.next(deadline, pc.ipv6, pc.classify)
}

func (pc *PingConn) classify(a arrival) wire.Event {
	ignore := func(why string) wire.Event { return wire.Event{Kind: wire.Ignored, From: a.from, Why: why} }
	switch a.src {
	case fromData:
		m, err := wire.ParseMessage(a.b, pc.ipv6)
		if err != nil {
			return ignore(err.Error())
		}
		if m.IsError() || m.Type != wire.EchoReplyType(pc.ipv6) {
			return ignore(fmt.Sprintf("ICMP type %d is not an Echo Reply", m.Type))
		}
		if a.from != pc.dst {
			return ignore(fmt.Sprintf("Echo Reply from %s, not the target", a.from))
		}
		size, ok := pc.fl.size(m.Seq)
		if !ok {
			return ignore(fmt.Sprintf("Echo Reply for sequence %d, which we never sent", m.Seq))
		}
		if want := int(size) - mtu.IPHeader(pc.ipv6); a.n != want {
			return ignore(fmt.Sprintf("Echo Reply of %d bytes for a probe of %d", a.n, want))
		}
		if why := wire.CheckData(m.Data, pc.cookie, m.Seq); why != "" {
			return ignore("Echo Reply with " + why)
		}
		if _, why := pc.fl.take(m.Seq, wire.Reached); why != "" {
			return ignore("Echo Reply " + why)
		}
		return wire.Event{Kind: wire.Reached, Seq: m.Seq, From: a.from}
	case fromErrQueue:
		if a.eeErr != nil {
			return ignore("error queue: " + a.eeErr.Error())
		}
		q := a.b
		switch {
		case len(q) < mtu.ICMPHeader:
			return ignore("quotes less than an Echo Request header")
		case int(q[0]) != wire.EchoRequestType(pc.ipv6):
			return ignore(fmt.Sprintf("quotes ICMP type %d, not an Echo Request", q[0]))
		case binary.BigEndian.Uint16(q[4:6]) != pc.id:
			return ignore("quotes another program's Echo Request")
		}
		seq := int(binary.BigEndian.Uint16(q[6:8]))
		if why := wire.CheckData(q[mtu.ICMPHeader:], pc.cookie, seq); why != "" {
			return ignore("quotes " + why)
		}
		return pc.rerr.validate(a.ee, seq, &pc.fl)
	}
	return ignore("not an answer to an Echo Request")
}

// Close closes the socket and stops the reader.
func (pc *PingConn) Close() error {
	err := pc.c.Close()
	pc.in.close()
	return err
}

// setHopLimit sets the TTL (hop limit) of the packets c sends.
func setHopLimit(c net.PacketConn, v6 bool, ttl int) error {
	if ts, ok := c.(TTLSetter); ok {
		return ts.SetTTL(ttl)
	}
	if v6 {
		return ipv6.NewPacketConn(c).SetHopLimit(ttl)
	}
	return ipv4.NewPacketConn(c).SetTTL(ttl)
}
