package wire

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/pmtu/pmtu/internal/probetest"
)

// Extension object classes (IANA "ICMP Extension Object Classes").
const (
	classMPLS      = 1
	classInterface = 2
)

// object is an RFC 4884 extension object.
func object(class, ctype byte, data []byte) []byte {
	b := make([]byte, 4, 4+len(data))
	binary.BigEndian.PutUint16(b, uint16(4+len(data)))
	b[2], b[3] = class, ctype
	return append(b, data...)
}

// structure is an extension structure holding objs, with its checksum.
func structure(objs ...[]byte) []byte {
	b := []byte{0x20, 0, 0, 0}
	for _, o := range objs {
		b = append(b, o...)
	}
	binary.BigEndian.PutUint16(b[2:], Checksum(b))
	return b
}

func mplsEntry(label uint32, tc uint8, bottom bool, ttl uint8) []byte {
	v := label<<12 | uint32(tc)<<9 | uint32(ttl)
	if bottom {
		v |= 0x100
	}
	return binary.BigEndian.AppendUint32(nil, v)
}

// ifInfo is an RFC 5837 object for role 2 (outgoing) with ifIndex 7,
// 198.18.2.1, name "veth-r2", MTU 1400.
func ifInfo() []byte {
	data := binary.BigEndian.AppendUint32(nil, 7)
	data = append(data, 0, 1, 0, 0, 198, 18, 2, 1)
	name := []byte{12, 'v', 'e', 't', 'h', '-', 'r', '2', 0, 0, 0, 0}
	data = append(data, name...)
	data = binary.BigEndian.AppendUint32(data, 1400)
	return object(classInterface, RoleOutgoing<<6|0x0f, data)
}

// parseExtensions is what ParseMessage keeps of the extension structure
// b, after a 128-byte original datagram field of an ICMPv4 Time Exceeded
// that says so: x/net/icmp reads a structure only in a whole message.
func parseExtensions(t testing.TB, b []byte) *Extensions {
	t.Helper()
	m, err := ParseMessage(withStructure(t, b), false)
	if err != nil {
		t.Fatal(err)
	}
	return m.Ext
}

// withStructure is an ICMPv4 Time Exceeded quoting 128 bytes, its RFC
// 4884 length set, followed by b.
func withStructure(t testing.TB, b []byte) []byte {
	m := probetest.Error(false, 11, 0, 0, echoPacket(t, src4, dst4, 1500)[:128])
	m[5] = 128 / 4
	return append(m, b...)
}

