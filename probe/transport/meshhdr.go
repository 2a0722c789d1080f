package transport

import (
	"errors"
	"net"
	"syscall"

	"github.com/pmtu/pmtu/probe/wire"
)

// answerShaped sends ack, an acknowledgement of a probe of n bytes, with
// the IPv6 extension header its shape asks for, attached as ancillary
// data (IPV6_HOPOPTS or IPV6_DSTOPTS in sendmsg). It returns nil when it
// sent it (or could not), else the acknowledgement to send plainly: ack
// itself when it asks for no header, or ack rebuilt to say the header
// was not permitted when the kernel refused it (EPERM: on Linux only a
// socket with CAP_NET_RAW may attach these headers, even to a UDP
// datagram). The IP packet, header included, is never larger than the
// probe's.
func (s *MeshSocket) answerShaped(ack []byte, n int, to *net.UDPAddr) []byte {
	m, err := wire.ParseMesh(ack)
	if err != nil || m.Shape == nil || m.Shape.Status != wire.MeshShapeSent || m.Shape.Header == wire.MeshNoHeader {
		return ack
	}
	hl := m.Shape.Header.Len()
	if len(ack)+hl > n {
		return nil
	}
	uc, ok := s.sock.(*net.UDPConn)
	if !ok {
		return ack
	}
	oob := headerOOB(m.Shape.Header)
	send := func(b []byte) error {
		_, _, err := uc.WriteMsgUDP(b, oob, to)
		for try := 0; try < 3 && pendingErr(err); try++ {
			_, _, err = uc.WriteMsgUDP(b, oob, to)
		}
		return err
	}
	err = send(ack)
	if errors.Is(err, syscall.EMSGSIZE) && len(ack)-hl >= wire.MeshLen(s.key != nil)+wire.MeshShapeLen {
		// Linux counts a Destination Options header twice against the
		// MTU of a datagram that may not be fragmented (it is both in
		// the datagram's length and in its header size): an ack the
		// size of the MTU is refused. It goes a header's length smaller,
		// and says so.
		sh := *m.Shape
		sh.Size -= uint16(hl)
		if smaller, merr := wire.MarshalMeshShapedAck(m, int(m.Size), sh, len(ack)-hl, s.key); merr == nil {
			err = send(smaller)
		}
	}
	switch {
	case err == nil:
		s.stats.Answers.Add(1)
	case errors.Is(err, syscall.EPERM):
		if plain, err := wire.WithoutHeader(ack, wire.MeshShapeNotPermitted, s.key); err == nil {
			return plain
		}
	}
	return nil
}
