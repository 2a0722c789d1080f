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
//	6   1  flags: bit 0, a MAC follows the header; bit 1, a shape
//	       follows the header (and its MAC)
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
//
// A shaped acknowledgement (flag bit 1) is how pmtu check tests IPv6
// extension headers on the way back: the probe asks for an
// acknowledgement that comes back carrying a Hop-by-Hop or Destination
// Options header, in an IP packet of a given size. The 4-byte shape
// follows the header, and the MAC when keyed (the MAC covers it):
//
//	0   1  extension header: 0 none, 1 Hop-by-Hop, 2 Destination Options
//	1   1  probe: 0; acknowledgement: what the responder did
//	       (MeshShapeStatus: 0 as asked, 1 not permitted, 2 too small,
//	       3 not IPv6)
//	2   2  probe: the IP packet size of the acknowledgement asked for;
//	       acknowledgement: the IP packet size the responder built
//
// A shaped acknowledgement is zeros after its shape up to its size, and
// never a longer IP packet than the probe it answers (the responder
// cuts it down). A responder that predates shapes ignores flag bit 1
// and answers with a plain acknowledgement: the prober sees it has no
// shape.

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
	// meshFlagShape: a MeshShape follows the header and its MAC.
	meshFlagShape = 2
	// MeshShapeLen is the length of a shape.
	MeshShapeLen = 4
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
	// Shape, in a probe, asks for a shaped acknowledgement; in an
	// acknowledgement, says how it was shaped. Nil: a plain datagram.
	Shape *MeshShape
}

// MeshHeader is the IPv6 extension header a shaped acknowledgement
// carries.
type MeshHeader uint8

// Extension headers of a shaped acknowledgement.
const (
	MeshNoHeader MeshHeader = 0
	MeshHopByHop MeshHeader = 1
	MeshDstOpts  MeshHeader = 2
)

func (h MeshHeader) String() string {
	return enumName([]string{"none", "Hop-by-Hop", "Destination Options"}, uint8(h), "header")
}

// enumName is names[v], or what and v when names has none.
func enumName(names []string, v uint8, what string) string {
	if int(v) < len(names) {
		return names[v]
	}
	return fmt.Sprintf("%s %d", what, v)
}

// Len is the header's length in the IP packet: 0 for none, else
// OptionsHeader's 8 bytes.
func (h MeshHeader) Len() int {
	if h == MeshNoHeader {
		return 0
	}
	return ipv6ExtLen
}

// MeshShapeStatus is what a responder did with the shape a probe asked
// for.
type MeshShapeStatus uint8

// Shape statuses of an acknowledgement.
const (
	// MeshShapeSent: sent as asked, with the header.
	MeshShapeSent MeshShapeStatus = 0
	// MeshShapeNotPermitted: the responder may not send the header (on
	// Linux an unprivileged socket needs CAP_NET_RAW to attach IPv6
	// options); the acknowledgement came without it.
	MeshShapeNotPermitted MeshShapeStatus = 1
	// MeshShapeTooSmall: the probe was too small to answer with the
	// header without amplifying; the acknowledgement came without it.
	MeshShapeTooSmall MeshShapeStatus = 2
	// MeshShapeNotIPv6: the probe came over IPv4, which has no such
	// headers; the acknowledgement came without it.
	MeshShapeNotIPv6 MeshShapeStatus = 3
)

func (s MeshShapeStatus) String() string {
	return enumName([]string{"sent", "not permitted", "probe too small", "not IPv6"}, uint8(s), "status")
}

// MeshShape is a shaped acknowledgement: asked for by a probe, or
// described by the acknowledgement itself.
type MeshShape struct {
	// Header is the extension header asked for, or carried.
	Header MeshHeader
	// Status is what the responder did (acknowledgements only).
	Status MeshShapeStatus
	// Size is the IP packet size of the acknowledgement: asked for
	// (probe), or built (acknowledgement; the header included only when
	// Status is MeshShapeSent).
	Size uint16
}

