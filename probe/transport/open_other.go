//go:build !linux

package transport

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/pmtu/pmtu/probe/wire"
)

// OpenMethod opens no method off Linux: every method needs Linux's socket
// options (probe mode, IP_RECVERR, ICMP datagram sockets), so each
// returns an error wrapping errors.ErrUnsupported.
func OpenMethod(m Method, dst netip.Addr, cfg *OpenConfig) (wire.Conn, error) {
	return nil, fmt.Errorf("%s probes: %w", m, errors.ErrUnsupported)
}

// openUDPProbe opens nothing off Linux (see OpenMethod).
func openUDPProbe(_ netip.Addr, _ *OpenConfig, m Method, _ bool) (*UDPConn, error) {
	return nil, fmt.Errorf("%s probes: %w", m, errors.ErrUnsupported)
}

// pendingErr is never true off Linux, where no method opens.
func pendingErr(error) bool { return false }
