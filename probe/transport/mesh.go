package transport

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/wire"
)

// MeshSocket is pmtu mesh's one UDP socket of a family: every probe to
// every peer leaves from it, every acknowledgement comes back to it, and
// the agent's responder answers its peers' probes from it. It is an
// ordinary UDP socket, so it needs no privilege: IP_PMTUDISC_PROBE (IPv6:
// IPV6_PMTUDISC_PROBE) sets DF and sizes datagrams against the interface
// MTU, not the kernel's cached path MTU, and IP_RECVERR queues the ICMP
// errors its datagrams earn (Fragmentation Needed, Packet Too Big, Port
// Unreachable) on it.
//
// One goroutine reads it. A probe goes to MeshConfig.Respond, whose
// answer is sent back at once, and never when it is longer than the
// probe. An acknowledgement, or an error from the error queue (which
// carries our probe's payload as it was quoted), goes to the MeshConn
// whose identifier starts its nonce; the MeshConn validates it.
//
// A MeshSocket is safe for concurrent use; Close it when done.
type MeshSocket struct {
	sock    net.PacketConn
	v6      bool
	local   netip.AddrPort
	key     []byte
	now     func() time.Time
	respond func(from netip.Addr, b []byte) []byte
	isLocal func(netip.Addr) bool
	signal  func(peer netip.Addr, size, named mtu.Size)

	mu    sync.Mutex
	conns map[meshID]*MeshConn
	wg    sync.WaitGroup

	stats MeshStats
}

// MeshConfig configures a MeshSocket; nil means defaults.
type MeshConfig struct {
	// Key, if set, is the mesh's shared key: probes carry its HMAC, and
	// only acknowledgements with a valid one are believed.
	Key []byte
	// Respond judges a probe that arrived from from (b its UDP payload)
	// and returns the acknowledgement to send back, or nil. Nil answers
	// nothing.
	Respond func(from netip.Addr, b []byte) []byte
	// Local reports whether an address is this host's: an ICMP error
	// from one is the kernel's own copy, unless it names the peer itself
	// (a tunnel's local path MTU check). Nil means loopback.
	Local func(netip.Addr) bool
	// Enter runs fn where the socket must be made (a network namespace);
	// nil runs it here.
	Enter func(fn func() error) error
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Signal, if set, is told of a Fragmentation Needed or Packet Too Big
	// about a probe of no open MeshConn: one that arrived after its
	// search ended. peer is where the probe went, size the probe's IP
	// size, named the MTU the ICMP named (0: none, ICMPv4 only). The
	// error passed the checks a search's would (origin, sender, a named
	// MTU below the probe's size); a path that shrank since its search
	// says so this way.
	Signal func(peer netip.Addr, size, named mtu.Size)
}

// MeshStats counts what a MeshSocket read and threw away before any
// MeshConn saw it, and what it answered.
type MeshStats struct {
	// Acks counts acknowledgements handed to a MeshConn; Strays those
	// that named no open MeshConn (late, or forged).
	Acks, Strays atomic.Uint64
	// Answers counts acknowledgements sent by the responder.
	Answers atomic.Uint64
	// Junk counts datagrams that are not mesh datagrams.
	Junk atomic.Uint64
	// Signals counts the errors handed to MeshConfig.Signal.
	Signals atomic.Uint64
}

// meshID is the first 8 bytes of a nonce: which MeshConn sent the probe.
type meshID [8]byte

// Stats returns the socket's counters.
func (s *MeshSocket) Stats() *MeshStats { return &s.stats }

// LocalAddr is the address and port the socket is bound to.
func (s *MeshSocket) LocalAddr() netip.AddrPort { return s.local }

// Open returns a wire.Conn that probes dst at port (its responder) over
// the socket. Close it when its search is done.
func (s *MeshSocket) Open(dst netip.Addr, port int) (*MeshConn, error) {
	dst = dst.Unmap()
	if dst.Is6() != s.v6 {
		return nil, fmt.Errorf("%s is not of the socket's family", dst)
	}
	isLocal := s.isLocal
	c := &MeshConn{s: s, dst: dst, port: port, ipv6: s.v6, key: s.key, in: newInbox(),
		nonces: map[int]wire.MeshNonce{}, payload: map[int]int{}}
	c.rerr = errQueueValidator{ipv6: s.v6, dst: dst, local: isLocal}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns == nil {
		return nil, net.ErrClosed
	}
	for {
		_, _ = rand.Read(c.id[:])
		if _, taken := s.conns[c.id]; !taken {
			break
		}
	}
	s.conns[c.id] = c
	return c, nil
}

// Close closes the socket and waits for its reader. Open MeshConns then
// fail.
func (s *MeshSocket) Close() error {
	s.mu.Lock()
	conns := s.conns
	s.conns = nil
	s.mu.Unlock()
	err := s.sock.Close()
	s.wg.Wait()
	for _, c := range conns {
		c.in.close()
	}
	return err
}

