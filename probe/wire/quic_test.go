package wire

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestQUICReservedVersion(t *testing.T) {
	tests := []struct {
		v    uint32
		want bool
	}{
		{0x1a2a3a4a, true},
		{0x0a0a0a0a, true},
		{0xfafafafa, true},
		{0x00000001, false}, // QUIC v1
		{0x6b3343cf, false}, // QUIC v2
		{0x1a2a3a4b, false},
		{0, false},
	}
	for _, tt := range tests {
		if got := QUICReservedVersion(tt.v); got != tt.want {
			t.Errorf("QUICReservedVersion(%#08x) = %v, want %v", tt.v, got, tt.want)
		}
		if r := QUICReserve(tt.v); !QUICReservedVersion(r) || r&0xf0f0f0f0 != tt.v&0xf0f0f0f0 {
			t.Errorf("QUICReserve(%#08x) = %#08x: not reserved, or high nibbles changed", tt.v, r)
		}
	}
}

func TestMarshalQUICProbe(t *testing.T) {
	dcid, scid := []byte{1, 2, 3, 4, 5, 6, 7, 8}, []byte{9, 10, 11, 12, 0, 0, 0, 42}
	tests := []struct {
		name       string
		version    uint32
		dcid, scid []byte
		n          int
		wantErr    bool
	}{
		{"1200 bytes", 0x1a2a3a4a, dcid, scid, 1200, false},
		{"header only", 0x1a2a3a4a, dcid, scid, QUICProbeHeader, false},
		{"jumbo", 0xeaeaeaea, dcid, scid, 8972, false},
		{"shorter than the header", 0x1a2a3a4a, dcid, scid, QUICProbeHeader - 1, true},
		{"version 1 is not reserved", 1, dcid, scid, 1200, true},
		{"empty connection ID", 0x1a2a3a4a, nil, scid, 1200, true},
		{"21-byte connection ID", 0x1a2a3a4a, make([]byte, 21), scid, 1200, true},
		{"larger than a datagram", 0x1a2a3a4a, dcid, scid, 65535, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := MarshalQUICProbe(tt.version, tt.dcid, tt.scid, tt.n)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("MarshalQUICProbe = %d bytes, want an error", len(b))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(b) != tt.n {
				t.Fatalf("len = %d, want %d", len(b), tt.n)
			}
			if b[0]&0xc0 != 0xc0 || b[0]&0x30 != 0 {
				t.Errorf("first byte %#02x: want long header, fixed bit, type Initial", b[0])
			}
			h, err := ParseQUICLongHeader(b)
			if err != nil {
				t.Fatal(err)
			}
			want := QUICLongHeader{Version: tt.version, DCID: tt.dcid, SCID: tt.scid}
			if diff := cmp.Diff(want, h); diff != "" {
				t.Errorf("ParseQUICLongHeader (-want +got):\n%s", diff)
			}
			// A quote cut right after the source connection ID still
			// names the probe.
			if _, err := ParseQUICLongHeader(b[:QUICProbeHeader]); err != nil {
				t.Errorf("cut after the IDs: %v", err)
			}
		})
	}
}

