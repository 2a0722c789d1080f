package probe

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pmtu/pmtu/internal/probetest"
)

var (
	client4 = netip.MustParseAddr("198.18.1.1")
	client6 = netip.MustParseAddr("2001:db8:1::1")
)

// pseudoSum is the one's-complement sum of b with the pseudo-header: 0xffff
// for a segment whose checksum is right.
func pseudoSum(src, dst netip.Addr, b []byte) uint16 {
	ph := append(src.AsSlice(), dst.AsSlice()...)
	if dst.Is6() {
		ph = binary.BigEndian.AppendUint32(ph, uint32(len(b)))
		ph = append(ph, 0, 0, 0, protoTCP)
	} else {
		ph = append(ph, 0, protoTCP)
		ph = binary.BigEndian.AppendUint16(ph, uint16(len(b)))
	}
	var sum uint32
	all := append(ph, b...)
	if len(all)%2 == 1 {
		all = append(all, 0)
	}
	for i := 0; i < len(all); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(all[i:]))
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return uint16(sum)
}

func TestMarshalSYN(t *testing.T) {
	for _, tt := range []struct {
		name     string
		src, dst netip.Addr
		payload  int
	}{
		{"ipv4 empty", client4, target4, 0},
		{"ipv4 1460", client4, target4, 1460},
		{"ipv4 odd", client4, target4, 1001},
		{"ipv6 1440", client6, target6, 1440},
		{"ipv6 odd", client6, target6, 7},
	} {
		t.Run(tt.name, func(t *testing.T) {
			payload := probeData([8]byte{1, 2, 3, 4, 5, 6, 7, 8}, 3, tt.payload)
			b := marshalSYN(tt.src, tt.dst, 50000, 443, 0xdeadbeef, payload)
			if len(b) != TCPHeader+tt.payload {
				t.Fatalf("%d bytes, want %d", len(b), TCPHeader+tt.payload)
			}
			if s := pseudoSum(tt.src, tt.dst, b); s != 0xffff {
				t.Errorf("checksum does not verify: sum %#04x", s)
			}
			seg, err := parseTCP(b)
			if err != nil {
				t.Fatal(err)
			}
			want := tcpSegment{sport: 50000, dport: 443, seq: 0xdeadbeef, dataOff: 20, flags: tcpSYN, window: 64240,
				checksum: binary.BigEndian.Uint16(b[16:]), payload: payload}
			if diff := cmp.Diff(want, seg, cmp.AllowUnexported(tcpSegment{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if seg.kind() != "SYN" {
				t.Errorf("kind %q", seg.kind())
			}
		})
	}
	// A segment whose checksum was worked out apart (RFC 1071 in Python).
	b := marshalSYN(netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), 1234, 80, 1, nil)
	if got := binary.BigEndian.Uint16(b[16:]); got != knownSYNChecksum {
		t.Errorf("checksum %#04x, want %#04x", got, knownSYNChecksum)
	}
}

// knownSYNChecksum: 10.0.0.1:1234 > 10.0.0.2:80, seq 1, SYN, window 64240,
// no options, no data.
const knownSYNChecksum = 0x9bcc

func TestParseTCPErrors(t *testing.T) {
	good := marshalSYN(client4, target4, 1, 2, 3, nil)
	for _, tt := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"short", good[:19]},
		{"data offset below 20", func() []byte { b := append([]byte(nil), good...); b[12] = 4 << 4; return b }()},
		{"data offset past the end", func() []byte { b := append([]byte(nil), good...); b[12] = 6 << 4; return b }()},
	} {
		if _, err := parseTCP(tt.b); err == nil {
			t.Errorf("%s: parsed", tt.name)
		}
	}
}

// answer builds the target's answer to probe p of c: flags and ack.
func answer(c *TCPConn, p tcpProbe, flags uint8, ack uint32) []byte {
	b := make([]byte, TCPHeader)
	binary.BigEndian.PutUint16(b[0:], c.port)
	binary.BigEndian.PutUint16(b[2:], p.sport)
	binary.BigEndian.PutUint32(b[4:], 777)
	binary.BigEndian.PutUint32(b[8:], ack)
	b[12] = 5 << 4
	b[13] = flags
	return b
}

