package transport

import (
	"cmp"
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
// Every probe leaves from the one socket of the conn, so from one source
// port: the conn is one flow (Flow), and a router that spreads flows over
// equal-cost paths sends every probe of a search down the same branch.
// Only the size and the hop limit change. An error or a reply is mapped
// to its probe by the cookie and sequence number in the payload it
// quotes; a router that quotes only the UDP header (RFC 792 asks for no
// more) is mapped by the quoted IP length to the latest probe of that
// size.
//
// Errors are read in one of two ways; the Method says which:
//
//   - MethodUDP (root or CAP_NET_RAW): from a raw ICMP socket, with the
//     quote. The rules are ICMPConn's: the quote names our source, the
//     target, UDP, the conn's source port and the target port; its IP length is that probe's size; whatever of the
//     payload is quoted carries our cookie and the probe's sequence
//     number; the MTU is sane; the sender is not one of our addresses.
//   - MethodUDPRecvErr (no privilege): from each socket's error queue
//     (IP_RECVERR, as tracepath does). The kernel queues an error on the
//     socket only if its quote names the socket's addresses, protocol and
//     both ports. The quoted IP header is not visible, so its length
//     cannot be compared; the quoted payload must carry our cookie and a
//     sequence number we sent (an error that quotes none names no probe
//     and is ignored), and the MTU must be sane. A forger must guess the
//     source port and the cookie.
type UDPConn struct {
	dst, src netip.Addr
	ipv6     bool
	port     int
	cookie   [8]byte
	now      func() time.Time
	method   Method

	quote quoteValidator    // MethodUDP
	rerr  errQueueValidator // MethodUDPRecvErr

	sock  net.PacketConn // the one probe socket: the flow
	sport uint16         // its source port
	ttl   int            // the hop limit set on sock; 0 until one is
	icmp  net.PacketConn // the raw ICMP socket of MethodUDP, unless the Engine's reads its errors
	engineLink

	fl flight
	in *inbox

	mu     sync.Mutex
	bySize map[mtu.Size]int // size → the latest probe of that size

	quic     *quicShape // MethodQUIC: how its probes look; nil for the others
	lastSend time.Time  // MethodQUIC: when the last probe left (quicGap)
	sent     Traffic    // datagrams and bytes sent
}

func newUDPConn(dst netip.Addr, m Method, cfg *OpenConfig) *UDPConn {
	if cfg == nil {
		cfg = &OpenConfig{}
	}
	dst = dst.Unmap()
	c := &UDPConn{
		dst:    dst,
		src:    cfg.Src.Unmap(),
		ipv6:   dst.Is6(),
		port:   cfg.port(m.Proto()),
		cookie: newCookie(),
		now:    cfg.now(),
		method: m,
		in:     newInbox(),
		sport:  cfg.Flow,
		bySize: map[mtu.Size]int{},
	}
	local := cfg.local(c.src)
	c.quote = quoteValidator{ipv6: c.ipv6, dst: dst, src: c.src, local: local, proto: wire.ProtoUDP,
		name: "UDP datagram", portReach: true, matchSized: c.matchQuote}
	c.rerr = errQueueValidator{ipv6: c.ipv6, dst: dst, local: local, portReach: true}
	if m == MethodQUIC {
		// A Port Unreachable says no QUIC server listens: the answer
		// of a QUIC probe is a Version Negotiation.
		c.rerr.portReach = false
		c.quic = newQUICShape(c.cookie)
	}
	return c
}

// Target is the address probes go to.
func (c *UDPConn) Target() netip.Addr { return c.dst }

// Method says how the probes go: MethodUDP or MethodUDPRecvErr (how
// errors are read), or MethodQUIC (QUICConn).
func (c *UDPConn) Method() Method { return c.method }

// ReplyLimit is Linux's limit on the Port Unreachables a target sends
// us (ratelimit.Linux; probe/search reads it through its ReplyLimiter): every probe that arrives is answered by one.
func (c *UDPConn) ReplyLimit() (burst int, every time.Duration) {
	return ratelimit.Linux.Burst, ratelimit.Linux.Every
}

// Flow is the conn's flow: its source port.
func (c *UDPConn) Flow() Flow { return Flow{SrcPort: c.sport} }

// Send sends, from the conn's socket, a datagram that makes an IP packet
// of exactly p.Size bytes. Sends must not be concurrent: the hop limit is
// a socket option.
func (c *UDPConn) Send(ctx context.Context, p wire.Probe) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	n := int(p.Size) - mtu.IPHeader(c.ipv6) - mtu.UDPHeader
	if n < 0 || p.Size > mtu.Max {
		return fmt.Errorf("%w: %d bytes", wire.ErrSize, p.Size)
	}
	b := wire.ProbeData(c.cookie, p.Seq, n)
	if c.quic != nil {
		var err error
		if b, err = c.quic.probe(p.Seq, n); err != nil {
			return err
		}
		c.pace(ctx)
	}
	if c.sock == nil || c.engineClosed() {
		return net.ErrClosed
	}
	if ttl := cmp.Or(p.TTL, defaultHopLimit); ttl != c.ttl {
		// A probe without a TTL gets the default again, not the hop
		// limit a trace set last.
		if err := setHopLimit(c.sock, c.ipv6, ttl); err != nil {
			return err
		}
		c.ttl = ttl
	}
	c.mu.Lock()
	c.bySize[p.Size] = p.Seq
	c.mu.Unlock()
	c.fl.add(p.Seq, p.Size)
	to := &net.UDPAddr{IP: c.dst.AsSlice(), Port: c.port}
	_, err := c.sock.WriteTo(b, to)
	for try := 0; try < 3 && pendingErr(err); try++ {
		// The socket reports an error an earlier probe earned (a Port
		// Unreachable, with IP_RECVERR) on this send, which it then did
		// not make; the error queue holds that error for Recv.
		_, err = c.sock.WriteTo(b, to)
	}
	if err == nil {
		c.mu.Lock()
		c.sent.Datagrams++
		c.sent.Bytes += int64(len(b))
		c.mu.Unlock()
	}
	return err
}

