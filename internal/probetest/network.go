package probetest

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"sort"
	"sync"
	"time"
)

// Network is one fake raw ICMP socket of one family that carries many
// paths at once, as a shared socket does: a probe goes down the Path of
// its destination, and every answer, whichever path sent it, is read from
// this one socket. Unlike PacketConn it runs on the real clock: an answer
// can be read a Path's RTT (and any Delay) after its probe was written,
// and ReadFrom blocks until one is due, the read deadline passes or the
// Network is closed. Each Path's Clock is frozen and only places answers
// in time.
//
// It records when each probe was written (Sends), for tests of a packet
// budget. It is safe for concurrent use.
type Network struct {
	v6 bool

	mu       sync.Mutex
	paths    map[netip.Addr]*PacketConn
	queue    []due
	wake     chan struct{}
	deadline time.Time
	closed   bool
	sends    []time.Time
}

type due struct {
	at time.Time // real time
	p  packet
}

// NewNetwork returns a Network of the family of the paths (all one
// family), carrying each of them.
func NewNetwork(paths ...*Path) *Network {
	n := &Network{paths: map[netip.Addr]*PacketConn{}, wake: make(chan struct{})}
	for _, p := range paths {
		p.Clock = NewClock()
		n.v6 = p.Dst.Is6()
		n.paths[p.Dst] = p.Conn()
	}
	return n
}

// Sends returns the real time each probe was written, in order.
func (n *Network) Sends() []time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]time.Time(nil), n.sends...)
}

// Inject queues b as if from arrived now: a forged or unrelated packet.
func (n *Network) Inject(from netip.Addr, b []byte) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.push(due{at: time.Now(), p: packet{from: from, b: append([]byte(nil), b...)}})
}

func (n *Network) push(d due) {
	n.queue = append(n.queue, d)
	sort.SliceStable(n.queue, func(i, j int) bool { return n.queue[i].at.Before(n.queue[j].at) })
	close(n.wake)
	n.wake = make(chan struct{})
}

// WriteTo sends an Echo Request (ICMP message only) down the path of
// addr's destination and queues what comes back.
func (n *Network) WriteTo(b []byte, addr net.Addr) (int, error) {
	ia, ok := addr.(*net.IPAddr)
	if !ok {
		return 0, errors.New("probetest: not an IP address")
	}
	dst, _ := netip.AddrFromSlice(ia.IP)
	dst = dst.Unmap()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return 0, net.ErrClosed
	}
	pc := n.paths[dst]
	if pc == nil {
		return 0, errors.New("probetest: no path to " + dst.String())
	}
	now := time.Now()
	n.sends = append(n.sends, now)
	if _, err := pc.WriteTo(b, addr); err != nil {
		return 0, err
	}
	// Move what the path answered onto the shared queue, in real time.
	pc.mu.Lock()
	start := pc.path.Clock.Now()
	for _, p := range pc.queue {
		n.push(due{at: now.Add(p.at.Sub(start)), p: p})
	}
	pc.queue = nil
	pc.mu.Unlock()
	return len(b), nil
}

// ReadFrom returns the next answer once it is due.
func (n *Network) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n.mu.Lock()
		if n.closed {
			n.mu.Unlock()
			return 0, nil, net.ErrClosed
		}
		now := time.Now()
		if len(n.queue) > 0 && !n.queue[0].at.After(now) {
			p := n.queue[0].p
			n.queue = n.queue[1:]
			n.mu.Unlock()
			return copy(b, p.b), &net.IPAddr{IP: p.from.AsSlice()}, nil
		}
		dl := n.deadline
		if !dl.IsZero() && !now.Before(dl) {
			n.mu.Unlock()
			return 0, nil, &net.OpError{Op: "read", Net: "ip", Err: os.ErrDeadlineExceeded}
		}
		var timer <-chan time.Time
		next := dl
		if len(n.queue) > 0 && (next.IsZero() || n.queue[0].at.Before(next)) {
			next = n.queue[0].at
		}
		var t *time.Timer
		if !next.IsZero() {
			t = time.NewTimer(next.Sub(now))
			timer = t.C
		}
		wake := n.wake
		n.mu.Unlock()
		select {
		case <-wake:
		case <-timer:
		}
		if t != nil {
			t.Stop()
		}
	}
}

// Close closes the socket; a blocked ReadFrom returns net.ErrClosed.
func (n *Network) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.closed {
		n.closed = true
		close(n.wake)
		n.wake = make(chan struct{})
	}
	return nil
}

// LocalAddr returns the unspecified address of the family.
func (n *Network) LocalAddr() net.Addr {
	if n.v6 {
		return &net.IPAddr{IP: net.IPv6unspecified}
	}
	return &net.IPAddr{IP: net.IPv4zero}
}

// SetDeadline sets the read deadline.
func (n *Network) SetDeadline(t time.Time) error { return n.SetReadDeadline(t) }

// SetReadDeadline sets the read deadline, waking a blocked ReadFrom.
func (n *Network) SetReadDeadline(t time.Time) error {
	n.mu.Lock()
	n.deadline = t
	close(n.wake)
	n.wake = make(chan struct{})
	n.mu.Unlock()
	return nil
}

// SetWriteDeadline does nothing.
func (n *Network) SetWriteDeadline(time.Time) error { return nil }

// SetTTL refuses: a shared socket's hop limit is not a search's to set.
func (n *Network) SetTTL(int) error {
	return errors.New("probetest: a shared socket takes no hop limit")
}

// Written returns copies of the probes written toward dst.
func (n *Network) Written(dst netip.Addr) [][]byte {
	n.mu.Lock()
	pc := n.paths[dst]
	n.mu.Unlock()
	if pc == nil {
		return nil
	}
	return pc.Written()
}
