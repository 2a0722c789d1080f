package transport

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/wire"
)

// TCPDataConn probes with the first data segment of ordinary TCP
// connections (packetization-layer PMTUD, RFC 4821 and RFC 8899, over
// TCP): no raw socket, no privilege, no ICMP needed. Each probe is a
// connection of its own to the target's port, made with TCP_MAXSEG set so
// that the one segment its payload fills is an IP packet of exactly the
// probe's size, and with IP_MTU_DISCOVER set to IP_PMTUDISC_DO
// (IPV6_PMTUDISC_DO): Linux sets DF on TCP segments only in that mode (or
// WANT), so a router must refuse or drop, not fragment, a segment too big
// for its link. The peer's ACK of every byte of the segment (TCP_INFO:
// tcpi_bytes_acked, tcpi_unacked) proves it arrived: Reached.
//
// The kernel keeps what it learns of the path: a Frag Needed or Packet
// Too Big that reaches the connection lowers its path MTU (tcpi_pmtu) and
// its segment size, and the smaller copy it sends again is then
// acknowledged. That ACK proves nothing of the size under test: a lower
// tcpi_pmtu is TooBig, with the MTU the router named (the kernel does not
// say who sent it). A path MTU the kernel had already cached toward the
// target below the probe's size is TooBig at once, before any data: DO
// mode sizes segments to it. A segment size cut by the target's own MSS
// (its SYN-ACK advertises less) is TooBig from the target: TCP to it
// carries no more.
//
// The payload is what the port expects, padded to the size: an HTTP HEAD
// request on port 80 (wire.MarshalHEAD), a TLS ClientHello on any other
// (wire.MarshalClientHello), so that no server is upset. A connection
// whose data was acknowledged is closed as a client that changed its mind
// closes it: FIN, what the server sends read and dropped, until its FIN;
// one whose data never arrived is reset, so that neither end keeps
// retransmitting into a black hole.
//
// Probes go out side by side, each on its own connection, as many as a
// round of the search sends. A hop limit cannot be set (the handshake
// would need it too): Send refuses a probe with a TTL.
type TCPDataConn struct {
	dst, src netip.Addr
	ipv6     bool
	port     int
	name     string // the host name, for SNI and Host
	iface    string
	enter    func(fn func() error) error
	now      func() time.Time
	life     time.Duration // how long a probe's connection waits for its ACK

	events chan wire.Event
	failed chan struct{} // closed on the first refusal
	fail   error
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	conns, bytes atomic.Int64
}

// tcpDataLife is how long a probe's connection waits for the ACK of its
// data: long enough for the kernel's retransmissions to beat a few losses
// (a late answer still counts), short enough not to hold connections
// open on a server.
const tcpDataLife = 3 * time.Second

// tcpMinMSS is the smallest TCP_MAXSEG Linux takes (TCP_MIN_MSS).
const tcpMinMSS = 88

// tcpTimestamps is what the timestamp option costs every segment of a
// connection that negotiated it: 10 bytes, padded to 12.
const tcpTimestamps = 12

func newTCPDataConn(dst netip.Addr, cfg *OpenConfig, pinned bool) *TCPDataConn {
	if cfg == nil {
		cfg = &OpenConfig{}
	}
	dst = dst.Unmap()
	c := &TCPDataConn{
		dst:    dst,
		ipv6:   dst.Is6(),
		port:   cfg.port(ProtoTCP),
		name:   cfg.ServerName,
		iface:  cfg.Interface,
		enter:  cfg.enter,
		now:    cfg.now(),
		life:   tcpDataLife,
		events: make(chan wire.Event, 256),
		failed: make(chan struct{}),
	}
	if pinned {
		c.src = cfg.Src.Unmap()
	}
	if c.name == "" {
		c.name = dst.String()
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c
}

// Target is the address probes go to.
func (c *TCPDataConn) Target() netip.Addr { return c.dst }

// Method is MethodTCPData.
func (c *TCPDataConn) Method() Method { return MethodTCPData }

// Port is the port the connections go to.
func (c *TCPDataConn) Port() int { return c.port }

// MinSize is the smallest probe the conn can send: the headers, the
// timestamp option and the shortest payload the port takes (a TLS
// ClientHello, an HTTP request), and no less than Linux's smallest
// TCP_MAXSEG allows.
func (c *TCPDataConn) MinSize() mtu.Size {
	hdr := mtu.IPHeader(c.ipv6) + mtu.TCPHeader
	return mtu.Size(hdr + max(tcpTimestamps+c.minPayload(), tcpMinMSS))
}

func (c *TCPDataConn) minPayload() int {
	if c.http() {
		return wire.MinHEAD(c.name)
	}
	return wire.MinClientHello(wire.HelloConfig{ServerName: c.name, KeyShare: make([]byte, 32)})
}

// http reports whether the port takes an HTTP request (80), not a TLS
// ClientHello.
func (c *TCPDataConn) http() bool { return c.port == 80 }

// Traffic is what the conn's probes cost: connections opened and the
// bytes their data segments carried, retransmissions included.
func (c *TCPDataConn) Traffic() Traffic {
	return Traffic{Connections: int(c.conns.Load()), Bytes: c.bytes.Load()}
}

// ErrNoHopLimit is Send's error for a probe with a TTL on a conn that
// cannot set one.
var ErrNoHopLimit = errors.New("this method cannot set a hop limit")

// Send opens a connection for p and writes its one data segment, in the
// background: Recv reports what became of it.
func (c *TCPDataConn) Send(ctx context.Context, p wire.Probe) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if p.TTL > 0 {
		return fmt.Errorf("%s: %w", MethodTCPData, ErrNoHopLimit)
	}
	if p.Size < c.MinSize() || p.Size > mtu.Max {
		return fmt.Errorf("%w: %d bytes (TCP data probes are %d to %d)", wire.ErrSize, p.Size, c.MinSize(), mtu.Max)
	}
	if c.ctx.Err() != nil {
		return net.ErrClosed
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.probe(p)
	}()
	return nil
}