// Errors of ParseMesh; a caller branches on none of them but tests and
// counters tell them apart.
var (
	ErrMeshShort   = errors.New("shorter than a mesh header")
	ErrMeshMagic   = errors.New("not a pmtu mesh datagram")
	ErrMeshVersion = errors.New("unknown mesh version")
	ErrMeshKind    = errors.New("unknown mesh datagram kind")
	ErrMeshLong    = errors.New("acknowledgement longer than its header")
	ErrMeshShape   = errors.New("bad mesh shape")
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
	if b[6]&meshFlagShape != 0 {
		off := MeshLen(m.Keyed)
		if len(b) < off+MeshShapeLen {
			return m, fmt.Errorf("%w: %d bytes, shaped", ErrMeshShort, len(b))
		}
		sh := &MeshShape{Header: MeshHeader(b[off]), Status: MeshShapeStatus(b[off+1]), Size: binary.BigEndian.Uint16(b[off+2:])}
		switch {
		case sh.Header > MeshDstOpts:
			return m, fmt.Errorf("%w: %v", ErrMeshShape, sh.Header)
		case sh.Status > MeshShapeNotIPv6, m.Kind == MeshProbe && sh.Status != MeshShapeSent:
			return m, fmt.Errorf("%w: %v in a %v", ErrMeshShape, sh.Status, m.Kind)
		}
		m.Shape = sh
	} else if m.Kind == MeshAck && len(b) != MeshLen(m.Keyed) {
		return m, fmt.Errorf("%w: %d bytes", ErrMeshLong, len(b))
	}
	copy(m.Nonce[:], b[8:24])
	m.Sent = time.Unix(0, int64(binary.BigEndian.Uint64(b[24:32])))
	m.Size = binary.BigEndian.Uint32(b[32:36])
	return m, nil
}

// MarshalMeshProbe builds a probe of n bytes of UDP payload (at least
// MeshLen(key != nil), and MeshShapeLen more when m.Shape asks for a
// shaped acknowledgement) carrying m's nonce, send time, size and shape,
// with a MAC when key is not nil.
func MarshalMeshProbe(m MeshMessage, n int, key []byte) ([]byte, error) {
	least := MeshLen(key != nil)
	if m.Shape != nil {
		least += MeshShapeLen
		if m.Shape.Header > MeshDstOpts {
			return nil, fmt.Errorf("%w: %v", ErrMeshShape, m.Shape.Header)
		}
		sh := *m.Shape
		sh.Status = MeshShapeSent
		m.Shape = &sh
	}
	if n < least {
		return nil, fmt.Errorf("%w: %d bytes of UDP payload, a mesh probe needs %d", ErrSize, n, least)
	}
	m.Kind = MeshProbe
	return marshalMesh(m, n, key), nil
}

// MarshalMeshShapedAck builds the shaped acknowledgement of probe p, n
// bytes of UDP payload (at least MeshLen(key != nil)+MeshShapeLen):
// p's nonce and send time, received (the UDP payload bytes that
// arrived), and sh; with a MAC when key is not nil. The caller sizes n
// and says in sh what it did (package mesh's Responder).
func MarshalMeshShapedAck(p MeshMessage, received int, sh MeshShape, n int, key []byte) ([]byte, error) {
	if least := MeshLen(key != nil) + MeshShapeLen; n < least {
		return nil, fmt.Errorf("%w: %d bytes of UDP payload, a shaped acknowledgement needs %d", ErrSize, n, least)
	}
	a := MeshMessage{Kind: MeshAck, Nonce: p.Nonce, Sent: p.Sent, Size: uint32(received), Shape: &sh}
	return marshalMesh(a, n, key), nil
}

// WithoutHeader returns the shaped acknowledgement b again, its status
// s and its size less its header's length, its MAC made anew with key:
// what a responder sends when it cannot attach the header it built b
// for (MeshShapeNotPermitted). b must be a shaped acknowledgement.
func WithoutHeader(b []byte, s MeshShapeStatus, key []byte) ([]byte, error) {
	m, err := ParseMesh(b)
	if err != nil {
		return nil, err
	}
	if m.Kind != MeshAck || m.Shape == nil {
		return nil, fmt.Errorf("%w: not a shaped acknowledgement", ErrMeshShape)
	}
	sh := *m.Shape
	if sh.Status == MeshShapeSent {
		sh.Size -= uint16(sh.Header.Len())
	}
	sh.Status = s
	return MarshalMeshShapedAck(m, int(m.Size), sh, len(b), key)
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
	if m.Shape != nil {
		b[6] |= meshFlagShape
		off := MeshLen(key != nil)
		b[off], b[off+1] = byte(m.Shape.Header), byte(m.Shape.Status)
		binary.BigEndian.PutUint16(b[off+2:], m.Shape.Size)
	}
	if key != nil {
		b[6] |= meshFlagMAC
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
