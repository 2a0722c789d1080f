package wire

import (
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/pmtu/pmtu/mtu"
)

func TestMarshalParseIP(t *testing.T) {
	payload := make([]byte, 100)
	for i := range payload {
		payload[i] = byte(i)
	}
	for _, tt := range []struct {
		name string
		p    IPPacket
		hlen int
	}{
		{"ipv4 DF", IPPacket{Src: client4, Dst: target4, TTL: 3, Proto: ProtoTCP, DF: true, ID: 7, Payload: payload}, 20},
		{"ipv4 first fragment", IPPacket{Src: client4, Dst: target4, TTL: 64, Proto: ProtoICMP, Fragment: true, ID: 0xbeef, MoreFrags: true, Payload: payload[:48]}, 20},
		{"ipv4 last fragment", IPPacket{Src: client4, Dst: target4, TTL: 64, Proto: ProtoICMP, Fragment: true, ID: 0xbeef, FragOffset: 48, Payload: payload[48:]}, 20},
		{"ipv6 plain", IPPacket{Src: client6, Dst: target6, TTL: 1, Proto: ProtoTCP, Payload: payload}, 40},
		{"ipv6 hop-by-hop", IPPacket{Src: client6, Dst: target6, TTL: 64, Proto: ProtoICMPv6, HopByHop: true, Payload: payload}, 48},
		{"ipv6 destination options", IPPacket{Src: client6, Dst: target6, TTL: 64, Proto: ProtoICMPv6, DstOpts: true, Payload: payload}, 48},
		{"ipv6 fragment", IPPacket{Src: client6, Dst: target6, TTL: 64, Proto: ProtoICMPv6, Fragment: true, ID: 0xdeadbeef, FragOffset: 1232, MoreFrags: true, Payload: payload[:48]}, 48},
		{"ipv6 all three", IPPacket{Src: client6, Dst: target6, TTL: 64, Proto: ProtoICMPv6, HopByHop: true, DstOpts: true, Fragment: true, ID: 9, Payload: payload}, 64},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := MarshalIP(tt.p)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(b), tt.hlen+len(tt.p.Payload); got != want || tt.p.Size() != mtu.Size(want) {
				t.Fatalf("marshalled %d bytes, Size %d, want %d", got, tt.p.Size(), want)
			}
			if !tt.p.IPv6() && inetChecksum(b[:20]) != 0 {
				t.Errorf("IPv4 header checksum does not verify")
			}
			got, err := ParseIP(b)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.p, got, cmpopts.EquateComparable(netip.Addr{})); d != "" {
				t.Errorf("round trip (-want +got):\n%s", d)
			}
		})
	}
}

func TestMarshalIPErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		p    IPPacket
	}{
		{"no addresses", IPPacket{TTL: 1}},
		{"mixed families", IPPacket{Src: client4, Dst: target6}},
		{"odd offset", IPPacket{Src: client4, Dst: target4, Fragment: true, FragOffset: 12}},
		{"hop limit", IPPacket{Src: client6, Dst: target6, TTL: 256}},
		{"too big", IPPacket{Src: client4, Dst: target4, Payload: make([]byte, 65516)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if b, err := MarshalIP(tt.p); err == nil {
				t.Errorf("MarshalIP = %d bytes, want an error", len(b))
			}
		})
	}
}

func TestParseIPErrors(t *testing.T) {
	good, _ := MarshalIP(IPPacket{Src: client6, Dst: target6, TTL: 1, Proto: ProtoICMPv6, HopByHop: true, Payload: make([]byte, 8)})
	hbhSecond, _ := MarshalIP(IPPacket{Src: client6, Dst: target6, TTL: 1, Proto: ProtoICMPv6, DstOpts: true, Payload: make([]byte, 8)})
	hbhSecond[40] = ProtoHopByHop // a Hop-by-Hop header after Destination Options
	hbhSecond = append(hbhSecond[:48], 58, 0, 1, 4, 0, 0, 0, 0)
	binary.BigEndian.PutUint16(hbhSecond[4:], uint16(len(hbhSecond)-40))
	for _, tt := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"version 5", []byte{0x50, 0, 0, 0}},
		{"ipv4 short", good[:10]},
		{"ipv6 cut", good[:44]},
		{"ipv4 total length past the end", func() []byte {
			b, _ := MarshalIP(IPPacket{Src: client4, Dst: target4, Payload: make([]byte, 8)})
			return b[:24]
		}()},
		{"hop-by-hop not first", hbhSecond},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if p, err := ParseIP(tt.b); err == nil {
				t.Errorf("ParseIP = %+v, want an error", p)
			}
		})
	}
}

