//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris

package pmtucache

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A FIFO where the cache file should be must not block Load.
func TestLoadFIFO(t *testing.T) {
	s, _ := newStore(t)
	if err := os.MkdirAll(filepath.Dir(s.Path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(s.Path, 0o600); err != nil {
		t.Skip(err)
	}
	done := make(chan error, 1)
	go func() {
		_, warn := s.Load(context.Background())
		done <- warn
	}()
	select {
	case warn := <-done:
		if warn == nil || errors.Is(warn, ErrCorrupt) {
			t.Errorf("Load of a FIFO: warning %v, want one not wrapping ErrCorrupt", warn)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Load of a FIFO blocked")
	}
}
