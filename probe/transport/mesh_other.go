//go:build !linux

package transport

import (
	"errors"
	"fmt"
	"net/netip"
)

// ListenMesh opens nothing off Linux: the mesh socket needs Linux's
// IP_PMTUDISC_PROBE and IP_RECVERR.
func ListenMesh(addr netip.AddrPort, _ *MeshConfig) (*MeshSocket, error) {
	return nil, fmt.Errorf("mesh socket on %s: %w", addr, errors.ErrUnsupported)
}
