//go:build !linux

package route

import (
	"context"
	"errors"
	"net/netip"
)

// Get is only implemented on Linux.
func Get(ctx context.Context, dst netip.Addr) (Route, error) {
	return Route{}, errors.ErrUnsupported
}
