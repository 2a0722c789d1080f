package transport

import (
	"net"
	"testing"
	"time"

	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/probe/wire"
)

// stampedConn hands out one packet with a kernel receive time, as a raw
// socket with SO_TIMESTAMPNS does, through ReadMsgIP.
type stampedConn struct {
	net.PacketConn
	pkt  []byte
	from net.IP
	at   time.Time
}

func (c *stampedConn) ReadMsgIP(b, oob []byte) (int, int, int, *net.IPAddr, error) {
	n := copy(b, c.pkt)
	return n, copy(oob, probetest.TimestampCmsg(c.at)), 0, &net.IPAddr{IP: c.from}, nil
}

func (c *stampedConn) SetReadDeadline(time.Time) error { return nil }

// A reply read late (after a burst of sends) is timed when the kernel got
// it, not when pmtu read it.
func TestRecvUsesKernelTimestamp(t *testing.T) {
	arrived := time.Date(2026, 11, 22, 18, 30, 0, 0, time.UTC)
	read := arrived.Add(2 * time.Millisecond)
	ic := NewICMPConn(nil, dst4, &ICMPConfig{Src: src4, ID: 0x1234, Now: func() time.Time { return read }})
	b, _ := ic.marshal(wire.Probe{Seq: 1, Size: 100})
	ic.flight.add(1, 100)
	reply := append([]byte(nil), b...)
	reply[0] = 0 // Echo Reply
	ic.c = &stampedConn{pkt: append(probetest.IPHeader(dst4, src4, 1, 100), reply...), from: dst4.AsSlice(), at: arrived}
	ev, err := ic.Recv(read.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Kind != wire.Reached || !ev.At.Equal(arrived) {
		t.Fatalf("got %v at %v (%s), want Reached at the kernel's %v", ev.Kind, ev.At, ev.Why, arrived)
	}
}