// vn builds a Version Negotiation packet as a server sends it.
func vn(first byte, dcid, scid []byte, versions ...uint32) []byte {
	b := []byte{first, 0, 0, 0, 0, byte(len(dcid))}
	b = append(b, dcid...)
	b = append(b, byte(len(scid)))
	b = append(b, scid...)
	for _, v := range versions {
		b = append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return b
}

func TestParseVersionNegotiation(t *testing.T) {
	d, s := []byte{9, 10, 11, 12, 0, 0, 0, 42}, []byte{1, 2, 3, 4, 5, 6, 7, 8}
	v1 := vn(0xc0, d, s, 1)
	v1[4] = 1 // a packet of version 1, not 0
	tests := []struct {
		name    string
		b       []byte
		want    VersionNegotiation
		wantErr bool
	}{
		// quic-go's answer: v1, v2 and a greased version.
		{"quic-go", vn(0xd5, d, s, 1, 0x6b3343cf, 0x3a4a5a6a), VersionNegotiation{DCID: d, SCID: s, Versions: []uint32{1, 0x6b3343cf, 0x3a4a5a6a}}, false},
		{"one version", vn(0x80, d, s, 1), VersionNegotiation{DCID: d, SCID: s, Versions: []uint32{1}}, false},
		{"no versions", vn(0x80, d, s), VersionNegotiation{}, true},
		{"ragged versions", append(vn(0x80, d, s, 1), 0), VersionNegotiation{}, true},
		{"version 1 packet", v1, VersionNegotiation{}, true},
		{"short header", append([]byte{0x40}, vn(0x80, d, s, 1)[1:]...), VersionNegotiation{}, true},
		{"cut in the destination ID", vn(0x80, d, s, 1)[:9], VersionNegotiation{}, true},
		{"cut before the source ID", vn(0x80, d, s, 1)[:14], VersionNegotiation{}, true},
		{"empty", nil, VersionNegotiation{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseVersionNegotiation(tt.b)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseVersionNegotiationCopies(t *testing.T) {
	b := vn(0x80, []byte{1, 2}, []byte{3, 4}, 1)
	got, err := ParseVersionNegotiation(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 0xff
	}
	if !bytes.Equal(got.DCID, []byte{1, 2}) || !bytes.Equal(got.SCID, []byte{3, 4}) {
		t.Errorf("the IDs changed with the buffer: %x %x", got.DCID, got.SCID)
	}
}

func FuzzParseVersionNegotiation(f *testing.F) {
	f.Add(vn(0xd5, []byte{1, 2, 3, 4, 5, 6, 7, 8}, []byte{8, 7, 6, 5, 4, 3, 2, 1}, 1, 0x6b3343cf, 0x1a2a3a4a))
	f.Add(vn(0x80, nil, nil, 1))
	p, _ := MarshalQUICProbe(0x1a2a3a4a, []byte{1}, []byte{2}, 40)
	f.Add(p)
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ParseVersionNegotiation(b)
		if err != nil {
			return
		}
		// What parses is a long header of version 0 whose fields add up
		// to the whole datagram.
		if b[0]&0x80 == 0 || b[1]|b[2]|b[3]|b[4] != 0 {
			t.Fatalf("accepted %x, not a version 0 long header", b)
		}
		if n := 5 + 1 + len(got.DCID) + 1 + len(got.SCID) + 4*len(got.Versions); n != len(b) || len(got.Versions) == 0 {
			t.Fatalf("fields of %d bytes with %d versions from a %d-byte datagram", n, len(got.Versions), len(b))
		}
	})
}

func FuzzParseQUICLongHeader(f *testing.F) {
	p, _ := MarshalQUICProbe(0x1a2a3a4a, []byte{1, 2, 3, 4, 5, 6, 7, 8}, []byte{8, 7, 6, 5, 4, 3, 2, 1}, 1200)
	f.Add(p[:64])
	f.Add(vn(0x80, []byte{1}, nil, 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseQUICLongHeader(b)
		if err != nil {
			if !errors.Is(err, errQUIC) && len(b) >= 7 && b[0]&0x80 == 0 {
				t.Fatalf("a short header gave %v", err)
			}
			return
		}
		if 7+len(h.DCID)+len(h.SCID) > len(b) {
			t.Fatalf("IDs of %d and %d bytes from %d bytes", len(h.DCID), len(h.SCID), len(b))
		}
		// Marshalling the IDs back, where they are in range, gives
		// the same header.
		if QUICReservedVersion(h.Version) && len(h.DCID) > 0 && len(h.DCID) <= 20 && len(h.SCID) > 0 && len(h.SCID) <= 20 {
			q, err := MarshalQUICProbe(h.Version, h.DCID, h.SCID, QUICProbeHeader+24)
			if err != nil {
				t.Fatal(err)
			}
			h2, err := ParseQUICLongHeader(q)
			if err != nil || !cmp.Equal(h, h2) {
				t.Fatalf("round trip: %v, %+v != %+v", err, h2, h)
			}
		}
	})
}
