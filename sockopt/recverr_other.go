//go:build !linux

package sockopt

import (
	"errors"
	"syscall"
)

// SetRecvErr is only implemented on Linux.
func SetRecvErr(c syscall.RawConn, ipv6 bool) error { return errors.ErrUnsupported }

// RecvErr is only implemented on Linux.
func RecvErr(c syscall.RawConn, ipv6 bool) (bool, error) { return false, errors.ErrUnsupported }

// BindToDevice is only implemented on Linux.
func BindToDevice(c syscall.RawConn, ifname string) error { return errors.ErrUnsupported }

// BoundDevice is only implemented on Linux.
func BoundDevice(c syscall.RawConn) (string, error) { return "", errors.ErrUnsupported }
