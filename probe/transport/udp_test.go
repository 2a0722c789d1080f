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

// udpProbe builds the IP packet a UDPConn's probe socket sends: the IP
// and UDP headers the kernel writes, and the payload.
func udpProbe(c *UDPConn, seq int, sport uint16, size mtu.Size) []byte {
	n := int(size) - mtu.IPHeader(c.ipv6) - mtu.UDPHeader
	h := make([]byte, mtu.UDPHeader)
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], uint16(c.port))
	binary.BigEndian.PutUint16(h[4:], uint16(mtu.UDPHeader+n))
	b := probetest.IPHeader(c.src, c.dst, wire.ProtoUDP, int(size))
	b = append(b, h...)
	return append(b, wire.ProbeData(c.cookie, seq, n)...)
}

// TestUDPClassify checks every rule for believing an ICMP error about a
// UDP probe read from a raw socket (MethodUDP), on one probe in flight:
// seq 1, 1500 bytes, from port 40001.
func TestUDPClassify(t *testing.T) {
	for _, fam := range []struct {
		name                string
		src, dst, router    netip.Addr
		tooBig, portUn, ttl [2]int
		floor               mtu.Size
	}{
		{"ipv4", netip.MustParseAddr("198.18.1.1"), target4, router4, [2]int{3, 4}, [2]int{3, 3}, [2]int{11, 0}, 68},
		{"ipv6", netip.MustParseAddr("2001:db8:1::1"), target6, router6, [2]int{2, 0}, [2]int{1, 4}, [2]int{3, 0}, 1280},
	} {
		v6 := fam.dst.Is6()
		icmpErr := func(typ [2]int, mtu int) func([]byte) []byte {
			return func(p []byte) []byte { return probetest.Error(v6, typ[0], typ[1], mtu, p) }
		}
		hl := mtu.IPHeader(v6)
		tests := []struct {
			name  string
			from  netip.Addr
			build func(probe []byte) []byte
			kind  wire.EventKind
			mtu   mtu.Size
			why   string
		}{
			{"too big", fam.router, icmpErr(fam.tooBig, 1400), wire.TooBig, 1400, ""},
			{"port unreachable from the target", fam.dst, icmpErr(fam.portUn, 0), wire.Reached, 0, ""},
			{"port unreachable from a router", fam.router, icmpErr(fam.portUn, 0), wire.Unreachable, 0, ""},
			{"time exceeded", fam.router, icmpErr(fam.ttl, 0), wire.TimeExceeded, 0, ""},
			{"quote of 8 bytes only", fam.router, func(p []byte) []byte { return icmpErr(fam.tooBig, 1400)(p[:hl+8]) }, wire.TooBig, 1400, ""},
			{"mtu not below the probe", fam.router, icmpErr(fam.tooBig, 1500), wire.Ignored, 0, "not below"},
			{"mtu below the floor", fam.router, icmpErr(fam.tooBig, int(fam.floor)-1), wire.Ignored, 0, "below the floor"},
			{"from this host", fam.src, icmpErr(fam.tooBig, 1400), wire.Ignored, 0, "this host"},
			{"to another port", fam.router, func(p []byte) []byte { p[hl+3]++; return icmpErr(fam.tooBig, 1400)(p) }, wire.Ignored, 0, "not 33434"},
			{"from another port", fam.router, func(p []byte) []byte { p[hl+1]++; return icmpErr(fam.tooBig, 1400)(p) }, wire.Ignored, 0, "not from our port 40001"},
			{"quote of 8 bytes of another size", fam.router, func(p []byte) []byte {
				if v6 {
					binary.BigEndian.PutUint16(p[4:], 1000)
				} else {
					binary.BigEndian.PutUint16(p[2:], 1000)
				}
				return icmpErr(fam.tooBig, 1400)(p[:hl+8])
			}, wire.Ignored, 0, "we sent none of that size"},
			{"quoted length differs", fam.router, func(p []byte) []byte {
				if v6 {
					binary.BigEndian.PutUint16(p[4:], 1000)
				} else {
					binary.BigEndian.PutUint16(p[2:], 1000)
				}
				return icmpErr(fam.tooBig, 1400)(p)
			}, wire.Ignored, 0, "-byte packet; our probe 1 was 1500"},
			{"forged cookie", fam.router, func(p []byte) []byte { p[hl+8] ^= 0xff; return icmpErr(fam.tooBig, 1400)(p) }, wire.Ignored, 0, "cookie"},
			{"another probe's seq", fam.router, func(p []byte) []byte { p[hl+8+11] = 9; return icmpErr(fam.tooBig, 1400)(p) }, wire.Ignored, 0, "probe 9, which we never sent"},
			{"quote from elsewhere", fam.router, func(p []byte) []byte {
				p[map[bool]int{false: 15, true: 23}[v6]] ^= 1
				return icmpErr(fam.tooBig, 1400)(p)
			}, wire.Ignored, 0, "not from us"},
			{"quote to elsewhere", fam.router, func(p []byte) []byte {
				p[map[bool]int{false: 19, true: 39}[v6]] ^= 1
				return icmpErr(fam.tooBig, 1400)(p)
			}, wire.Ignored, 0, "not the target"},
			{"quote of tcp", fam.router, func(p []byte) []byte { p[map[bool]int{false: 9, true: 6}[v6]] = 6; return icmpErr(fam.tooBig, 1400)(p) }, wire.Ignored, 0, "protocol 6"},
			{"an echo reply", fam.dst, func(p []byte) []byte { return []byte{map[bool]byte{false: 0, true: 129}[v6], 0, 0, 0, 0, 1, 0, 1} }, wire.Ignored, 0, "not an error"},
			{"truncated", fam.router, func(p []byte) []byte { return icmpErr(fam.tooBig, 1400)(p)[:20] }, wire.Ignored, 0, "truncated"},
		}
		for _, tt := range tests {
			t.Run(fam.name+"/"+tt.name, func(t *testing.T) {
				c := newUDPConn(fam.dst, MethodUDP, &OpenConfig{Src: fam.src})
				c.fl.add(1, 1500)
				c.sport, c.bySize[1500] = 40001, 1
				ev := c.classify(arrival{src: fromICMP, from: tt.from, b: tt.build(udpProbe(c, 1, 40001, 1500))})
				if ev.Kind != tt.kind || ev.MTU != tt.mtu {
					t.Fatalf("got %v MTU %d (%s), want %v MTU %d", ev.Kind, ev.MTU, ev.Why, tt.kind, tt.mtu)
				}
				if tt.kind == wire.Ignored && !strings.Contains(ev.Why, tt.why) {
					t.Fatalf("why %q, want it to say %q", ev.Why, tt.why)
				}
				if tt.kind != wire.Ignored && ev.Seq != 1 {
					t.Fatalf("seq %d, want 1", ev.Seq)
				}
			})
		}
	}
}

