//go:build !linux

package sockopt

import (
	"errors"
	"syscall"
)

// NetnsCookie is only implemented on Linux.
func NetnsCookie(c syscall.RawConn) (uint64, error) { return 0, errors.ErrUnsupported }