// Recv returns the next event, waiting until deadline at the latest. A
// connection the target refused (a RST: nothing listens on the port) or
// could not reach ends the conn's use: Recv returns that error.
func (c *TCPDataConn) Recv(deadline time.Time) (wire.Event, error) {
	select {
	case ev := <-c.events:
		return ev, nil
	default:
	}
	expired, stop, err := expiry(deadline)
	if err != nil {
		return wire.Event{}, err
	}
	defer stop()
	select {
	case ev := <-c.events:
		return ev, nil
	case <-c.failed:
		return wire.Event{}, c.fail
	case <-c.ctx.Done():
		return wire.Event{}, net.ErrClosed
	case <-expired:
		return wire.Event{}, errTimeout()
	}
}

// Close ends every probe's connection and waits for them.
func (c *TCPDataConn) Close() error {
	c.cancel()
	c.wg.Wait()
	return nil
}

// refused records the first error that ends the conn's use.
func (c *TCPDataConn) refused(err error) {
	c.once.Do(func() {
		c.fail = err
		close(c.failed)
	})
}

func (c *TCPDataConn) emit(ev wire.Event) {
	ev.IPv6 = c.ipv6
	select {
	case c.events <- ev:
	case <-c.ctx.Done():
	}
}

// payload is the data of a probe: n bytes of what the port expects.
func (c *TCPDataConn) payload(n int) ([]byte, error) {
	if c.http() {
		return wire.MarshalHEAD(c.name, n)
	}
	hc := wire.HelloConfig{ServerName: c.name}
	_, _ = rand.Read(hc.Random[:])
	_, _ = rand.Read(hc.SessionID[:])
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	hc.KeyShare = k.PublicKey().Bytes()
	return wire.MarshalClientHello(hc, n)
}

// tcpState is what TCP_INFO says of a probe's connection.
type tcpState struct {
	sndMSS     int      // the payload of a full segment (tcpi_snd_mss)
	pmtu       mtu.Size // the kernel's path MTU for the connection (tcpi_pmtu)
	timestamps bool     // the timestamp option is in use (tcpi_options)
	acked      uint64   // bytes the peer acknowledged (tcpi_bytes_acked)
	unacked    int      // segments in flight (tcpi_unacked)
	sent       uint64   // bytes sent, retransmissions included (tcpi_bytes_sent)
	open       bool     // the connection is established
}

// segment is the payload that makes a data segment of size bytes on a
// connection in state s: the IP and TCP headers and the options every
// segment carries come off.
func segment(size mtu.Size, ipv6 bool, s tcpState) int {
	n := int(size) - mtu.IPHeader(ipv6) - mtu.TCPHeader
	if s.timestamps {
		n -= tcpTimestamps
	}
	return n
}

// tcpVerdict is what a probe's connection proved so far.
type tcpVerdict struct {
	kind wire.EventKind // Reached, TooBig, or Ignored: nothing yet
	mtu  mtu.Size       // TooBig: the size that passes, as the kernel or the target said
	peer bool           // TooBig because the target's MSS is smaller, not the path
}

// judgeStart says, once connected and before any data, whether a
// segment of exactly size bytes can be sent at all: the kernel sizes
// segments to its cached path MTU (DO mode) and to the peer's MSS.
func judgeStart(size mtu.Size, ipv6 bool, s tcpState) tcpVerdict {
	want := segment(size, ipv6, s)
	switch {
	case s.sndMSS >= want:
		return tcpVerdict{kind: wire.Ignored}
	case s.pmtu > 0 && s.pmtu < size:
		return tcpVerdict{kind: wire.TooBig, mtu: s.pmtu}
	}
	return tcpVerdict{kind: wire.TooBig, mtu: size - mtu.Size(want-s.sndMSS), peer: true}
}

