package transport

import (
	"context"
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/pmtu/pmtu/probe/wire"
)

// shapeAll is a responder that answers every probe as asked: a shaped
// acknowledgement of the size its probe asked for (header included),
// never larger than the probe (what package mesh's Responder does).
func shapeAll(key []byte) func(netip.Addr, []byte) []byte {
	return func(_ netip.Addr, b []byte) []byte {
		m, err := wire.ParseMesh(b)
		if err != nil || m.Shape == nil {
			return nil
		}
		sh := *m.Shape
		n := min(int(sh.Size)-48-sh.Header.Len(), len(b)-sh.Header.Len())
		ack, err := wire.MarshalMeshShapedAck(m, len(b), sh, n, key)
		if err != nil {
			return nil
		}
		return ack
	}
}

// TestMeshShapedAck: over IPv6, the responder's socket attaches the
// header a probe asked for (this test runs with CAP_NET_RAW, as root in
// its namespace), and a MeshClient, unprivileged, sees which header each
// acknowledgement arrived with.
func TestMeshShapedAck(t *testing.T) {
	enter := meshNamespace(t)
	six := netip.IPv6Loopback()
	listenMesh(t, enter, six, MeshConfig{Respond: shapeAll(nil)})
	c, err := DialMesh(netip.AddrPortFrom(six, meshTestPort), &OpenConfig{Enter: enter})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i, tt := range []struct {
		header wire.MeshHeader
		size   uint16
		got    int // the IP packet that came back
	}{
		{wire.MeshNoHeader, 100, 100},
		{wire.MeshHopByHop, 100, 100},
		{wire.MeshDstOpts, 100, 100},
		{wire.MeshHopByHop, 1500, 1500},
		// Linux refuses a DF datagram with a Destination Options header
		// the size of the MTU (it counts the header twice): the
		// responder sends one a header's length smaller, and says so.
		{wire.MeshDstOpts, 1500, 1492},
	} {
		p, err := wire.MarshalMeshProbe(wire.MeshMessage{Nonce: wire.MeshNonce{byte(i)}, Shape: &wire.MeshShape{Header: tt.header, Size: tt.size}}, int(tt.size)-48, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Write(context.Background(), p); err != nil {
			t.Fatal(err)
		}
		a, err := c.Read(time.Now().Add(time.Second))
		if err != nil {
			t.Fatalf("%v at %d: %v", tt.header, tt.size, err)
		}
		m, err := wire.ParseMesh(a.Data)
		if err != nil || m.Shape == nil || m.Nonce[0] != byte(i) {
			t.Fatalf("%v at %d: read %+v, %v", tt.header, tt.size, m, err)
		}
		if a.HopByHop != (tt.header == wire.MeshHopByHop) || a.DstOpts != (tt.header == wire.MeshDstOpts) {
			t.Errorf("%v at %d: arrived with Hop-by-Hop %v, Destination Options %v", tt.header, tt.size, a.HopByHop, a.DstOpts)
		}
		if got := 48 + tt.header.Len() + len(a.Data); got != tt.got || int(m.Shape.Size) != got || m.Shape.Status != wire.MeshShapeSent {
			t.Errorf("%v: an IP packet of %d bytes (the ack says %d, %v), want %d", tt.header, got, m.Shape.Size, m.Shape.Status, tt.got)
		}
	}
}

// TestMeshClientRefused: a MeshClient toward a port where no responder
// listens reads ECONNREFUSED at once, not a timeout.
func TestMeshClientRefused(t *testing.T) {
	enter := meshNamespace(t)
	c, err := DialMesh(netip.AddrPortFrom(netip.IPv6Loopback(), meshTestPort+1), &OpenConfig{Enter: enter})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p, _ := wire.MarshalMeshProbe(wire.MeshMessage{}, 100, nil)
	if err := c.Write(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := c.Read(start.Add(2 * time.Second)); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("Read = %v, want ECONNREFUSED", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the refusal took %v", d)
	}
}
