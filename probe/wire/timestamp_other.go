//go:build !linux

package wire

import "time"

// TimestampSpace is room for the control message of a receive time: none
// off Linux.
const TimestampSpace = 0

// ParseTimestamp finds no receive time off Linux.
func ParseTimestamp(oob []byte) (time.Time, bool) { return time.Time{}, false }