func TestFragmentIP(t *testing.T) {
	data := make([]byte, 100)
	for i := range data {
		data[i] = byte(i)
	}
	for _, v6 := range []bool{false, true} {
		src, dst := client4, target4
		if v6 {
			src, dst = client6, target6
		}
		p := IPPacket{Src: src, Dst: dst, TTL: 64, Proto: ProtoICMP, HopByHop: v6, Payload: data}
		fs, err := FragmentIP(p, 60, 77) // 56 bytes a fragment
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) != 2 {
			t.Fatalf("v6=%v: %d fragments, want 2", v6, len(fs))
		}
		var joined []byte
		for i, f := range fs {
			if !f.Fragment || f.ID != 77 || f.MoreFrags != (i == 0) || f.FragOffset != i*56 || f.HopByHop != v6 {
				t.Errorf("v6=%v fragment %d: %+v", v6, i, f)
			}
			joined = append(joined, f.Payload...)
		}
		if d := cmp.Diff(data, joined); d != "" {
			t.Errorf("fragments do not join back (-want +got):\n%s", d)
		}
	}
	if _, err := FragmentIP(IPPacket{Src: client4, Dst: target4, Payload: data}, 7, 1); err == nil {
		t.Error("fragments of 0 bytes: want an error")
	}
	if _, err := FragmentIP(IPPacket{Src: client4, Dst: target4, Fragment: true}, 64, 1); err == nil {
		t.Error("a fragment fragmented again: want an error")
	}
}

func TestMarshalEchoTo(t *testing.T) {
	for _, dst := range []netip.Addr{target4, target6} {
		src := client4
		if dst.Is6() {
			src = client6
		}
		b, err := MarshalEchoTo(src, dst, 0x1234, 5, []byte("pmtu check"))
		if err != nil {
			t.Fatal(err)
		}
		var sum uint16
		if dst.Is6() {
			c := append([]byte(nil), b...)
			c[2], c[3] = 0, 0
			sum = TransportChecksum(src, dst, ProtoICMPv6, c)
		} else {
			c := append([]byte(nil), b...)
			c[2], c[3] = 0, 0
			sum = inetChecksum(c)
		}
		if got := binary.BigEndian.Uint16(b[2:]); got != sum {
			t.Errorf("%v: checksum %#04x, want %#04x", dst, got, sum)
		}
	}
}

// FuzzParseIP: ParseIP never panics, and what it parses marshals back to
// a packet that parses the same, for the headers MarshalIP builds.
func FuzzParseIP(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/ip/*.bin")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, p := range []IPPacket{
		{Src: client4, Dst: target4, TTL: 3, Proto: ProtoTCP, DF: true, Payload: make([]byte, 24)},
		{Src: client6, Dst: target6, TTL: 64, Proto: ProtoICMPv6, HopByHop: true, Fragment: true, MoreFrags: true, Payload: make([]byte, 16)},
	} {
		b, _ := MarshalIP(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseIP(b)
		if err != nil {
			return
		}
		if p.IPv6() && p.Proto == ProtoRouting {
			return // read, never built
		}
		out, err := MarshalIP(p)
		if err != nil {
			return // read from a header MarshalIP does not build (IPv4 options, long PadN)
		}
		q, err := ParseIP(out)
		if err != nil {
			t.Fatalf("ParseIP(MarshalIP(%+v)): %v", p, err)
		}
		if d := cmp.Diff(p, q, cmpopts.EquateComparable(netip.Addr{})); d != "" {
			t.Errorf("round trip (-first +second):\n%s", d)
		}
	})
}
