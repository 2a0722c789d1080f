package check

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/pmtu/pmtu/measure"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/netns"
	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/probe/transport"
	"github.com/pmtu/pmtu/probe/wire"
)

// Conn is what the checks send their packets over: whole IP packets out,
// header included, and back every ICMP message and TCP segment sent to
// Src, unjudged (each check matches what it reads to what it sent).
// transport.RawIPConn is the real one; tests give a fake path.
type Conn interface {
	// Src is the source address the packets must carry.
	Src() netip.Addr
	// WritePacket sends the IP packet b as it is.
	WritePacket(ctx context.Context, b []byte) error
	// ReadPacket returns the next packet read, waiting until deadline
	// at the latest; then an error satisfying errors.Is(err,
	// os.ErrDeadlineExceeded).
	ReadPacket(deadline time.Time) (wire.Received, error)
	Close() error
}

// Options says how to check. The zero value (or nil) measures the path
// MTU as `pmtu HOST` does, without the cache, and runs every check this
// process may run.
type Options struct {
	// Measure is how the path MTU is measured (measure.Host, always
	// afresh). Its Probe also says where the checks' packets leave from
	// (Netns, Interface, Source), the family (Network), how long a
	// packet waits for its answer
	// (Wait; 0 is 1 s) and the world probed (Net, in tests).
	Measure measure.Options
	// Port is the destination port of the SYNs; 0 is Measure.Probe.Port
	// if set, else 443. Something must listen there for the target's
	// SYN-ACK to give its MSS.
	Port int
	// Open opens the checks' conn toward dst; nil is
	// transport.OpenRawIP.
	Open func(dst netip.Addr, cfg *transport.OpenConfig) (Conn, error)
	// MaxHops is the largest hop limit of the SYNs; 0 is 30.
	MaxHops int
	// Tries is how many times an unanswered packet is sent; 0 is 2.
	Tries int
	// Log, if set, is told what each check sent and read, for -v.
	Log func(line string)
	// Responder is the pmtu mesh responder asked for the return
	// direction of the IPv6 extension headers; the zero value is the
	// target itself, at DefaultResponderPort.
	Responder netip.AddrPort
	// Key is the shared key of the responder's mesh (pmtu mesh
	// --key-file), if it is keyed.
	Key []byte
	// OpenResponder opens the conn toward the responder; nil is
	// transport.DialMesh.
	OpenResponder func(dst netip.AddrPort, cfg *transport.OpenConfig) (ResponderConn, error)
}

func (o *Options) wait() time.Duration { return cmp.Or(o.Measure.Probe.Wait, time.Second) }
func (o *Options) tries() int          { return cmp.Or(o.Tries, defaultTries) }
func (o *Options) port() int           { return cmp.Or(o.Port, o.Measure.Probe.Port, defaultTCPPort) }

// Host checks the path to host: the path MTU (measure.Host), then MSS
// clamping, fragments each way and, for IPv6, extension headers. o may
// be nil.
//
// The Report is nil only when the host could not be looked up (a
// *measure.Error of Kind BadInput). Otherwise err is the path MTU
// search's error, if it had one (a *measure.Error): the checks ran
// anyway, and the Report says what they found.
func Host(ctx context.Context, host string, o *Options) (*Report, error) {
	if o == nil {
		o = &Options{}
	}
	mo := o.Measure
	mo.Fresh = true
	pm, merr := measure.Host(ctx, host, &mo)
	if pm == nil {
		return nil, merr
	}
	r := &Report{Target: host, Address: pm.Address, Family: pm.Family, PathMTU: pm,
		Findings: []Finding{}, NotRun: []Skipped{}, MSSHops: []MSSHop{}, Fragments: map[string]*Fragments{}}
	if measure.KindOf(merr) == measure.Stopped || ctx.Err() != nil {
		return r, merr
	}
	r.add(pathMTUFinding(pm))
	t := pm.Probed()
	if t == nil {
		r.skipAll(pm.IPv6(), "the target could not be probed: "+pm.Error)
		return r, merr
	}
	cfg := o.openConfig(t)
	c, err := o.open(t.Addr, cfg)
	if err != nil {
		why := err.Error()
		if transport.IsPermission(err) {
			why = "needs " + privilegeRaw + ": this process may not open them"
		}
		r.skipRaw(pm.IPv6(), why)
		if pm.IPv6() {
			// The way back needs no raw socket here.
			headersBack(ctx, o, cfg, t.Addr, pmtuOf(pm, t.Ceil()), r)
		}
		return r, merr
	}
	defer c.Close()
	rn := &runner{c: c, o: o, dst: t.Addr, v6: t.Addr.Is6(), src: c.Src(), pm: pm, ifMTU: t.Ceil()}
	rn.echoID = uint16(rn.rand32()) | 1
	rn.mss(ctx, r)
	rn.fragments(ctx, r)
	if rn.v6 {
		rn.extHeaders(ctx, r)
		headersBack(ctx, o, cfg, t.Addr, rn.pmtu(), r)
	}
	if err := ctx.Err(); err != nil {
		return r, &measure.Error{Kind: measure.Stopped, Msg: "stopped before the checks ended", Err: err}
	}
	return r, merr
}

