package transport

import (
	"fmt"
	"net/netip"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/wire"
)

// The rules every method applies before it believes an answer (RFC 5927,
// RFC 8899 §4.6), in one place, so that UDP, TCP and the ICMP datagram
// socket believe what ICMPConn believes:
//
//   - an answer must be about a probe this conn sent and still waits for
//     (flight), and a probe is answered once (duplicates are ignored);
//   - an ICMP error must not come from one of our own addresses (the
//     kernel's looped-back copy), unless from the target itself;
//   - its quote must name our source, the target, the probes' protocol and
//     what identifies one probe (ports, sequence numbers, the cookie in
//     whatever of the payload is quoted);
//   - the quoted packet must be as long as the probe was (quoteValidator);
//   - a Fragmentation Needed or Packet Too Big must name an MTU below the
//     probe's size and not below the family's floor (checkMTU).
//
// Where the quote is not visible (errors read from a socket's error
// queue), the kernel has matched the error to the socket, and the socket
// or the quoted header identifies the probe (errQueueValidator).

// checkMTU says why the MTU a Fragmentation Needed or Packet Too Big named
// about a probe of size bytes cannot be believed, or "" if it can. Zero is
// allowed for IPv4 (pre-RFC-1191 routers, RFC 1191 §5).
func checkMTU(named, size mtu.Size, ipv6 bool) string {
	switch {
	case ipv6 && named == 0:
		return "Packet Too Big with MTU 0"
	case named != 0 && named >= size:
		return fmt.Sprintf("MTU %d is not below the probe's size %d", named, size)
	case named != 0 && named < mtu.Floor(ipv6):
		return fmt.Sprintf("MTU %d is below the floor %d", named, mtu.Floor(ipv6))
	}
	return ""
}

// quoteValidator are the checks of an ICMP error that quotes a probe, for
// methods whose errors come from a raw ICMP socket.
type quoteValidator struct {
	ipv6     bool
	dst, src netip.Addr // src invalid: not checked
	local    func(netip.Addr) bool
	proto    int    // the transport protocol of the probes
	name     string // what a probe is, for reasons: "UDP datagram"
	// portReach: a Port Unreachable from the target means Reached.
	portReach bool
	// match finds the probe a quoted transport header (at least 8 bytes)
	// names, or says why it names none of ours.
	match func(transport []byte) (seq int, why string)
	// matchSized, if set, is match for a conn whose probes share their
	// headers (UDP: one source port), which may need the quoted IP
	// length to tell them apart.
	matchSized func(transport []byte, length mtu.Size) (seq int, why string)
}

// arrival judges an ICMP error a raw socket read about a UDP or TCP
// probe: parsed here, unless a shared socket's reader parsed it already
// (arrival.m), then validated.
func (r *quoteValidator) arrival(a arrival, fl *flight) wire.Event {
	m := a.m
	if m == nil {
		var err error
		if m, err = wire.ParseMessage(a.b, r.ipv6); err != nil {
			return wire.Event{Kind: wire.Ignored, From: a.from, Why: err.Error()}
		}
	}
	return r.validate(m, a.from, fl)
}

// validate turns an ICMP message m, received from from, into an Event.
// Messages that are not errors are Ignored.
func (r *quoteValidator) validate(m *wire.Message, from netip.Addr, fl *flight) wire.Event {
	ignore := func(why string) wire.Event {
		return wire.Event{Kind: wire.Ignored, From: from, Why: why, Type: m.Type, Code: m.Code}
	}
	if !m.IsError() {
		return ignore(fmt.Sprintf("ICMP type %d is not an error about a %s", m.Type, r.name))
	}
	q := m.Quote
	switch {
	case r.local(from) && from != r.dst:
		return ignore("ICMP from this host (the kernel's own copy)")
	case q.Dst.Unmap() != r.dst:
		return ignore(fmt.Sprintf("quotes a packet to %s, not the target", q.Dst))
	case r.src.IsValid() && q.Src.Unmap() != r.src:
		return ignore(fmt.Sprintf("quotes a packet from %s, not from us", q.Src))
	case q.Proto != r.proto:
		return ignore(fmt.Sprintf("quotes protocol %d, not a %s", q.Proto, r.name))
	case len(q.Transport) < 8:
		return ignore("quotes less than 8 bytes of the " + r.name)
	}
	var seq int
	var why string
	if r.matchSized != nil {
		seq, why = r.matchSized(q.Transport, q.Length)
	} else {
		seq, why = r.match(q.Transport)
	}
	if why != "" {
		return ignore(why)
	}
	size, ok := fl.size(seq)
	if !ok {
		return ignore(fmt.Sprintf("quotes probe %d, which we never sent", seq))
	}
	if q.Length != size {
		return ignore(fmt.Sprintf("quotes a %d-byte packet; our probe %d was %d bytes", q.Length, seq, size))
	}
	ev := wire.Event{From: from, Type: m.Type, Code: m.Code, Ext: m.Ext}
	return verdict(ev, seq, size, mtu.Size(m.MTU), r.ipv6, from == r.dst, r.portReach, fl)
}

// verdict ends the judging of an ICMP error ev about probe seq of size
// bytes, once its sender and quote (or socket) are known to be right: what
// kind of answer it is, for a refusal whether mtu is sane, and whether the
// probe was answered already. Every method ends here.
func verdict(ev wire.Event, seq int, size, named mtu.Size, ipv6, fromTarget, portReach bool, fl *flight) wire.Event {
	kind := wire.ErrorKind(ipv6, ev.Type, ev.Code, fromTarget, portReach)
	if kind == wire.TooBig {
		if why := checkMTU(named, size, ipv6); why != "" {
			ev.Kind, ev.Why = wire.Ignored, why
			return ev
		}
		ev.MTU = named
	}
	if _, why := fl.take(seq, kind); why != "" {
		ev.Kind, ev.Why = wire.Ignored, why
		return ev
	}
	ev.Kind, ev.Seq = kind, seq
	return ev
}
