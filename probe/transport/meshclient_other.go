//go:build !linux

package transport

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// DialMesh opens nothing off Linux: it needs Linux's IPV6_PMTUDISC_PROBE.
func DialMesh(dst netip.AddrPort, _ *OpenConfig) (*MeshClient, error) {
	return nil, fmt.Errorf("mesh client toward %s: %w", dst, errors.ErrUnsupported)
}

// Read reads nothing off Linux.
func (c *MeshClient) Read(time.Time) (MeshArrival, error) {
	return MeshArrival{}, errors.ErrUnsupported
}
