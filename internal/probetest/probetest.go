// Package probetest is a fake network for testing pmtu without root,
// sockets or sleeping: a PacketConn that behaves like a raw ICMP socket on
// a path of routers with given MTUs, and a Clock that the fake network
// advances instead of waiting. On Linux it also builds the control
// messages a socket's reads carry (error queue, receive time), for the
// parsers of probe/wire and the conns of probe/transport alike.
package probetest

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"sort"
	"sync"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/pmtu/pmtu/probe/ratelimit"
)

// Clock is a fake clock, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock at a fixed instant.
func NewClock() *Clock { return &Clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

// Now returns the fake time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func (c *Clock) advanceTo(t time.Time) {
	c.mu.Lock()
	if t.After(c.t) {
		c.t = t
	}
	c.mu.Unlock()
}

// Hop is a router on the path. It forwards packets up to MTU bytes onto its
// next link and refuses larger ones.
type Hop struct {
	Addr netip.Addr
	MTU  int
	// Says is the MTU its Fragmentation Needed names: 0 means MTU (the
	// truth); use SaysZero for a pre-RFC-1191 router.
	Says int
	// SaysZero makes it send Next-Hop MTU 0.
	SaysZero bool
	// Silent makes it drop too-big packets without a word (a PMTUD black
	// hole: its ICMP is filtered).
	Silent bool
	// Reject, when not nil, makes it answer every probe with this ICMP
	// type and code instead of forwarding it.
	Reject *[2]int
	// NoTimeExceeded makes it drop the Time Exceeded it owes a probe whose
	// hop limit runs out here (a router filtering its own ICMP).
	NoTimeExceeded bool
	// RateLimit, when not nil, limits its Time Exceeded and Destination
	// Unreachable (not Fragmentation Needed or Packet Too Big) as a Linux
	// router does: a token bucket per destination.
	RateLimit *RateLimit
}

// RateLimit is a router's ICMP rate limit toward us, modelled as package
// ratelimit models Linux's (net.ipv4.icmp_ratelimit = 1000 ms, a burst of
// 6): a bucket of Burst tokens, one earned every Every of fake time, one
// spent per ICMP.
type RateLimit struct {
	Burst int
	Every time.Duration
	// Empty starts the bucket empty, as if someone else had just used it
	// up.
	Empty bool
}

// LinuxRateLimit is the default limit of a Linux router.
func LinuxRateLimit() *RateLimit {
	return &RateLimit{Burst: ratelimit.Linux.Burst, Every: ratelimit.Linux.Every}
}

func (c *PacketConn) allow(i int, now time.Time) bool {
	rl := c.path.Hops[i].RateLimit
	if rl == nil {
		return true
	}
	if c.buckets == nil {
		c.buckets = map[int]*ratelimit.Bucket{}
	}
	b, ok := c.buckets[i]
	if !ok {
		b = ratelimit.NewBucket(ratelimit.Limit{Burst: rl.Burst, Every: rl.Every})
		if rl.Empty {
			b.Empty(now)
		}
		c.buckets[i] = b
	}
	return b.Allow(now)
}

// Path is a fake network: a source, routers and a target.
type Path struct {
	Src, Dst netip.Addr
	Hops     []Hop
	RTT      time.Duration // round trip to the target; hops answer sooner
	Clock    *Clock
	// Drop, if set, decides per written probe (counted from 1) whether
	// the network loses it or its answer.
	Drop func(n int) bool
	// DropSize, if set, decides per written probe whether the network
	// loses it, knowing its IP size: loss that depends on the packet's
	// size (a window of sizes dropped, a brownout above a size).
	DropSize func(size, n int) bool
	// DuplicateReplies sends every answer twice.
	DuplicateReplies bool
	// NoEchoReply makes the target drop every probe: it never answers.
	NoEchoReply bool
	// Delay, if set, delays the answer to written probe n (counted from
	// 1) by that much more: late and reordered answers.
	Delay func(n int) time.Duration
}

// Conn returns a PacketConn on the path, behaving as a raw socket of the
// path's family does.
func (p *Path) Conn() *PacketConn {
	if p.Clock == nil {
		p.Clock = NewClock()
	}
	return &PacketConn{path: p}
}

type packet struct {
	at   time.Time
	from netip.Addr
	b    []byte
}

