package sockopt

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// SetRecvTimestamps asks the kernel to stamp every packet c receives with
// the time it arrived (SO_TIMESTAMPNS), delivered as a control message, so
// that a round trip does not include the time a packet waited to be read.
func SetRecvTimestamps(c syscall.RawConn) error {
	return setInt(c, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
}
