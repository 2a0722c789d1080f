package transport

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/wire"
)

// source says where an arrival was read.
type source int

const (
	fromICMP     source = iota // a raw ICMP socket: b is the ICMP message
	fromErrQueue               // a socket's error queue: ee, and b the quoted payload
	fromData                   // a datagram socket's data: b is what the peer sent
	fromTCP                    // a raw TCP socket: b is a TCP segment
)

// arrival is one thing a reader goroutine read, not yet judged.
type arrival struct {
	src  source
	seq  int // the probe a socket that carries one probe is about; -1 if the socket carries many
	from netip.Addr
	port int // the sender's port, for fromData
	b    []byte
	n    int // the whole length read (b may be cut short)
	at   time.Time
	// to is, for a fromErrQueue arrival, where the datagram the error is
	// about was sent (the error's msg_name), when the kernel says.
	to netip.Addr
	// ee is the error of a fromErrQueue arrival, valid when eeErr is nil.
	ee    wire.ExtendedErr
	eeErr error
	// m is a fromICMP arrival already parsed, by a shared socket's
	// reader (demux.go); nil: b is to be parsed.
	m *wire.Message
	// frag is the largest fragment of a packet the kernel reassembled
	// (IP_RECVFRAGSIZE), 0 if it arrived whole or the socket cannot tell.
	frag mtu.Size
}

// inbox gathers what the reader goroutines of a conn read, for Recv.
type inbox struct {
	ch   chan arrival
	done chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

func newInbox() *inbox {
	return &inbox{ch: make(chan arrival, 256), done: make(chan struct{})}
}

// put hands a to Recv; false once the conn is closed.
func (in *inbox) put(a arrival) bool {
	select {
	case in.ch <- a:
		return true
	case <-in.done:
		return false
	}
}

// offer hands a to Recv if there is room, without waiting: a shared
// socket's reader must not wait for one slow search. false: dropped.
func (in *inbox) offer(a arrival) bool {
	select {
	case <-in.done:
		return false
	default:
	}
	select {
	case in.ch <- a:
		return true
	default:
		return false
	}
}

// get returns the next arrival, waiting until deadline at the latest (a
// zero deadline waits for ever).
func (in *inbox) get(deadline time.Time) (arrival, error) {
	select {
	case a := <-in.ch:
		return a, nil
	case <-in.done:
		return arrival{}, net.ErrClosed
	default:
	}
	expired, stop, err := expiry(deadline)
	if err != nil {
		return arrival{}, err
	}
	defer stop()
	select {
	case a := <-in.ch:
		return a, nil
	case <-in.done:
		return arrival{}, net.ErrClosed
	case <-expired:
		return arrival{}, errTimeout()
	}
}

// errTimeout is what a read returns at its deadline.
func errTimeout() error { return fmt.Errorf("%w: %w", ErrTimeout, os.ErrDeadlineExceeded) }

// expiry is a channel that fires at deadline (never for a zero deadline)
// and what stops its timer; errTimeout when the deadline has passed.
func expiry(deadline time.Time) (<-chan time.Time, func(), error) {
	if deadline.IsZero() {
		return nil, func() {}, nil
	}
	d := time.Until(deadline)
	if d <= 0 {
		return nil, nil, errTimeout()
	}
	t := time.NewTimer(d)
	return t.C, func() { t.Stop() }, nil
}

// next waits for the next arrival, until deadline at the latest, and turns
// it into an Event with classify, stamped with when it arrived and its
// length: every inbox-fed conn's Recv.
func (in *inbox) next(deadline time.Time, ipv6 bool, classify func(arrival) wire.Event) (wire.Event, error) {
	a, err := in.get(deadline)
	if err != nil {
		return wire.Event{}, err
	}
	ev := classify(a)
	ev.At, ev.Bytes, ev.IPv6 = a.at, a.n, ipv6
	return ev, nil
}

// run starts a reader goroutine.
func (in *inbox) run(f func()) {
	in.wg.Add(1)
	go func() {
		defer in.wg.Done()
		f()
	}()
}

// close stops the readers (their sockets must be closed first) and waits
// for them.
func (in *inbox) close() {
	in.once.Do(func() { close(in.done) })
	in.wg.Wait()
}

// msgReader is a conn that reads control messages too (a *net.IPConn):
// the kernel's receive time comes that way.
type msgReader interface {
	ReadMsgIP(b, oob []byte) (n, oobn, flags int, addr *net.IPAddr, err error)
}

// packetReader reads a raw IP socket (or a fake one in tests) one packet
// at a time: every raw socket's reads go through it, so each arrival is
// stamped the same way.
type packetReader struct {
	buf []byte
	oob []byte
	now func() time.Time
	// frag is the largest fragment of the packet read last, if the
	// kernel reassembled it and the socket asked (IP_RECVFRAGSIZE); 0
	// otherwise.
	frag mtu.Size
}

func newPacketReader(now func() time.Time) *packetReader {
	return &packetReader{buf: make([]byte, 1<<16), oob: make([]byte, wire.TimestampSpace+wire.FragSizeSpace), now: now}
}

// read reads one packet of c into r.buf and returns its length without any
// IPv4 header, its sender, and when it arrived: the kernel's receive time
// where the socket gives one (SO_TIMESTAMPNS, set by newSocket), so that
// a reply that came in while a burst of probes was going out is not timed
// late; else the time it was read.
func (r *packetReader) read(c net.PacketConn) (int, netip.Addr, time.Time, error) {
	r.frag = 0
	mr, ok := c.(msgReader)
	if !ok {
		n, from, err := c.ReadFrom(r.buf)
		return n, addrOf(from), r.now(), err
	}
	n, oobn, _, from, err := mr.ReadMsgIP(r.buf, r.oob)
	if err != nil {
		return 0, netip.Addr{}, time.Time{}, err
	}
	at, ok := wire.ParseTimestamp(r.oob[:oobn])
	if !ok {
		at = r.now()
	}
	r.frag, _ = wire.ParseFragSize(r.oob[:oobn])
	// ReadMsgIP, unlike ReadFrom, leaves a raw IPv4 socket's header on.
	if ip := addrOf(from); ip.Is4() {
		n = wire.StripIPv4Header(r.buf, n)
	}
	return n, addrOf(from), at, nil
}

// readPackets reads c until it is closed, handing each packet to put as
// an arrival of src.
func readPackets(c net.PacketConn, src source, now func() time.Time, put func(arrival) bool) {
	r := newPacketReader(now)
	for {
		n, from, at, err := r.read(c)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return // closed
		}
		a := arrival{src: src, seq: -1, from: from, b: append([]byte(nil), r.buf[:n]...), n: n, at: at, frag: r.frag}
		if !put(a) {
			return
		}
	}
}

func addrOf(a net.Addr) netip.Addr {
	var ip net.IP
	switch a := a.(type) {
	case *net.IPAddr:
		ip = a.IP
	case *net.UDPAddr:
		ip = a.IP
	}
	addr, _ := netip.AddrFromSlice(ip)
	return addr.Unmap()
}
