package wire

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/pmtu/pmtu/internal/probetest"
	"github.com/pmtu/pmtu/mtu"
)

// fragOOB is a control message of level and typ holding the native int v.
func fragOOB(level, typ int32, v int32) []byte {
	b := make([]byte, unix.CmsgSpace(4))
	binary.NativeEndian.PutUint64(b[0:8], uint64(unix.CmsgLen(4)))
	binary.NativeEndian.PutUint32(b[8:12], uint32(level))
	binary.NativeEndian.PutUint32(b[12:16], uint32(typ))
	binary.NativeEndian.PutUint32(b[16:20], uint32(v))
	return b
}

// The files in testdata/fragsize are the control messages a raw ICMP
// socket with IP_RECVFRAGSIZE / IPV6_RECVFRAGSIZE read on this kernel
// (Linux 6.18, x86-64) in namespaces: a 1400-byte Echo Reply that came
// back over a 1300-byte link, fragmented by the router (IPv4: largest
// fragment 1300) or by the target after a Packet Too Big (IPv6: 1296, a
// 1248-byte piece behind the 40-byte header and the 8-byte Fragment
// header).
func TestParseFragSize(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", "fragsize", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	stamp := probetest.TimestampCmsg(time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC))
	for _, tt := range []struct {
		name string
		oob  []byte
		want mtu.Size
		ok   bool
	}{
		{"captured IPv4", read("v4-reply-1400-return-1300.bin"), 1300, true},
		{"captured IPv6", read("v6-reply-1400-return-1300.bin"), 1296, true},
		{"after a timestamp", append(append([]byte(nil), stamp...), fragOOB(unix.IPPROTO_IP, unix.IP_RECVFRAGSIZE, 576)...), 576, true},
		{"no control message: arrived whole", nil, 0, false},
		{"only a timestamp", stamp, 0, false},
		{"truncated", read("v4-reply-1400-return-1300.bin")[:18], 0, false},
		{"IPv6 type at the IPv4 level", fragOOB(unix.IPPROTO_IP, unix.IPV6_RECVFRAGSIZE, 1300), 0, false},
		{"zero", fragOOB(unix.IPPROTO_IP, unix.IP_RECVFRAGSIZE, 0), 0, false},
		{"negative", fragOOB(unix.IPPROTO_IPV6, unix.IPV6_RECVFRAGSIZE, -1), 0, false},
		{"above 65535", fragOOB(unix.IPPROTO_IPV6, unix.IPV6_RECVFRAGSIZE, 70000), 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseFragSize(tt.oob)
			if diff := cmp.Diff(tt.want, got); diff != "" || ok != tt.ok {
				t.Fatalf("ParseFragSize: ok %v, want %v; size (-want +got):\n%s", ok, tt.ok, diff)
			}
		})
	}
}

// FuzzParseFragSize: any control bytes parse or fail without panicking,
// and a size found is an IP packet size.
func FuzzParseFragSize(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "fragsize", "*.bin"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(fragOOB(unix.IPPROTO_IPV6, unix.IPV6_RECVFRAGSIZE, 1280))
	f.Fuzz(func(t *testing.T, oob []byte) {
		size, ok := ParseFragSize(oob)
		if ok != (size > 0) || size < 0 || size > mtu.Max {
			t.Fatalf("ParseFragSize = %d, %v", size, ok)
		}
	})
}
