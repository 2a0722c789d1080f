package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// QUIC probes (RFC 8999, the version-independent properties of QUIC, and
// RFC 9000 §6, §14.1, §15, §17.2.1).
//
// A QUIC probe is a UDP datagram shaped as a long-header packet of a
// reserved version (0x?a?a?a?a, RFC 9000 §15), padded to the probe's
// size. A QUIC server that receives a long-header packet of a version it
// does not support, in a datagram of at least QUICMinDatagram bytes,
// answers with a Version Negotiation packet (RFC 9000 §6.1); the answer
// proves the datagram arrived. Its Destination Connection ID is the
// probe's Source Connection ID and its Source Connection ID the probe's
// Destination Connection ID (RFC 9000 §17.2.1), which is how an answer is
// matched to its probe. A smaller datagram may be dropped unanswered: below
// that size QUIC cannot tell arrival from loss.

// QUICMinDatagram is the smallest UDP payload a QUIC server must answer
// with Version Negotiation (RFC 9000 §14.1: a client's first datagram is at
// least 1200 bytes, and a server may drop smaller ones of an unknown
// version).
const QUICMinDatagram = 1200

// QUICProbeHeader is the smallest a QUIC probe can be: the first byte,
// the version, two 8-byte connection IDs with their lengths.
const QUICProbeHeader = 1 + 4 + 1 + 8 + 1 + 8

// QUICReservedVersion reports whether v is a version RFC 9000 §15 reserves
// for forcing version negotiation: 0x?a?a?a?a.
func QUICReservedVersion(v uint32) bool { return v&0x0f0f0f0f == 0x0a0a0a0a }

// QUICReserve turns any 32 bits into a reserved version, keeping the high
// nibble of each byte: a random value gives a random reserved version.
func QUICReserve(v uint32) uint32 { return v&0xf0f0f0f0 | 0x0a0a0a0a }

// MarshalQUICProbe returns a QUIC probe of exactly n bytes (the UDP
// payload): a long header (form and fixed bits set, type Initial) of
// version, which must be reserved, with dcid and scid (1 to 20 bytes each),
// then zeros. n must be at least the header's length.
func MarshalQUICProbe(version uint32, dcid, scid []byte, n int) ([]byte, error) {
	if !QUICReservedVersion(version) {
		return nil, fmt.Errorf("QUIC version %#08x is not reserved for negotiation (0x?a?a?a?a)", version)
	}
	if len(dcid) < 1 || len(dcid) > 20 || len(scid) < 1 || len(scid) > 20 {
		return nil, fmt.Errorf("QUIC connection IDs of %d and %d bytes: want 1 to 20", len(dcid), len(scid))
	}
	head := 1 + 4 + 1 + len(dcid) + 1 + len(scid)
	if n < head || n > 65535-8 {
		return nil, fmt.Errorf("%w: a %d-byte QUIC probe (the header alone is %d)", ErrSize, n, head)
	}
	b := make([]byte, n)
	b[0] = 0xc0 // long header, fixed bit, type Initial (0), reserved bits 0
	binary.BigEndian.PutUint32(b[1:5], version)
	b[5] = byte(len(dcid))
	copy(b[6:], dcid)
	i := 6 + len(dcid)
	b[i] = byte(len(scid))
	copy(b[i+1:], scid)
	return b, nil
}

// QUICLongHeader is the version-independent part of a long-header packet
// (RFC 8999 §5.1): what a quote of a probe shows.
type QUICLongHeader struct {
	Version    uint32
	DCID, SCID []byte
}

// errQUIC is the error of a datagram that is no QUIC long-header packet.
var errQUIC = errors.New("not a QUIC long-header packet")

// ParseQUICLongHeader reads the invariant fields of a long-header packet.
// b may be cut short after the Source Connection ID (a quote).
func ParseQUICLongHeader(b []byte) (QUICLongHeader, error) {
	var h QUICLongHeader
	if len(b) < 7 || b[0]&0x80 == 0 {
		return h, errQUIC
	}
	h.Version = binary.BigEndian.Uint32(b[1:5])
	rest := b[5:]
	var err error
	if h.DCID, rest, err = quicCID(rest, "destination"); err != nil {
		return h, err
	}
	if h.SCID, _, err = quicCID(rest, "source"); err != nil {
		return h, err
	}
	return h, nil
}

// VersionNegotiation is a QUIC Version Negotiation packet (RFC 8999 §6,
// RFC 9000 §17.2.1): the connection IDs of the packet it answers, swapped,
// and the versions the server supports.
type VersionNegotiation struct {
	DCID, SCID []byte
	Versions   []uint32
}

// ParseVersionNegotiation reads a Version Negotiation packet: a long
// header with version 0, then a list of versions, at least one, 4 bytes
// each.
func ParseVersionNegotiation(b []byte) (VersionNegotiation, error) {
	var vn VersionNegotiation
	h, err := ParseQUICLongHeader(b)
	if err != nil {
		return vn, err
	}
	if h.Version != 0 {
		return vn, fmt.Errorf("QUIC packet of version %#08x, not a Version Negotiation (0)", h.Version)
	}
	rest := b[5+1+len(h.DCID)+1+len(h.SCID):]
	if len(rest) == 0 || len(rest)%4 != 0 {
		return vn, fmt.Errorf("a Version Negotiation with %d bytes of versions: want a multiple of 4, at least 4", len(rest))
	}
	vn.DCID, vn.SCID = h.DCID, h.SCID
	for ; len(rest) >= 4; rest = rest[4:] {
		vn.Versions = append(vn.Versions, binary.BigEndian.Uint32(rest))
	}
	return vn, nil
}

// quicCID reads a length-prefixed connection ID (a copy) and returns what
// follows.
func quicCID(b []byte, which string) (cid, rest []byte, err error) {
	if len(b) < 1 {
		return nil, nil, fmt.Errorf("QUIC packet cut before its %s connection ID", which)
	}
	n := int(b[0])
	if len(b) < 1+n {
		return nil, nil, fmt.Errorf("QUIC %s connection ID of %d bytes, %d left", which, n, len(b)-1)
	}
	return append([]byte{}, b[1:1+n]...), b[1+n:], nil
}
