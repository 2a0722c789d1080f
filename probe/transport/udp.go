package transport

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/ratelimit"
	"github.com/pmtu/pmtu/probe/wire"
)

// UDPConn sends UDP probes to one port of the target and learns their fate
// from ICMP: a Fragmentation Needed or Packet Too Big from a router is
// TooBig, a Port Unreachable from the target (or any datagram the target
// sends back) is Reached.
//
// Every probe leaves from a socket of its own, so from a source port of its
// own, and each socket sends exactly one datagram. An error or a reply
// then maps to one probe, and so to one size, without reading the probe's
// payload, which routers need not quote (RFC 792 asks for 8 bytes past the
// IP header: the UDP header only).
//
// Errors are read in one of two ways; the Method says which:
//
//   - MethodUDP (root or CAP_NET_RAW): from a raw ICMP socket, with the
//     quote. The rules are ICMPConn's: the quote names our source, the
//     target, UDP, the source port of one of our probe sockets and the
//     target port; its IP length is that probe's size; whatever of the
//     payload is quoted carries our cookie and the probe's sequence
//     number; the MTU is sane; the sender is not one of our addresses.
//   - MethodUDPRecvErr (no privilege): from each socket's error queue
//     (IP_RECVERR, as tracepath does). The kernel queues an error on the
//     socket only if its quote names the socket's addresses, protocol and
//     both ports, so it is about the one datagram that socket sent, whose
//     size is known. The quoted IP header is not visible, so its length
//     cannot be compared; the quoted payload, when there is any, must
//     carry our cookie and sequence number, and the MTU must be sane. A
//     forger must guess the probe socket's source port.
type UDPConn struct {
	dst, src netip.Addr
	ipv6     bool
	port     int
	cookie   [8]byte
	now      func() time.Time
	method   Method

	quote quoteValidator    // MethodUDP
	rerr  errQueueValidator // MethodUDPRecvErr

	// open makes a probe socket with hop limit ttl (0: the default);
	// watch starts reading it.
	open  func(ttl int) (net.PacketConn, error)
	watch func(seq int, s net.PacketConn)
	icmp  net.PacketConn // the raw ICMP socket of MethodUDP

	fl flight
	in *inbox

	mu     sync.Mutex
	socks  map[int]net.PacketConn // seq → its socket
	ports  map[uint16]int         // source port → seq
	order  []int                  // seqs, oldest first
	closed bool
}

// maxUDPSockets bounds the probe sockets a UDPConn keeps open; the oldest
// are closed beyond it, and answers to them are then ignored.
const maxUDPSockets = 256

func newUDPConn(dst netip.Addr, m Method, cfg *OpenConfig) *UDPConn {
	if cfg == nil {
		cfg = &OpenConfig{}
	}
	dst = dst.Unmap()
	c := &UDPConn{
		dst:    dst,
		src:    cfg.Src.Unmap(),
		ipv6:   dst.Is6(),
		port:   cfg.port(ProtoUDP),
		cookie: newCookie(),
		now:    cfg.now(),
		method: m,
		in:     newInbox(),
		socks:  map[int]net.PacketConn{},
		ports:  map[uint16]int{},
	}
	local := cfg.local(c.src)
	c.quote = quoteValidator{ipv6: c.ipv6, dst: dst, src: c.src, local: local, proto: wire.ProtoUDP,
		name: "UDP datagram", portReach: true, match: c.matchQuote}
	c.rerr = errQueueValidator{ipv6: c.ipv6, dst: dst, local: local, portReach: true}
	return c
}

// Target is the address probes go to.
func (c *UDPConn) Target() netip.Addr { return c.dst }

// Method says how errors are read: MethodUDP or MethodUDPRecvErr.
func (c *UDPConn) Method() Method { return c.method }

// ReplyLimit is Linux's limit on the Port Unreachables a target sends
// us (ratelimit.Linux; probe/search reads it through its ReplyLimiter): every probe that arrives is answered by one.
func (c *UDPConn) ReplyLimit() (burst int, every time.Duration) {
	return ratelimit.Linux.Burst, ratelimit.Linux.Every
}

