package transport

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/wire"
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
	quote  quoteValidator // what an ICMP error must show (validate.go)
	flight flight         // the probes sent, and which were answered
	ttl    int            // the hop limit set on the socket; 0 until one is
	r      *packetReader
}

// defaultHopLimit is the hop limit of probes that set none: Linux's
// default ip_default_ttl and IPv6 hop_limit.
const defaultHopLimit = 64

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
		c:    c,
		ipv6: dst.Is6(),
		dst:  dst,
		src:  cfg.Src.Unmap(),
		id:   cfg.ID,
		now:  cfg.Now,
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
	local := cfg.Local
	if local == nil {
		src := ic.src
		local = func(a netip.Addr) bool { return a.IsLoopback() || a == src }
	}
	ic.quote = quoteValidator{
		ipv6: ic.ipv6, dst: dst, src: ic.src, local: local,
		proto: wire.ICMPProto(ic.ipv6), name: "Echo Request", match: ic.matchQuote,
	}
	return ic
}

// Target is the address probes go to.
func (ic *ICMPConn) Target() netip.Addr { return ic.dst }

// Flow is the conn's flow: its Echo identifier.
func (ic *ICMPConn) Flow() Flow { return Flow{EchoID: ic.id} }

// Close closes the socket.
func (ic *ICMPConn) Close() error { return ic.c.Close() }

// Send sends an Echo Request that makes an IP packet of exactly p.Size
// bytes.
func (ic *ICMPConn) Send(ctx context.Context, p wire.Probe) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, err := ic.marshal(p)
	if err != nil {
		return err
	}
	if ttl := cmp.Or(p.TTL, defaultHopLimit); ttl != ic.ttl {
		// A probe without a TTL gets the default again, not the hop
		// limit a trace set last.
		if err := ic.setTTL(ttl); err != nil {
			return err
		}
		ic.ttl = ttl
	}
	ic.flight.add(p.Seq&0xffff, p.Size)
	if _, err := ic.c.WriteTo(b, &net.IPAddr{IP: ic.dst.AsSlice()}); err != nil {
		return err
	}
	return nil
}

func (ic *ICMPConn) marshal(p wire.Probe) ([]byte, error) {
	dataLen := int(p.Size) - mtu.IPHeader(ic.ipv6) - mtu.ICMPHeader
	if dataLen < 0 || p.Size > mtu.Max {
		return nil, fmt.Errorf("%w: %d bytes", wire.ErrSize, p.Size)
	}
	data := make([]byte, dataLen)
	copy(data, ic.cookie[:])
	if dataLen >= len(ic.cookie)+2 {
		// One checksum for every probe of the flow (wire.EchoPad).
		binary.BigEndian.PutUint16(data[len(ic.cookie):], wire.EchoPad(ic.ipv6, p.Seq&0xffff, mtu.ICMPHeader+dataLen))
	}
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
func (ic *ICMPConn) Recv(deadline time.Time) (wire.Event, error) {
	if ic.r == nil {
		// Made on first use: a conn on a shared socket (shared.go)
		// never reads, and need not hold a 64 KiB buffer.
		ic.r = newPacketReader(ic.now)
	}
	if err := ic.c.SetReadDeadline(deadline); err != nil {
		return wire.Event{}, err
	}
	n, from, at, err := ic.r.read(ic.c)
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return wire.Event{}, fmt.Errorf("%w: %w", ErrTimeout, os.ErrDeadlineExceeded)
		}
		return wire.Event{}, err
	}
	ev := ic.classify(ic.r.buf[:n], from)
	ev.At, ev.Bytes, ev.IPv6 = at, n, ic.ipv6
	if ev.Kind == wire.Reached {
		ev.FragSize = ic.r.frag
	}
	return ev, nil
}

// classify turns one received packet into an Event. It is the only place
// an ICMPConn decides what to believe: Echo Replies here, ICMP errors by
// the rules every method shares (quoteValidator.validate).
func (ic *ICMPConn) classify(b []byte, from netip.Addr) wire.Event {
	m, err := wire.ParseMessage(b, ic.ipv6)
	if err != nil {
		return wire.Event{Kind: wire.Ignored, From: from, Why: err.Error()}
	}
	return ic.judge(m, from)
}

// judge is classify of a packet parsed already: a shared socket's reader
// (shared.go) parses each packet once and hands it here.
func (ic *ICMPConn) judge(m *wire.Message, from netip.Addr) wire.Event {
	ignore := func(why string) wire.Event { return wire.Event{Kind: wire.Ignored, From: from, Why: why} }
	if m.IsError() {
		return ic.quote.validate(m, from, &ic.flight)
	}
	switch {
	case m.Type != wire.EchoReplyType(ic.ipv6):
		return ignore(fmt.Sprintf("ICMP type %d is not an Echo Reply", m.Type))
	case m.ID != int(ic.id):
		return ignore("Echo Reply for another program (identifier differs)")
	case from != ic.dst:
		return ignore(fmt.Sprintf("Echo Reply from %s, not the target", from))
	}
	// Length and cookie first: a reply that fails them must not use up
	// the probe's one answer (flight.take), or a forgery would make the
	// true reply look like a duplicate.
	size, ok := ic.flight.size(m.Seq)
	if !ok {
		return ignore(fmt.Sprintf("Echo Reply for sequence %d, which we never sent", m.Seq))
	}
	if want := int(size) - mtu.IPHeader(ic.ipv6); len(m.Data)+mtu.ICMPHeader != want {
		return ignore(fmt.Sprintf("Echo Reply of %d bytes for a probe of %d", len(m.Data)+mtu.ICMPHeader, want))
	}
	if n := min(len(ic.cookie), len(m.Data)); string(m.Data[:n]) != string(ic.cookie[:n]) {
		return ignore("Echo Reply without our cookie (forged or corrupted)")
	}
	if _, why := ic.flight.take(m.Seq, wire.Reached); why != "" {
		return ignore("Echo Reply " + why)
	}
	return wire.Event{Kind: wire.Reached, Seq: m.Seq, From: from, Type: m.Type, Code: m.Code}
}

// matchQuote finds the probe a quoted Echo Request is: ours by type,
// identifier and cookie (where the quote holds data), then its sequence.
func (ic *ICMPConn) matchQuote(t []byte) (int, string) {
	switch {
	case int(t[0]) != wire.EchoRequestType(ic.ipv6):
		return 0, "quotes a packet that is not an Echo Request"
	case binary.BigEndian.Uint16(t[4:6]) != ic.id:
		return 0, "quotes another program's Echo Request"
	}
	if data := t[mtu.ICMPHeader:]; len(data) > 0 {
		if n := min(len(ic.cookie), len(data)); string(data[:n]) != string(ic.cookie[:n]) {
			return 0, "quotes an Echo Request without our cookie (forged)"
		}
	}
	return int(binary.BigEndian.Uint16(t[6:8])), ""
}
