package transport

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/pmtu/pmtu/probe/wire"
)

// RawIPConn sends whole IP packets its caller built, header included
// (an IPPROTO_RAW socket: the kernel adds nothing and refragments
// nothing), and reads back, unjudged, every ICMP message and TCP segment
// sent to its source: what pmtu check needs to send a SYN with an MSS
// option at a chosen hop limit, an Echo Request cut into fragments by
// hand, or one carrying IPv6 extension headers, and to read the quotes,
// replies and SYN-ACKs they earn. Its caller matches what it reads to
// what it sent. It needs root or CAP_NET_RAW.
type RawIPConn struct {
	src, dst netip.Addr
	out      net.PacketConn // IPPROTO_RAW
	icmp     net.PacketConn // raw ICMP: errors and Echo Replies, with IP_RECVFRAGSIZE
	tcp      net.PacketConn // raw TCP: SYN-ACKs and RSTs
	in       *inbox
}

// Src is the source address packets must carry: the one the read
// sockets are bound to.
func (c *RawIPConn) Src() netip.Addr { return c.src }

// Target is the address the conn was opened toward.
func (c *RawIPConn) Target() netip.Addr { return c.dst }

// WritePacket sends the IP packet b as it is, to its destination (which
// must be the conn's target).
func (c *RawIPConn) WritePacket(ctx context.Context, b []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := c.out.WriteTo(b, &net.IPAddr{IP: c.dst.AsSlice()})
	if err != nil {
		return fmt.Errorf("sending a %d-byte packet to %s: %w", len(b), c.dst, err)
	}
	return nil
}

// ReadPacket returns the next ICMP message or TCP segment that arrived,
// waiting until deadline at the latest; then it returns an error
// satisfying errors.Is(err, os.ErrDeadlineExceeded).
func (c *RawIPConn) ReadPacket(deadline time.Time) (wire.Received, error) {
	a, err := c.in.get(deadline)
	if err != nil {
		return wire.Received{}, err
	}
	r := wire.Received{From: a.from, Data: a.b, FragSize: a.frag, At: a.at, Proto: wire.ProtoTCP}
	if a.src == fromICMP {
		r.Proto = wire.ICMPProto(c.dst.Is6())
	}
	return r, nil
}

// Close closes the sockets and stops the readers.
func (c *RawIPConn) Close() error {
	for _, s := range []net.PacketConn{c.out, c.icmp, c.tcp} {
		if s != nil {
			s.Close()
		}
	}
	c.in.close()
	return nil
}
