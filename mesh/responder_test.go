package mesh

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pmtu/pmtu/probe/wire"
)

var (
	peerA    = netip.MustParseAddr("198.18.0.1")
	peerB    = netip.MustParseAddr("198.18.0.2")
	stranger = netip.MustParseAddr("198.18.9.9")
	testKey  = []byte("k8s secret: mesh key")
)

func peersOf(addrs ...netip.Addr) func(netip.Addr) bool {
	return func(a netip.Addr) bool {
		for _, p := range addrs {
			if p == a {
				return true
			}
		}
		return false
	}
}

func probeOf(t *testing.T, n int, key []byte) []byte {
	t.Helper()
	b, err := wire.MarshalMeshProbe(wire.MeshMessage{Nonce: wire.MeshNonce{7}, Sent: time.Unix(1, 0), Size: uint32(n + 28)}, n, key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestResponder(t *testing.T) {
	unkeyed, keyed := probeOf(t, 1472, nil), probeOf(t, 1472, testKey)
	wrongKey := probeOf(t, 1472, []byte("not the key"))
	ack := wire.MarshalMeshAck(wire.MeshMessage{}, 10, nil)
	for _, tt := range []struct {
		name string
		key  []byte
		from netip.Addr
		b    []byte
		want Verdict
	}{
		{"peer, unkeyed", nil, peerA, unkeyed, Answered},
		{"IPv4-mapped peer", nil, netip.AddrFrom16(peerA.As16()), unkeyed, Answered},
		{"peer, keyed", testKey, peerA, keyed, Answered},
		{"a stranger", nil, stranger, unkeyed, NotPeer},
		{"a stranger with the key", testKey, stranger, keyed, NotPeer},
		{"keyed responder, no MAC", testKey, peerA, unkeyed, BadMAC},
		{"keyed responder, wrong key", testKey, peerA, wrongKey, BadMAC},
		{"garbage", nil, peerA, []byte("GET / HTTP/1.1\r\n\r\n0123456789012345678901234567890"), Malformed},
		{"an ack", nil, peerA, ack, NotProbe},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := &Responder{Key: tt.key, IsPeer: peersOf(peerA, peerB)}
			got, v := r.Answer(tt.from, tt.b)
			if v != tt.want {
				t.Fatalf("verdict %v, want %v", v, tt.want)
			}
			if r.Count(tt.want) != 1 {
				t.Errorf("Count(%v) = %d, want 1", tt.want, r.Count(tt.want))
			}
			if v != Answered {
				if got != nil {
					t.Errorf("%v, yet an answer of %d bytes", v, len(got))
				}
				return
			}
			if len(got) > len(tt.b) {
				t.Errorf("answer of %d bytes to a probe of %d", len(got), len(tt.b))
			}
			m, err := wire.ParseMesh(got)
			if err != nil {
				t.Fatal(err)
			}
			if m.Kind != wire.MeshAck || m.Nonce != (wire.MeshNonce{7}) || int(m.Size) != len(tt.b) {
				t.Errorf("ack %+v, want an ack of nonce 7 saying %d bytes", m, len(tt.b))
			}
			if tt.key != nil && !wire.VerifyMeshMAC(got, tt.key) {
				t.Error("a keyed responder's ack carries no valid MAC")
			}
		})
	}
}

// TestResponderNoAmplification: for every probe size a responder answers,
// the answer is no longer than the probe.
func TestResponderNoAmplification(t *testing.T) {
	for _, key := range [][]byte{nil, testKey} {
		r := &Responder{Key: key, IsPeer: peersOf(peerA), Rate: 1e9, Burst: 1 << 20}
		for n := wire.MeshLen(key != nil); n <= 9000; n += 7 {
			b := probeOf(t, n, key)
			ack, v := r.Answer(peerA, b)
			if v != Answered || len(ack) > n {
				t.Fatalf("key %v, probe of %d bytes: %v, %d bytes back", key != nil, n, v, len(ack))
			}
		}
	}
}

