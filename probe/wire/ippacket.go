package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv6"

	"github.com/pmtu/pmtu/mtu"
)

// IPv6 extension headers pmtu builds and reads (RFC 8200 §4).
const (
	ProtoHopByHop = 0
	ProtoRouting  = 43
	ProtoFragment = 44
	ProtoNoNext   = 59
	ProtoDstOpts  = 60
)

// ipv6ExtLen is the size of each extension header pmtu builds: a
// Hop-by-Hop or Destination Options header holding one PadN option of 4
// bytes (RFC 8200 §4.2: 2 bytes of header, 6 of option), or a Fragment
// header.
const ipv6ExtLen = 8

// OptionsHeader is the Hop-by-Hop or Destination Options header pmtu
// sends: 8 bytes, one PadN option of 4 bytes of zeros, its Next Header
// 0 for the sender (or the kernel, for ancillary data) to fill in.
func OptionsHeader() []byte {
	h := make([]byte, ipv6ExtLen)
	h[1] = 0          // 8 bytes in all
	h[2], h[3] = 1, 4 // PadN, 4 bytes of zeros
	return h
}

// IPPacket is an IP packet as pmtu builds one (MarshalIP) or reads one
// (ParseIP): the header fields the checks of pmtu check need, and the
// bytes after every header.
type IPPacket struct {
	Src, Dst netip.Addr
	// TTL is the IPv4 Time to Live or the IPv6 Hop Limit.
	TTL int
	// Proto is the protocol of Payload: after the extension headers,
	// for IPv6.
	Proto int
	// DF is the IPv4 Don't Fragment bit; IPv6 routers never fragment.
	DF bool
	// Fragment is true for a fragment: an IPv4 packet with an offset or
	// More Fragments, an IPv6 packet with a Fragment header. ID is the
	// identification of its datagram, FragOffset where its bytes go (a
	// multiple of 8), MoreFrags whether more follow.
	Fragment   bool
	ID         uint32
	FragOffset int
	MoreFrags  bool
	// HopByHop and DstOpts are true for an IPv6 packet that carries a
	// Hop-by-Hop or Destination Options header (MarshalIP builds each
	// with one PadN option, 8 bytes).
	HopByHop, DstOpts bool
	// Payload is what follows the headers: the upper-layer packet, or
	// the part of it a fragment carries.
	Payload []byte
}

// IPv6 reports whether p is an IPv6 packet.
func (p IPPacket) IPv6() bool { return p.Dst.Unmap().Is6() }

// HeaderLen is the length of p's headers: 20 for IPv4, 40 for IPv6 plus
// 8 for each extension header.
func (p IPPacket) HeaderLen() int {
	if !p.IPv6() {
		return mtu.IPv4Header
	}
	n := mtu.IPv6Header
	for _, on := range []bool{p.HopByHop, p.DstOpts, p.Fragment} {
		if on {
			n += ipv6ExtLen
		}
	}
	return n
}

// Size is the length of the marshalled packet.
func (p IPPacket) Size() mtu.Size { return mtu.Size(p.HeaderLen() + len(p.Payload)) }

// ErrNotIP is the error of ParseIP.
var ErrNotIP = errors.New("not an IP packet pmtu reads")

