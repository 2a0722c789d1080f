package wire

import (
	"errors"
	"net/netip"

	"golang.org/x/net/icmp"

	"github.com/pmtu/pmtu/mtu"
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

const (
	// minExtensionStructure is the shortest extension structure
	// x/net/icmp reads: its header and one object header.
	minExtensionStructure = 8
	// mplsIncomingStack is the C-Type of an RFC 4950 label stack (class 1).
	mplsIncomingStack = 1
)

// extensions reads the RFC 4884 extension structure of b, a whole ICMP
// error message, with x/net/icmp. It returns the length of the original
// datagram field the structure ends (0: no structure, the whole rest is
// the quote) and what the structure carried (nil if nothing pmtu reads,
// or malformed).
//
// x/net/icmp finds the structure where the RFC 4884 length says or, for
// routers that leave the length unset or set it wrong, at offset 128
// (RFC 4884 §5); it checks the version and a checksum that is set. It
// needs the whole message, which a raw socket gives pmtu; the error
// queue (wire.ParseErrQueue) quotes only pmtu's own packet and carries no
// extensions.
func extensions(b []byte, ipv6 bool) (length int, ext *Extensions) {
	body := b[mtu.ICMPHeader:]
	if len(body) < rfc4884MinOrigLength+minExtensionStructure {
		return 0, nil
	}
	proto, length := ProtoICMP, int(b[5])*4
	if ipv6 {
		proto, length = ProtoICMPv6, int(b[4])*8
	}
	// x/net looks only where the length says and at 128, for a header
	// of version 2; it copies the whole quote to find out, which more
	// than doubles the cost of the common error, a long quote without
	// extensions. Ask it only when one of the two could be a header.
	if !isVersion2(body, rfc4884MinOrigLength) && !isVersion2(body, length) {
		return 0, nil
	}
	m, err := icmp.ParseMessage(proto, b)
	if err != nil {
		return 0, nil
	}
	var data []byte
	var exts []icmp.Extension
	switch mb := m.Body.(type) {
	case *icmp.DstUnreach:
		data, exts = mb.Data, mb.Extensions
	case *icmp.TimeExceeded:
		data, exts = mb.Data, mb.Extensions
	case *icmp.ParamProb:
		data, exts = mb.Data, mb.Extensions
	}
	if len(data) >= len(body) {
		return 0, nil // no structure: x/net kept all of it as the quote
	}
	ext, err = extensionsOf(exts)
	if err != nil {
		return len(data), nil
	}
	return len(data), ext
}

// isVersion2 reports whether an RFC 4884 extension header of version 2
// could start at offset o of b.
func isVersion2(b []byte, o int) bool {
	return o >= rfc4884MinOrigLength && o < len(b) && b[o]>>4 == 2
}

// extensionsOf turns the objects x/net/icmp parsed into Extensions: RFC
// 4950 label stacks and RFC 5837 interface information, in order; other
// objects are skipped. nil if none of them carried anything.
func extensionsOf(exts []icmp.Extension) (*Extensions, error) {
	ext := &Extensions{}
	for _, e := range exts {
		switch e := e.(type) {
		case *icmp.MPLSLabelStack:
			if e.Type != mplsIncomingStack {
				continue
			}
			for _, l := range e.Labels {
				ext.MPLS = append(ext.MPLS, MPLSLabel{
					Label: uint32(l.Label), TC: uint8(l.TC), Bottom: l.S, TTL: uint8(l.TTL),
				})
			}
		case *icmp.InterfaceInfo:
			info, err := interfaceInfoOf(e)
			if err != nil {
				return nil, err
			}
			ext.Interfaces = append(ext.Interfaces, info)
		}
	}
	if len(ext.MPLS) == 0 && len(ext.Interfaces) == 0 {
		return nil, nil
	}
	return ext, nil
}

// interfaceInfoOf is an RFC 5837 object as x/net/icmp parsed it: the
// C-Type's top two bits are the role.
func interfaceInfoOf(e *icmp.InterfaceInfo) (InterfaceInfo, error) {
	info := InterfaceInfo{Role: e.Type >> 6}
	if e.Interface != nil {
		info.IfIndex, info.Name, info.MTU = uint32(e.Interface.Index), e.Interface.Name, e.Interface.MTU
	}
	if e.Addr != nil {
		// An address of another family than IPv4 or IPv6: x/net skips
		// only its sub-object header and reads the address bytes as the
		// name and MTU that follow, so nothing after it can be trusted.
		a, ok := netip.AddrFromSlice(e.Addr.IP)
		if !ok {
			return info, errExtension
		}
		info.Addr = a // without x/net's zone: the name is in Name
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
