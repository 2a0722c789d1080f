package probe

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// ICMPConn sends ICMP Echo Request probes and reads replies and errors from
// a raw ICMP socket (or, in tests, any net.PacketConn that behaves like one:
// IPv4 reads without the IP header, writes of the ICMP message only).
//
// It believes a packet only if it answers a probe this ICMPConn sent and is
// still waiting for: an Echo Reply from the target with our identifier, a
// sequence number in flight and our cookie in the data; or an ICMP error
// quoting such an Echo Request, from our source to the target, with the
// quoted length equal to the probe's size, from an address that is not our
// own, and (for a Fragmentation Needed) an MTU below the probe's size and
// not below the floor. Everything else is reported as Ignored with the
// reason (RFC 5927, RFC 8899 §4.6).
type ICMPConn struct {
	c      net.PacketConn
	ipv6   bool
	dst    netip.Addr
	src    netip.Addr
	id     uint16
	cookie [8]byte
	now    func() time.Time
	local  func(netip.Addr) bool

	mu       sync.Mutex
	inflight map[int]Size // seq → size of probes not yet answered
	answered map[int]bool // seq → a Reached or TooBig came back already
	buf      []byte
}

// ICMPConfig is optional configuration for an ICMPConn; nil means defaults.
type ICMPConfig struct {
	// Src is the source address probes leave from, used to check quotes.
	// Invalid means unchecked.
	Src netip.Addr
	// ID is the Echo identifier; 0 picks one at random.
	ID uint16
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Local reports whether an address is one of this host's; ICMP from
	// them is the kernel's own looped-back copy and is ignored. Nil means
	// only the loopback addresses and Src.
	Local func(netip.Addr) bool
}

// NewICMPConn probes dst over c, which must be a raw ICMP (or ICMPv6)
// socket of dst's family set up by the caller, or a fake one in tests.
func NewICMPConn(c net.PacketConn, dst netip.Addr, cfg *ICMPConfig) *ICMPConn {
	if cfg == nil {
		cfg = &ICMPConfig{}
	}
	dst = dst.Unmap()
	ic := &ICMPConn{
		c:        c,
		ipv6:     dst.Is6(),
		dst:      dst,
		src:      cfg.Src.Unmap(),
		id:       cfg.ID,
		now:      cfg.Now,
		local:    cfg.Local,
		inflight: make(map[int]Size),
		answered: make(map[int]bool),
		buf:      make([]byte, 1<<16),
	}
	_, _ = rand.Read(ic.cookie[:])
	if ic.id == 0 {
		var b [2]byte
		_, _ = rand.Read(b[:])
		ic.id = binary.BigEndian.Uint16(b[:]) | 1
	}
	if ic.now == nil {
		ic.now = time.Now
	}
	if ic.local == nil {
		src := ic.src
		ic.local = func(a netip.Addr) bool { return a.IsLoopback() || a == src }
	}
	return ic
}

// Target is the address probes go to.
func (ic *ICMPConn) Target() netip.Addr { return ic.dst }

// Close closes the socket.
func (ic *ICMPConn) Close() error { return ic.c.Close() }

// ErrSize is returned by Send for a size no probe of this kind can have.
var ErrSize = errors.New("probe size out of range")

// Send sends an Echo Request that makes an IP packet of exactly p.Size
// bytes.
func (ic *ICMPConn) Send(ctx context.Context, p Probe) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, err := ic.marshal(p)
	if err != nil {
		return err
	}
	if p.TTL > 0 {
		if err := ic.setTTL(p.TTL); err != nil {
			return err
		}
	}
	ic.mu.Lock()
	ic.inflight[p.Seq&0xffff] = p.Size
	ic.mu.Unlock()
	if _, err := ic.c.WriteTo(b, &net.IPAddr{IP: ic.dst.AsSlice()}); err != nil {
		return err
	}
	return nil
}

func (ic *ICMPConn) marshal(p Probe) ([]byte, error) {
	dataLen := int(p.Size) - IPHeader(ic.ipv6) - ICMPHeader
	if dataLen < 0 || p.Size > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrSize, p.Size)
	}
	data := make([]byte, dataLen)
	copy(data, ic.cookie[:])
	var typ icmp.Type = ipv4.ICMPTypeEcho
	if ic.ipv6 {
		typ = ipv6.ICMPTypeEchoRequest // the kernel fills in the checksum
	}
	m := icmp.Message{Type: typ, Body: &icmp.Echo{ID: int(ic.id), Seq: p.Seq & 0xffff, Data: data}}
	return m.Marshal(nil)
}

// TTLSetter is what a PacketConn can implement to take hop limits itself
// (fakes in tests do); a real socket gets them through x/net.
type TTLSetter interface{ SetTTL(ttl int) error }

func (ic *ICMPConn) setTTL(ttl int) error {
	if ts, ok := ic.c.(TTLSetter); ok {
		return ts.SetTTL(ttl)
	}
	if ic.ipv6 {
		return ipv6.NewPacketConn(ic.c).SetHopLimit(ttl)
	}
	return ipv4.NewPacketConn(ic.c).SetTTL(ttl)
}

// Recv reads until something arrives or deadline passes.
func (ic *ICMPConn) Recv(deadline time.Time) (Event, error) {
	if err := ic.c.SetReadDeadline(deadline); err != nil {
		return Event{}, err
	}
	n, from, err := ic.c.ReadFrom(ic.buf)
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return Event{}, fmt.Errorf("%w: %w", ErrTimeout, os.ErrDeadlineExceeded)
		}
		return Event{}, err
	}
	ev := ic.classify(ic.buf[:n], addrOf(from))
	ev.At, ev.Bytes, ev.IPv6 = ic.now(), n, ic.ipv6
	return ev, nil
}

