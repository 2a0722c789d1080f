package wire

import (
	"context"
	"net/netip"
	"time"

	"github.com/pmtu/pmtu/mtu"
)

// Conn is one way of sending probes: it sends a probe of an exact size
// and reports what came back about the probes it sent, already matched
// and validated. probe/transport makes them (ICMP Echo, UDP, TCP);
// probe/search drives them; tests give it a fake network.
//
// It is declared once, here: transport, which makes Conns, and search,
// which drives them, may not import each other (probe/layers_test.go),
// and wire is the lowest package both import, the one whose Probe and
// Event its methods speak. Package probe, above both, uses it as it is.
// A search never closes the Conn it is given; Close is for whoever
// opened it.
type Conn interface {
	// Send sends p. The packet on the wire is exactly p.Size bytes.
	Send(ctx context.Context, p Probe) error
	// Recv returns the next event, waiting until deadline at the latest;
	// then it returns an error satisfying errors.Is(err,
	// os.ErrDeadlineExceeded).
	Recv(deadline time.Time) (Event, error)
	// Target is the address probes are sent to.
	Target() netip.Addr
	// Close closes the Conn's sockets; Send and Recv then fail.
	Close() error
}

// Received is a packet a raw socket read, not yet judged: what pmtu
// check reads back about the packets it built itself, an ICMP message or
// a TCP segment (without the IP header either way).
type Received struct {
	From netip.Addr
	// Proto is ProtoICMP, ProtoICMPv6 or ProtoTCP.
	Proto int
	Data  []byte
	// FragSize is, for a packet the kernel reassembled, the IP size of
	// its largest fragment (IP_RECVFRAGSIZE); 0 when it arrived whole or
	// the socket cannot tell.
	FragSize mtu.Size
	At       time.Time
}