// openConfig is where the checks' sockets toward t are made: where t's
// probes leave from.
func (o *Options) openConfig(t *probe.Target) *transport.OpenConfig {
	po := t.Options()
	cfg := &transport.OpenConfig{Src: po.Source, Interface: po.Interface, RouteSrc: t.Route.Src}
	if po.Netns != "" {
		name := po.Netns
		cfg.Enter = func(fn func() error) error { return netns.Do(name, fn) }
	}
	return cfg
}

// open opens the checks' conn toward dst.
func (o *Options) open(dst netip.Addr, cfg *transport.OpenConfig) (Conn, error) {
	if o.Open != nil {
		return o.Open(dst, cfg)
	}
	c, err := transport.OpenRawIP(dst, cfg)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// skipAll reports every check but the path MTU as not run, for why.
func (r *Report) skipAll(v6 bool, why string) {
	r.skipRaw(v6, why)
	if v6 {
		for _, x := range headerChecks(r.IPv6Headers) {
			x.hdr.ReturnWhy = "not run: " + why
			r.add(Finding{Check: x.ret, Result: NotRun, Summary: x.ret + ": not run", Evidence: why, Needs: privilegeResponder})
		}
	}
}

// skipRaw reports every raw-socket check as not run, for why: all but
// the path MTU and the way back of the extension headers.
func (r *Report) skipRaw(v6 bool, why string) {
	names := []string{CheckMSSClamp, CheckStallRisk, CheckFragmentsForward, CheckFragmentsReturn}
	if v6 {
		names = append(names, CheckHopByHopForward, CheckDstOptsForward)
	}
	for _, n := range names {
		r.add(Finding{Check: n, Result: NotRun, Summary: n + ": not run", Evidence: why, Needs: privilegeRaw})
	}
	r.StallWhy = "not run: " + why
	r.Fragments[r.Family] = &Fragments{Forward: Unknown, ForwardWhy: "not run: " + why, Return: Unknown, ReturnWhy: "not run: " + why}
	if v6 {
		h := Header{Forward: Unknown, ForwardWhy: "not run: " + why, Return: Unknown, Small: Unknown, Large: Unknown}
		r.IPv6Headers = &IPv6Headers{HopByHop: h, DestinationOptions: h}
	}
}

// pathMTUFinding is the path MTU as pmtu HOST found it: a black hole
// (sizes above it vanished without an ICMP) breaks big packets.
func pathMTUFinding(pm *measure.Report) Finding {
	f := Finding{Check: CheckPathMTU, Needs: privilegeNone}
	switch {
	case pm.PMTU == 0 || pm.Error != "":
		f.Result, f.Summary = Unknown, "path MTU: not found"
		f.Evidence = pm.Error
	case pm.BlackHole:
		f.Result = Found
		f.Summary = fmt.Sprintf("path MTU %d, and bigger packets vanish without an ICMP (a PMTUD black hole)", pm.PMTU)
		f.Evidence = fmt.Sprintf("probes of %d bytes came back; %d and more got no answer and no router said why (evidence %s)", pm.PMTU, pm.Hi, pm.Evidence)
		if pm.BlackHoleDirection != "" {
			f.Evidence += "; the loss is on the " + pm.BlackHoleDirection + " path"
		}
		f.Advice = fmt.Sprintf("let the router at the bottleneck send Frag Needed / Packet Too Big (allow ICMP type 3 code 4 and ICMPv6 type 2), or clamp the TCP MSS to %d there", mtu.MSS(mtu.Size(pm.PMTU), pm.IPv6()))
	default:
		f.Result = OK
		f.Summary = fmt.Sprintf("path MTU %d (evidence %s)", pm.PMTU, pm.Evidence)
		if pm.LimitingHop != "" {
			f.Evidence = pm.LimitingHop + " named it in its ICMP"
		} else {
			f.Evidence = "probes of that size came back"
		}
	}
	return f
}

// runner runs the checks over one conn.
type runner struct {
	c      Conn
	o      *Options
	dst    netip.Addr
	src    netip.Addr
	v6     bool
	pm     *measure.Report
	ifMTU  mtu.Size // the egress interface MTU (the largest packet this host sends)
	echoID uint16
	seq    uint16
}

func (rn *runner) log(format string, args ...any) {
	if rn.o.Log != nil {
		rn.o.Log(fmt.Sprintf(format, args...))
	}
}

func (rn *runner) rand32() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint32(b[:])
}

