package checktest

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"syscall"
	"time"

	"github.com/pmtu/pmtu/mesh"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/transport"
	"github.com/pmtu/pmtu/probe/wire"
)

// Responder is a pmtu mesh responder at a Path's target, reached over
// UDP: the probes go to R (package mesh's real Responder, which judges
// peers, keys and budgets), and its acknowledgements come back along
// the path, where a hop may drop those with an extension header
// (DropHopByHopBack, DropDstOptsBack).
type Responder struct {
	R *mesh.Responder
	// NoCapability makes the responder's socket refuse the headers, as
	// Linux does without CAP_NET_RAW: it answers without, saying so.
	NoCapability bool
	// Plain answers every probe with a plain acknowledgement: a
	// responder that predates shaped ones.
	Plain bool
}

// ResponderConn is a UDP socket on a Path toward its Responder:
// check.ResponderConn.
type ResponderConn struct {
	gate
	p  *Path
	r  *Responder
	in chan transport.MeshArrival
}

// ResponderConn returns a new conn on p toward p.Responder; with none,
// every probe earns a Port Unreachable.
func (p *Path) ResponderConn() *ResponderConn {
	return &ResponderConn{p: p, r: p.Responder, in: make(chan transport.MeshArrival, 1024)}
}

// Src is the path's source.
func (c *ResponderConn) Src() netip.Addr { return c.p.Src }

// Write carries the UDP payload b to the responder, and its answer back.
func (c *ResponderConn) Write(ctx context.Context, b []byte) error {
	if err := c.enter(ctx); err != nil {
		return err
	}
	defer c.mu.Unlock()
	over := mtu.IPHeader(c.p.Dst.Is6()) + mtu.UDPHeader
	if over+len(b) > c.p.pathMTU() {
		return fmt.Errorf("checktest: %d bytes: %w", over+len(b), syscall.EMSGSIZE)
	}
	if c.r == nil {
		c.in <- transport.MeshArrival{Data: nil}
		return nil
	}
	ack, v := c.r.R.Answer(c.p.Src, b)
	if v != mesh.Answered {
		return nil
	}
	m, err := wire.ParseMesh(ack)
	if err != nil {
		return fmt.Errorf("checktest: the responder's ack: %w", err)
	}
	if c.r.Plain {
		p, _ := wire.ParseMesh(b)
		ack, m = wire.MarshalMeshAck(p, len(b), c.r.R.Key), wire.MeshMessage{}
	}
	a := transport.MeshArrival{Data: ack}
	if sh := m.Shape; sh != nil && sh.Status == wire.MeshShapeSent && sh.Header != wire.MeshNoHeader {
		if c.r.NoCapability {
			if a.Data, err = wire.WithoutHeader(ack, wire.MeshShapeNotPermitted, c.r.R.Key); err != nil {
				return err
			}
		} else {
			a.HopByHop, a.DstOpts = sh.Header == wire.MeshHopByHop, sh.Header == wire.MeshDstOpts
		}
	}
	if over+len(a.Data)+boolInt(a.HopByHop || a.DstOpts)*8 > c.p.pathMTU() {
		return nil
	}
	for _, h := range c.p.Hops {
		if a.HopByHop && h.DropHopByHopBack || a.DstOpts && h.DropDstOptsBack {
			return nil
		}
	}
	a.At = time.Now()
	c.in <- a
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Read returns the next datagram back, waiting until deadline.
func (c *ResponderConn) Read(deadline time.Time) (transport.MeshArrival, error) {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case a := <-c.in:
		if a.Data == nil {
			return a, fmt.Errorf("checktest: read: %w", syscall.ECONNREFUSED)
		}
		return a, nil
	case <-t.C:
		return transport.MeshArrival{}, fmt.Errorf("checktest: %w", os.ErrDeadlineExceeded)
	}
}

// Close closes the conn.
func (c *ResponderConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	return nil
}

func (p *Path) pathMTU() int {
	if p.MTU == 0 {
		return 1500
	}
	return p.MTU
}
