package transport

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/wire"
)

// TCPConn sends TCP SYNs to a port of the target (443 by default), each
// carrying the probe's size as payload, over a raw socket: the kernel
// adds the IP header with DF set (probe mode), pmtu writes the TCP header
// and its checksum. Routers refuse a too-big SYN with a Fragmentation
// Needed or Packet Too Big like any packet, and firewalls that only let
// web traffic through let these through; the target answers a SYN that
// arrived with a SYN-ACK (port open) or a RST (port closed), which proves
// the size. This host's kernel has no socket for the SYN-ACK and answers
// it with a RST, which tears the half-open connection down, as for
// scamper's and tcptraceroute's probes.
//
// Every probe leaves from the conn's one source port (its Flow: a router
// that spreads flows over equal-cost paths keeps a search on one branch)
// with an initial sequence number of its own, which names it. An answer is believed only if it is for a probe still waited for:
// a SYN-ACK or RST from the target's port to the probe's source port that
// acknowledges the probe's sequence number plus 1 (the SYN; a SYN-ACK
// does not acknowledge data in a SYN) or plus 1 and the payload (a RST
// acknowledges all it got); an ICMP error whose quote names our source,
// the target, TCP, the probe's ports and sequence number, and the probe's
// length, with the rules every method shares (sane MTU, not from our own
// addresses, once per probe).
type TCPConn struct {
	dst, src netip.Addr
	ipv6     bool
	port     uint16
	cookie   [8]byte
	now      func() time.Time
	basePort uint16

	quote quoteValidator

	raw        net.PacketConn // writes SYNs, reads the target's answers
	icmp       net.PacketConn // reads ICMP errors
	setTTL     func(ttl int) error
	engineLink // raw is then the Engine's shared raw TCP socket

	fl flight
	in *inbox

	mu     sync.Mutex
	probes map[int]tcpProbe // seq → probe
}

// tcpProbe is what identifies one SYN.
type tcpProbe struct {
	sport   uint16
	isn     uint32
	payload int
}

func newTCPConn(dst netip.Addr, cfg *OpenConfig) *TCPConn {
	if cfg == nil {
		cfg = &OpenConfig{}
	}
	dst = dst.Unmap()
	c := &TCPConn{
		dst:      dst,
		src:      cfg.Src.Unmap(),
		ipv6:     dst.Is6(),
		port:     uint16(cfg.port(ProtoTCP)),
		cookie:   newCookie(),
		now:      cfg.now(),
		basePort: randomTCPPort(),
		in:       newInbox(),
		probes:   map[int]tcpProbe{},
	}
	if cfg.Flow != 0 {
		c.basePort = cfg.Flow
	}
	c.quote = quoteValidator{ipv6: c.ipv6, dst: dst, src: c.src, local: cfg.local(c.src), proto: wire.ProtoTCP,
		name: "TCP segment", match: c.matchQuote}
	return c
}

// Target is the address probes go to.
func (c *TCPConn) Target() netip.Addr { return c.dst }

// Flow is the conn's flow: its source port.
func (c *TCPConn) Flow() Flow { return Flow{SrcPort: c.basePort} }

// Method is MethodTCP.
func (c *TCPConn) Method() Method { return MethodTCP }

// Send writes a SYN that makes an IP packet of exactly p.Size bytes.
func (c *TCPConn) Send(ctx context.Context, p wire.Probe) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	n := int(p.Size) - mtu.IPHeader(c.ipv6) - mtu.TCPHeader
	if n < 0 || p.Size > mtu.Max {
		return fmt.Errorf("%w: %d bytes", wire.ErrSize, p.Size)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	tp := tcpProbe{
		sport:   c.basePort,
		isn:     binary.BigEndian.Uint32(b[:]),
		payload: n,
	}
	seg := wire.MarshalSYN(c.src, c.dst, tp.sport, c.port, tp.isn, wire.ProbeData(c.cookie, p.Seq, n))
	if c.engineClosed() {
		return net.ErrClosed
	}
	if p.TTL > 0 && c.onEngine() {
		return ErrSharedTTL
	}
	if p.TTL > 0 && c.setTTL != nil {
		if err := c.setTTL(p.TTL); err != nil {
			return err
		}
	}
	c.mu.Lock()
	c.probes[p.Seq] = tp
	c.mu.Unlock()
	c.fl.add(p.Seq, p.Size)
	_, err := c.raw.WriteTo(seg, &net.IPAddr{IP: c.dst.AsSlice()})
	return err
}

