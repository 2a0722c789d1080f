package transport

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/pmtu/pmtu/probe/wire"
)

// Conn is one way of sending probes: ICMP Echo over raw sockets today, UDP
// and TCP beside it. It sends a probe of an exact size and reports what came
// back about the probes it sent, already matched and validated. Discover
// drives it; tests give it a fake network.
type Conn interface {
	// Send sends p. The packet on the wire is exactly p.Size bytes.
	Send(ctx context.Context, p wire.Probe) error
	// Recv returns the next event, waiting until deadline at the latest;
	// then it returns an error satisfying errors.Is(err,
	// os.ErrDeadlineExceeded).
	Recv(deadline time.Time) (wire.Event, error)
	// Target is the address probes are sent to.
	Target() netip.Addr
	Close() error
}

// ErrTimeout is what Recv returns at its deadline, as os.ErrDeadlineExceeded.
var ErrTimeout = errors.New("probe: no answer before the deadline")
