//go:build !linux

package transport

import (
	"errors"
	"fmt"
	"net/netip"
)

// OpenRawIP opens nothing off Linux, whose raw sockets it needs.
func OpenRawIP(dst netip.Addr, cfg *OpenConfig) (*RawIPConn, error) {
	return nil, fmt.Errorf("raw IP packets: %w", errors.ErrUnsupported)
}