func TestTCPClassifyAnswer(t *testing.T) {
	p := tcpProbe{sport: 50001, isn: 1000, payload: 1460}
	tests := []struct {
		name  string
		from  netip.Addr
		build func(c *TCPConn) []byte
		kind  EventKind
		why   string
	}{
		{"syn-ack", target4, func(c *TCPConn) []byte { return answer(c, p, tcpSYN|tcpACK, 1001) }, Reached, ""},
		{"rst acking the data", target4, func(c *TCPConn) []byte { return answer(c, p, tcpRST|tcpACK, 1001+1460) }, Reached, ""},
		{"rst acking the syn", target4, func(c *TCPConn) []byte { return answer(c, p, tcpRST|tcpACK, 1001) }, Reached, ""},
		{"wrong ack", target4, func(c *TCPConn) []byte { return answer(c, p, tcpSYN|tcpACK, 1002) }, Ignored, "none of our probes"},
		{"ack of a shorter probe", target4, func(c *TCPConn) []byte { return answer(c, p, tcpRST|tcpACK, 1001+1000) }, Ignored, "none of our probes"},
		{"rst without ack", target4, func(c *TCPConn) []byte { return answer(c, p, tcpRST, 0) }, Ignored, "neither"},
		{"our own syn", target4, func(c *TCPConn) []byte { return answer(c, p, tcpSYN, 0) }, Ignored, "neither"},
		{"plain ack", target4, func(c *TCPConn) []byte { return answer(c, p, tcpACK, 1001) }, Ignored, "neither"},
		{"to another port", target4, func(c *TCPConn) []byte {
			return answer(c, tcpProbe{sport: 50002}, tcpSYN|tcpACK, 1001)
		}, Ignored, "none of our probes"},
		{"from another port", target4, func(c *TCPConn) []byte { b := answer(c, p, tcpSYN|tcpACK, 1001); b[1]++; return b }, Ignored, "not 443"},
		{"from another host", router4, func(c *TCPConn) []byte { return answer(c, p, tcpSYN|tcpACK, 1001) }, Ignored, "not the target"},
		{"truncated", target4, func(c *TCPConn) []byte { return answer(c, p, tcpSYN|tcpACK, 1001)[:12] }, Ignored, "not a TCP segment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTCPConn(target4, &OpenConfig{Src: client4})
			c.probes[1] = p
			c.fl.add(1, 1500)
			ev := c.classify(arrival{src: fromTCP, from: tt.from, b: tt.build(c)})
			if ev.Kind != tt.kind || !strings.Contains(ev.Why, tt.why) {
				t.Fatalf("got %v (%q), want %v (%q)", ev.Kind, ev.Why, tt.kind, tt.why)
			}
			if ev.Kind == Reached {
				if ev.Seq != 1 {
					t.Fatalf("seq %d", ev.Seq)
				}
				if again := c.classify(arrival{src: fromTCP, from: tt.from, b: tt.build(c)}); again.Kind != Ignored || !strings.Contains(again.Why, "duplicate") {
					t.Errorf("again: %v %q, want a duplicate", again.Kind, again.Why)
				}
			}
		})
	}
}

