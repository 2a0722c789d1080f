package wire

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/pmtu/pmtu/mtu"
)

// ErrSize is returned for a size no probe of a kind can have.
var ErrSize = errors.New("probe size out of range")

// ProbeData is the payload of a UDP or TCP probe (and the Echo data of the
// ICMP datagram socket's), n bytes: an 8-byte cookie, random per conn,
// then the sequence number, 4 bytes big-endian, then zeros. A quote or a
// reply that carries any of it must carry it unchanged.
func ProbeData(cookie [8]byte, seq int, n int) []byte {
	b := make([]byte, n)
	var head [12]byte
	copy(head[:], cookie[:])
	binary.BigEndian.PutUint32(head[8:], uint32(seq))
	copy(b, head[:])
	return b
}

// CheckData says why data (a quoted or echoed payload, possibly cut
// short) is not the payload of probe seq, or "" if it may be.
func CheckData(data []byte, cookie [8]byte, seq int) string {
	want := ProbeData(cookie, seq, 12)
	n := min(len(data), len(want))
	if c := min(n, 8); string(data[:c]) != string(want[:c]) {
		return "data without our cookie (forged, or another program's)"
	}
	if string(data[:n]) != string(want[:n]) {
		return fmt.Sprintf("data of another probe than %d", seq)
	}
	return ""
}

// EchoDataLen is how many bytes of Echo data make an Echo Request an IP
// packet of exactly size bytes; an error wrapping ErrSize if none can.
func EchoDataLen(size mtu.Size, ipv6 bool) (int, error) {
	n := int(size) - mtu.IPHeader(ipv6) - mtu.ICMPHeader
	if n < 0 || size > mtu.Max {
		return 0, fmt.Errorf("%w: %d bytes", ErrSize, size)
	}
	return n, nil
}

// MarshalEcho builds an ICMP (v6 false) or ICMPv6 Echo Request with
// identifier id, sequence number seq and data. The ICMPv6 checksum is
// left to the kernel, which knows the pseudo-header.
func MarshalEcho(v6 bool, id, seq int, data []byte) ([]byte, error) {
	var typ icmp.Type = ipv4.ICMPTypeEcho
	if v6 {
		typ = ipv6.ICMPTypeEchoRequest
	}
	m := icmp.Message{Type: typ, Body: &icmp.Echo{ID: id, Seq: seq, Data: data}}
	return m.Marshal(nil)
}

// EchoReplyType and EchoRequestType are the Echo types of the family.
func EchoReplyType(ipv6 bool) int {
	if ipv6 {
		return ICMPv6EchoReply
	}
	return ICMPv4EchoReply
}

// EchoRequestType is the Echo Request type of the family.
func EchoRequestType(ipv6 bool) int {
	if ipv6 {
		return ICMPv6Echo
	}
	return ICMPv4Echo
}

// ICMPProto is the IP protocol number of the family's ICMP.
func ICMPProto(ipv6 bool) int {
	if ipv6 {
		return ProtoICMPv6
	}
	return ProtoICMP
}

// StripIPv4Header moves the payload of the IPv4 packet in b[:n] to the
// front and returns its length: a raw IPv4 socket read with recvmsg
// leaves the header on. Anything that is not an IPv4 header is left as
// it is.
func StripIPv4Header(b []byte, n int) int {
	if n < mtu.IPv4Header || b[0]>>4 != 4 {
		return n
	}
	hl := int(b[0]&0x0f) * 4
	if hl < mtu.IPv4Header || hl > n {
		return n
	}
	return copy(b, b[hl:n])
}