// dispatch is the reader's hand-off of one arrival.
func (s *MeshSocket) dispatch(a arrival) bool {
	switch a.src {
	case fromData:
		m, err := wire.ParseMesh(a.b)
		if err != nil {
			s.stats.Junk.Add(1)
			return true
		}
		if m.Kind == wire.MeshProbe {
			s.answer(a.from, a.port, a.b)
			return true
		}
		s.toConn(m.Nonce, a)
	case fromErrQueue:
		// The error's payload is our datagram as quoted: a probe names
		// its MeshConn; an error about an acknowledgement concerns no
		// search.
		m, err := wire.ParseMesh(a.b)
		if err != nil || m.Kind != wire.MeshProbe {
			if a.eeErr != nil || err != nil {
				s.stats.Junk.Add(1)
			}
			return true
		}
		if !s.toConn(m.Nonce, a) {
			s.stray(m, a)
		}
	}
	return true
}

// toConn hands a to the MeshConn nonce n names; false if none is open.
func (s *MeshSocket) toConn(n wire.MeshNonce, a arrival) bool {
	s.mu.Lock()
	c := s.conns[meshID(n[:8])]
	s.mu.Unlock()
	if c == nil {
		s.stats.Strays.Add(1)
		return false
	}
	if a.src == fromData {
		s.stats.Acks.Add(1)
	}
	c.in.offer(a)
	return true
}

// stray judges an error about probe m of a search that has ended, and
// tells MeshConfig.Signal of a Fragmentation Needed or Packet Too Big
// that a search would have believed.
func (s *MeshSocket) stray(m wire.MeshMessage, a arrival) {
	if s.signal == nil || a.eeErr != nil || !a.to.IsValid() {
		return
	}
	peer, ee := a.to.Unmap(), a.ee
	from := ee.Offender
	want := wire.OriginICMP
	if s.v6 {
		want = wire.OriginICMP6
	}
	size := mtu.Size(m.Size)
	switch {
	case ee.Origin != want, !from.IsValid(), s.isLocal(from) && from != peer:
		return
	case wire.ErrorKind(s.v6, ee.Type, ee.Code, from == peer, false) != wire.TooBig:
		return
	case size < mtu.Floor(s.v6) || size > mtu.Max || checkMTU(mtu.Size(ee.Info), size, s.v6) != "":
		return
	}
	s.stats.Signals.Add(1)
	s.signal(peer, size, mtu.Size(ee.Info))
}

// answer sends the responder's acknowledgement of probe b, if any, and
// never one longer than b.
func (s *MeshSocket) answer(from netip.Addr, port int, b []byte) {
	if s.respond == nil {
		return
	}
	ack := s.respond(from, b)
	if ack == nil || len(ack) > len(b) {
		return
	}
	to := &net.UDPAddr{IP: from.AsSlice(), Port: port}
	if s.v6 {
		ack = s.answerShaped(ack, len(b), to)
		if ack == nil {
			return
		}
	}
	_, err := s.sock.WriteTo(ack, to)
	for try := 0; try < 3 && pendingErr(err); try++ {
		_, err = s.sock.WriteTo(ack, to)
	}
	if err == nil {
		s.stats.Answers.Add(1)
	}
}

// MeshConn is a wire.Conn over a MeshSocket toward one peer's responder:
// a probe of exactly Probe.Size bytes (IP packet) carries a nonce, its
// send time and size (and an HMAC when the mesh is keyed). The peer's
// acknowledgement is Reached; a Fragmentation Needed or Packet Too Big
// from the error queue is TooBig; a Port Unreachable (no agent listens)
// or any other error is Unreachable.
//
// An acknowledgement is believed only if it comes from the peer's address
// and port, carries the nonce of a probe this conn sent and still waits
// for (its identifier, sequence number and random part: 96 bits to
// guess), a valid MAC when keyed, and says that all of the probe's bytes
// arrived, no more. Each probe is answered once.
type MeshConn struct {
	s    *MeshSocket
	dst  netip.Addr
	port int
	ipv6 bool
	id   meshID
	key  []byte

	fl   flight
	in   *inbox
	rerr errQueueValidator

	mu      sync.Mutex
	nonces  map[int]wire.MeshNonce // seq → the nonce its probe carried
	payload map[int]int            // seq → its UDP payload length
	// dropped counts probes the sending host's own firewall refused
	// (EPERM): they never left, and count as lost.
	dropped int
}

// Target is the peer's address.
func (c *MeshConn) Target() netip.Addr { return c.dst }

// Dropped is how many probes this host's own firewall refused.
func (c *MeshConn) Dropped() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropped
}

// MinSize is the smallest IP packet a probe of this conn can be: the
// headers and the mesh header (with its MAC when keyed).
func (c *MeshConn) MinSize() mtu.Size {
	return mtu.Size(mtu.IPHeader(c.ipv6) + mtu.UDPHeader + wire.MeshLen(c.key != nil))
}

