package transport

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/wire"
)

// QUICConn sends QUIC probes (MethodQUIC): UDP datagrams to the target's
// QUIC port (443) shaped as long-header packets of a reserved version
// (wire.MarshalQUICProbe), from an ordinary UDP socket in probe mode (DF
// set, no privilege), its errors read from the socket's error queue as
// MethodUDPRecvErr's are. A QUIC server answers a datagram of at least
// 1200 bytes with a Version Negotiation, which proves it arrived: so it
// works through NAT and against any HTTP/3 server, with no ICMP. Below
// that size a server may stay silent, so the conn's MinSize is 1200 bytes
// of UDP payload: the search starts there, and a smaller path MTU is left
// to another method.
//
// Each probe carries the conn's cookie as its Destination Connection ID
// and its sequence number with the rest of the cookie as its Source
// Connection ID; a Version Negotiation names them swapped, from the
// target's port, or it is ignored. A Port Unreachable from the target
// says no QUIC server listens (Unreachable), not that the probe arrived.
type QUICConn struct{ *UDPConn }

var _ wire.Conn = (*QUICConn)(nil)

// ReplyLimit is none: a QUIC server's Version Negotiation is not the
// kernel's rate-limited Port Unreachable.
func (c *QUICConn) ReplyLimit() (burst int, every time.Duration) { return 0, 0 }

// MinSize is the smallest probe a QUIC server must answer: 1200 bytes of
// UDP payload, 1228 IPv4 or 1248 IPv6 bytes.
func (c *QUICConn) MinSize() mtu.Size {
	return mtu.Size(mtu.IPHeader(c.ipv6) + mtu.UDPHeader + wire.QUICMinDatagram)
}

// Traffic is the datagrams and bytes (UDP payload) the conn sent.
func (c *QUICConn) Traffic() Traffic {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sent
}

// quicShape is how a QUICConn's probes look: its reserved version and the
// cookie its connection IDs carry.
type quicShape struct {
	version uint32
	cookie  [8]byte
}

func newQUICShape(cookie [8]byte) *quicShape {
	var v [4]byte
	_, _ = rand.Read(v[:])
	return &quicShape{version: wire.QUICReserve(binary.BigEndian.Uint32(v[:])), cookie: cookie}
}

// scid is the Source Connection ID of probe seq: its sequence number,
// then the second half of the cookie.
func (q *quicShape) scid(seq int) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(seq))
	return append(b, q.cookie[4:]...)
}

// probe is the n-byte payload of probe seq.
func (q *quicShape) probe(seq, n int) ([]byte, error) {
	return wire.MarshalQUICProbe(q.version, q.cookie[:], q.scid(seq), n)
}

// answer reads the probe a datagram from the target answers: a Version
// Negotiation naming our IDs swapped. It says why not otherwise.
func (q *quicShape) answer(b []byte) (int, string) {
	vn, err := wire.ParseVersionNegotiation(b)
	if err != nil {
		return 0, err.Error()
	}
	return q.match(vn.SCID, vn.DCID, "Version Negotiation")
}

// quoted reads the probe an ICMP error quotes, from the long header's
// IDs at the start of the quoted payload.
func (q *quicShape) quoted(b []byte) (int, string) {
	h, err := wire.ParseQUICLongHeader(b)
	if err != nil {
		return 0, err.Error()
	}
	if h.Version != q.version {
		return 0, fmt.Sprintf("a QUIC packet of version %#08x, not ours", h.Version)
	}
	return q.match(h.DCID, h.SCID, "QUIC packet")
}

// match checks a packet's view of our IDs: ours is the probe's
// Destination Connection ID (the cookie), seqID its Source Connection ID.
func (q *quicShape) match(ours, seqID []byte, what string) (int, string) {
	if !bytes.Equal(ours, q.cookie[:]) || len(seqID) != 8 || !bytes.Equal(seqID[4:], q.cookie[4:]) {
		return 0, "a " + what + " without our connection IDs (forged, or another program's)"
	}
	return int(binary.BigEndian.Uint32(seqID)), ""
}

// quicGap is the least time between two QUIC probes: a server queues few
// Version Negotiations at once (quic-go: 4) and drops the rest, so a
// round's probes leave a little apart.
const quicGap = time.Millisecond

// pace waits until quicGap has passed since the last probe.
func (c *UDPConn) pace(ctx context.Context) {
	if wait := time.Until(c.lastSend.Add(quicGap)); wait > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
	c.lastSend = time.Now()
}
