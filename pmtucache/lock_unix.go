//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris

package pmtucache

import (
	"context"
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// lock takes an exclusive flock(2) on the file at path, creating it, and
// returns the function that releases it. flock is tried without blocking,
// with a growing pause between tries, until ctx is done. The lock file is
// never removed: removing it would let two processes lock different files.
func lock(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	pause := time.Millisecond
	for {
		var ferr error
		if err := rc.Control(func(fd uintptr) {
			ferr = unix.Flock(int(fd), unix.LOCK_EX|unix.LOCK_NB)
		}); err != nil {
			f.Close()
			return nil, err
		}
		if ferr == nil {
			// Closing the file releases the lock.
			return func() { f.Close() }, nil
		}
		if !errors.Is(ferr, unix.EWOULDBLOCK) && !errors.Is(ferr, unix.EINTR) {
			f.Close()
			return nil, os.NewSyscallError("flock", ferr)
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, ctx.Err()
		case <-t.C:
		}
		pause = min(2*pause, 20*time.Millisecond)
	}
}