// MarshalIP builds p, every header field set (IPv4 header checksum
// included): what a raw socket with the header included (IPPROTO_RAW)
// sends as it is. IPv6 extension headers go in the order RFC 8200 §4.1
// gives: Hop-by-Hop, Destination Options, Fragment.
func MarshalIP(p IPPacket) ([]byte, error) {
	src, dst := p.Src.Unmap(), p.Dst.Unmap()
	if !src.IsValid() || !dst.IsValid() || src.Is6() != dst.Is6() {
		return nil, fmt.Errorf("%w: addresses %v and %v", ErrNotIP, p.Src, p.Dst)
	}
	if p.TTL < 0 || p.TTL > 255 || p.Proto < 0 || p.Proto > 255 {
		return nil, fmt.Errorf("%w: hop limit %d, protocol %d", ErrNotIP, p.TTL, p.Proto)
	}
	if p.Fragment && p.FragOffset%8 != 0 {
		return nil, fmt.Errorf("%w: fragment offset %d is not a multiple of 8", ErrNotIP, p.FragOffset)
	}
	size := p.HeaderLen() + len(p.Payload)
	if size > int(mtu.Max)+boolInt(dst.Is6())*mtu.IPv6Header {
		return nil, fmt.Errorf("%w: %d bytes", ErrSize, size)
	}
	b := make([]byte, size)
	if !dst.Is6() {
		if p.FragOffset/8 > 0x1fff {
			return nil, fmt.Errorf("%w: fragment offset %d", ErrNotIP, p.FragOffset)
		}
		b[0] = 4<<4 | mtu.IPv4Header/4
		binary.BigEndian.PutUint16(b[2:], uint16(size))
		binary.BigEndian.PutUint16(b[4:], uint16(p.ID))
		flags := uint16(p.FragOffset / 8)
		if p.DF {
			flags |= 0x4000
		}
		if p.MoreFrags {
			flags |= 0x2000
		}
		binary.BigEndian.PutUint16(b[6:], flags)
		b[8], b[9] = byte(p.TTL), byte(p.Proto)
		copy(b[12:16], src.AsSlice())
		copy(b[16:20], dst.AsSlice())
		binary.BigEndian.PutUint16(b[10:], inetChecksum(b[:mtu.IPv4Header]))
		copy(b[mtu.IPv4Header:], p.Payload)
		return b, nil
	}
	if p.FragOffset/8 > 0x1fff {
		return nil, fmt.Errorf("%w: fragment offset %d", ErrNotIP, p.FragOffset)
	}
	b[0] = 6 << 4
	binary.BigEndian.PutUint16(b[4:], uint16(size-mtu.IPv6Header))
	b[7] = byte(p.TTL)
	copy(b[8:24], src.AsSlice())
	copy(b[24:40], dst.AsSlice())
	next := &b[6] // the Next Header field to fill in
	off := mtu.IPv6Header
	pad := func(kind int) {
		*next = byte(kind)
		h := b[off : off+ipv6ExtLen]
		copy(h, OptionsHeader())
		next = &h[0]
		off += ipv6ExtLen
	}
	if p.HopByHop {
		pad(ProtoHopByHop)
	}
	if p.DstOpts {
		pad(ProtoDstOpts)
	}
	if p.Fragment {
		*next = ProtoFragment
		h := b[off : off+ipv6ExtLen]
		fo := uint16(p.FragOffset/8) << 3
		if p.MoreFrags {
			fo |= 1
		}
		binary.BigEndian.PutUint16(h[2:], fo)
		binary.BigEndian.PutUint32(h[4:], p.ID)
		next = &h[0]
		off += ipv6ExtLen
	}
	*next = byte(p.Proto)
	copy(b[off:], p.Payload)
	return b, nil
}