// Recv returns the next event, waiting until deadline at the latest.
func (c *UDPConn) Recv(deadline time.Time) (wire.Event, error) {
	if c.engineClosed() {
		return wire.Event{}, net.ErrClosed
	}
	return c.in.next(deadline, c.ipv6, c.classify)
}

// classify turns what a reader read into an Event.
func (c *UDPConn) classify(a arrival) wire.Event {
	ignore := func(why string) wire.Event { return wire.Event{Kind: wire.Ignored, From: a.from, Why: why} }
	switch a.src {
	case fromICMP:
		return c.quote.arrival(a, &c.fl)
	case fromErrQueue:
		if a.eeErr != nil {
			return ignore("error queue: " + a.eeErr.Error())
		}
		seq, why := c.seqOf(a.b)
		if c.quic != nil {
			seq, why = c.quic.quoted(a.b)
		}
		if why != "" {
			return ignore("quotes " + why)
		}
		return c.rerr.validate(a.ee, seq, &c.fl)
	case fromData:
		if a.from != c.dst || a.port != c.port {
			return ignore(fmt.Sprintf("a datagram from %s port %d, not from the target's port %d", a.from, a.port, c.port))
		}
		seq, why := c.seqOf(a.b)
		if c.quic != nil {
			seq, why = c.quic.answer(a.b)
		}
		if why != "" {
			return ignore("reply " + why)
		}
		if _, why := c.fl.take(seq, wire.Reached); why != "" {
			return ignore("reply " + why)
		}
		return wire.Event{Kind: wire.Reached, Seq: seq, From: a.from}
	}
	return ignore("not an answer to a UDP probe")
}

// matchQuote finds the probe a quoted UDP header (and what follows of the
// payload) of a packet length bytes long belongs to: by the sequence
// number in the payload, or, when the quote stops at the UDP header, the
// latest probe of that length.
func (c *UDPConn) matchQuote(t []byte, length mtu.Size) (int, string) {
	sport, dport := binary.BigEndian.Uint16(t[0:2]), binary.BigEndian.Uint16(t[2:4])
	if int(dport) != c.port {
		return 0, fmt.Sprintf("quotes a datagram to port %d, not %d", dport, c.port)
	}
	if sport != c.sport {
		return 0, fmt.Sprintf("quotes a datagram from port %d, not from our port %d", sport, c.sport)
	}
	data := t[mtu.UDPHeader:]
	if len(data) >= 12 {
		seq, why := c.seqOf(data)
		if why != "" {
			return 0, "quotes " + why
		}
		return seq, ""
	}
	if why := wire.CheckData(data[:min(len(data), len(c.cookie))], c.cookie, 0); why != "" {
		return 0, "quotes " + why
	}
	c.mu.Lock()
	seq, ok := c.bySize[length]
	c.mu.Unlock()
	if !ok {
		return 0, fmt.Sprintf("quotes a %d-byte datagram; we sent none of that size", length)
	}
	return seq, ""
}

// seqOf reads the sequence number of a probe's payload (wire.ProbeData),
// or says why data is none of ours.
func (c *UDPConn) seqOf(data []byte) (int, string) {
	if len(data) < 12 {
		return 0, fmt.Sprintf("%d bytes of payload, too few to name a probe", len(data))
	}
	seq := int(binary.BigEndian.Uint32(data[8:12]))
	if why := wire.CheckData(data, c.cookie, seq); why != "" {
		return 0, why
	}
	return seq, ""
}

// Close closes the sockets and stops the readers; a conn of an Engine
// gives its port back to the shared socket, which stays open.
func (c *UDPConn) Close() error {
	c.release()
	if c.sock != nil {
		c.sock.Close()
	}
	if c.icmp != nil {
		c.icmp.Close()
	}
	c.in.close()
	return nil
}
