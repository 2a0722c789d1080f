//go:build !linux

package sockopt

import (
	"errors"
	"syscall"
)

// SetRecvFragSize is only implemented on Linux.
func SetRecvFragSize(c syscall.RawConn, ipv6 bool) error { return errors.ErrUnsupported }