// PacketConn is a net.PacketConn on a Path.
type PacketConn struct {
	path *Path

	mu       sync.Mutex
	queue    []packet
	deadline time.Time
	written  [][]byte
	ttls     []int
	closed   bool

	ttl     int                       // hop limit of the next write; 0: the default
	buckets map[int]*ratelimit.Bucket // hop index → its rate limit's state
}

// SetTTL sets the hop limit of the packets written after it (0: the
// default, never running out), as probe.TTLSetter asks. A probe whose hop
// limit runs out at hop i is answered with a Time Exceeded from hop i
// quoting it; one that runs out at the target reaches it, as with Linux.
func (c *PacketConn) SetTTL(ttl int) error {
	c.mu.Lock()
	c.ttl = ttl
	c.mu.Unlock()
	return nil
}

// TTLs returns the hop limit each written packet had, in order (0: the
// default).
func (c *PacketConn) TTLs() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.ttls...)
}

// Written returns copies of every packet written so far.
func (c *PacketConn) Written() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]byte(nil), c.written...)
}

// Inject queues b as if from arrived after delay: a forged or unrelated
// packet.
func (c *PacketConn) Inject(from netip.Addr, b []byte, delay time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.push(packet{at: c.path.Clock.Now().Add(delay), from: from, b: b})
}

func (c *PacketConn) push(p packet) {
	c.queue = append(c.queue, p)
	sort.SliceStable(c.queue, func(i, j int) bool { return c.queue[i].at.Before(c.queue[j].at) })
}

func (c *PacketConn) ipv6() bool { return c.path.Dst.Is6() }

// WriteTo takes an Echo Request as pmtu writes it (ICMP message only) and
// queues what the fake path sends back.
func (c *PacketConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	c.written = append(c.written, append([]byte(nil), b...))
	c.ttls = append(c.ttls, c.ttl)
	p := c.path
	n := len(c.written)
	if p.Drop != nil && p.Drop(n) {
		return len(b), nil
	}
	hl := 20
	proto := 1
	if c.ipv6() {
		hl, proto = 40, 58
	}
	size := len(b) + hl
	if p.DropSize != nil && p.DropSize(size, n) {
		return len(b), nil
	}
	var late time.Duration
	if p.Delay != nil {
		late = p.Delay(n)
	}
	ip := IPHeader(p.Src, p.Dst, proto, size)
	now := p.Clock.Now()
	for i, h := range p.Hops {
		at := now.Add(late + p.RTT*time.Duration(i+1)/time.Duration(len(p.Hops)+1))
		if c.ttl > 0 && c.ttl == i+1 {
			// The hop limit runs out here; Linux checks it before the size.
			if !h.NoTimeExceeded && c.allow(i, now) {
				typ := 11
				if c.ipv6() {
					typ = 3
				}
				c.answer(packet{at: at, from: h.Addr, b: Error(c.ipv6(), typ, 0, 0, append(ip, b...))})
			}
			return len(b), nil
		}
		if h.Reject != nil {
			if c.allow(i, now) {
				c.answer(packet{at: at, from: h.Addr, b: Error(c.ipv6(), h.Reject[0], h.Reject[1], 0, append(ip, b...))})
			}
			return len(b), nil
		}
		if size <= h.MTU {
			continue
		}
		if h.Silent {
			return len(b), nil
		}
		mtu := h.MTU
		if h.Says != 0 {
			mtu = h.Says
		}
		if h.SaysZero {
			mtu = 0
		}
		typ, code := 3, 4
		if c.ipv6() {
			typ, code = 2, 0
		}
		c.answer(packet{at: at, from: h.Addr, b: Error(c.ipv6(), typ, code, mtu, append(ip, b...))})
		return len(b), nil
	}
	m, err := icmp.ParseMessage(proto, b)
	if err != nil {
		return 0, err
	}
	if p.NoEchoReply {
		return len(b), nil
	}
	echo, ok := m.Body.(*icmp.Echo)
	if !ok {
		return 0, errors.New("probetest: not an Echo Request")
	}
	var rt icmp.Type = ipv4.ICMPTypeEchoReply
	if c.ipv6() {
		rt = ipv6.ICMPTypeEchoReply
	}
	reply, _ := (&icmp.Message{Type: rt, Body: echo}).Marshal(nil)
	c.answer(packet{at: now.Add(late + p.RTT), from: p.Dst, b: reply})
	return len(b), nil
}

