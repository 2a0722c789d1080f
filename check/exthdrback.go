package check

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"syscall"
	"time"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/transport"
	"github.com/pmtu/pmtu/probe/wire"
)

// DefaultResponderPort is where pmtu check looks for a pmtu mesh
// responder on the target when Options.Responder is not set: pmtu
// mesh's default port.
const DefaultResponderPort = 10151

// ResponderConn is what the return direction of the extension headers
// is checked over: a UDP socket toward a pmtu mesh responder, which
// reads each datagram with the IPv6 extension headers it arrived with.
// transport.MeshClient is the real one; tests give a fake path.
type ResponderConn interface {
	// Src is the source address of the datagrams sent: the responder
	// answers only its peers.
	Src() netip.Addr
	// Write sends a UDP payload to the responder.
	Write(ctx context.Context, b []byte) error
	// Read returns the next datagram back, waiting until deadline at
	// the latest; then an error satisfying errors.Is(err,
	// os.ErrDeadlineExceeded). A Port Unreachable is an error satisfying
	// errors.Is(err, syscall.ECONNREFUSED).
	Read(deadline time.Time) (transport.MeshArrival, error)
	Close() error
}

// backAnswer is what came back for one shaped probe.
type backAnswer struct {
	acked   bool
	shape   *wire.MeshShape // nil: a plain acknowledgement (an older responder)
	hbh, do bool            // the headers it arrived with
	refused bool            // Port Unreachable: nothing listens
	err     error           // the probe could not be sent
}

// has reports whether the acknowledgement arrived carrying h.
func (a backAnswer) has(h wire.MeshHeader) bool {
	return h == wire.MeshHopByHop && a.hbh || h == wire.MeshDstOpts && a.do
}

// back checks the return direction of the IPv6 extension headers: it
// asks a pmtu mesh responder for acknowledgements that come back
// carrying each header, small and of the path MTU, each beside a plain
// one of the same size that must arrive for a loss to count. It needs
// no privilege here (an ordinary UDP socket); the responder needs
// CAP_NET_RAW to attach the headers.
type back struct {
	o     *Options
	c     ResponderConn
	dst   netip.AddrPort
	pmtu  mtu.Size
	tries int
}

// headersBack fills in the return direction of h (Return, ReturnWhy,
// ReturnSmall, ReturnLarge, Responder) and adds its two findings. cfg
// says where the socket is made, pmtu is the path MTU toward dst.
func headersBack(ctx context.Context, o *Options, cfg *transport.OpenConfig, dst netip.Addr, pmtu mtu.Size, r *Report) {
	h := r.IPv6Headers
	rs := o.Responder
	if !rs.IsValid() {
		rs = netip.AddrPortFrom(dst, DefaultResponderPort)
	}
	h.Responder = rs.String()
	b := &back{o: o, dst: rs, pmtu: pmtu, tries: o.tries()}
	unknown := func(why string) {
		for _, x := range headerChecks(h) {
			x.hdr.Return, x.hdr.ReturnWhy = Unknown, why
			r.add(Finding{Check: x.ret, Result: Unknown, Summary: fmt.Sprintf("IPv6 %s headers on the way back: unknown", x.name),
				Evidence: why, Needs: privilegeResponder})
		}
	}
	if !rs.Addr().Unmap().Is6() {
		unknown(fmt.Sprintf("the responder %s is not an IPv6 address", rs))
		return
	}
	c, err := o.openResponder(rs, cfg)
	if err != nil {
		unknown(fmt.Sprintf("could not open a UDP socket toward the responder %s: %v", rs, err))
		return
	}
	defer c.Close()
	b.c = c
	plainSmall := b.ask(ctx, wire.MeshNoHeader, smallEcho)
	switch {
	case plainSmall.err != nil:
		unknown(fmt.Sprintf("could not send to the responder %s: %v", rs, plainSmall.err))
		return
	case plainSmall.refused:
		unknown(fmt.Sprintf("no pmtu mesh responder at %s (Port Unreachable): the way back needs one there (pmtu mesh, or --responder)", rs))
		return
	case !plainSmall.acked:
		unknown(fmt.Sprintf("no pmtu mesh responder answered at %s in %d tries: none runs there, this host (%s) is not one of its peers, or its mesh is keyed (--key-file)", rs, b.tries, c.Src()))
		return
	case plainSmall.shape == nil:
		unknown(fmt.Sprintf("the pmtu mesh responder at %s answers, but plainly: it predates acknowledgements with extension headers", rs))
		return
	}
	plainLarge := b.ask(ctx, wire.MeshNoHeader, pmtu)
	for _, x := range headerChecks(h) {
		small := b.ask(ctx, x.kind, smallEcho)
		large := b.ask(ctx, x.kind, pmtu)
		var smallWhy, largeWhy string
		x.hdr.ReturnSmall, smallWhy = backVerdict(x.kind, small, plainSmall)
		x.hdr.ReturnLarge, largeWhy = backVerdict(x.kind, large, plainLarge)
		if large.shape != nil {
			x.hdr.ReturnSize = int(large.shape.Size)
		}
		var f Finding
		x.hdr.Return, f = headerFinding(x.ret, x.name, privilegeResponder, x.hdr.ReturnSmall, x.hdr.ReturnLarge, wayBack)
		x.hdr.ReturnWhy = fmt.Sprintf("the pmtu mesh responder at %s, asked for acknowledgements with a %s header: one of %d bytes %s; one of %d bytes %s",
			rs, x.name, smallEcho, smallWhy, pmtu, largeWhy)
		f.Evidence = x.hdr.ReturnWhy
		r.add(f)
	}
}

