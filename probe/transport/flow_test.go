package transport

import (
	"encoding/binary"
	"testing"

	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/wire"
)

// TestEchoFlow: every Echo Request an ICMPConn sends, whatever its size
// and sequence number, carries the conn's identifier and one checksum, so
// a router hashing the bytes after the IP header keeps them on one branch.
func TestEchoFlow(t *testing.T) {
	path := &probetest.Path{Src: router4.Prev(), Dst: target4}
	pc := path.Conn()
	c := NewICMPConn(pc, target4, &ICMPConfig{ID: 40007})
	if got := c.Flow(); got != (Flow{EchoID: 40007}) {
		t.Fatalf("Flow() = %v, want echo id 40007", got)
	}
	var sums, ids []uint16
	seq := 0
	for _, size := range []mtu.Size{1500, 1492, 1400, 1280, 576, 68} {
		for range 3 {
			seq++
			b, err := c.marshal(wire.Probe{Seq: seq, Size: size})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, binary.BigEndian.Uint16(b[4:6]))
			sums = append(sums, binary.BigEndian.Uint16(b[2:4]))
		}
	}
	for i := range sums {
		if sums[i] != sums[0] || ids[i] != 40007 {
			t.Fatalf("probe %d: id %d checksum %#04x; want id 40007 and checksum %#04x as for probe 1", i+1, ids[i], sums[i], sums[0])
		}
	}
}