// judge says what a probe's connection proved: n bytes of data were
// written in one segment of size bytes when the peer had acknowledged
// acked0. The ACK of all n proves the segment arrived only while the
// kernel still holds the path MTU and segment size it was sent with: a
// Frag Needed that lowered them made it send the data again, smaller,
// and is TooBig.
func judge(size mtu.Size, ipv6 bool, n int, acked0 uint64, s tcpState) tcpVerdict {
	switch {
	case s.pmtu > 0 && s.pmtu < size:
		return tcpVerdict{kind: wire.TooBig, mtu: s.pmtu}
	case s.sndMSS < n:
		// The segment size dropped without a path MTU below size
		// (tcp_mtu_probing): the data went again in smaller pieces.
		return tcpVerdict{kind: wire.TooBig, mtu: size - mtu.Size(n-s.sndMSS)}
	case s.acked-acked0 >= uint64(n) && s.unacked == 0:
		return tcpVerdict{kind: wire.Reached}
	}
	return tcpVerdict{kind: wire.Ignored}
}

// probe runs one probe's connection: connect, check the segment size,
// write, watch TCP_INFO until the data is acknowledged, the path MTU
// drops, or the connection's life ends; then close it.
func (c *TCPDataConn) probe(p wire.Probe) {
	ctx, cancel := context.WithTimeout(c.ctx, c.life)
	defer cancel()
	c.conns.Add(1)
	mss := int(p.Size) - mtu.IPHeader(c.ipv6) - mtu.TCPHeader
	conn, err := c.dial(ctx, mss)
	if err != nil {
		if ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			c.refused(fmt.Errorf("%s port %d: %w", c.dst, c.port, connectError(err)))
		}
		return // no SYN-ACK within the connection's life: lost
	}
	tc := conn.(*net.TCPConn)
	acked := false
	defer func() { c.finish(tc, acked) }()
	s, err := tcpInfo(tc)
	if err != nil {
		return
	}
	ev := wire.Event{Seq: p.Seq, From: c.dst}
	if v := judgeStart(p.Size, c.ipv6, s); v.kind == wire.TooBig {
		ev.Kind, ev.MTU, ev.At = wire.TooBig, v.mtu, c.now()
		ev.Why = c.why(v)
		c.setICMP(&ev, v)
		c.emit(ev)
		return
	}
	n := segment(p.Size, c.ipv6, s)
	b, err := c.payload(n)
	if err != nil {
		return
	}
	acked0 := s.acked
	if _, err := tc.Write(b); err != nil {
		return
	}
	for wait := time.Millisecond; ; wait = min(2*wait, 10*time.Millisecond) {
		s, err := tcpInfo(tc)
		if err != nil {
			return
		}
		v := judge(p.Size, c.ipv6, n, acked0, s)
		if v.kind != wire.Ignored {
			ev.Kind, ev.At, ev.Bytes = v.kind, c.now(), n
			if v.kind == wire.TooBig {
				ev.MTU, ev.Why = v.mtu, c.why(v)
				c.setICMP(&ev, v)
			}
			acked = v.kind == wire.Reached
			c.emit(ev)
			return
		}
		if !s.open {
			return // reset by the peer, or timed out
		}
		select {
		case <-ctx.Done():
			return // never acknowledged: lost, or too big for a silent router
		case <-time.After(wait):
		}
	}
}

// why says where a TooBig of a TCP data probe comes from.
func (c *TCPDataConn) why(v tcpVerdict) string {
	if v.peer {
		return fmt.Sprintf("the target's MSS limits TCP to %d-byte packets", v.mtu)
	}
	return fmt.Sprintf("the kernel's path MTU toward %s is %d (a Fragmentation Needed or Packet Too Big reached it)", c.dst, v.mtu)
}

// setICMP gives a TooBig that the kernel learned from an ICMP the type
// and code of that ICMP, and no sender: the kernel keeps none. One that
// the target's MSS set is from the target, with no ICMP.
func (c *TCPDataConn) setICMP(ev *wire.Event, v tcpVerdict) {
	if v.peer {
		ev.PeerLimit = true
		return
	}
	ev.From = netip.Addr{}
	if c.ipv6 {
		ev.Type = wire.ICMPv6PacketTooBig
	} else {
		ev.Type, ev.Code = wire.ICMPv4DstUnreach, wire.ICMPv4FragNeeded
	}
}

// finish closes a probe's connection: cleanly (FIN, the server's answer
// read and dropped until its FIN, for at most a second) when its data
// arrived, else at once with a RST, and counts what it sent.
func (c *TCPDataConn) finish(tc *net.TCPConn, acked bool) {
	if s, err := tcpInfo(tc); err == nil {
		c.bytes.Add(int64(s.sent))
	}
	if !acked {
		_ = tc.SetLinger(0)
		tc.Close()
		return
	}
	_ = tc.CloseWrite()
	_ = tc.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 4096)
	for {
		if _, err := tc.Read(buf); err != nil {
			break
		}
	}
	tc.Close()
}

// connectError is what a failed connect says to a user: the kernel's
// words (connection refused, no route to host).
func connectError(err error) error {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err
	}
	return err
}
