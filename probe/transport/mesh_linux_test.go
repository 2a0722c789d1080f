package transport

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/pmtu/pmtu/internal/nstest"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/netns"
	"github.com/pmtu/pmtu/probe/wire"
)

// meshNamespace makes a namespace of the test's own with lo up at MTU
// 1500 and returns what enters it.
func meshNamespace(t *testing.T) func(func() error) error {
	t.Helper()
	path := nstest.NewLoopback(t, 1500)
	return func(fn func() error) error { return netns.Do(path, fn) }
}

const meshTestPort = 40123

var (
	meshA = netip.MustParseAddr("127.0.0.1")
	meshB = netip.MustParseAddr("127.0.0.2")
	meshC = netip.MustParseAddr("127.0.0.3")
)

// ackAll is a responder that acknowledges every probe, keyed with key.
func ackAll(key []byte) func(netip.Addr, []byte) []byte {
	return func(_ netip.Addr, b []byte) []byte {
		m, err := wire.ParseMesh(b)
		if err != nil {
			return nil
		}
		return wire.MarshalMeshAck(m, len(b), key)
	}
}

// collect reads events until deadline.
func collect(t *testing.T, c wire.Conn, wait time.Duration) (believed, ignored []wire.Event) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		ev, err := c.Recv(deadline)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return
		}
		if err != nil {
			t.Fatalf("Recv: %v", err)
		}
		if ev.Kind == wire.Ignored {
			ignored = append(ignored, ev)
		} else {
			believed = append(believed, ev)
		}
	}
}

