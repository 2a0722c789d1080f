package probe

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
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
// Every probe has a source port and an initial sequence number of its
// own. An answer is believed only if it is for a probe still waited for:
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

	quote quoteRules

	raw    net.PacketConn // writes SYNs, reads the target's answers
	icmp   net.PacketConn // reads ICMP errors
	setTTL func(ttl int) error

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

// tcpPorts is how many source ports a TCPConn takes turns with: the
// probes of a round (at most DefaultWidth) never share one.
const tcpPorts = 1024

func newTCPConn(dst netip.Addr, cfg *OpenConfig) *TCPConn {
	if cfg == nil {
		cfg = &OpenConfig{}
	}
	dst = dst.Unmap()
	var b [2]byte
	_, _ = rand.Read(b[:])
	c := &TCPConn{
		dst:    dst,
		src:    cfg.Src.Unmap(),
		ipv6:   dst.Is6(),
		port:   uint16(cfg.port(ProtoTCP)),
		cookie: newCookie(),
		now:    cfg.now(),
		// From the upper half of the ephemeral range, where the kernel's
		// own connections are less likely.
		basePort: 49152 + binary.BigEndian.Uint16(b[:])%(61000-49152-tcpPorts),
		in:       newInbox(),
		probes:   map[int]tcpProbe{},
	}
	c.quote = quoteRules{ipv6: c.ipv6, dst: dst, src: c.src, local: cfg.local(c.src), proto: protoTCP,
		name: "TCP segment", match: c.matchQuote}
	return c
}

// Target is the address probes go to.
func (c *TCPConn) Target() netip.Addr { return c.dst }

// Method is MethodTCP.
func (c *TCPConn) Method() Method { return MethodTCP }

