package wire

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// The datagrams of pmtu mesh: a probe one agent sends to a peer's
// responder, padded to the size under test, and the acknowledgement the
// responder sends back, which says how many bytes arrived. Both start
// with the same header, all fields big-endian:
//
//	0   4  magic "PMTM"
//	4   1  version (1)
//	5   1  kind: 1 probe, 2 acknowledgement
//	6   1  flags: bit 0, a MAC follows the header
//	7   1  reserved, 0
//	8  16  nonce: chosen by the prober, echoed by the acknowledgement
//	24  8  the prober's send time, Unix nanoseconds, echoed
//	32  4  probe: the IP packet size the prober built;
//	       acknowledgement: the UDP payload bytes of the probe that arrived
//	36 32  with flag bit 0: HMAC-SHA256 over the whole datagram, this
//	       field zeroed, keyed with the mesh's shared key
//
// A probe is zeros after the header up to its size. An acknowledgement
// is the header alone (36 or 68 bytes), never longer than the probe it
// answers: a responder cannot be used to amplify.

// MeshNonce identifies one mesh probe: the prober chooses it and matches
// the acknowledgement by it.
type MeshNonce [16]byte

// MeshKind is what a mesh datagram is.
type MeshKind uint8

// Mesh datagram kinds.
const (
	MeshProbe MeshKind = 1
	MeshAck   MeshKind = 2
)

func (k MeshKind) String() string {
	switch k {
	case MeshProbe:
		return "probe"
	case MeshAck:
		return "ack"
	}
	return fmt.Sprintf("kind %d", uint8(k))
}

// Mesh header sizes.
const (
	meshMagic   = "PMTM"
	meshVersion = 1
	meshFlagMAC = 1
	// MeshHeaderLen is the header without a MAC: the shortest mesh
	// datagram.
	MeshHeaderLen = 36
	// MeshMACLen is the length of the HMAC-SHA256 that follows the
	// header of a keyed datagram.
	MeshMACLen = sha256.Size
)

// MeshLen is the length of a mesh header, with its MAC when keyed: the
// smallest UDP payload a probe can have, and an acknowledgement's whole
// length.
func MeshLen(keyed bool) int {
	if keyed {
		return MeshHeaderLen + MeshMACLen
	}
	return MeshHeaderLen
}

// MeshMessage is a mesh datagram's header, parsed.
type MeshMessage struct {
	Kind  MeshKind
	Nonce MeshNonce
	// Sent is the prober's send time, echoed by an acknowledgement.
	Sent time.Time
	// Size is, in a probe, the IP packet size the prober built; in an
	// acknowledgement, the UDP payload bytes of the probe that arrived.
	Size uint32
	// Keyed says a MAC follows the header; VerifyMeshMAC checks it.
	Keyed bool
}

// Errors of ParseMesh; a caller branches on none of them but tests and
// counters tell them apart.
var (
	ErrMeshShort   = errors.New("shorter than a mesh header")
	ErrMeshMagic   = errors.New("not a pmtu mesh datagram")
	ErrMeshVersion = errors.New("unknown mesh version")
	ErrMeshKind    = errors.New("unknown mesh datagram kind")
	ErrMeshLong    = errors.New("acknowledgement longer than its header")
)

// ParseMesh reads the header of a mesh datagram, b the whole UDP
// payload. It checks the layout only; the MAC is VerifyMeshMAC's.
func ParseMesh(b []byte) (MeshMessage, error) {
	var m MeshMessage
	if len(b) < MeshHeaderLen {
		return m, fmt.Errorf("%w: %d bytes", ErrMeshShort, len(b))
	}
	if string(b[0:4]) != meshMagic {
		return m, ErrMeshMagic
	}
	if b[4] != meshVersion {
		return m, fmt.Errorf("%w %d", ErrMeshVersion, b[4])
	}
	m.Kind = MeshKind(b[5])
	if m.Kind != MeshProbe && m.Kind != MeshAck {
		return m, fmt.Errorf("%w %d", ErrMeshKind, b[5])
	}
	m.Keyed = b[6]&meshFlagMAC != 0
	if m.Keyed && len(b) < MeshHeaderLen+MeshMACLen {
		return m, fmt.Errorf("%w: %d bytes, keyed", ErrMeshShort, len(b))
	}
	if m.Kind == MeshAck && len(b) != MeshLen(m.Keyed) {
		return m, fmt.Errorf("%w: %d bytes", ErrMeshLong, len(b))
	}
	copy(m.Nonce[:], b[8:24])
	m.Sent = time.Unix(0, int64(binary.BigEndian.Uint64(b[24:32])))
	m.Size = binary.BigEndian.Uint32(b[32:36])
	return m, nil
}

// MarshalMeshProbe builds a probe of n bytes of UDP payload (at least
// MeshLen(key != nil)) carrying m's nonce, send time and size, with a MAC
// when key is not nil.
func MarshalMeshProbe(m MeshMessage, n int, key []byte) ([]byte, error) {
	if n < MeshLen(key != nil) {
		return nil, fmt.Errorf("%w: %d bytes of UDP payload, a mesh probe needs %d", ErrSize, n, MeshLen(key != nil))
	}
	m.Kind = MeshProbe
	return marshalMesh(m, n, key), nil
}

// MarshalMeshAck builds the acknowledgement of probe p: p's nonce and send
// time, and received, the UDP payload bytes that arrived; with a MAC when
// key is not nil.
func MarshalMeshAck(p MeshMessage, received int, key []byte) []byte {
	a := MeshMessage{Kind: MeshAck, Nonce: p.Nonce, Sent: p.Sent, Size: uint32(received)}
	return marshalMesh(a, MeshLen(key != nil), key)
}

func marshalMesh(m MeshMessage, n int, key []byte) []byte {
	b := make([]byte, n)
	copy(b, meshMagic)
	b[4], b[5] = meshVersion, byte(m.Kind)
	copy(b[8:24], m.Nonce[:])
	binary.BigEndian.PutUint64(b[24:32], uint64(m.Sent.UnixNano()))
	binary.BigEndian.PutUint32(b[32:36], m.Size)
	if key != nil {
		b[6] = meshFlagMAC
		mac := meshMAC(b, key)
		copy(b[MeshHeaderLen:], mac)
	}
	return b
}

// meshMAC is the HMAC-SHA256 of b with its MAC field read as zeros.
func meshMAC(b, key []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(b[:MeshHeaderLen])
	var zero [MeshMACLen]byte
	h.Write(zero[:])
	h.Write(b[MeshHeaderLen+MeshMACLen:])
	return h.Sum(nil)
}

// VerifyMeshMAC reports whether b, a mesh datagram, carries a MAC and the
// MAC is right for key (compared in constant time).
func VerifyMeshMAC(b, key []byte) bool {
	if len(b) < MeshHeaderLen+MeshMACLen || b[6]&meshFlagMAC == 0 {
		return false
	}
	return hmac.Equal(b[MeshHeaderLen:MeshHeaderLen+MeshMACLen], meshMAC(b, key))
}
