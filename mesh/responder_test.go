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