func TestUDPReply(t *testing.T) {
	c := newUDPConn(target4, MethodUDPRecvErr, nil)
	c.fl.add(1, 1500)
	one, two := wire.ProbeData(c.cookie, 1, 20), wire.ProbeData(c.cookie, 2, 20)
	tests := []struct {
		name string
		a    arrival
		kind wire.EventKind
		why  string
	}{
		{"from the target's port", arrival{src: fromData, seq: -1, from: target4, port: 33434, b: one}, wire.Reached, ""},
		{"duplicate", arrival{src: fromData, seq: -1, from: target4, port: 33434, b: one}, wire.Ignored, "duplicate"},
		{"from another port", arrival{src: fromData, seq: -1, from: target4, port: 53, b: one}, wire.Ignored, "not from the target's port"},
		{"from another host", arrival{src: fromData, seq: -1, from: router4, port: 33434, b: one}, wire.Ignored, "not from the target's port"},
		{"for a probe we never sent", arrival{src: fromData, seq: -1, from: target4, port: 33434, b: two}, wire.Ignored, "never sent"},
		{"without our payload", arrival{src: fromData, seq: -1, from: target4, port: 33434, b: []byte("pong")}, wire.Ignored, "too few to name a probe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := c.classify(tt.a)
			if ev.Kind != tt.kind || !strings.Contains(ev.Why, tt.why) {
				t.Fatalf("got %v (%q), want %v (%q)", ev.Kind, ev.Why, tt.kind, tt.why)
			}
		})
	}
}

