//go:build !linux

package sockopt

import (
	"errors"
	"syscall"
)

// SetRecvExtHeaders is only implemented on Linux.
func SetRecvExtHeaders(c syscall.RawConn) error { return errors.ErrUnsupported }