// ParseIP parses an IPv4 or IPv6 packet, header included (as a packet
// capture or a raw socket's write holds it), and walks the IPv6
// extension headers it knows (Hop-by-Hop, Destination Options, Routing,
// Fragment); Proto is the first header it does not know. It copies the
// payload, which the lengths in the header bound.
func ParseIP(b []byte) (IPPacket, error) {
	if len(b) < 1 {
		return IPPacket{}, fmt.Errorf("%w: empty", ErrNotIP)
	}
	var p IPPacket
	switch b[0] >> 4 {
	case 4:
		if len(b) < mtu.IPv4Header {
			return IPPacket{}, fmt.Errorf("%w: %d bytes", ErrNotIP, len(b))
		}
		hl := int(b[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(b[2:4]))
		if hl < mtu.IPv4Header || total < hl || total > len(b) {
			return IPPacket{}, fmt.Errorf("%w: header length %d, total length %d in %d bytes", ErrNotIP, hl, total, len(b))
		}
		p.Src = netip.AddrFrom4([4]byte(b[12:16]))
		p.Dst = netip.AddrFrom4([4]byte(b[16:20]))
		p.TTL, p.Proto = int(b[8]), int(b[9])
		p.ID = uint32(binary.BigEndian.Uint16(b[4:6]))
		flags := binary.BigEndian.Uint16(b[6:8])
		p.DF, p.MoreFrags = flags&0x4000 != 0, flags&0x2000 != 0
		p.FragOffset = int(flags&0x1fff) * 8
		p.Fragment = p.MoreFrags || p.FragOffset > 0
		p.Payload = append([]byte(nil), b[hl:total]...)
		return p, nil
	case 6:
		if len(b) < mtu.IPv6Header {
			return IPPacket{}, fmt.Errorf("%w: %d bytes", ErrNotIP, len(b))
		}
		end := mtu.IPv6Header + int(binary.BigEndian.Uint16(b[4:6]))
		if end > len(b) {
			return IPPacket{}, fmt.Errorf("%w: payload length %d in %d bytes", ErrNotIP, end-mtu.IPv6Header, len(b))
		}
		p.Src = netip.AddrFrom16([16]byte(b[8:24]))
		p.Dst = netip.AddrFrom16([16]byte(b[24:40]))
		p.TTL = int(b[7])
		next, off := int(b[6]), mtu.IPv6Header
	walk:
		for {
			switch next {
			case ProtoHopByHop, ProtoDstOpts, ProtoRouting, ProtoFragment:
			default:
				break walk
			}
			if off+ipv6ExtLen > end {
				return IPPacket{}, fmt.Errorf("%w: extension header %d cut short", ErrNotIP, next)
			}
			h := b[off:end]
			n := (int(h[1]) + 1) * 8
			switch next {
			case ProtoHopByHop:
				if off != mtu.IPv6Header {
					return IPPacket{}, fmt.Errorf("%w: Hop-by-Hop header not first", ErrNotIP)
				}
				p.HopByHop = true
			case ProtoDstOpts:
				p.DstOpts = true
			case ProtoFragment:
				n = ipv6ExtLen
				fo := binary.BigEndian.Uint16(h[2:4])
				p.Fragment, p.FragOffset, p.MoreFrags = true, int(fo>>3)*8, fo&1 != 0
				p.ID = binary.BigEndian.Uint32(h[4:8])
			}
			if off+n > end {
				return IPPacket{}, fmt.Errorf("%w: extension header %d of %d bytes cut short", ErrNotIP, next, n)
			}
			next, off = int(h[0]), off+n
		}
		p.Proto = next
		p.Payload = append([]byte(nil), b[off:end]...)
		return p, nil
	}
	return IPPacket{}, fmt.Errorf("%w: version %d", ErrNotIP, b[0]>>4)
}

// FragmentIP splits p into fragments that each carry at most per bytes
// of its payload (rounded down to a multiple of 8, RFC 791, RFC 8200
// §4.5), all with identification id: the datagram a receiver puts back
// together. p itself must not be a fragment. For IPv6 each fragment
// keeps p's Hop-by-Hop and Destination Options headers in front of its
// Fragment header.
func FragmentIP(p IPPacket, per int, id uint32) ([]IPPacket, error) {
	if p.Fragment {
		return nil, fmt.Errorf("%w: already a fragment", ErrNotIP)
	}
	per &^= 7
	if per < 8 {
		return nil, fmt.Errorf("%w: fragments of %d bytes", ErrSize, per)
	}
	var out []IPPacket
	for off := 0; off < len(p.Payload) || off == 0; off += per {
		f := p
		f.Fragment, f.ID, f.FragOffset = true, id, off
		end := min(off+per, len(p.Payload))
		f.MoreFrags = end < len(p.Payload)
		f.Payload = p.Payload[off:end]
		out = append(out, f)
		if !f.MoreFrags {
			break
		}
	}
	return out, nil
}

// MarshalEchoTo builds an ICMP or ICMPv6 Echo Request from src to dst with
// its checksum, which for ICMPv6 covers the pseudo-header (RFC 4443
// §2.3): what a raw socket that takes the IP header from its caller
// sends, since the kernel then fills nothing in.
func MarshalEchoTo(src, dst netip.Addr, id, seq int, data []byte) ([]byte, error) {
	if !dst.Unmap().Is6() {
		return MarshalEcho(false, id, seq, data)
	}
	m := icmp.Message{Type: ipv6.ICMPTypeEchoRequest, Body: &icmp.Echo{ID: id, Seq: seq, Data: data}}
	b, err := m.Marshal(nil) // no pseudo-header: checksum 0, filled in below
	if err != nil {
		return nil, err
	}
	binary.BigEndian.PutUint16(b[2:], TransportChecksum(src, dst, ProtoICMPv6, b))
	return b, nil
}

// inetChecksum is the Internet checksum (RFC 1071) of b.
func inetChecksum(b []byte) uint16 { return ^fold(sum16(0, b)) }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
