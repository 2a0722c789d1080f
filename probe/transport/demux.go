package transport

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/wire"
)

// demux is one shared raw ICMP socket and the searches on it. One
// goroutine reads the socket, parses each packet once and hands it to the
// search it is about: by the Echo identifier it carries (an Echo Reply's
// own, or that of the Echo Request an ICMP error quotes), or by the source
// port of the UDP datagram or TCP segment an error quotes (each UDP or TCP
// search sends from a port of its own). The search then judges
// it by its conn's rules (sequence in flight, cookie, quoted addresses,
// ports and length, sender): the identifier or port only routes a
// packet, it proves nothing.
type demux struct {
	c    net.PacketConn
	v6   bool
	now  func() time.Time
	dead chan struct{} // closed when the reader stops

	mu     sync.Mutex
	subs   map[uint16]*SharedConn // Echo identifier → its search
	ports  map[portKey]*inbox     // a UDP or TCP search's source port → its inbox
	nextID uint16

	stats demuxStats
}

// inboxSize is how many packets a search may have waiting before the
// reader drops more for it (counted as overflow): a search reads while a
// round is out, and a round is at most a few dozen probes.
const inboxSize = 64

func newDemux(c net.PacketConn, v6 bool, now func() time.Time) *demux {
	d := &demux{c: c, v6: v6, now: now, dead: make(chan struct{}), subs: map[uint16]*SharedConn{}, ports: map[portKey]*inbox{}}
	var b [2]byte
	_, _ = rand.Read(b[:])
	d.nextID = binary.BigEndian.Uint16(b[:])
	go d.run()
	return d
}

// ErrNoIdentifier is what opening a conn returns when every Echo
// identifier of a shared socket is taken.
var ErrNoIdentifier = errors.New("every Echo identifier of the shared socket is in use")

// open registers a search toward dst under an identifier no other search
// on this socket holds.
func (d *demux) open(dst netip.Addr, cfg *OpenConfig) (*SharedConn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	select {
	case <-d.dead:
		return nil, net.ErrClosed
	default:
	}
	id, ok := d.freeID()
	if cfg.Flow != 0 {
		// A pinned flow (Options.Flow) keeps its Echo identifier.
		id, ok = cfg.Flow, d.subs[cfg.Flow] == nil
	}
	if !ok {
		return nil, ErrNoIdentifier
	}
	ic := NewICMPConn(d.c, dst, &ICMPConfig{Src: cfg.Src, ID: id, Now: cfg.now(), Local: cfg.Local})
	// The socket's hop limit is its default and stays so: a shared
	// socket takes no per-search hop limits (SharedConn.Send).
	ic.ttl = defaultHopLimit
	s := &SharedConn{ic: ic, d: d, in: make(chan delivery, inboxSize), done: make(chan struct{})}
	d.subs[id] = s
	return s, nil
}

// freeID returns the next identifier not in use, never 0.
func (d *demux) freeID() (uint16, bool) {
	for range 1 << 16 {
		d.nextID++
		if id := d.nextID; id != 0 && d.subs[id] == nil {
			return id, true
		}
	}
	return 0, false
}

// portKey is a UDP or TCP search's source port.
type portKey struct {
	proto int // wire.ProtoUDP or wire.ProtoTCP
	port  uint16
}

// ErrPortShared is what registering a UDP or TCP search returns when
// another search on the socket sends from the same port.
var ErrPortShared = errors.New("another search on the shared socket sends from this port")

// registerPort routes the errors that quote proto packets from port to in.
func (d *demux) registerPort(proto int, port uint16, in *inbox) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	select {
	case <-d.dead:
		return net.ErrClosed
	default:
	}
	k := portKey{proto, port}
	if d.ports[k] != nil {
		return ErrPortShared
	}
	d.ports[k] = in
	return nil
}

// unregisterPort stops routing the errors about port to in.
func (d *demux) unregisterPort(proto int, port uint16, in *inbox) {
	d.mu.Lock()
	if k := (portKey{proto, port}); d.ports[k] == in {
		delete(d.ports, k)
	}
	d.mu.Unlock()
}

func (d *demux) unregister(id uint16) {
	d.mu.Lock()
	delete(d.subs, id)
	d.mu.Unlock()
}

// closed reports whether d's socket is closed (Engine.Close): the UDP and
// TCP conns whose errors it reads are then closed too.
func (d *demux) closed() bool {
	select {
	case <-d.dead:
		return true
	default:
		return false
	}
}

// close closes the socket and waits for the reader to stop.
func (d *demux) close() error {
	err := d.c.Close()
	<-d.dead
	return err
}

// run reads the socket until it is closed.
func (d *demux) run() {
	defer close(d.dead)
	r := newPacketReader(d.now)
	for {
		n, from, at, err := r.read(d.c)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return // closed
		}
		d.stats.read.Add(1)
		d.dispatch(r.buf[:n], n, from, at, r.frag)
	}
}

// dispatch parses one packet and hands it to its search, if any.
func (d *demux) dispatch(b []byte, n int, from netip.Addr, at time.Time, frag mtu.Size) {
	m, err := wire.ParseMessage(b, d.v6) // copies what it keeps
	if err != nil {
		d.stats.foreign.Add(1)
		return
	}
	if k, ok := quotedPort(m); ok {
		d.mu.Lock()
		in := d.ports[k]
		d.mu.Unlock()
		switch {
		case in == nil:
			d.stats.foreign.Add(1)
		case in.offer(arrival{src: fromICMP, seq: -1, from: from, m: m, n: n, at: at}):
			d.stats.delivered.Add(1)
		default:
			d.stats.overflow.Add(1)
		}
		return
	}
	id, ok := echoID(m, d.v6)
	if !ok {
		d.stats.foreign.Add(1)
		return
	}
	d.mu.Lock()
	s := d.subs[id]
	d.mu.Unlock()
	if s == nil {
		d.stats.foreign.Add(1)
		return
	}
	select {
	case s.in <- delivery{m: m, from: from, n: n, at: at, frag: frag}:
		d.stats.delivered.Add(1)
	default:
		d.stats.overflow.Add(1)
	}
}

// quotedPort is the protocol and source port of the UDP datagram or TCP
// segment the ICMP error m quotes; ok is false for anything else.
func quotedPort(m *wire.Message) (k portKey, ok bool) {
	if !m.IsError() || (m.Quote.Proto != wire.ProtoUDP && m.Quote.Proto != wire.ProtoTCP) || len(m.Quote.Transport) < 2 {
		return portKey{}, false
	}
	return portKey{m.Quote.Proto, binary.BigEndian.Uint16(m.Quote.Transport[0:2])}, true
}

// echoID is the Echo identifier m is about: an Echo Reply's, or that of
// the Echo Request an ICMP error quotes. ok is false for anything else.
func echoID(m *wire.Message, v6 bool) (id uint16, ok bool) {
	if !m.IsError() {
		return uint16(m.ID), m.Type == wire.EchoReplyType(v6)
	}
	t := m.Quote.Transport
	if m.Quote.Proto != wire.ICMPProto(v6) || len(t) < 8 || int(t[0]) != wire.EchoRequestType(v6) {
		return 0, false
	}
	return binary.BigEndian.Uint16(t[4:6]), true
}
