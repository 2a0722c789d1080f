package wire

import (
	"encoding/hex"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pmtu/pmtu/internal/probetest"
	"golang.org/x/sys/unix"
)

var (
	router4 = netip.MustParseAddr("198.18.2.2")
	router6 = netip.MustParseAddr("2001:db8:2::2")
)

// marshalErrQueue builds the control message a kernel hands recvmsg
// (MSG_ERRQUEUE) for ee, at level and type.
func marshalErrQueue(level, typ int, ee ExtendedErr) []byte {
	return probetest.ErrQueueCmsg(level, typ, sockErr(ee))
}

// sockErr is ee as probetest builds it.
func sockErr(ee ExtendedErr) probetest.SockExtendedErr {
	return probetest.SockExtendedErr{Errno: ee.Errno, Origin: uint8(ee.Origin), Type: ee.Type, Code: ee.Code,
		Info: ee.Info, Data: ee.Data, Offender: ee.Offender}
}

func TestParseErrQueue(t *testing.T) {
	fragNeeded := ExtendedErr{Errno: unix.EMSGSIZE, Origin: OriginICMP, Type: 3, Code: 4, Info: 1400, Offender: router4}
	tooBig := ExtendedErr{Errno: unix.EMSGSIZE, Origin: OriginICMP6, Type: 2, Code: 0, Info: 1280, Offender: router6}
	portUnreach := ExtendedErr{Errno: unix.ECONNREFUSED, Origin: OriginICMP, Type: 3, Code: 3, Offender: target4}
	local := ExtendedErr{Errno: unix.EMSGSIZE, Origin: OriginLocal, Info: 1500}
	tests := []struct {
		name string
		oob  []byte
		want ExtendedErr
		err  error
	}{
		{"frag needed", marshalErrQueue(unix.SOL_IP, unix.IP_RECVERR, fragNeeded), fragNeeded, nil},
		{"packet too big", marshalErrQueue(unix.SOL_IPV6, unix.IPV6_RECVERR, tooBig), tooBig, nil},
		{"port unreachable", marshalErrQueue(unix.SOL_IP, unix.IP_RECVERR, portUnreach), portUnreach, nil},
		{"local emsgsize", marshalErrQueue(unix.SOL_IP, unix.IP_RECVERR, local), local, nil},
		{"after another cmsg", append(probetest.Cmsg(unix.SOL_IP, unix.IP_TTL, []byte{64, 0, 0, 0}),
			marshalErrQueue(unix.SOL_IP, unix.IP_RECVERR, fragNeeded)...), fragNeeded, nil},
		{"v4-mapped offender", marshalErrQueue(unix.SOL_IPV6, unix.IPV6_RECVERR,
			ExtendedErr{Origin: OriginICMP, Type: 3, Code: 4, Info: 1400, Offender: netip.AddrFrom16(router4.As16())}),
			ExtendedErr{Origin: OriginICMP, Type: 3, Code: 4, Info: 1400, Offender: router4}, nil},
		{"no offender", probetest.Cmsg(unix.SOL_IP, unix.IP_RECVERR, sockErr(fragNeeded).Marshal()[:SizeofSockExtendedErr]),
			ExtendedErr{Errno: unix.EMSGSIZE, Origin: OriginICMP, Type: 3, Code: 4, Info: 1400}, nil},
		{"empty", nil, ExtendedErr{}, ErrNoExtendedErr},
		{"other cmsg only", probetest.Cmsg(unix.SOL_IP, unix.IP_TTL, []byte{64, 0, 0, 0}), ExtendedErr{}, ErrNoExtendedErr},
		{"short sock_extended_err", probetest.Cmsg(unix.SOL_IP, unix.IP_RECVERR, make([]byte, 12)), ExtendedErr{}, ErrShortCmsg},
		{"short sockaddr_in6", probetest.Cmsg(unix.SOL_IPV6, unix.IPV6_RECVERR, sockErr(tooBig).Marshal()[:SizeofSockExtendedErr+10]), ExtendedErr{}, ErrShortCmsg},
		{"cut cmsg", marshalErrQueue(unix.SOL_IP, unix.IP_RECVERR, fragNeeded)[:20], ExtendedErr{}, ErrShortCmsg},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseErrQueue(tt.oob)
			if !errors.Is(err, tt.err) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// errQueueSeeds are control messages read from real error queues
// (testdata/errqueue/*.hex, one hex string per file) and built ones.
func errQueueSeeds(t testing.TB) [][]byte {
	seeds := [][]byte{
		marshalErrQueue(unix.SOL_IP, unix.IP_RECVERR, ExtendedErr{Errno: unix.EMSGSIZE, Origin: OriginICMP, Type: 3, Code: 4, Info: 1400, Offender: router4}),
		marshalErrQueue(unix.SOL_IPV6, unix.IPV6_RECVERR, ExtendedErr{Errno: unix.EMSGSIZE, Origin: OriginICMP6, Type: 2, Info: 1280, Offender: router6}),
		marshalErrQueue(unix.SOL_IP, unix.IP_RECVERR, ExtendedErr{Errno: unix.EMSGSIZE, Origin: OriginLocal, Info: 1500}),
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "errqueue", "*.hex"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		oob, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		seeds = append(seeds, oob)
	}
	return seeds
}

// The captured control messages parse to what their names say.
func TestParseErrQueueCaptured(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "errqueue", "*.hex"))
	if len(files) == 0 {
		t.Skip("no captured control messages")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		oob, _ := hex.DecodeString(strings.TrimSpace(string(b)))
		ee, err := ParseErrQueue(oob)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		name := filepath.Base(f)
		wantOrigin := OriginICMP
		if strings.HasPrefix(name, "v6-") {
			wantOrigin = OriginICMP6
		}
		if ee.Origin != wantOrigin || !ee.Offender.IsValid() {
			t.Errorf("%s: %+v, want origin %v with an offender", name, ee, wantOrigin)
		}
		if strings.Contains(name, "frag-needed") || strings.Contains(name, "too-big") {
			if ee.Errno != syscall.EMSGSIZE || ee.Info == 0 {
				t.Errorf("%s: %+v, want EMSGSIZE and an MTU", name, ee)
			}
		}
		t.Logf("%s: %+v", name, ee)
	}
}

// FuzzParseErrQueue: any bytes parse or fail without panicking, and what
// parses marshals back to itself.
func FuzzParseErrQueue(f *testing.F) {
	for _, s := range errQueueSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, oob []byte) {
		ee, err := ParseErrQueue(oob)
		if err != nil {
			return
		}
		level, typ := unix.SOL_IP, unix.IP_RECVERR
		if ee.Offender.Is6() {
			level, typ = unix.SOL_IPV6, unix.IPV6_RECVERR
		}
		again, err := ParseErrQueue(marshalErrQueue(level, typ, ee))
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if again != ee {
			t.Fatalf("round trip: %+v became %+v", ee, again)
		}
	})
}
