package privilege

import (
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// Check agrees with the kernel: a raw ICMP socket opens exactly when it
// says CAP_NET_RAW is effective, an ICMP datagram socket exactly when it
// says ping_group_range admits us. Runs as whoever runs the tests.
func TestCheckAgreesWithKernel(t *testing.T) {
	r := Check()
	if r.NetRawErr != nil || r.PingErr != nil {
		t.Fatalf("Check: %v, %v", r.NetRawErr, r.PingErr)
	}
	if len(r.Groups) == 0 || r.Groups[0] != uint32(os.Getegid()) {
		t.Errorf("groups %v, want the effective GID %d first", r.Groups, os.Getegid())
	}

	opens := func(typ, proto int) (bool, error) {
		fd, err := unix.Socket(unix.AF_INET, typ|unix.SOCK_CLOEXEC, proto)
		if err == nil {
			unix.Close(fd)
			return true, nil
		}
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return false, nil
		}
		return false, err
	}
	raw, err := opens(unix.SOCK_RAW, unix.IPPROTO_ICMP)
	if err != nil {
		t.Fatalf("raw socket: %v", err)
	}
	if raw != r.NetRaw {
		t.Errorf("raw ICMP socket opens: %v; Check says CAP_NET_RAW %v", raw, r.NetRaw)
	}
	ping, err := opens(unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
	if err != nil {
		t.Fatalf("ping socket: %v", err)
	}
	if ping != r.PingAdmitted {
		t.Errorf("ICMP datagram socket opens: %v; Check says range %v admits %v: %v", ping, r.PingRange, r.Groups, r.PingAdmitted)
	}
}
