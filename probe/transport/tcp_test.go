package transport

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/wire"
)

var (
	client4 = netip.MustParseAddr("198.18.1.1")
	client6 = netip.MustParseAddr("2001:db8:1::1")
)

// answer builds the target's answer to probe p of c: flags and ack.
func answer(c *TCPConn, p tcpProbe, flags uint8, ack uint32) []byte {
	b := make([]byte, mtu.TCPHeader)
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
		kind  wire.EventKind
		why   string
	}{
		{"syn-ack", target4, func(c *TCPConn) []byte { return answer(c, p, wire.TCPSYN|wire.TCPACK, 1001) }, wire.Reached, ""},
		{"rst acking the data", target4, func(c *TCPConn) []byte { return answer(c, p, wire.TCPRST|wire.TCPACK, 1001+1460) }, wire.Reached, ""},
		{"rst acking the syn", target4, func(c *TCPConn) []byte { return answer(c, p, wire.TCPRST|wire.TCPACK, 1001) }, wire.Reached, ""},
		{"wrong ack", target4, func(c *TCPConn) []byte { return answer(c, p, wire.TCPSYN|wire.TCPACK, 1002) }, wire.Ignored, "none of our probes"},
		{"ack of a shorter probe", target4, func(c *TCPConn) []byte { return answer(c, p, wire.TCPRST|wire.TCPACK, 1001+1000) }, wire.Ignored, "none of our probes"},
		{"rst without ack", target4, func(c *TCPConn) []byte { return answer(c, p, wire.TCPRST, 0) }, wire.Ignored, "neither"},
		{"our own syn", target4, func(c *TCPConn) []byte { return answer(c, p, wire.TCPSYN, 0) }, wire.Ignored, "neither"},
		{"plain ack", target4, func(c *TCPConn) []byte { return answer(c, p, wire.TCPACK, 1001) }, wire.Ignored, "neither"},
		{"to another port", target4, func(c *TCPConn) []byte {
			return answer(c, tcpProbe{sport: 50002}, wire.TCPSYN|wire.TCPACK, 1001)
		}, wire.Ignored, "none of our probes"},
		{"from another port", target4, func(c *TCPConn) []byte { b := answer(c, p, wire.TCPSYN|wire.TCPACK, 1001); b[1]++; return b }, wire.Ignored, "not 443"},
		{"from another host", router4, func(c *TCPConn) []byte { return answer(c, p, wire.TCPSYN|wire.TCPACK, 1001) }, wire.Ignored, "not the target"},
		{"truncated", target4, func(c *TCPConn) []byte { return answer(c, p, wire.TCPSYN|wire.TCPACK, 1001)[:12] }, wire.Ignored, "not a TCP segment"},
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
			if ev.Kind == wire.Reached {
				if ev.Seq != 1 {
					t.Fatalf("seq %d", ev.Seq)
				}
				if again := c.classify(arrival{src: fromTCP, from: tt.from, b: tt.build(c)}); again.Kind != wire.Ignored || !strings.Contains(again.Why, "duplicate") {
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
		hl := mtu.IPHeader(v6)
		tb := func(mtu int) func([]byte) []byte {
			return func(p []byte) []byte { return probetest.Error(v6, fam.tooBig[0], fam.tooBig[1], mtu, p) }
		}
		tests := []struct {
			name  string
			from  netip.Addr
			build func([]byte) []byte
			kind  wire.EventKind
			mtu   mtu.Size
			why   string
		}{
			{"too big", fam.router, tb(1400), wire.TooBig, 1400, ""},
			{"quote of 8 bytes", fam.router, func(p []byte) []byte { return tb(1400)(p[:hl+8]) }, wire.TooBig, 1400, ""},
			{"admin prohibited", fam.router, func(p []byte) []byte {
				return probetest.Error(v6, map[bool]int{false: 3, true: 1}[v6], map[bool]int{false: 13, true: 1}[v6], 0, p)
			}, wire.Unreachable, 0, ""},
			{"port unreachable is no answer for tcp", fam.dst, func(p []byte) []byte {
				return probetest.Error(v6, map[bool]int{false: 3, true: 1}[v6], map[bool]int{false: 3, true: 4}[v6], 0, p)
			}, wire.Unreachable, 0, ""},
			{"other sequence number", fam.router, func(p []byte) []byte { p[hl+7]++; return tb(1400)(p) }, wire.Ignored, 0, "none of our SYNs"},
			{"other source port", fam.router, func(p []byte) []byte { p[hl+1]++; return tb(1400)(p) }, wire.Ignored, 0, "none of our SYNs"},
			{"other destination port", fam.router, func(p []byte) []byte { p[hl+3]++; return tb(1400)(p) }, wire.Ignored, 0, "not 443"},
			{"forged cookie", fam.router, func(p []byte) []byte { p[hl+mtu.TCPHeader] ^= 1; return tb(1400)(p) }, wire.Ignored, 0, "cookie"},
			{"mtu not below", fam.router, tb(1500), wire.Ignored, 0, "not below"},
			{"from this host", fam.src, tb(1400), wire.Ignored, 0, "this host"},
			{"quoted length differs", fam.router, func(p []byte) []byte {
				if v6 {
					binary.BigEndian.PutUint16(p[4:], 100)
				} else {
					binary.BigEndian.PutUint16(p[2:], 100)
				}
				return tb(1400)(p)
			}, wire.Ignored, 0, "our probe 1 was 1500"},
		}
		for _, tt := range tests {
			t.Run(fam.name+"/"+tt.name, func(t *testing.T) {
				c := newTCPConn(fam.dst, &OpenConfig{Src: fam.src})
				tp := tcpProbe{sport: 50001, isn: 0x11223344, payload: 1500 - hl - mtu.TCPHeader}
				c.probes[1] = tp
				c.fl.add(1, 1500)
				seg := wire.MarshalSYN(fam.src, fam.dst, tp.sport, c.port, tp.isn, wire.ProbeData(c.cookie, 1, tp.payload))
				pkt := append(probetest.IPHeader(fam.src, fam.dst, wire.ProtoTCP, 1500), seg...)
				ev := c.classify(arrival{src: fromICMP, from: tt.from, b: tt.build(pkt)})
				if ev.Kind != tt.kind || ev.MTU != tt.mtu || !strings.Contains(ev.Why, tt.why) {
					t.Fatalf("got %v MTU %d (%q), want %v MTU %d (%q)", ev.Kind, ev.MTU, ev.Why, tt.kind, tt.mtu, tt.why)
				}
			})
		}
	}
}

// FuzzTCPClassify: whatever segment the raw TCP socket reads, a conn
// does not believe it unless it answers its probe.
func FuzzTCPClassify(f *testing.F) {
	f.Add(wire.MarshalSYN(client4, target4, 50000, 443, 1, []byte("payload")))
	f.Add(wire.MarshalSYN(client6, target6, 50000, 443, 1, nil))
	f.Add([]byte{0, 1, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0x60, 0x12, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		seg, err := wire.ParseTCP(b)
		if err != nil {
			return
		}
		c := newTCPConn(target4, &OpenConfig{Src: client4})
		c.probes[1] = tcpProbe{sport: 50001, isn: 1000, payload: 1460}
		c.fl.add(1, 1500)
		ev := c.classify(arrival{src: fromTCP, from: target4, b: b})
		if ev.Kind == wire.Reached && (seg.DstPort != 50001 || (seg.Ack != 1001 && seg.Ack != 1001+1460) || seg.SrcPort != 443) {
			t.Fatalf("believed %+v", seg)
		}
	})
}
