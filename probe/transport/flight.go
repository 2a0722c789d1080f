package transport

import (
	"fmt"
	"sync"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/wire"
)

// flight records the probes a conn sent and which were answered. It is
// safe for concurrent use.
type flight struct {
	mu       sync.Mutex
	sizes    map[int]mtu.Size // seq → size of the probes sent
	answered map[int]bool     // seq → a Reached or TooBig came back already
}

func (f *flight) add(seq int, size mtu.Size) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sizes == nil {
		f.sizes, f.answered = map[int]mtu.Size{}, map[int]bool{}
	}
	f.sizes[seq] = size
	delete(f.answered, seq)
}

// size returns the size of probe seq, if it was sent.
func (f *flight) size(seq int) (mtu.Size, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sizes[seq]
	return s, ok
}

// take marks probe seq as answered by an event of kind and returns its
// size, or why it cannot be: the same words as ICMPConn's.
func (f *flight) take(seq int, kind wire.EventKind) (mtu.Size, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	size, ok := f.sizes[seq]
	if !ok {
		return 0, fmt.Sprintf("for sequence %d, which we never sent", seq)
	}
	if kind == wire.Reached || kind == wire.TooBig {
		if f.answered[seq] {
			return 0, fmt.Sprintf("duplicate answer for probe %d", seq)
		}
		f.answered[seq] = true
	}
	return size, ""
}
