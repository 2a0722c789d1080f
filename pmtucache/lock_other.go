//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris)

package pmtucache

import (
	"context"
	"errors"
)

// lock is only implemented where flock(2) exists.
func lock(ctx context.Context, path string) (unlock func(), err error) {
	return nil, errors.ErrUnsupported
}