func (c *PacketConn) answer(p packet) {
	c.push(p)
	if c.path.DuplicateReplies {
		c.push(p)
	}
}

// ReadFrom returns the next queued packet that arrives before the read
// deadline, moving the clock to its arrival; with none, it moves the clock
// to the deadline and fails as a real socket would.
func (c *PacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, nil, net.ErrClosed
	}
	if len(c.queue) == 0 || (!c.deadline.IsZero() && c.queue[0].at.After(c.deadline)) {
		if c.deadline.IsZero() {
			return 0, nil, errors.New("probetest: read would block forever")
		}
		c.path.Clock.advanceTo(c.deadline)
		return 0, nil, &net.OpError{Op: "read", Net: "ip", Err: os.ErrDeadlineExceeded}
	}
	p := c.queue[0]
	c.queue = c.queue[1:]
	c.path.Clock.advanceTo(p.at)
	n := copy(b, p.b)
	return n, &net.IPAddr{IP: p.from.AsSlice()}, nil
}

// Close closes the conn.
func (c *PacketConn) Close() error { c.mu.Lock(); c.closed = true; c.mu.Unlock(); return nil }

// LocalAddr returns the source address.
func (c *PacketConn) LocalAddr() net.Addr { return &net.IPAddr{IP: c.path.Src.AsSlice()} }

// SetDeadline sets the read deadline.
func (c *PacketConn) SetDeadline(t time.Time) error { return c.SetReadDeadline(t) }

// SetReadDeadline sets the read deadline.
func (c *PacketConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	c.mu.Unlock()
	return nil
}

// SetWriteDeadline does nothing.
func (c *PacketConn) SetWriteDeadline(time.Time) error { return nil }

// IPHeader builds the IPv4 or IPv6 header of a packet of size bytes, as an
// ICMP error quotes it.
func IPHeader(src, dst netip.Addr, proto, size int) []byte {
	if dst.Is6() {
		h := make([]byte, 40)
		h[0] = 6 << 4
		binary.BigEndian.PutUint16(h[4:], uint16(size-40))
		h[6], h[7] = byte(proto), 64
		copy(h[8:], src.AsSlice())
		copy(h[24:], dst.AsSlice())
		return h
	}
	h := make([]byte, 20)
	h[0] = 4<<4 | 5
	binary.BigEndian.PutUint16(h[2:], uint16(size))
	h[6] = 0x40 // DF
	h[8], h[9] = 64, byte(proto)
	copy(h[12:], src.AsSlice())
	copy(h[16:], dst.AsSlice())
	return h
}

// Error builds an ICMP (ipv6 false, checksum included) or ICMPv6 error
// message of type and code quoting packet, with mtu in the MTU field (Fragmentation Needed
// bytes 6–7, Packet Too Big bytes 4–7). The quote is cut as Linux routers
// cut it: 548 bytes for IPv4 (RFC 1812), 1280 in all for IPv6.
func Error(ipv6 bool, typ, code, mtu int, packet []byte) []byte {
	limit := 548
	if ipv6 {
		limit = 1280 - 40 - 8
	}
	if len(packet) > limit {
		packet = packet[:limit]
	}
	b := make([]byte, 8, 8+len(packet))
	b[0], b[1] = byte(typ), byte(code)
	if ipv6 && typ == 2 {
		binary.BigEndian.PutUint32(b[4:], uint32(mtu))
	} else if !ipv6 && typ == 3 && code == 4 {
		binary.BigEndian.PutUint16(b[6:], uint16(mtu))
	}
	b = append(b, packet...)
	if !ipv6 {
		// As a router sends it, and as a raw IPv4 socket must be given
		// it; the kernel sums ICMPv6 itself (its pseudo-header needs the
		// addresses).
		binary.BigEndian.PutUint16(b[2:], checksum(b))
	}
	return b
}

// checksum is the Internet checksum of b (RFC 1071).
func checksum(b []byte) uint16 {
	var s uint32
	for ; len(b) >= 2; b = b[2:] {
		s += uint32(b[0])<<8 | uint32(b[1])
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}
