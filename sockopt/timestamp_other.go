//go:build !linux

package sockopt

import (
	"errors"
	"syscall"
)

// SetRecvTimestamps is only implemented on Linux.
func SetRecvTimestamps(c syscall.RawConn) error { return errors.ErrUnsupported }