func listenMesh(t *testing.T, enter func(func() error) error, a netip.Addr, cfg MeshConfig) *MeshSocket {
	t.Helper()
	cfg.Enter = enter
	s, err := ListenMesh(netip.AddrPortFrom(a, meshTestPort), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestMeshAck: a probe of exactly its size reaches the peer's responder,
// whose acknowledgement is Reached; the responder saw the padding too.
func TestMeshAck(t *testing.T) {
	enter := meshNamespace(t)
	for _, key := range [][]byte{nil, []byte("key")} {
		var mu sync.Mutex
		var got []int
		b := listenMesh(t, enter, meshB, MeshConfig{Key: key, Respond: func(from netip.Addr, b []byte) []byte {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, len(b))
			return ackAll(key)(from, b)
		}})
		a := listenMesh(t, enter, meshA, MeshConfig{Key: key})
		c, err := a.Open(meshB, meshTestPort)
		if err != nil {
			t.Fatal(err)
		}
		for i, size := range []int{1500, 1000, int(c.MinSize())} {
			if err := c.Send(context.Background(), wire.Probe{Seq: i + 1, Size: mtu.Size(size)}); err != nil {
				t.Fatal(err)
			}
		}
		believed, ignored := collect(t, c, 300*time.Millisecond)
		if len(believed) != 3 || len(ignored) != 0 {
			t.Fatalf("keyed %v: %d believed, %d ignored (%v), want 3 and 0", key != nil, len(believed), len(ignored), ignored)
		}
		for _, ev := range believed {
			if ev.Kind != wire.Reached || ev.From != meshB {
				t.Errorf("%v from %s, want reached from %s", ev.Kind, ev.From, meshB)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if want := []int{1472, 972, int(c.MinSize()) - 28}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Errorf("responder saw payloads of %v bytes, want %v", got, want)
		}
		if err := c.Send(context.Background(), wire.Probe{Seq: 9, Size: c.MinSize() - 1}); !errors.Is(err, wire.ErrSize) {
			t.Errorf("a probe below MinSize: %v, want ErrSize", err)
		}
		c.Close()
		// The next round binds the same ports.
		a.Close()
		b.Close()
	}
}

// TestMeshForgedAcks: 1000 forged acknowledgements, from an attacker who
// sees every probe (it is the peer's address), are believed 0 times; the
// genuine ones that follow are.
func TestMeshForgedAcks(t *testing.T) {
	enter := meshNamespace(t)
	key := []byte("the mesh key")
	a := listenMesh(t, enter, meshA, MeshConfig{Key: key})
	// The "peer": a plain UDP socket on B's port that sees each probe and
	// answers with forgeries; a third host forges from C.
	var peer, other net.PacketConn
	err := enter(func() error {
		var err error
		if peer, err = net.ListenPacket("udp4", netip.AddrPortFrom(meshB, meshTestPort).String()); err != nil {
			return err
		}
		other, err = net.ListenPacket("udp4", netip.AddrPortFrom(meshC, meshTestPort).String())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	defer other.Close()
	c, err := a.Open(meshB, meshTestPort)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Send(context.Background(), wire.Probe{Seq: 1, Size: 1400}); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2000)
	peer.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, from, err := peer.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	probe := append([]byte(nil), buf[:n]...)
	pm, err := wire.ParseMesh(probe)
	if err != nil {
		t.Fatal(err)
	}
	forged := forgeries(pm, n, key)
	if len(forged) != 1000 {
		t.Fatalf("%d forgeries, want 1000", len(forged))
	}
	var believed, ignored []wire.Event
	for i, f := range forged {
		src := peer
		if f.fromOther {
			src = other
		}
		if _, err := src.WriteTo(f.b, from); err != nil {
			t.Fatal(err)
		}
		if i%100 == 99 {
			// Read as a search does, so that the conn's inbox (256)
			// never overflows and every forgery is judged.
			b, ig := collect(t, c, 50*time.Millisecond)
			believed, ignored = append(believed, b...), append(ignored, ig...)
		}
	}
	strays := a.Stats().Strays.Load()
	t.Logf("1000 forgeries: %d believed, %d ignored by the conn, %d not naming any conn", len(believed), len(ignored), strays)
	if len(believed) != 0 {
		t.Fatalf("believed %d forged acknowledgements: %+v", len(believed), believed)
	}
	if uint64(len(ignored))+strays != 1000 {
		t.Errorf("%d ignored + %d strays, want all 1000 accounted for", len(ignored), strays)
	}
	// The genuine acknowledgement is believed, once.
	genuine := wire.MarshalMeshAck(pm, n, key)
	for range 2 {
		if _, err := peer.WriteTo(genuine, from); err != nil {
			t.Fatal(err)
		}
	}
	believed, ignored = collect(t, c, 300*time.Millisecond)
	if len(believed) != 1 || believed[0].Kind != wire.Reached || believed[0].Seq != 1 {
		t.Errorf("genuine acknowledgement: believed %+v, want one Reached for probe 1", believed)
	}
	if len(ignored) != 1 {
		t.Errorf("the duplicate: %d ignored, want 1", len(ignored))
	}
}

type forgery struct {
	b         []byte
	fromOther bool
}

// forgeries makes 1000 acknowledgements a forger could send for probe p
// of n bytes, none right: random nonces; p's identifier with guessed
// sequence and random parts; p's nonce but no MAC, a wrong MAC, more or
// fewer bytes than were sent; p's exact acknowledgement from another
// address.
func forgeries(p wire.MeshMessage, n int, key []byte) []forgery {
	var out []forgery
	add := func(b []byte, other bool) { out = append(out, forgery{b, other}) }
	for range 200 {
		var nonce wire.MeshNonce
		rand.Read(nonce[:])
		add(wire.MarshalMeshAck(wire.MeshMessage{Nonce: nonce}, n, key), false)
	}
	for i := range 200 {
		nonce := p.Nonce
		binary.BigEndian.PutUint32(nonce[8:12], uint32(i%3+1))
		rand.Read(nonce[12:])
		add(wire.MarshalMeshAck(wire.MeshMessage{Nonce: nonce}, n, key), false)
	}
	for range 150 {
		add(wire.MarshalMeshAck(p, n, nil), false) // no MAC
	}
	for range 150 {
		add(wire.MarshalMeshAck(p, n, []byte("a guessed key")), false)
	}
	for i := range 100 {
		add(wire.MarshalMeshAck(p, n+1+i, key), false) // more than was sent
	}
	for i := range 100 {
		add(wire.MarshalMeshAck(p, n-1-i, key), false) // less
	}
	for range 100 {
		add(wire.MarshalMeshAck(p, n, key), true) // right, from the wrong host
	}
	return out
}

// TestMeshNoAgent: a peer where no agent listens answers with a Port
// Unreachable, read from the error queue: Unreachable, not Reached (only
// an acknowledgement proves a size).
func TestMeshNoAgent(t *testing.T) {
	enter := meshNamespace(t)
	a := listenMesh(t, enter, meshA, MeshConfig{})
	c, err := a.Open(meshC, meshTestPort)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Send(context.Background(), wire.Probe{Seq: 1, Size: 1500}); err != nil {
		t.Fatal(err)
	}
	believed, ignored := collect(t, c, 300*time.Millisecond)
	if len(believed) != 1 || believed[0].Kind != wire.Unreachable || believed[0].From != meshC || believed[0].Seq != 1 {
		t.Fatalf("believed %+v (ignored %+v), want one Unreachable from %s for probe 1", believed, ignored, meshC)
	}
	if _, err := a.Open(netip.MustParseAddr("::1"), meshTestPort); err == nil {
		t.Error("an IPv6 peer on an IPv4 socket: no error")
	}
}
