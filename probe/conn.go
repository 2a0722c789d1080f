package probe

import (
	"context"
	"errors"
	"net/netip"
	"time"
)

// Conn is one way of sending probes: ICMP Echo over raw sockets today, UDP
// and TCP beside it. It sends a probe of an exact size and reports what came
// back about the probes it sent, already matched and validated. Discover
// drives it; tests give it a fake network.
type Conn interface {
	// Send sends p. The packet on the wire is exactly p.Size bytes.
	Send(ctx context.Context, p Probe) error
	// Recv returns the next event, waiting until deadline at the latest;
	// then it returns an error satisfying errors.Is(err,
	// os.ErrDeadlineExceeded).
	Recv(deadline time.Time) (Event, error)
	// Target is the address probes are sent to.
	Target() netip.Addr
	Close() error
}

// Probe is one probe packet.
type Probe struct {
	Seq  int  // distinguishes the probes of one run
	Size Size // IP packet size on the wire
	TTL  int  // hop limit; 0 for the system default
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

// Event is something that came back.
type Event struct {
	Kind  EventKind
	Seq   int        // the probe it answers (not for Ignored)
	From  netip.Addr // who sent it
	IPv6  bool
	Type  int // ICMP type and code, where an ICMP carried it
	Code  int
	MTU   Size      // TooBig: the MTU the router named, 0 if none
	At    time.Time // when it was read
	Why   string    // Ignored: why
	Bytes int       // length of what was read
	// Ext is what RFC 4884 extensions the ICMP carried (RFC 4950 MPLS
	// labels, RFC 5837 interface information); nil if none.
	Ext *Extensions
}

// ErrTimeout is what Recv returns at its deadline, as os.ErrDeadlineExceeded.
var ErrTimeout = errors.New("probe: no answer before the deadline")
