package wire

import (
	"net/netip"
	"time"

	"github.com/pmtu/pmtu/mtu"
)

// Probe is one probe packet, as a search asks for it.
type Probe struct {
	Seq  int      // distinguishes the probes of one run
	Size mtu.Size // IP packet size on the wire
	TTL  int      // hop limit; 0 for the system default
}

// EventKind says what an Event is.
type EventKind int

// Kinds of events.
const (
	// Ignored: a packet that is not an answer to a probe we are waiting
	// for (someone else's ping, a forged or mangled ICMP, a duplicate).
	Ignored EventKind = iota
	// Reached: the target answered the probe (Echo Reply; for UDP, Port
	// Unreachable): the path carried it.
	Reached
	// TooBig: a router refused the probe for its size (Fragmentation
	// Needed or Packet Too Big); MTU is the size it named, 0 if none.
	TooBig
	// TimeExceeded: the hop limit ran out at From.
	TimeExceeded
	// Unreachable: any other ICMP error about the probe; Type and Code say
	// which.
	Unreachable
)

func (k EventKind) String() string {
	switch k {
	case Ignored:
		return "ignored"
	case Reached:
		return "reached"
	case TooBig:
		return "too big"
	case TimeExceeded:
		return "time exceeded"
	case Unreachable:
		return "unreachable"
	}
	return "unknown"
}

// Event is something that came back about a probe, already matched and
// judged by the transport that read it.
type Event struct {
	Kind  EventKind
	Seq   int        // the probe it answers (not for Ignored)
	From  netip.Addr // who sent it
	IPv6  bool
	Type  int // ICMP type and code, where an ICMP carried it
	Code  int
	MTU   mtu.Size  // TooBig: the MTU the router named, 0 if none
	At    time.Time // when it arrived: the kernel's receive time where the socket gives one
	Why   string    // Ignored: why
	Bytes int       // length of what was read
	// FragSize is, for a reply the kernel reassembled, the IP size of
	// its largest fragment (IP_RECVFRAGSIZE): the return path cut it
	// there. 0 when the reply arrived whole or the socket cannot tell.
	FragSize mtu.Size
	// Ext is what RFC 4884 extensions the ICMP carried (RFC 4950 MPLS
	// labels, RFC 5837 interface information); nil if none.
	Ext *Extensions
	// PeerLimit marks a TooBig that is the target's own limit, not the
	// path's: its TCP MSS (perhaps clamped by a middlebox on the way)
	// keeps a TCP probe's segment below the size under test. Sizes above
	// MTU cannot be tried this way; nothing says the path refuses them.
	PeerLimit bool
}

// IsDstUnreach reports whether ev came as an ICMP Destination Unreachable
// (a UDP probe's Port Unreachable, say), which hosts rate-limit as they do
// Time Exceeded; an Echo Reply or a TCP answer is not held back.
func (ev Event) IsDstUnreach() bool {
	return (!ev.IPv6 && ev.Type == ICMPv4DstUnreach) || (ev.IPv6 && ev.Type == ICMPv6DstUnreach)
}

// ErrorKind is what an ICMP error of type and code says about a probe.
// portReach makes a Port Unreachable from the target (fromTarget) mean
// Reached: a UDP probe got there, and no program listens on the port.
func ErrorKind(ipv6 bool, typ, code int, fromTarget, portReach bool) EventKind {
	switch {
	case !ipv6 && typ == ICMPv4DstUnreach && code == ICMPv4FragNeeded,
		ipv6 && typ == ICMPv6PacketTooBig:
		return TooBig
	case !ipv6 && typ == ICMPv4TimeExceeded, ipv6 && typ == ICMPv6TimeExceeded:
		return TimeExceeded
	case portReach && fromTarget && !ipv6 && typ == ICMPv4DstUnreach && code == ICMPv4PortUnreach,
		portReach && fromTarget && ipv6 && typ == ICMPv6DstUnreach && code == ICMPv6PortUnreach:
		return Reached
	}
	return Unreachable
}