// TestTCPClassifyICMP checks every rule for an ICMP error about a SYN.
func TestTCPClassifyICMP(t *testing.T) {
	for _, fam := range []struct {
		name             string
		src, dst, router netip.Addr
		tooBig           [2]int
	}{
		{"ipv4", client4, target4, router4, [2]int{3, 4}},
		{"ipv6", client6, target6, router6, [2]int{2, 0}},
	} {
		v6 := fam.dst.Is6()
		hl := IPHeader(v6)
		tb := func(mtu int) func([]byte) []byte {
			return func(p []byte) []byte { return probetest.Error(v6, fam.tooBig[0], fam.tooBig[1], mtu, p) }
		}
		tests := []struct {
			name  string
			from  netip.Addr
			build func([]byte) []byte
			kind  EventKind
			mtu   Size
			why   string
		}{
			{"too big", fam.router, tb(1400), TooBig, 1400, ""},
			{"quote of 8 bytes", fam.router, func(p []byte) []byte { return tb(1400)(p[:hl+8]) }, TooBig, 1400, ""},
			{"admin prohibited", fam.router, func(p []byte) []byte {
				return probetest.Error(v6, map[bool]int{false: 3, true: 1}[v6], map[bool]int{false: 13, true: 1}[v6], 0, p)
			}, Unreachable, 0, ""},
			{"port unreachable is no answer for tcp", fam.dst, func(p []byte) []byte {
				return probetest.Error(v6, map[bool]int{false: 3, true: 1}[v6], map[bool]int{false: 3, true: 4}[v6], 0, p)
			}, Unreachable, 0, ""},
			{"other sequence number", fam.router, func(p []byte) []byte { p[hl+7]++; return tb(1400)(p) }, Ignored, 0, "none of our SYNs"},
			{"other source port", fam.router, func(p []byte) []byte { p[hl+1]++; return tb(1400)(p) }, Ignored, 0, "none of our SYNs"},
			{"other destination port", fam.router, func(p []byte) []byte { p[hl+3]++; return tb(1400)(p) }, Ignored, 0, "not 443"},
			{"forged cookie", fam.router, func(p []byte) []byte { p[hl+TCPHeader] ^= 1; return tb(1400)(p) }, Ignored, 0, "cookie"},
			{"mtu not below", fam.router, tb(1500), Ignored, 0, "not below"},
			{"from this host", fam.src, tb(1400), Ignored, 0, "this host"},
			{"quoted length differs", fam.router, func(p []byte) []byte {
				if v6 {
					binary.BigEndian.PutUint16(p[4:], 100)
				} else {
					binary.BigEndian.PutUint16(p[2:], 100)
				}
				return tb(1400)(p)
			}, Ignored, 0, "our probe 1 was 1500"},
		}
		for _, tt := range tests {
			t.Run(fam.name+"/"+tt.name, func(t *testing.T) {
				c := newTCPConn(fam.dst, &OpenConfig{Src: fam.src})
				tp := tcpProbe{sport: 50001, isn: 0x11223344, payload: 1500 - hl - TCPHeader}
				c.probes[1] = tp
				c.fl.add(1, 1500)
				seg := marshalSYN(fam.src, fam.dst, tp.sport, c.port, tp.isn, probeData(c.cookie, 1, tp.payload))
				pkt := append(probetest.IPHeader(fam.src, fam.dst, protoTCP, 1500), seg...)
				ev := c.classify(arrival{src: fromICMP, from: tt.from, b: tt.build(pkt)})
				if ev.Kind != tt.kind || ev.MTU != tt.mtu || !strings.Contains(ev.Why, tt.why) {
					t.Fatalf("got %v MTU %d (%q), want %v MTU %d (%q)", ev.Kind, ev.MTU, ev.Why, tt.kind, tt.mtu, tt.why)
				}
			})
		}
	}
}

// FuzzParseTCP: any bytes parse or fail without panicking; a SYN built
// from what parsed parses back the same.
func FuzzParseTCP(f *testing.F) {
	f.Add(marshalSYN(client4, target4, 50000, 443, 1, []byte("payload")))
	f.Add(marshalSYN(client6, target6, 50000, 443, 1, nil))
	f.Add([]byte{0, 1, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0x60, 0x12, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		seg, err := parseTCP(b)
		if err != nil {
			return
		}
		if seg.dataOff < TCPHeader || seg.dataOff > len(b) || len(seg.payload) != len(b)-seg.dataOff {
			t.Fatalf("parsed %+v from %d bytes", seg, len(b))
		}
		syn := marshalSYN(client4, target4, seg.sport, seg.dport, seg.seq, seg.payload)
		again, err := parseTCP(syn)
		if err != nil || again.sport != seg.sport || again.dport != seg.dport || again.seq != seg.seq ||
			string(again.payload) != string(seg.payload) {
			t.Fatalf("round trip: %+v became %+v (%v)", seg, again, err)
		}
		if pseudoSum(client4, target4, syn) != 0xffff {
			t.Fatal("built a SYN with a bad checksum")
		}
		// Whatever it is, a conn does not believe it unless it answers
		// its probe.
		c := newTCPConn(target4, &OpenConfig{Src: client4})
		c.probes[1] = tcpProbe{sport: 50001, isn: 1000, payload: 1460}
		c.fl.add(1, 1500)
		ev := c.classify(arrival{src: fromTCP, from: target4, b: b})
		if ev.Kind == Reached && (seg.dport != 50001 || (seg.ack != 1001 && seg.ack != 1001+1460) || seg.sport != 443) {
			t.Fatalf("believed %+v", seg)
		}
	})
}