func TestParseExtensions(t *testing.T) {
	stack := append(mplsEntry(16001, 0, false, 254), mplsEntry(24, 5, true, 1)...)
	tests := []struct {
		name string
		b    []byte
		want *Extensions
	}{
		{"mpls stack", structure(object(classMPLS, 1, stack)), &Extensions{MPLS: []MPLSLabel{
			{Label: 16001, TTL: 254}, {Label: 24, TC: 5, Bottom: true, TTL: 1}}}},
		{"interface information", structure(ifInfo()), &Extensions{Interfaces: []InterfaceInfo{
			{Role: RoleOutgoing, IfIndex: 7, Addr: netip.MustParseAddr("198.18.2.1"), Name: "veth-r2", MTU: 1400}}}},
		{"ipv6 address, mtu only", structure(object(classInterface, RoleIncoming<<6|0x05,
			append(append([]byte{0, 2, 0, 0}, netip.MustParseAddr("2001:db8::1").AsSlice()...), 0, 0, 5, 0))),
			&Extensions{Interfaces: []InterfaceInfo{{Role: RoleIncoming, Addr: netip.MustParseAddr("2001:db8::1"), MTU: 1280}}}},
		{"unknown class skipped", structure(object(99, 1, []byte{1, 2, 3, 4}), object(classMPLS, 1, mplsEntry(3, 0, true, 9))),
			&Extensions{MPLS: []MPLSLabel{{Label: 3, Bottom: true, TTL: 9}}}},
		{"no checksum is allowed", []byte{0x20, 0, 0, 0, 0, 8, 1, 1, 0, 0, 0x31, 0x40}, &Extensions{MPLS: []MPLSLabel{{Label: 3, Bottom: true, TTL: 0x40}}}},
		{"wrong checksum", func() []byte { b := structure(object(classMPLS, 1, stack)); b[3] ^= 1; return b }(), nil},
		{"wrong version", []byte{0x10, 0, 0, 0}, nil},
		{"object overruns", []byte{0x20, 0, 0, 0, 0, 40, 1, 1, 0, 0, 0, 0}, nil},
		{"object too short", []byte{0x20, 0, 0, 0, 0, 2, 1, 1}, nil},
		{"mpls entry cut", structure(object(classMPLS, 1, []byte{1, 2, 3})), nil},
		{"name overruns", structure(object(classInterface, 0x02, []byte{40, 'x', 0, 0})), nil},
		{"address of unknown family", structure(object(classInterface, 0x04, []byte{0, 9, 0, 0, 1, 2, 3, 4})), nil},

		// Where x/net/icmp reads otherwise than pmtu's own parser did
		// (before: all of these nil, but for the long name, kept, and the
		// unknown objects, an empty non-nil Extensions).
		{"x/net: an overrunning object ends the structure, those before it kept",
			structure(object(classMPLS, 1, mplsEntry(3, 0, true, 9)), []byte{0, 40, 1, 1}),
			&Extensions{MPLS: []MPLSLabel{{Label: 3, Bottom: true, TTL: 9}}}},
		{"x/net: bytes after the last object ignored",
			structure(object(classMPLS, 1, mplsEntry(3, 0, true, 9)), []byte{0, 0}),
			&Extensions{MPLS: []MPLSLabel{{Label: 3, Bottom: true, TTL: 9}}}},
		{"x/net: a cut label entry dropped, the whole ones kept",
			structure(object(classMPLS, 1, append(mplsEntry(3, 0, true, 9), 1, 2, 3))),
			&Extensions{MPLS: []MPLSLabel{{Label: 3, Bottom: true, TTL: 9}}}},
		{"x/net: an interface object cut short keeps what it has",
			structure(object(classInterface, RoleIncoming<<6|0x09, []byte{0, 0, 0, 7})),
			&Extensions{Interfaces: []InterfaceInfo{{Role: RoleIncoming, IfIndex: 7}}}},
		{"x/net: a name over 63 bytes refuses the structure",
			structure(object(classInterface, 0x02, append([]byte{68}, bytes.Repeat([]byte{'x'}, 67)...))), nil},
		{"only unknown objects is none", structure(object(99, 1, []byte{1, 2, 3, 4})), nil},
		{"mpls of another c-type is none", structure(object(classMPLS, 2, mplsEntry(3, 0, true, 9))), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseExtensions(t, tt.b)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// A Time Exceeded from an MPLS router: 128 bytes of original datagram
// (the RFC 4884 length field says 32 words), then the label stack.
func TestMessageWithExtensions(t *testing.T) {
	quoted := echoPacket(t, src4, dst4, 1500)[:128]
	b := probetest.Error(false, 11, 0, 0, quoted)
	b[5] = 128 / 4
	b = append(b, structure(object(classMPLS, 1, mplsEntry(16001, 0, true, 1)))...)
	m, err := ParseMessage(b, false)
	if err != nil {
		t.Fatal(err)
	}
	want := &Extensions{MPLS: []MPLSLabel{{Label: 16001, Bottom: true, TTL: 1}}}
	if diff := cmp.Diff(want, m.Ext); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// ICMPv6: the length field is in 64-bit words, in byte 4.
	q6 := echoPacket(t, src6, dst6, 1500)[:128]
	b6 := probetest.Error(true, 3, 0, 0, q6)
	b6[4] = 128 / 8
	b6 = append(b6, structure(ifInfo())...)
	m6, err := ParseMessage(b6, true)
	if err != nil {
		t.Fatal(err)
	}
	if m6.Ext == nil || len(m6.Ext.Interfaces) != 1 || m6.Ext.Interfaces[0].MTU != 1400 {
		t.Errorf("ICMPv6 extensions %+v, want one interface with MTU 1400", m6.Ext)
	}
}

// noLengthMPLS is a Time Exceeded from an old MPLS router: 128 bytes of
// original datagram, then the label stack, with the RFC 4884 length field
// left at zero (RFC 4884 §5's "non-compliant" form).
func noLengthMPLS(t testing.TB) []byte {
	quoted := echoPacket(t, src4, dst4, 1500)[:128]
	b := probetest.Error(false, 11, 0, 0, quoted)
	return append(b, structure(object(classMPLS, 1, mplsEntry(16001, 0, true, 1)))...)
}

// Routers that append extensions without setting the length field: as
// x/net/icmp does, an extension structure at offset 128 is read, and the
// quote ends there; without one the whole rest is the quote.
func TestMessageExtensionsWithoutLength(t *testing.T) {
	quoted := echoPacket(t, src4, dst4, 1500)
	tests := []struct {
		name      string
		b         []byte
		ipv6      bool
		want      *Extensions
		transport int // quoted bytes past the IP header
	}{
		{"ipv4 mpls at 128", noLengthMPLS(t), false,
			&Extensions{MPLS: []MPLSLabel{{Label: 16001, Bottom: true, TTL: 1}}}, 128 - 20},
		{"ipv6 interface at 128", append(probetest.Error(true, 3, 0, 0, echoPacket(t, src6, dst6, 1500)[:128]), structure(ifInfo())...), true,
			&Extensions{Interfaces: []InterfaceInfo{{Role: RoleOutgoing, IfIndex: 7, Addr: netip.MustParseAddr("198.18.2.1"), Name: "veth-r2", MTU: 1400}}}, 128 - 40},
		{"ipv4 plain long quote", probetest.Error(false, 11, 0, 0, quoted[:300]), false, nil, 300 - 20},
		// x/net/icmp also looks at 128 when the length is set but wrong
		// (pmtu's own parser did not: nil, and the whole rest quoted),
		// and when it points at no structure.
		{"ipv4 length under 128, mpls at 128", func() []byte { b := noLengthMPLS(t); b[5] = 64 / 4; return b }(), false,
			&Extensions{MPLS: []MPLSLabel{{Label: 16001, Bottom: true, TTL: 1}}}, 128 - 20},
		{"ipv4 length past the end, mpls at 128", func() []byte { b := noLengthMPLS(t); b[5] = 255; return b }(), false,
			&Extensions{MPLS: []MPLSLabel{{Label: 16001, Bottom: true, TTL: 1}}}, 128 - 20},
		{"ipv4 length 132 finds no structure, mpls at 128", func() []byte { b := noLengthMPLS(t); b[5] = 132 / 4; return b }(), false,
			&Extensions{MPLS: []MPLSLabel{{Label: 16001, Bottom: true, TTL: 1}}}, 128 - 20},
		{"ipv4 length 160 set, nothing there: the quote still ends there",
			func() []byte { b := probetest.Error(false, 11, 0, 0, quoted[:300]); b[5] = 160 / 4; return b }(), false, nil, 160 - 20},
		{"ipv4 garbage at 128", append(probetest.Error(false, 11, 0, 0, quoted[:128]), 0x20, 0, 0xde, 0xad, 0, 40), false, nil, 128 + 6 - 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMessage(tt.b, tt.ipv6)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, m.Ext, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
				t.Errorf("extensions (-want +got):\n%s", diff)
			}
			if got := len(m.Quote.Transport); got != tt.transport {
				t.Errorf("quote holds %d transport bytes, want %d", got, tt.transport)
			}
		})
	}
}

func FuzzParseExtensions(f *testing.F) {
	f.Add(structure(object(classMPLS, 1, mplsEntry(16001, 0, true, 1))))
	f.Add(structure(ifInfo()))
	f.Add([]byte{0x20, 0, 0, 0, 0, 8, 1, 1, 0, 0, 0x31, 0x40})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMessage(withStructure(t, b), false)
		if err != nil {
			t.Fatal(err)
		}
		if m.Ext != nil && len(m.Ext.MPLS) == 0 && len(m.Ext.Interfaces) == 0 {
			t.Fatal("empty extensions, not nil")
		}
		if n := len(m.Quote.Transport); n > 128-20 && m.Ext != nil {
			t.Fatalf("the quote holds %d bytes past the IP header and runs into the extensions", n)
		}
	})
}
