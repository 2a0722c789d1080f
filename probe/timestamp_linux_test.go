package probe

import (
	"net"
	"testing"
	"time"
	"unsafe"

	"github.com/pmtu/pmtu/internal/probetest"
	"golang.org/x/sys/unix"
)

// stampOOB is the control message the kernel sends with SO_TIMESTAMPNS.
func stampOOB(t time.Time) []byte {
	ts := unix.NsecToTimespec(t.UnixNano())
	size := int(unsafe.Sizeof(ts))
	b := make([]byte, unix.CmsgSpace(size))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS
	h.SetLen(unix.CmsgLen(size))
	copy(b[unix.CmsgLen(0):], unsafe.Slice((*byte)(unsafe.Pointer(&ts)), size))
	return b
}

func TestParseTimestamp(t *testing.T) {
	want := time.Date(2026, 11, 22, 18, 30, 0, 123456789, time.UTC)
	got, ok := parseTimestamp(stampOOB(want))
	if !ok || !got.Equal(want) {
		t.Fatalf("parseTimestamp = %v, %v; want %v", got, ok, want)
	}
	if _, ok := parseTimestamp(nil); ok {
		t.Fatal("a timestamp found in no control message")
	}
	if _, ok := parseTimestamp([]byte{1, 2, 3}); ok {
		t.Fatal("a timestamp found in a truncated control message")
	}
}

func TestStripIPv4Header(t *testing.T) {
	icmp := []byte{0, 0, 0, 0, 0x12, 0x34, 0, 1}
	withOptions := append(probetest.IPHeader(src4, dst4, 1, 32), 1, 1, 1, 0) // IHL 6: 4 bytes of options
	withOptions[0] = 4<<4 | 6
	for _, tt := range []struct {
		name string
		b    []byte
		want []byte
	}{
		{"plain header", append(probetest.IPHeader(src4, dst4, 1, 28), icmp...), icmp},
		{"header with options", append(withOptions, icmp...), icmp},
		{"not IPv4", icmp, icmp},
		{"header longer than the packet", []byte{0x4f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := append([]byte(nil), tt.b...)
			n := stripIPv4Header(b, len(b))
			if tt.want == nil {
				if n != len(tt.b) {
					t.Fatalf("cut a malformed packet to %d bytes", n)
				}
				return
			}
			if string(b[:n]) != string(tt.want) {
				t.Fatalf("got % x, want % x", b[:n], tt.want)
			}
		})
	}
}

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
	return n, copy(oob, stampOOB(c.at)), 0, &net.IPAddr{IP: c.from}, nil
}

func (c *stampedConn) SetReadDeadline(time.Time) error { return nil }

// A reply read late (after a burst of sends) is timed when the kernel got
// it, not when pmtu read it.
func TestRecvUsesKernelTimestamp(t *testing.T) {
	arrived := time.Date(2026, 11, 22, 18, 30, 0, 0, time.UTC)
	read := arrived.Add(2 * time.Millisecond)
	ic := NewICMPConn(nil, dst4, &ICMPConfig{Src: src4, ID: 0x1234, Now: func() time.Time { return read }})
	b, _ := ic.marshal(Probe{Seq: 1, Size: 100})
	ic.flight.add(1, 100)
	reply := append([]byte(nil), b...)
	reply[0] = 0 // Echo Reply
	ic.c = &stampedConn{pkt: append(probetest.IPHeader(dst4, src4, 1, 100), reply...), from: dst4.AsSlice(), at: arrived}
	ic.stamps = true
	ev, err := ic.Recv(read.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Kind != Reached || !ev.At.Equal(arrived) {
		t.Fatalf("got %v at %v (%s), want Reached at the kernel's %v", ev.Kind, ev.At, ev.Why, arrived)
	}
}