// headerCheck is one extension header's checks: where its results go,
// its kind in a shaped acknowledgement, its findings' names, and the
// shape of its Echo Requests.
type headerCheck struct {
	hdr      *Header
	kind     wire.MeshHeader
	fwd, ret string
	name     string
	shape    echoShape
}

func headerChecks(h *IPv6Headers) []headerCheck {
	return []headerCheck{
		{&h.HopByHop, wire.MeshHopByHop, CheckHopByHopForward, CheckHopByHopReturn, "Hop-by-Hop", echoShape{hopByHop: true}},
		{&h.DestinationOptions, wire.MeshDstOpts, CheckDstOptsForward, CheckDstOptsReturn, "Destination Options", echoShape{dstOpts: true}},
	}
}

// backVerdict is what an acknowledgement asked for with header h did,
// next to a plain one of its size, and why.
func backVerdict(h wire.MeshHeader, with, plain backAnswer) (string, string) {
	switch {
	case with.err != nil:
		return Unknown, "not sent: " + with.err.Error()
	case with.acked && with.shape == nil:
		return Unknown, "came back plain: the responder predates extension headers"
	case with.acked && with.shape.Status == wire.MeshShapeNotPermitted:
		return Unknown, "came back without it: the responder may not send it (Linux needs CAP_NET_RAW to attach IPv6 options, even to a UDP datagram)"
	case with.acked && with.shape.Status != wire.MeshShapeSent:
		return Unknown, "came back without it: " + with.shape.Status.String()
	case with.acked && with.has(h):
		return Pass, fmt.Sprintf("arrived with it (%d bytes)", with.shape.Size)
	case with.acked:
		return Dropped, fmt.Sprintf("arrived without it (%d bytes): the header was removed on the way", with.shape.Size)
	case plain.acked:
		return Dropped, "never arrived, while a plain one of that size did"
	case plain.err != nil:
		return Unknown, "never arrived, and a plain one of that size could not be sent: " + plain.err.Error()
	}
	return Unknown, "never arrived, and neither did a plain one of that size"
}

// ask sends a probe of size bytes (IP packet) asking for an
// acknowledgement of that size with header h, up to tries times, each
// with its own nonce, and waits Wait for each.
func (b *back) ask(ctx context.Context, h wire.MeshHeader, size mtu.Size) backAnswer {
	over := mtu.IPv6Header + mtu.UDPHeader
	for try := 0; try < b.tries; try++ {
		if ctx.Err() != nil {
			return backAnswer{err: ctx.Err()}
		}
		var nonce wire.MeshNonce
		_, _ = rand.Read(nonce[:])
		p, err := wire.MarshalMeshProbe(wire.MeshMessage{Nonce: nonce, Sent: time.Now(), Size: uint32(size),
			Shape: &wire.MeshShape{Header: h, Size: uint16(size)}}, int(size)-over, b.o.Key)
		if err != nil {
			return backAnswer{err: err}
		}
		if err := b.c.Write(ctx, p); err != nil {
			if errors.Is(err, syscall.ECONNREFUSED) {
				return backAnswer{refused: true}
			}
			return backAnswer{err: err}
		}
		b.log("sent a %d-byte probe to the responder %s asking for a %s acknowledgement", size, b.dst, h)
		deadline := time.Now().Add(b.o.wait())
		for {
			a, err := b.c.Read(deadline)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			if errors.Is(err, syscall.ECONNREFUSED) {
				return backAnswer{refused: true}
			}
			if err != nil {
				return backAnswer{err: err}
			}
			m, err := wire.ParseMesh(a.Data)
			if err != nil || m.Kind != wire.MeshAck || m.Nonce != nonce || int(m.Size) != len(p) {
				continue
			}
			if b.o.Key != nil && !wire.VerifyMeshMAC(a.Data, b.o.Key) {
				continue
			}
			b.log("acknowledgement of %d bytes, shape %+v, Hop-by-Hop %v, Destination Options %v", len(a.Data), m.Shape, a.HopByHop, a.DstOpts)
			return backAnswer{acked: true, shape: m.Shape, hbh: a.HopByHop, do: a.DstOpts}
		}
	}
	return backAnswer{}
}

func (b *back) log(format string, args ...any) {
	if b.o.Log != nil {
		b.o.Log(fmt.Sprintf(format, args...))
	}
}

// openResponder opens the conn toward the responder rs.
func (o *Options) openResponder(rs netip.AddrPort, cfg *transport.OpenConfig) (ResponderConn, error) {
	if o.OpenResponder != nil {
		return o.OpenResponder(rs, cfg)
	}
	c, err := transport.DialMesh(rs, cfg)
	if err != nil {
		return nil, err
	}
	return c, nil
}
