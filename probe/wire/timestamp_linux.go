package wire

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TimestampSpace is room for the control message of a receive time.
var TimestampSpace = unix.CmsgSpace(int(unsafe.Sizeof(unix.Timespec{})))

// ParseTimestamp finds the kernel's receive time (SCM_TIMESTAMPNS) in a
// read's control messages.
func ParseTimestamp(oob []byte) (time.Time, bool) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return time.Time{}, false
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS && len(m.Data) >= int(unsafe.Sizeof(unix.Timespec{})) {
			ts := (*unix.Timespec)(unsafe.Pointer(&m.Data[0]))
			return time.Unix(ts.Unix()), true
		}
	}
	return time.Time{}, false
}