func addrOf(a net.Addr) netip.Addr {
	var ip net.IP
	switch a := a.(type) {
	case *net.IPAddr:
		ip = a.IP
	case *net.UDPAddr:
		ip = a.IP
	}
	addr, _ := netip.AddrFromSlice(ip)
	return addr.Unmap()
}

// classify turns one received packet into an Event. It is the only place
// that decides what to believe.
func (ic *ICMPConn) classify(b []byte, from netip.Addr) Event {
	ignore := func(why string) Event { return Event{Kind: Ignored, From: from, Why: why} }
	m, err := ParseMessage(b, ic.ipv6)
	if err != nil {
		return ignore(err.Error())
	}
	ev := Event{From: from, Type: m.Type, Code: m.Code, Ext: m.Ext}
	if !m.IsError() {
		if !ic.isEchoReply(m.Type) {
			return ignore(fmt.Sprintf("ICMP type %d is not an Echo Reply", m.Type))
		}
		if m.ID != int(ic.id) {
			return ignore("Echo Reply for another program (identifier differs)")
		}
		if from != ic.dst {
			return ignore(fmt.Sprintf("Echo Reply from %s, not the target", from))
		}
		size, why := ic.take(m.Seq, Reached)
		if why != "" {
			return ignore("Echo Reply " + why)
		}
		if want := int(size) - IPHeader(ic.ipv6); len(m.Data)+ICMPHeader != want {
			return ignore(fmt.Sprintf("Echo Reply of %d bytes for a probe of %d", len(m.Data)+ICMPHeader, want))
		}
		if n := min(len(ic.cookie), len(m.Data)); string(m.Data[:n]) != string(ic.cookie[:n]) {
			return ignore("Echo Reply without our cookie (forged or corrupted)")
		}
		ev.Kind, ev.Seq = Reached, m.Seq
		return ev
	}

	// An error: it must quote one of our probes.
	q := m.Quote
	switch {
	case ic.local(from) && from != ic.dst:
		return ignore("ICMP from this host (the kernel's own copy)")
	case q.Dst.Unmap() != ic.dst:
		return ignore(fmt.Sprintf("quotes a packet to %s, not the target", q.Dst))
	case ic.src.IsValid() && q.Src.Unmap() != ic.src:
		return ignore(fmt.Sprintf("quotes a packet from %s, not from us", q.Src))
	case q.Proto != ic.proto():
		return ignore(fmt.Sprintf("quotes protocol %d, not ICMP", q.Proto))
	case len(q.Transport) < ICMPHeader || int(q.Transport[0]) != ic.echoType():
		return ignore("quotes a packet that is not an Echo Request")
	case int(binary.BigEndian.Uint16(q.Transport[4:6])) != int(ic.id):
		return ignore("quotes another program's Echo Request")
	}
	seq := int(binary.BigEndian.Uint16(q.Transport[6:8]))
	if data := q.Transport[ICMPHeader:]; len(data) > 0 {
		if n := min(len(ic.cookie), len(data)); string(data[:n]) != string(ic.cookie[:n]) {
			return ignore("quotes an Echo Request without our cookie (forged)")
		}
	}
	kind := ic.kindOf(m)
	ic.mu.Lock()
	size, ok := ic.inflight[seq]
	ic.mu.Unlock()
	if !ok {
		return ignore(fmt.Sprintf("quotes sequence %d, which we never sent", seq))
	}
	if q.Length != size {
		return ignore(fmt.Sprintf("quotes a %d-byte packet; our probe %d was %d bytes", q.Length, seq, size))
	}
	if kind == TooBig {
		mtu := Size(m.MTU)
		if mtu != 0 && mtu >= size {
			return ignore(fmt.Sprintf("MTU %d is not below the probe's size %d", mtu, size))
		}
		if mtu != 0 && mtu < Floor(ic.ipv6) {
			return ignore(fmt.Sprintf("MTU %d is below the floor %d", mtu, Floor(ic.ipv6)))
		}
		if ic.ipv6 && mtu == 0 {
			return ignore("Packet Too Big with MTU 0")
		}
		ev.MTU = mtu
	}
	if _, why := ic.take(seq, kind); why != "" {
		return ignore(why)
	}
	ev.Kind, ev.Seq = kind, seq
	return ev
}

// take marks probe seq as answered by an event of kind and returns its
// size, or why it cannot be.
func (ic *ICMPConn) take(seq int, kind EventKind) (Size, string) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	size, ok := ic.inflight[seq]
	if !ok {
		return 0, fmt.Sprintf("for sequence %d, which we never sent", seq)
	}
	if kind == Reached || kind == TooBig {
		if ic.answered[seq] {
			return 0, fmt.Sprintf("duplicate answer for probe %d", seq)
		}
		ic.answered[seq] = true
	}
	return size, ""
}

func (ic *ICMPConn) kindOf(m *Message) EventKind {
	switch {
	case !ic.ipv6 && m.Type == icmpv4DstUnreach && m.Code == icmpv4FragNeeded,
		ic.ipv6 && m.Type == icmpv6PacketTooBig:
		return TooBig
	case !ic.ipv6 && m.Type == icmpv4TimeExceeded, ic.ipv6 && m.Type == icmpv6TimeExceeded:
		return TimeExceeded
	}
	return Unreachable
}

func (ic *ICMPConn) isEchoReply(t int) bool {
	if ic.ipv6 {
		return t == icmpv6EchoReply
	}
	return t == icmpv4EchoReply
}

func (ic *ICMPConn) echoType() int {
	if ic.ipv6 {
		return icmpv6Echo
	}
	return icmpv4Echo
}

func (ic *ICMPConn) proto() int {
	if ic.ipv6 {
		return protoICMPv6
	}
	return protoICMP
}