// Send sends, from a new socket, a datagram that makes an IP packet of
// exactly p.Size bytes.
func (c *UDPConn) Send(ctx context.Context, p wire.Probe) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	n := int(p.Size) - mtu.IPHeader(c.ipv6) - mtu.UDPHeader
	if n < 0 || p.Size > mtu.Max {
		return fmt.Errorf("%w: %d bytes", wire.ErrSize, p.Size)
	}
	s, err := c.open(p.TTL)
	if err != nil {
		return err
	}
	la, _ := s.LocalAddr().(*net.UDPAddr)
	if la == nil {
		s.Close()
		return fmt.Errorf("probe socket has no UDP address: %v", s.LocalAddr())
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		s.Close()
		return net.ErrClosed
	}
	c.socks[p.Seq] = s
	c.ports[uint16(la.Port)] = p.Seq
	c.order = append(c.order, p.Seq)
	for len(c.order) > maxUDPSockets {
		old := c.order[0]
		c.order = c.order[1:]
		if s0, ok := c.socks[old]; ok {
			if a0, ok := s0.LocalAddr().(*net.UDPAddr); ok && c.ports[uint16(a0.Port)] == old {
				delete(c.ports, uint16(a0.Port))
			}
			s0.Close()
			delete(c.socks, old)
		}
	}
	c.mu.Unlock()
	c.fl.add(p.Seq, p.Size)
	c.watch(p.Seq, s)
	_, err = s.WriteTo(wire.ProbeData(c.cookie, p.Seq, n), &net.UDPAddr{IP: c.dst.AsSlice(), Port: c.port})
	return err
}

// Recv returns the next event, waiting until deadline at the latest.
func (c *UDPConn) Recv(deadline time.Time) (wire.Event, error) {
	return c.in.next(deadline, c.ipv6, c.classify)
}

// classify turns what a reader read into an Event.
func (c *UDPConn) classify(a arrival) wire.Event {
	ignore := func(why string) wire.Event { return wire.Event{Kind: wire.Ignored, From: a.from, Why: why} }
	switch a.src {
	case fromICMP:
		m, err := wire.ParseMessage(a.b, c.ipv6)
		if err != nil {
			return ignore(err.Error())
		}
		return c.quote.validate(m, a.from, &c.fl)
	case fromErrQueue:
		if a.eeErr != nil {
			return ignore("error queue: " + a.eeErr.Error())
		}
		if why := wire.CheckData(a.b, c.cookie, a.seq); why != "" {
			return ignore("quotes " + why)
		}
		return c.rerr.validate(a.ee, a.seq, &c.fl)
	case fromData:
		if a.from != c.dst || a.port != c.port {
			return ignore(fmt.Sprintf("a datagram from %s port %d, not from the target's port %d", a.from, a.port, c.port))
		}
		if _, why := c.fl.take(a.seq, wire.Reached); why != "" {
			return ignore("reply " + why)
		}
		return wire.Event{Kind: wire.Reached, Seq: a.seq, From: a.from}
	}
	return ignore("not an answer to a UDP probe")
}

// matchQuote finds the probe a quoted UDP header (and what follows of the
// payload) belongs to.
func (c *UDPConn) matchQuote(t []byte) (int, string) {
	sport, dport := binary.BigEndian.Uint16(t[0:2]), binary.BigEndian.Uint16(t[2:4])
	if int(dport) != c.port {
		return 0, fmt.Sprintf("quotes a datagram to port %d, not %d", dport, c.port)
	}
	c.mu.Lock()
	seq, ok := c.ports[sport]
	c.mu.Unlock()
	if !ok {
		return 0, fmt.Sprintf("quotes a datagram from port %d, which none of our probes left from", sport)
	}
	if why := wire.CheckData(t[mtu.UDPHeader:], c.cookie, seq); why != "" {
		return 0, "quotes " + why
	}
	return seq, ""
}

// Close closes every socket and stops the readers.
func (c *UDPConn) Close() error {
	c.mu.Lock()
	c.closed = true
	socks := c.socks
	c.socks = map[int]net.PacketConn{}
	c.mu.Unlock()
	for _, s := range socks {
		s.Close()
	}
	if c.icmp != nil {
		c.icmp.Close()
	}
	c.in.close()
	return nil
}