// TestResponderRateLimit: each source has its own bucket; a flood from
// one does not starve another; time refills it.
func TestResponderRateLimit(t *testing.T) {
	now := time.Unix(1000, 0)
	r := &Responder{IsPeer: peersOf(peerA, peerB), Rate: 10, Burst: 5, Now: func() time.Time { return now }}
	b := probeOf(t, 100, nil)
	answered := 0
	for range 100 {
		if _, v := r.Answer(peerA, b); v == Answered {
			answered++
		}
	}
	if answered != 5 {
		t.Errorf("a flood of 100 at once: %d answered, want the burst, 5", answered)
	}
	if _, v := r.Answer(peerB, b); v != Answered {
		t.Errorf("another peer after the flood: %v, want answered", v)
	}
	now = now.Add(time.Second)
	answered = 0
	for range 100 {
		if _, v := r.Answer(peerA, b); v == Answered {
			answered++
		}
	}
	if answered != 5 {
		t.Errorf("a second later: %d answered, want 5 (10 earned, burst 5)", answered)
	}
	if r.Count(RateLimited) != 190 {
		t.Errorf("Count(RateLimited) = %d, want 190", r.Count(RateLimited))
	}
	r.IsPeer = peersOf(peerB)
	r.Prune()
	if len(r.limiters) != 1 {
		t.Errorf("after Prune: %d budgets kept, want 1 (peerB's)", len(r.limiters))
	}
}

// TestResponderShaped: a probe that asks for a shaped acknowledgement
// gets one of the IP size asked, header included, cut down to the
// probe's own size (no amplification), grown to the least a shaped
// acknowledgement can be, and without the header where none can go.
func TestResponderShaped(t *testing.T) {
	v6a := netip.MustParseAddr("2001:db8:1::1")
	for _, tt := range []struct {
		name  string
		from  netip.Addr
		key   []byte
		n     int // the probe's UDP payload
		ask   wire.MeshShape
		want  wire.MeshShape
		bytes int // the acknowledgement's UDP payload
	}{
		{"hop-by-hop at 1500", v6a, nil, 1452, wire.MeshShape{Header: wire.MeshHopByHop, Size: 1500},
			wire.MeshShape{Header: wire.MeshHopByHop, Size: 1500}, 1444},
		{"destination options, smallest", v6a, nil, 1452, wire.MeshShape{Header: wire.MeshDstOpts},
			wire.MeshShape{Header: wire.MeshDstOpts, Size: 40 + 8 + 8 + 40}, 40},
		{"keyed, smallest", v6a, testKey, 1452, wire.MeshShape{Header: wire.MeshDstOpts},
			wire.MeshShape{Header: wire.MeshDstOpts, Size: 40 + 8 + 8 + 72}, 72},
		{"asked larger than the probe: cut to its size", v6a, nil, 1000, wire.MeshShape{Header: wire.MeshHopByHop, Size: 1500},
			wire.MeshShape{Header: wire.MeshHopByHop, Size: 1048}, 992},
		{"no header, 1280", v6a, nil, 1232, wire.MeshShape{Size: 1280}, wire.MeshShape{Size: 1280}, 1232},
		{"a probe too small for the header", v6a, nil, 44, wire.MeshShape{Header: wire.MeshHopByHop, Size: 1500},
			wire.MeshShape{Header: wire.MeshHopByHop, Status: wire.MeshShapeTooSmall, Size: 92}, 44},
		{"over IPv4: no header", peerA, nil, 1472, wire.MeshShape{Header: wire.MeshHopByHop, Size: 1500},
			wire.MeshShape{Header: wire.MeshHopByHop, Status: wire.MeshShapeNotIPv6, Size: 1500}, 1472},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := wire.MarshalMeshProbe(wire.MeshMessage{Nonce: wire.MeshNonce{9}, Sent: time.Unix(2, 0), Shape: &tt.ask}, tt.n, tt.key)
			if err != nil {
				t.Fatal(err)
			}
			r := &Responder{Key: tt.key, IsPeer: peersOf(tt.from)}
			ack, v := r.Answer(tt.from, p)
			if v != Answered {
				t.Fatalf("verdict %v", v)
			}
			m, err := wire.ParseMesh(ack)
			if err != nil {
				t.Fatal(err)
			}
			if m.Shape == nil || *m.Shape != tt.want {
				t.Errorf("shape %+v, want %+v", m.Shape, tt.want)
			}
			if len(ack) != tt.bytes {
				t.Errorf("ack of %d bytes, want %d", len(ack), tt.bytes)
			}
			if hdr := wire.MeshHopByHop.Len(); m.Shape.Status == wire.MeshShapeSent && len(ack)+m.Shape.Header.Len() > len(p) {
				t.Errorf("ack of %d bytes and a %d-byte header for a probe of %d: amplification", len(ack), hdr, len(p))
			}
			if int(m.Size) != len(p) {
				t.Errorf("ack says %d bytes arrived, want %d", m.Size, len(p))
			}
			if tt.key != nil && !wire.VerifyMeshMAC(ack, tt.key) {
				t.Error("the ack's MAC does not verify")
			}
		})
	}
}
