//go:build !linux

package probe

import "time"

const oobSpace = 0

func parseTimestamp(oob []byte) (time.Time, bool) { return time.Time{}, false }