// Recv returns the next event, waiting until deadline at the latest.
func (c *TCPConn) Recv(deadline time.Time) (wire.Event, error) {
	if c.engineClosed() {
		return wire.Event{}, net.ErrClosed
	}
	return c.in.next(deadline, c.ipv6, c.classify)
}

func (c *TCPConn) classify(a arrival) wire.Event {
	ignore := func(why string) wire.Event { return wire.Event{Kind: wire.Ignored, From: a.from, Why: why} }
	switch a.src {
	case fromICMP:
		return c.quote.arrival(a, &c.fl)
	case fromTCP:
		seg, err := wire.ParseTCP(a.b)
		if err != nil {
			return ignore(err.Error())
		}
		seq, why := c.matchAnswer(a.from, seg)
		if why != "" {
			return ignore(why)
		}
		if _, why := c.fl.take(seq, wire.Reached); why != "" {
			return ignore(seg.Kind() + " " + why)
		}
		return wire.Event{Kind: wire.Reached, Seq: seq, From: a.from}
	}
	return ignore("not a TCP probe's answer")
}

// fromTarget reports whether a segment the raw TCP socket read comes from
// the target's probed port: the raw socket sees every TCP segment sent to
// this address, and the others are none of pmtu's business.
func (c *TCPConn) fromTarget(a arrival) bool {
	return a.from == c.dst && len(a.b) >= 2 && uint16(a.b[0])<<8|uint16(a.b[1]) == c.port
}

// matchAnswer finds the probe a TCP segment from the target answers.
func (c *TCPConn) matchAnswer(from netip.Addr, seg wire.TCPSegment) (int, string) {
	switch {
	case from != c.dst:
		return 0, fmt.Sprintf("TCP from %s, not the target", from)
	case seg.SrcPort != c.port:
		return 0, fmt.Sprintf("TCP from port %d, not %d", seg.SrcPort, c.port)
	case seg.Flags&wire.TCPACK == 0 || (seg.Flags&wire.TCPRST == 0 && seg.Flags&(wire.TCPSYN|wire.TCPACK) != wire.TCPSYN|wire.TCPACK):
		return 0, fmt.Sprintf("a %s, neither SYN-ACK nor RST", seg.Kind())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for seq, p := range c.probes {
		if p.sport != seg.DstPort {
			continue
		}
		if seg.Ack == p.isn+1 || seg.Ack == p.isn+1+uint32(p.payload) {
			return seq, ""
		}
	}
	return 0, fmt.Sprintf("a %s to port %d acknowledging %d, which answers none of our probes", seg.Kind(), seg.DstPort, seg.Ack)
}

// matchQuote finds the probe a quoted TCP header names: ports and
// sequence number, and the payload's cookie if quoted.
func (c *TCPConn) matchQuote(t []byte) (int, string) {
	sport, dport := binary.BigEndian.Uint16(t[0:2]), binary.BigEndian.Uint16(t[2:4])
	isn := binary.BigEndian.Uint32(t[4:8])
	if dport != c.port {
		return 0, fmt.Sprintf("quotes a segment to port %d, not %d", dport, c.port)
	}
	c.mu.Lock()
	seq, found := 0, false
	for s, p := range c.probes {
		if p.sport == sport && p.isn == isn {
			seq, found = s, true
			break
		}
	}
	c.mu.Unlock()
	if !found {
		return 0, fmt.Sprintf("quotes a segment from port %d with sequence number %d, which is none of our SYNs", sport, isn)
	}
	if len(t) > mtu.TCPHeader {
		if why := wire.CheckData(t[mtu.TCPHeader:], c.cookie, seq); why != "" {
			return 0, "quotes " + why
		}
	}
	return seq, ""
}

// Close closes the sockets and stops the readers; a conn of an Engine
// gives its port back to the shared sockets instead of closing them.
func (c *TCPConn) Close() error {
	if c.release() {
		c.raw = nil // the Engine's, left open
	}
	if c.raw != nil {
		c.raw.Close()
	}
	if c.icmp != nil {
		c.icmp.Close()
	}
	c.in.close()
	return nil
}
