package transport

import (
	"crypto/rand"
	"encoding/binary"
	"net"
	"sync"
	"time"
)

// tcpSocket is an Engine's shared raw TCP socket of one family and
// place: the TCP searches there write their SYNs through it, and one
// goroutine reads every TCP segment sent to its address and hands each to
// the search it is sent to (its destination port is that search's source
// port), if it comes from that search's target and port. Everything else
// the raw socket sees is other connections' traffic, counted foreign.
// The ICMP errors TCP probes earn come by the Engine's raw ICMP socket
// (demux), routed by the port they quote.
type tcpSocket struct {
	c    net.PacketConn
	dead chan struct{} // closed when the reader stops

	mu    sync.Mutex
	conns map[uint16]*TCPConn // source port → its search

	stats demuxStats
}

func newTCPSocket(c net.PacketConn, now func() time.Time) *tcpSocket {
	t := &tcpSocket{c: c, dead: make(chan struct{}), conns: map[uint16]*TCPConn{}}
	go func() {
		defer close(t.dead)
		readPackets(c, fromTCP, now, func(a arrival) bool {
			t.dispatch(a)
			return true
		})
	}()
	return t
}

// dispatch hands one segment to its search, if any.
func (t *tcpSocket) dispatch(a arrival) {
	t.stats.read.Add(1)
	if len(a.b) < 4 {
		t.stats.foreign.Add(1)
		return
	}
	t.mu.Lock()
	c := t.conns[binary.BigEndian.Uint16(a.b[2:4])]
	t.mu.Unlock()
	switch {
	case c == nil || !c.fromTarget(a):
		t.stats.foreign.Add(1)
	case c.in.offer(a):
		t.stats.delivered.Add(1)
	default:
		t.stats.overflow.Add(1)
	}
}

// register routes the segments sent to port to c.
func (t *tcpSocket) register(port uint16, c *TCPConn) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	select {
	case <-t.dead:
		return net.ErrClosed
	default:
	}
	if t.conns[port] != nil {
		return ErrPortShared
	}
	t.conns[port] = c
	return nil
}

// unregister stops routing port's segments to c.
func (t *tcpSocket) unregister(port uint16, c *TCPConn) {
	t.mu.Lock()
	if t.conns[port] == c {
		delete(t.conns, port)
	}
	t.mu.Unlock()
}

// closed reports whether the socket is closed (Engine.Close).
func (t *tcpSocket) closed() bool {
	select {
	case <-t.dead:
		return true
	default:
		return false
	}
}

// close closes the socket and waits for the reader to stop.
func (t *tcpSocket) close() error {
	err := t.c.Close()
	<-t.dead
	return err
}

// randomTCPPort is a source port for a TCP search: from the upper half of
// the ephemeral range, where the kernel's own connections are less
// likely.
func randomTCPPort() uint16 {
	var b [2]byte
	_, _ = rand.Read(b[:])
	return 49152 + binary.BigEndian.Uint16(b[:])%(61000-49152)
}
