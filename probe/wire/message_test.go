package wire

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/mtu"
)

var (
	src4 = netip.MustParseAddr("198.18.0.1")
	dst4 = netip.MustParseAddr("198.18.3.2")
	src6 = netip.MustParseAddr("2001:db8::1")
	dst6 = netip.MustParseAddr("2001:db8:3::2")
)

// echoPacket is an IP header and Echo Request of size bytes.
func echoPacket(t testing.TB, src, dst netip.Addr, size int) []byte {
	t.Helper()
	n, err := EchoDataLen(mtu.Size(size), dst.Is6())
	if err != nil {
		t.Fatal(err)
	}
	b, err := MarshalEcho(dst.Is6(), 0x1234, 7, make([]byte, n))
	if err != nil {
		t.Fatal(err)
	}
	proto := 1
	if dst.Is6() {
		proto = 58
	}
	return append(probetest.IPHeader(src, dst, proto, size), b...)
}

func TestParseMessage(t *testing.T) {
	quoted4 := echoPacket(t, src4, dst4, 1500)
	quoted6 := echoPacket(t, src6, dst6, 1500)
	tests := []struct {
		name string
		ipv6 bool
		b    []byte
		want *Message
		err  error
	}{
		{
			name: "frag needed with mtu",
			b:    probetest.Error(false, 3, 4, 1400, quoted4),
			want: &Message{Type: 3, Code: 4, MTU: 1400, Quote: &Quote{Src: src4, Dst: dst4, Proto: 1, Length: 1500, Transport: quoted4[20:548]}},
		},
		{
			name: "frag needed with mtu 0",
			b:    probetest.Error(false, 3, 4, 0, quoted4),
			want: &Message{Type: 3, Code: 4, MTU: 0, Quote: &Quote{Src: src4, Dst: dst4, Proto: 1, Length: 1500, Transport: quoted4[20:548]}},
		},
		{
			name: "admin prohibited has no mtu",
			b:    probetest.Error(false, 3, 13, 0, quoted4[:28]),
			want: &Message{Type: 3, Code: 13, Quote: &Quote{Src: src4, Dst: dst4, Proto: 1, Length: 1500, Transport: quoted4[20:28]}},
		},
		{
			name: "packet too big",
			ipv6: true,
			b:    probetest.Error(true, 2, 0, 1400, quoted6),
			want: &Message{IPv6: true, Type: 2, MTU: 1400, Quote: &Quote{Src: src6, Dst: dst6, Proto: 58, Length: 1500, Transport: quoted6[40:1232]}},
		},
		{
			name: "echo reply",
			b:    []byte{0, 0, 0, 0, 0x12, 0x34, 0, 7, 'h', 'i'},
			want: &Message{ID: 0x1234, Seq: 7, Data: []byte("hi")},
		},
		{name: "truncated header", b: []byte{3, 4, 0}, err: ErrTruncated},
		{name: "quote cut inside the IP header", b: probetest.Error(false, 3, 4, 1400, quoted4[:19]), err: ErrTruncated},
		{name: "quote without 8 transport bytes", b: probetest.Error(false, 3, 4, 1400, quoted4[:27]), err: ErrTruncated},
		{name: "ipv6 quote cut", ipv6: true, b: probetest.Error(true, 2, 0, 1400, quoted6[:47]), err: ErrTruncated},
		{name: "router advertisement", ipv6: true, b: []byte{134, 0, 0, 0, 0, 0, 0, 0}, err: ErrNotICMP},
		{name: "redirect", b: append([]byte{5, 1, 0, 0, 0, 0, 0, 0}, quoted4[:28]...), err: ErrNotICMP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMessage(tt.b, tt.ipv6)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseMessageRFC4884Length(t *testing.T) {
	// A 128-byte original datagram field followed by an extension: the
	// quote ends where the length field says.
	quoted := echoPacket(t, src4, dst4, 1500)[:128]
	b := probetest.Error(false, 11, 0, 0, quoted)
	b[5] = 128 / 4
	b = append(b, 0x20, 0, 0, 0, 0, 8, 1, 1, 0, 0, 0x10, 0xff) // extension header and an object
	m, err := ParseMessage(b, false)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(m.Quote.Transport), 128-20; got != want {
		t.Fatalf("quoted transport = %d bytes, want %d", got, want)
	}
}

func TestParseMessageCopies(t *testing.T) {
	b := probetest.Error(false, 3, 4, 1400, echoPacket(t, src4, dst4, 1500))
	m, err := ParseMessage(b, false)
	if err != nil {
		t.Fatal(err)
	}
	before := append([]byte(nil), m.Quote.Transport...)
	for i := range b {
		b[i] = 0xff
	}
	if diff := cmp.Diff(before, m.Quote.Transport); diff != "" {
		t.Fatalf("the parser kept a reference to its input (-want +got):\n%s", diff)
	}
}

func FuzzParseMessage(f *testing.F) {
	q4 := probetest.IPHeader(src4, dst4, 1, 1500)
	q4 = append(q4, 8, 0, 0, 0, 0x12, 0x34, 0, 1)
	q6 := probetest.IPHeader(src6, dst6, 58, 1500)
	q6 = append(q6, 128, 0, 0, 0, 0x12, 0x34, 0, 1)
	f.Add(probetest.Error(false, 3, 4, 1400, q4), false)
	f.Add(probetest.Error(false, 3, 4, 0, q4), false)
	f.Add(probetest.Error(false, 11, 0, 0, q4), false)
	f.Add(probetest.Error(true, 2, 0, 1280, q6), true)
	f.Add(probetest.Error(true, 1, 4, 0, q6), true)
	f.Add([]byte{0, 0, 0, 0, 0x12, 0x34, 0, 1}, false)
	f.Add(noLengthMPLS(f), false)
	seedCaptured(f)
	f.Fuzz(func(t *testing.T, b []byte, ipv6 bool) {
		m, err := ParseMessage(b, ipv6)
		if err != nil {
			return
		}
		if m.Quote != nil && len(m.Quote.Transport) < 8 {
			t.Fatalf("quote with %d transport bytes accepted", len(m.Quote.Transport))
		}
	})
}
