package probe

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync"
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
//   - the quoted packet must be as long as the probe was (quoteRules);
//   - a Fragmentation Needed or Packet Too Big must name an MTU below the
//     probe's size and not below the family's floor (checkMTU).
//
// Where the quote is not visible (errors read from a socket's error
// queue), the kernel has matched the error to the socket, and the socket
// or the quoted header identifies the probe (recvErrRules).

// flight records the probes a conn sent and which were answered. It is
// safe for concurrent use.
type flight struct {
	mu       sync.Mutex
	sizes    map[int]Size // seq → size of the probes sent
	answered map[int]bool // seq → a Reached or TooBig came back already
}

func (f *flight) add(seq int, size Size) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sizes == nil {
		f.sizes, f.answered = map[int]Size{}, map[int]bool{}
	}
	f.sizes[seq] = size
	delete(f.answered, seq)
}

// size returns the size of probe seq, if it was sent.
func (f *flight) size(seq int) (Size, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sizes[seq]
	return s, ok
}

// take marks probe seq as answered by an event of kind and returns its
// size, or why it cannot be: the same words as ICMPConn's.
func (f *flight) take(seq int, kind EventKind) (Size, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	size, ok := f.sizes[seq]
	if !ok {
		return 0, fmt.Sprintf("for sequence %d, which we never sent", seq)
	}
	if kind == Reached || kind == TooBig {
		if f.answered[seq] {
			return 0, fmt.Sprintf("duplicate answer for probe %d", seq)
		}
		f.answered[seq] = true
	}
	return size, ""
}

// checkMTU says why the MTU a Fragmentation Needed or Packet Too Big named
// about a probe of size bytes cannot be believed, or "" if it can. Zero is
// allowed for IPv4 (pre-RFC-1191 routers, RFC 1191 §5).
func checkMTU(mtu, size Size, ipv6 bool) string {
	switch {
	case ipv6 && mtu == 0:
		return "Packet Too Big with MTU 0"
	case mtu != 0 && mtu >= size:
		return fmt.Sprintf("MTU %d is not below the probe's size %d", mtu, size)
	case mtu != 0 && mtu < Floor(ipv6):
		return fmt.Sprintf("MTU %d is below the floor %d", mtu, Floor(ipv6))
	}
	return ""
}

// errorKind is what an ICMP error of type and code says about a probe.
// portReach makes a Port Unreachable from the target mean Reached: a UDP
// probe got there, and no program listens on the port.
func errorKind(ipv6 bool, typ, code int, fromTarget, portReach bool) EventKind {
	switch {
	case !ipv6 && typ == icmpv4DstUnreach && code == icmpv4FragNeeded,
		ipv6 && typ == icmpv6PacketTooBig:
		return TooBig
	case !ipv6 && typ == icmpv4TimeExceeded, ipv6 && typ == icmpv6TimeExceeded:
		return TimeExceeded
	case portReach && fromTarget && !ipv6 && typ == icmpv4DstUnreach && code == icmpv4PortUnreach,
		portReach && fromTarget && ipv6 && typ == icmpv6DstUnreach && code == icmpv6PortUnreach:
		return Reached
	}
	return Unreachable
}

// More ICMP codes and protocol numbers the methods read.
const (
	icmpv4PortUnreach = 3 // code of type 3
	icmpv6PortUnreach = 4 // code of type 1
	protoTCP          = 6
	protoUDP          = 17
	udpHeader         = 8
)

// quoteRules are the checks of an ICMP error that quotes a probe, for
// methods whose errors come from a raw ICMP socket.
type quoteRules struct {
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
}

// judge turns an ICMP message m, received from from, into an Event.
// Messages that are not errors are Ignored.
func (r *quoteRules) judge(m *Message, from netip.Addr, fl *flight) Event {
	ignore := func(why string) Event { return Event{Kind: Ignored, From: from, Why: why, Type: m.Type, Code: m.Code} }
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
	seq, why := r.match(q.Transport)
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
	ev := Event{From: from, Type: m.Type, Code: m.Code, Ext: m.Ext}
	return settle(ev, seq, size, Size(m.MTU), r.ipv6, from == r.dst, r.portReach, fl)
}

// settle ends the judging of an ICMP error ev about probe seq of size
// bytes, once its sender and quote (or socket) are known to be right: what
// kind of answer it is, for a refusal whether mtu is sane, and whether the
// probe was answered already. Every method ends here.
func settle(ev Event, seq int, size, mtu Size, ipv6, fromTarget, portReach bool, fl *flight) Event {
	kind := errorKind(ipv6, ev.Type, ev.Code, fromTarget, portReach)
	if kind == TooBig {
		if why := checkMTU(mtu, size, ipv6); why != "" {
			ev.Kind, ev.Why = Ignored, why
			return ev
		}
		ev.MTU = mtu
	}
	if _, why := fl.take(seq, kind); why != "" {
		ev.Kind, ev.Why = Ignored, why
		return ev
	}
	ev.Kind, ev.Seq = kind, seq
	return ev
}

// probeData is the payload of a UDP or TCP probe (and the Echo data of the
// ICMP datagram socket's), n bytes: an 8-byte cookie, random per conn,
// then the sequence number, 4 bytes big-endian, then zeros. A quote or a
// reply that carries any of it must carry it unchanged.
func probeData(cookie [8]byte, seq int, n int) []byte {
	b := make([]byte, n)
	var head [12]byte
	copy(head[:], cookie[:])
	binary.BigEndian.PutUint32(head[8:], uint32(seq))
	copy(b, head[:])
	return b
}

// checkData says why data (a quoted or echoed payload, possibly cut
// short) is not the payload of probe seq, or "" if it may be.
func checkData(data []byte, cookie [8]byte, seq int) string {
	want := probeData(cookie, seq, 12)
	n := min(len(data), len(want))
	if c := min(n, 8); string(data[:c]) != string(want[:c]) {
		return "data without our cookie (forged, or another program's)"
	}
	if string(data[:n]) != string(want[:n]) {
		return fmt.Sprintf("data of another probe than %d", seq)
	}
	return ""
}