// Send sends a probe that makes an IP packet of exactly p.Size bytes.
// A probe this host's firewall drops (EPERM, ENOBUFS) is not an error:
// it is lost, as a router's silent drop would be.
func (c *MeshConn) Send(ctx context.Context, p wire.Probe) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	n := int(p.Size) - mtu.IPHeader(c.ipv6) - mtu.UDPHeader
	if p.Size > mtu.Max || n < wire.MeshLen(c.key != nil) {
		return fmt.Errorf("%w: %d bytes (a mesh probe is %d to %d)", wire.ErrSize, p.Size, c.MinSize(), mtu.Max)
	}
	var nonce wire.MeshNonce
	copy(nonce[:8], c.id[:])
	binary.BigEndian.PutUint32(nonce[8:12], uint32(p.Seq))
	_, _ = rand.Read(nonce[12:])
	b, err := wire.MarshalMeshProbe(wire.MeshMessage{Nonce: nonce, Sent: c.s.now(), Size: uint32(p.Size)}, n, c.key)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.nonces[p.Seq], c.payload[p.Seq] = nonce, n
	c.mu.Unlock()
	c.fl.add(p.Seq, p.Size)
	to := &net.UDPAddr{IP: c.dst.AsSlice(), Port: c.port}
	_, err = c.s.sock.WriteTo(b, to)
	for try := 0; try < 3 && pendingErr(err); try++ {
		// An earlier datagram's ICMP error, reported on this send,
		// which then did not happen; the error queue holds it.
		_, err = c.s.sock.WriteTo(b, to)
	}
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.ENOBUFS) {
		c.mu.Lock()
		c.dropped++
		c.mu.Unlock()
		return nil
	}
	return err
}

// Recv returns the next event, waiting until deadline at the latest.
func (c *MeshConn) Recv(deadline time.Time) (wire.Event, error) {
	return c.in.next(deadline, c.ipv6, c.classify)
}

// Close detaches the conn from its socket.
func (c *MeshConn) Close() error {
	c.s.mu.Lock()
	if c.s.conns != nil && c.s.conns[c.id] == c {
		delete(c.s.conns, c.id)
	}
	c.s.mu.Unlock()
	c.in.close()
	return nil
}

// classify turns an arrival the socket handed this conn into an Event.
func (c *MeshConn) classify(a arrival) wire.Event {
	ignore := func(why string) wire.Event { return wire.Event{Kind: wire.Ignored, From: a.from, Why: why} }
	switch a.src {
	case fromData:
		return c.ack(a)
	case fromErrQueue:
		if a.eeErr != nil {
			return ignore("error queue: " + a.eeErr.Error())
		}
		m, err := wire.ParseMesh(a.b)
		if err != nil {
			return ignore("error quotes " + err.Error())
		}
		seq, why := c.seqOf(m.Nonce)
		if why != "" {
			return ignore("error quotes " + why)
		}
		return c.rerr.validate(a.ee, seq, &c.fl)
	}
	return ignore("not an answer to a mesh probe")
}

// ack judges an acknowledgement.
func (c *MeshConn) ack(a arrival) wire.Event {
	ignore := func(why string) wire.Event { return wire.Event{Kind: wire.Ignored, From: a.from, Why: why} }
	if a.from != c.dst || a.port != c.port {
		return ignore(fmt.Sprintf("acknowledgement from %s port %d, not the peer's %s port %d", a.from, a.port, c.dst, c.port))
	}
	m, err := wire.ParseMesh(a.b)
	if err != nil {
		return ignore(err.Error())
	}
	if m.Kind != wire.MeshAck {
		return ignore("not an acknowledgement")
	}
	seq, why := c.seqOf(m.Nonce)
	if why != "" {
		return ignore("acknowledgement " + why)
	}
	if c.key != nil && !wire.VerifyMeshMAC(a.b, c.key) {
		return ignore("acknowledgement without a valid MAC")
	}
	c.mu.Lock()
	sent := c.payload[seq]
	c.mu.Unlock()
	if int(m.Size) != sent {
		return ignore(fmt.Sprintf("acknowledgement says %d bytes arrived of probe %d's %d", m.Size, seq, sent))
	}
	if _, why := c.fl.take(seq, wire.Reached); why != "" {
		return ignore("acknowledgement " + why)
	}
	return wire.Event{Kind: wire.Reached, Seq: seq, From: a.from}
}

// seqOf returns the probe a nonce names, or says why it names none of
// this conn's.
func (c *MeshConn) seqOf(n wire.MeshNonce) (int, string) {
	if meshID(n[:8]) != c.id {
		return 0, "names another search"
	}
	seq := int(binary.BigEndian.Uint32(n[8:12]))
	c.mu.Lock()
	want, ok := c.nonces[seq]
	c.mu.Unlock()
	switch {
	case !ok:
		return 0, fmt.Sprintf("names probe %d, which we never sent", seq)
	case want != n:
		return 0, fmt.Sprintf("carries a nonce probe %d did not carry (forged)", seq)
	}
	return seq, ""
}