// pmtu is the size the checks treat as the path MTU: what pmtu HOST
// found, else the interface's.
func (rn *runner) pmtu() mtu.Size { return pmtuOf(rn.pm, rn.ifMTU) }

func pmtuOf(pm *measure.Report, ifMTU mtu.Size) mtu.Size {
	if pm.PMTU > 0 {
		return mtu.Size(pm.PMTU)
	}
	return ifMTU
}

// send writes every packet of ps.
func (rn *runner) send(ctx context.Context, ps []wire.IPPacket) error {
	for _, p := range ps {
		b, err := wire.MarshalIP(p)
		if err != nil {
			return err
		}
		if err := rn.c.WritePacket(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

// echoAnswer is what came back for one Echo Request.
type echoAnswer struct {
	replied bool
	frag    mtu.Size // the largest fragment of a reassembled reply; 0 if whole
	err     error    // the request could not be sent
}

// echoShape is how an Echo Request is built: its IP size, its IPv6
// extension headers, and whether it goes in fragments of per payload
// bytes (0: whole, with DF for IPv4).
type echoShape struct {
	size              mtu.Size
	hopByHop, dstOpts bool
	per               int
}

// echo sends an Echo Request of shape s up to Tries times, each with its
// own sequence number, and waits Wait for each reply from the target.
func (rn *runner) echo(ctx context.Context, s echoShape) echoAnswer {
	for try := 0; try < rn.o.tries(); try++ {
		if ctx.Err() != nil {
			return echoAnswer{err: ctx.Err()}
		}
		rn.seq++
		seq := rn.seq
		p := wire.IPPacket{Src: rn.src, Dst: rn.dst, TTL: 64, Proto: wire.ICMPProto(rn.v6), HopByHop: s.hopByHop, DstOpts: s.dstOpts}
		n := int(s.size) - p.HeaderLen() - mtu.ICMPHeader
		if n < 12 {
			return echoAnswer{err: fmt.Errorf("an Echo Request of %d bytes has no room for its data", s.size)}
		}
		data := make([]byte, n)
		binary.BigEndian.PutUint16(data, rn.echoID)
		copy(data[2:], "pmtu-chk")
		icmpb, err := wire.MarshalEchoTo(rn.src, rn.dst, int(rn.echoID), int(seq), data)
		if err != nil {
			return echoAnswer{err: err}
		}
		p.Payload = icmpb
		ps := []wire.IPPacket{p}
		if s.per > 0 {
			if ps, err = wire.FragmentIP(p, s.per, rn.fragID()); err != nil {
				return echoAnswer{err: err}
			}
		} else {
			ps[0].DF = !rn.v6
			ps[0].ID = rn.rand32() & 0xffff
		}
		if err := rn.send(ctx, ps); err != nil {
			return echoAnswer{err: err}
		}
		rn.log("sent Echo Request seq %d, %d bytes in %d packet(s)%s", seq, s.size, len(ps), shapeText(s))
		deadline := time.Now().Add(rn.o.wait())
		for {
			got, err := rn.c.ReadPacket(deadline)
			if err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					break
				}
				return echoAnswer{err: err}
			}
			if rn.isReply(got, seq, len(icmpb)) {
				rn.log("Echo Reply seq %d from %s, %d bytes, largest fragment %d", seq, got.From, len(got.Data), got.FragSize)
				return echoAnswer{replied: true, frag: got.FragSize}
			}
		}
	}
	return echoAnswer{}
}

// isReply reports whether got is the target's Echo Reply to request seq,
// of icmpLen bytes.
func (rn *runner) isReply(got wire.Received, seq uint16, icmpLen int) bool {
	if got.Proto != wire.ICMPProto(rn.v6) || got.From != rn.dst {
		return false
	}
	m, err := wire.ParseMessage(got.Data, rn.v6)
	if err != nil || m.Type != wire.EchoReplyType(rn.v6) {
		return false
	}
	return m.ID == int(rn.echoID) && m.Seq == int(seq) && len(m.Data)+mtu.ICMPHeader == icmpLen
}

// fragID is a fresh fragment identification: 16 bits for IPv4, 32 for
// IPv6.
func (rn *runner) fragID() uint32 {
	id := rn.rand32() | 1
	if !rn.v6 {
		id &= 0xffff
	}
	return id
}

func shapeText(s echoShape) string {
	t := ""
	if s.hopByHop {
		t += ", Hop-by-Hop header"
	}
	if s.dstOpts {
		t += ", Destination Options header"
	}
	if s.per > 0 {
		t += fmt.Sprintf(", fragments of %d bytes", s.per&^7)
	}
	return t
}
