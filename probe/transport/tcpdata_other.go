//go:build !linux

package transport

import (
	"context"
	"errors"
	"net"
)

// dial connects nothing off Linux: TCP_INFO and the DO mode are Linux's.
func (c *TCPDataConn) dial(context.Context, int) (net.Conn, error) {
	return nil, errors.ErrUnsupported
}

// tcpInfo reads nothing off Linux.
func tcpInfo(*net.TCPConn) (tcpState, error) { return tcpState{}, errors.ErrUnsupported }
