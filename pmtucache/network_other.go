//go:build !linux

package pmtucache

import (
	"errors"
	"fmt"
)

// CurrentNetwork is only implemented on Linux: elsewhere pmtu neither
// stores nor uses cache entries.
func CurrentNetwork() (n Network, inode uint64, err error) {
	return Network{}, 0, fmt.Errorf("%w: %w", errNoIdentity, errors.ErrUnsupported)
}