func TestProbeData(t *testing.T) {
	cookie := [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
	b := wire.ProbeData(cookie, 0x01020304, 20)
	want := []byte{1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0}
	if string(b) != string(want) {
		t.Fatalf("probeData = %v, want %v", b, want)
	}
	if short := wire.ProbeData(cookie, 1, 5); string(short) != string(cookie[:5]) {
		t.Fatalf("probeData of 5 bytes = %v", short)
	}
	for _, tt := range []struct {
		name string
		data []byte
		seq  int
		why  string
	}{
		{"whole", b, 0x01020304, ""},
		{"cut in the cookie", b[:3], 0x01020304, ""},
		{"cut in the seq", b[:10], 0x01020304, ""},
		{"empty", nil, 7, ""},
		{"another seq", b, 5, "another probe"},
		{"bad cookie", append([]byte{9}, b[1:]...), 0x01020304, "cookie"},
	} {
		if got := wire.CheckData(tt.data, cookie, tt.seq); !strings.Contains(got, tt.why) || (tt.why == "") != (got == "") {
			t.Errorf("%s: checkData = %q, want %q", tt.name, got, tt.why)
		}
	}
}

// FuzzUDPClassify: whatever a raw ICMP socket hands a UDPConn, it neither
// panics nor believes an MTU that breaks the rules, nor an error about a
// port it did not send from.
func FuzzUDPClassify(f *testing.F) {
	seed := newUDPConn(target4, MethodUDP, &OpenConfig{Src: netip.MustParseAddr("198.18.1.1")})
	p := udpProbe(seed, 1, 40001, 1500)
	f.Add(probetest.Error(false, 3, 4, 1400, p), false)
	f.Add(probetest.Error(false, 3, 3, 0, p[:28]), false)
	seed6 := newUDPConn(target6, MethodUDP, &OpenConfig{Src: netip.MustParseAddr("2001:db8:1::1")})
	f.Add(probetest.Error(true, 2, 0, 1280, udpProbe(seed6, 1, 40001, 1500)), true)
	f.Fuzz(func(t *testing.T, b []byte, v6 bool) {
		dst, src := target4, netip.MustParseAddr("198.18.1.1")
		if v6 {
			dst, src = target6, netip.MustParseAddr("2001:db8:1::1")
		}
		c := newUDPConn(dst, MethodUDP, &OpenConfig{Src: src})
		c.cookie = seed.cookie
		c.fl.add(1, 1500)
		c.sport, c.bySize[1500] = 40001, 1
		ev := c.classify(arrival{src: fromICMP, from: router4, b: b})
		if ev.Kind == wire.Ignored {
			return
		}
		if ev.Seq != 1 {
			t.Fatalf("believed an answer for probe %d", ev.Seq)
		}
		if ev.Kind == wire.TooBig && checkMTU(ev.MTU, 1500, v6) != "" {
			t.Fatalf("believed MTU %d", ev.MTU)
		}
		m, err := wire.ParseMessage(b, v6)
		if err != nil || m.Quote == nil || m.Quote.Length != 1500 || binary.BigEndian.Uint16(m.Quote.Transport) != 40001 {
			t.Fatalf("believed %v from a message that does not quote the probe", ev.Kind)
		}
	})
}
