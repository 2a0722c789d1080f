package sockopt

import (
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestSetRecvTimestamps(t *testing.T) {
	forEachFamily(t, func(t *testing.T, rc syscall.RawConn, _ bool) {
		if err := SetRecvTimestamps(rc); err != nil {
			t.Fatalf("SetRecvTimestamps: %v", err)
		}
		if v, err := getInt(rc, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS); err != nil || v != 1 {
			t.Fatalf("SO_TIMESTAMPNS = %d, %v; want 1", v, err)
		}
	})
}
