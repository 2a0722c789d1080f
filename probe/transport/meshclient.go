package transport

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// MeshClient is an ordinary UDP socket connected to one pmtu mesh
// responder: how pmtu check asks for shaped acknowledgements
// (wire.MeshShape) and sees which IPv6 extension headers each arrived
// with. It needs no privilege: IPV6_RECVHOPOPTS and IPV6_RECVDSTOPTS
// (sockopt.SetRecvExtHeaders) hand each datagram's Hop-by-Hop and
// Destination Options headers up with it, IPV6_PMTUDISC_PROBE
// (IP_PMTUDISC_PROBE) sends each datagram whole, sized against the
// interface MTU, and, connected, a Port Unreachable from the responder's
// address ends a read at once (ECONNREFUSED). Its caller matches what it
// reads to what it sent.
type MeshClient struct {
	c   *net.UDPConn
	src netip.Addr
	dst netip.AddrPort
}

// MeshArrival is one datagram a MeshClient read: its UDP payload, and
// which IPv6 extension headers it came with.
type MeshArrival struct {
	Data              []byte
	HopByHop, DstOpts bool
	At                time.Time
}

// Src is the source address of the datagrams sent.
func (c *MeshClient) Src() netip.Addr { return c.src }

// Write sends b, a UDP payload, to the responder.
func (c *MeshClient) Write(ctx context.Context, b []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := c.c.Write(b)
	for try := 0; try < 3 && pendingErr(err); try++ {
		// An earlier datagram's Port Unreachable, reported on this
		// send, which then did not happen.
		_, err = c.c.Write(b)
	}
	if err != nil {
		return fmt.Errorf("sending %d bytes to %s: %w", len(b), c.dst, err)
	}
	return nil
}

// Close closes the socket.
func (c *MeshClient) Close() error { return c.c.Close() }
