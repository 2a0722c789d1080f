package wire

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// Extensions is what an RFC 4884 extension structure carried: MPLS label
// stacks (RFC 4950), which name the tunnel a Time Exceeded or Frag Needed
// came from, and interface information (RFC 5837), which names the
// interface a router received the probe on or would have sent it out of,
// with its MTU.
type Extensions struct {
	MPLS       []MPLSLabel
	Interfaces []InterfaceInfo
}

// MPLSLabel is one entry of a label stack (RFC 3032).
type MPLSLabel struct {
	Label  uint32
	TC     uint8 // traffic class (formerly EXP)
	Bottom bool  // the S bit: bottom of the stack
	TTL    uint8
}

// Interface roles (RFC 5837 §4.1).
const (
	RoleIncoming = 0 // the interface the probe arrived on
	RoleSubIP    = 1 // a sub-IP component of it
	RoleOutgoing = 2 // the interface it would have left by
	RoleNextHop  = 3 // the next hop's interface
)

// InterfaceInfo is an RFC 5837 Interface Information Object.
type InterfaceInfo struct {
	Role    int
	IfIndex uint32 // 0 if absent
	Addr    netip.Addr
	Name    string
	MTU     int // 0 if absent
}

var errExtension = errors.New("malformed ICMP extension structure")

// extension classes (IANA "ICMP Extension Object Classes").
const (
	classMPLS      = 1
	classInterface = 2
)

// parseExtensions parses an RFC 4884 extension structure. An unknown class
// is skipped; a structure whose checksum is set and wrong, or whose objects
// overrun it, is refused whole.
func parseExtensions(b []byte) (*Extensions, error) {
	if len(b) < 4 || b[0]>>4 != 2 {
		return nil, errExtension
	}
	if sum := binary.BigEndian.Uint16(b[2:4]); sum != 0 && Checksum(b) != 0 {
		return nil, errExtension
	}
	ext := &Extensions{}
	for o := b[4:]; len(o) > 0; {
		if len(o) < 4 {
			return nil, errExtension
		}
		l := int(binary.BigEndian.Uint16(o[0:2]))
		if l < 4 || l > len(o) {
			return nil, errExtension
		}
		class, ctype, data := o[2], o[3], o[4:l]
		o = o[l:]
		switch {
		case class == classMPLS && ctype == 1:
			if len(data)%4 != 0 {
				return nil, errExtension
			}
			for ; len(data) >= 4; data = data[4:] {
				v := binary.BigEndian.Uint32(data)
				ext.MPLS = append(ext.MPLS, MPLSLabel{
					Label: v >> 12, TC: uint8(v>>9) & 7, Bottom: v&0x100 != 0, TTL: uint8(v),
				})
			}
		case class == classInterface:
			info, err := parseInterfaceInfo(ctype, data)
			if err != nil {
				return nil, err
			}
			ext.Interfaces = append(ext.Interfaces, info)
		}
	}
	return ext, nil
}

// parseInterfaceInfo parses an RFC 5837 object: the C-Type says the role
// and which of ifIndex, address, name and MTU follow, in that order.
func parseInterfaceInfo(ctype byte, b []byte) (InterfaceInfo, error) {
	info := InterfaceInfo{Role: int(ctype >> 6)}
	if ctype&0x08 != 0 { // ifIndex
		if len(b) < 4 {
			return info, errExtension
		}
		info.IfIndex, b = binary.BigEndian.Uint32(b), b[4:]
	}
	if ctype&0x04 != 0 { // IP address sub-object: AFI, reserved, address
		if len(b) < 4 {
			return info, errExtension
		}
		n := map[uint16]int{1: 4, 2: 16}[binary.BigEndian.Uint16(b)]
		if n == 0 || len(b) < 4+n {
			return info, errExtension
		}
		info.Addr, _ = netip.AddrFromSlice(b[4 : 4+n])
		b = b[4+n:]
	}
	if ctype&0x02 != 0 { // name sub-object: length octet (itself included, a multiple of 4), name
		if len(b) < 1 || int(b[0]) < 4 || int(b[0])%4 != 0 || int(b[0]) > len(b) {
			return info, errExtension
		}
		name := b[1:b[0]]
		for len(name) > 0 && name[len(name)-1] == 0 {
			name = name[:len(name)-1]
		}
		info.Name, b = string(name), b[b[0]:]
	}
	if ctype&0x01 != 0 { // MTU
		if len(b) < 4 {
			return info, errExtension
		}
		info.MTU = int(binary.BigEndian.Uint32(b))
	}
	return info, nil
}

// Checksum is the Internet checksum of b (RFC 1071); 0 over data that
// holds its own correct checksum.
func Checksum(b []byte) uint16 {
	var s uint32
	for ; len(b) >= 2; b = b[2:] {
		s += uint32(b[0])<<8 | uint32(b[1])
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}
