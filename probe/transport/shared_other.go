//go:build !linux

package transport

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// listenShared opens no socket off Linux (see OpenMethod).
func listenShared(bool, *OpenConfig) (net.PacketConn, error) {
	return nil, fmt.Errorf("%s probes: %w", MethodICMP, errors.ErrUnsupported)
}

// listenSharedTCP opens no socket off Linux (see OpenMethod).
func listenSharedTCP(bool, *OpenConfig) (net.PacketConn, error) {
	return nil, fmt.Errorf("%s probes: %w", MethodTCP, errors.ErrUnsupported)
}

// chooseSource asks no kernel off Linux: give OpenConfig.Src or RouteSrc.
func chooseSource(dst netip.Addr, _ *OpenConfig) (netip.Addr, error) {
	return netip.Addr{}, fmt.Errorf("choosing a source address toward %s: %w", dst, errors.ErrUnsupported)
}