// Send writes a SYN that makes an IP packet of exactly p.Size bytes.
func (c *TCPConn) Send(ctx context.Context, p Probe) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	n := int(p.Size) - IPHeader(c.ipv6) - TCPHeader
	if n < 0 || p.Size > MaxSize {
		return fmt.Errorf("%w: %d bytes", ErrSize, p.Size)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	tp := tcpProbe{
		sport:   c.basePort + uint16(p.Seq%tcpPorts),
		isn:     binary.BigEndian.Uint32(b[:]),
		payload: n,
	}
	seg := marshalSYN(c.src, c.dst, tp.sport, c.port, tp.isn, probeData(c.cookie, p.Seq, n))
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
func (c *TCPConn) Recv(deadline time.Time) (Event, error) {
	return c.in.next(deadline, c.ipv6, c.classify)
}

func (c *TCPConn) classify(a arrival) Event {
	ignore := func(why string) Event { return Event{Kind: Ignored, From: a.from, Why: why} }
	switch a.src {
	case fromICMP:
		m, err := ParseMessage(a.b, c.ipv6)
		if err != nil {
			return ignore(err.Error())
		}
		return c.quote.judge(m, a.from, &c.fl)
	case fromTCP:
		seg, err := parseTCP(a.b)
		if err != nil {
			return ignore(err.Error())
		}
		seq, why := c.matchAnswer(a.from, seg)
		if why != "" {
			return ignore(why)
		}
		if _, why := c.fl.take(seq, Reached); why != "" {
			return ignore(seg.kind() + " " + why)
		}
		return Event{Kind: Reached, Seq: seq, From: a.from}
	}
	return ignore("not a TCP probe's answer")
}

// matchAnswer finds the probe a TCP segment from the target answers.
func (c *TCPConn) matchAnswer(from netip.Addr, seg tcpSegment) (int, string) {
	switch {
	case from != c.dst:
		return 0, fmt.Sprintf("TCP from %s, not the target", from)
	case seg.sport != c.port:
		return 0, fmt.Sprintf("TCP from port %d, not %d", seg.sport, c.port)
	case seg.flags&tcpACK == 0 || (seg.flags&tcpRST == 0 && seg.flags&(tcpSYN|tcpACK) != tcpSYN|tcpACK):
		return 0, fmt.Sprintf("a %s, neither SYN-ACK nor RST", seg.kind())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for seq, p := range c.probes {
		if p.sport != seg.dport {
			continue
		}
		if seg.ack == p.isn+1 || seg.ack == p.isn+1+uint32(p.payload) {
			return seq, ""
		}
	}
	return 0, fmt.Sprintf("a %s to port %d acknowledging %d, which answers none of our probes", seg.kind(), seg.dport, seg.ack)
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
	if len(t) > TCPHeader {
		if why := checkData(t[TCPHeader:], c.cookie, seq); why != "" {
			return 0, "quotes " + why
		}
	}
	return seq, ""
}

// Close closes the sockets and stops the readers.
func (c *TCPConn) Close() error {
	if c.raw != nil {
		c.raw.Close()
	}
	if c.icmp != nil {
		c.icmp.Close()
	}
	c.in.close()
	return nil
}

// TCP flags.
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpACK = 0x10
)

// tcpSegment is the part of a TCP header pmtu reads.
type tcpSegment struct {
	sport, dport uint16
	seq, ack     uint32
	dataOff      int // header length in bytes
	flags        uint8
	window       uint16
	checksum     uint16
	payload      []byte
}

func (s tcpSegment) kind() string {
	switch {
	case s.flags&tcpRST != 0:
		return "RST"
	case s.flags&(tcpSYN|tcpACK) == tcpSYN|tcpACK:
		return "SYN-ACK"
	case s.flags&tcpSYN != 0:
		return "SYN"
	case s.flags&tcpFIN != 0:
		return "FIN"
	}
	return "segment"
}

// errTCP is the parser's error.
var errTCP = errors.New("not a TCP segment")

// parseTCP parses a TCP segment (as a raw socket returns it: no IP
// header). It copies the payload.
func parseTCP(b []byte) (tcpSegment, error) {
	if len(b) < TCPHeader {
		return tcpSegment{}, fmt.Errorf("%w: %d bytes", errTCP, len(b))
	}
	s := tcpSegment{
		sport:    binary.BigEndian.Uint16(b[0:2]),
		dport:    binary.BigEndian.Uint16(b[2:4]),
		seq:      binary.BigEndian.Uint32(b[4:8]),
		ack:      binary.BigEndian.Uint32(b[8:12]),
		dataOff:  int(b[12]>>4) * 4,
		flags:    b[13],
		window:   binary.BigEndian.Uint16(b[14:16]),
		checksum: binary.BigEndian.Uint16(b[16:18]),
	}
	if s.dataOff < TCPHeader || s.dataOff > len(b) {
		return tcpSegment{}, fmt.Errorf("%w: data offset %d in %d bytes", errTCP, s.dataOff, len(b))
	}
	s.payload = append([]byte(nil), b[s.dataOff:]...)
	return s, nil
}

// marshalSYN builds a TCP SYN from src:sport to dst:dport with initial
// sequence number isn, carrying payload, checksummed over the IPv4 or
// IPv6 pseudo-header (RFC 9293 §3.1, RFC 8200 §8.1). There are no
// options: the header is TCPHeader bytes.
func marshalSYN(src, dst netip.Addr, sport, dport uint16, isn uint32, payload []byte) []byte {
	b := make([]byte, TCPHeader+len(payload))
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint32(b[4:], isn)
	b[12] = (TCPHeader / 4) << 4
	b[13] = tcpSYN
	binary.BigEndian.PutUint16(b[14:], 64240)
	copy(b[TCPHeader:], payload)
	binary.BigEndian.PutUint16(b[16:], transportChecksum(src, dst, protoTCP, b))
	return b
}

// transportChecksum is the Internet checksum (RFC 1071) of a TCP or UDP
// segment b, whose checksum field is zero, with the pseudo-header of src
// and dst.
func transportChecksum(src, dst netip.Addr, proto int, b []byte) uint16 {
	var sum uint32
	add := func(p []byte) {
		for len(p) >= 2 {
			sum += uint32(p[0])<<8 | uint32(p[1])
			p = p[2:]
		}
		if len(p) == 1 {
			sum += uint32(p[0]) << 8
		}
	}
	add(src.Unmap().AsSlice())
	add(dst.Unmap().AsSlice())
	var tail [8]byte
	if dst.Unmap().Is6() {
		binary.BigEndian.PutUint32(tail[0:], uint32(len(b)))
		tail[7] = byte(proto)
		add(tail[:8])
	} else {
		tail[1] = byte(proto)
		binary.BigEndian.PutUint16(tail[2:], uint16(len(b)))
		add(tail[:4])
	}
	add(b)
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
