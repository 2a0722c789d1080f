//go:build !linux

package sockopt

import (
	"errors"
	"syscall"
)

// SetProbeMode is only implemented on Linux.
func SetProbeMode(c syscall.RawConn, ipv6 bool) error { return errors.ErrUnsupported }

// ProbeMode is only implemented on Linux.
func ProbeMode(c syscall.RawConn, ipv6 bool) (bool, error) { return false, errors.ErrUnsupported }
