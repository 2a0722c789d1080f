package probe

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// oobSpace is room for the control messages a probe socket asks for.
var oobSpace = unix.CmsgSpace(int(unsafe.Sizeof(unix.Timespec{})))

// parseTimestamp finds the kernel's receive time (SCM_TIMESTAMPNS) in a
// read's control messages.
func parseTimestamp(oob []byte) (time.Time, bool) {
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
