package check

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/pmtu/pmtu/measure"
	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/ratelimit"
	"github.com/pmtu/pmtu/probe/wire"
)

// synWalk is what the SYNs at increasing hop limits brought back.
type synWalk struct {
	hops      map[int]*MSSHop // by hop limit: the routers that answered
	targetTTL int             // the smallest hop limit that reached the target; 0 if none did
	synAckMSS int             // the MSS of the target's SYN-ACK; 0 if none
	answer    string          // what the target answered: "SYN-ACK", "RST", an ICMP error, or ""
	lastTTL   int             // the largest hop limit sent
	err       error
}

// mss runs the tracebox walk: SYNs carrying MSS option sent (what this
// host advertises through its egress interface) at hop limits 1, 2,
// 3..., a window of them at a time, until the target answers; then it
// locates the rewrite and judges the stall risk.
func (rn *runner) mss(ctx context.Context, r *Report) {
	sent := mtu.MSS(rn.ifMTU, rn.v6)
	r.MSSSent = sent
	w := rn.walk(ctx, uint16(sent))
	if w.err != nil {
		why := "the SYNs could not be sent: " + w.err.Error()
		r.add(Finding{Check: CheckMSSClamp, Result: NotRun, Summary: "MSS clamping: not run", Evidence: why, Needs: privilegeRaw})
		r.add(Finding{Check: CheckStallRisk, Result: NotRun, Summary: "stall risk: not run", Evidence: why, Needs: privilegeRaw})
		r.StallWhy = "not run: " + why
		return
	}
	last := w.lastTTL
	if w.targetTTL > 0 {
		last = w.targetTTL - 1
	}
	for ttl := 1; ttl <= last; ttl++ {
		h := MSSHop{TTL: ttl}
		if q := w.hops[ttl]; q != nil {
			h = *q
		}
		r.MSSHops = append(r.MSSHops, h)
	}
	r.SynAckMSS, r.SynAckHop = w.synAckMSS, w.targetTTL
	var f Finding
	r.MSSClamp, f = locate(sent, r.MSSHops, w.targetTTL > 0, rn.src)
	f.Evidence = joinSentences(f.Evidence, targetText(w, rn.o.port()))
	r.add(f)
	r.StallRisk, r.StallWhy = stallRisk(w.synAckMSS, rn.ifMTU, rn.pm)
	sf := Finding{Check: CheckStallRisk, Needs: privilegeRaw, Evidence: r.StallWhy}
	switch {
	case r.StallRisk:
		sf.Result, sf.Summary = Found, "stall risk: big TCP transfers stall after the handshake"
		sf.Advice = fmt.Sprintf("clamp the TCP MSS to %d at the bottleneck (nft: tcp flags syn tcp option maxseg size set rt mtu; iptables: -j TCPMSS --clamp-mss-to-pmtu), "+
			"or let its router send Frag Needed / Packet Too Big", mtu.MSS(mtu.Size(rn.pm.PMTU), rn.v6))
	case w.synAckMSS == 0 || rn.pm.PMTU == 0:
		sf.Result, sf.Summary = Unknown, "stall risk: unknown"
	default:
		sf.Result, sf.Summary = OK, "stall risk: none"
	}
	r.add(sf)
}

// walk sends the SYNs and reads what comes back. Each window of hop
// limits is sent Tries+1 times at most: hops rate-limit their Time
// Exceeded, and a loss is not silence.
func (rn *runner) walk(ctx context.Context, sent uint16) synWalk {
	w := synWalk{hops: map[int]*MSSHop{}}
	port := uint16(rn.o.port())
	sport := uint16(32768 + rn.rand32()%28000)
	maxHops := cmp.Or(rn.o.MaxHops, defaultMaxHops)
	isns := map[uint32]int{} // initial sequence number → hop limit
	for first := 1; first <= maxHops && w.targetTTL == 0; first += defaultWindow {
		last := min(first+defaultWindow-1, maxHops)
		answered := false
		var sentAt time.Time
		for try := 0; try < rn.o.tries()+1; try++ {
			unanswered := func(ttl int) bool { return w.hops[ttl] == nil && (w.targetTTL == 0 || ttl < w.targetTTL) }
			if !slices.ContainsFunc(ttlRange(first, last), unanswered) {
				break
			}
			if try > 0 {
				// A hop that did not answer may have spent its ICMP
				// tokens (Linux: a burst of 6, then one a second, per
				// destination): ask again once one has come back, so
				// that a limited hop is not taken for a silent one.
				if err := sleepCtx(ctx, time.Until(sentAt.Add(retryGap))); err != nil {
					w.err = err
					return w
				}
			}
			sentAt = time.Now()
			pending := 0
			for ttl := first; ttl <= last; ttl++ {
				if !unanswered(ttl) {
					continue
				}
				isn := rn.rand32()
				isns[isn] = ttl
				p := wire.IPPacket{Src: rn.src, Dst: rn.dst, TTL: ttl, Proto: wire.ProtoTCP, DF: !rn.v6, ID: rn.rand32() & 0xffff,
					Payload: wire.MarshalSYNMSS(rn.src, rn.dst, sport, port, isn, sent)}
				if err := rn.send(ctx, []wire.IPPacket{p}); err != nil {
					w.err = err
					return w
				}
				w.lastTTL = max(w.lastTTL, ttl)
				pending++
			}
			rn.log("sent SYNs with MSS %d from port %d to %d at hop limits %d–%d", sent, sport, port, first, last)
			deadline := time.Now().Add(rn.o.wait())
			for pending > 0 {
				got, err := rn.c.ReadPacket(deadline)
				if err != nil {
					if errors.Is(err, os.ErrDeadlineExceeded) {
						break
					}
					w.err = err
					return w
				}
				if rn.readSYNAnswer(got, &w, isns, sport, port) {
					pending--
					answered = true
				}
			}
			if ctx.Err() != nil {
				w.err = ctx.Err()
				return w
			}
		}
		if !answered && w.targetTTL == 0 {
			// A whole window of silent hops: the SYNs go no further
			// (a firewall drops them), or nothing answers past here.
			break
		}
	}
	return w
}

func ttlRange(first, last int) []int {
	var r []int
	for ttl := first; ttl <= last; ttl++ {
		r = append(r, ttl)
	}
	return r
}

// retryGap is how long after sending a window of SYNs the hops that did
// not answer are asked again: past the refill of a Linux router's ICMP
// rate limit.
var retryGap = ratelimit.Linux.Every + 100*time.Millisecond

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// readSYNAnswer reads one packet: a router's quote of one of our SYNs,
// or the target's answer to one. It reports whether it was either.
func (rn *runner) readSYNAnswer(got wire.Received, w *synWalk, isns map[uint32]int, sport, port uint16) bool {
	switch got.Proto {
	case wire.ProtoTCP:
		if got.From != rn.dst {
			return false
		}
		seg, err := wire.ParseTCP(got.Data)
		if err != nil || seg.SrcPort != port || seg.DstPort != sport || seg.Flags&wire.TCPACK == 0 {
			return false
		}
		ttl, ok := isns[seg.Ack-1]
		if !ok {
			return false
		}
		rn.log("%s from %s to the SYN of hop limit %d", seg.Kind(), got.From, ttl)
		if w.targetTTL == 0 || ttl < w.targetTTL {
			w.targetTTL = ttl
		}
		if seg.Flags&wire.TCPSYN != 0 && w.synAckMSS == 0 {
			if m, err := wire.ParseTCPMSS(got.Data); err == nil && m.Present {
				w.synAckMSS = m.MSS
			}
		}
		if w.answer != "SYN-ACK" {
			w.answer = seg.Kind()
		}
		return true
	case wire.ICMPProto(rn.v6):
		m, err := wire.ParseMessage(got.Data, rn.v6)
		if err != nil || m.Quote == nil {
			return false
		}
		q := m.Quote
		if q.Proto != wire.ProtoTCP || q.Src != rn.src || q.Dst != rn.dst || len(q.Transport) < 8 {
			return false
		}
		if sp, dp := uint16(q.Transport[0])<<8|uint16(q.Transport[1]), uint16(q.Transport[2])<<8|uint16(q.Transport[3]); sp != sport || dp != port {
			return false
		}
		isn := uint32(q.Transport[4])<<24 | uint32(q.Transport[5])<<16 | uint32(q.Transport[6])<<8 | uint32(q.Transport[7])
		ttl, ok := isns[isn]
		if !ok {
			return false
		}
		if wire.ErrorKind(rn.v6, m.Type, m.Code, got.From == rn.dst, false) != wire.TimeExceeded {
			// Refused on the way: the SYNs get no further than this.
			rn.log("ICMP type %d code %d from %s about the SYN of hop limit %d", m.Type, m.Code, got.From, ttl)
			if w.targetTTL == 0 || ttl < w.targetTTL {
				w.targetTTL = ttl
				w.answer = fmt.Sprintf("ICMP type %d code %d from %s", m.Type, m.Code, got.From)
			}
			return true
		}
		if w.hops[ttl] != nil {
			return false // a duplicate
		}
		opt, err := wire.ParseTCPMSS(q.Transport)
		h := &MSSHop{TTL: ttl, Address: got.From.String(), Quoted: len(q.Transport), Visible: err == nil && opt.Visible}
		if h.Visible {
			h.MSS = opt.MSS
		}
		w.hops[ttl] = h
		rn.log("hop %d (%s) quotes %d bytes of the SYN: %s", ttl, got.From, h.Quoted, hopText(*h))
		return true
	}
	return false
}

func hopText(h MSSHop) string {
	switch {
	case h.Address == "":
		return "no answer"
	case !h.Visible:
		return "options not visible"
	case h.MSS == 0:
		return "no MSS option"
	}
	return fmt.Sprintf("MSS %d", h.MSS)
}

// locate finds where the MSS of the SYNs was rewritten, from what each
// hop quoted (hops[i] is hop limit i+1, up to the last router when the
// target was reached): between the last hop that quotes the MSS sent
// and the first that quotes another. It never says "not clamped" past
// the last hop whose quote shows the options.
func locate(sent int, hops []MSSHop, reached bool, src netip.Addr) (*MSSClamp, Finding) {
	f := Finding{Check: CheckMSSClamp, Needs: privilegeRaw}
	after, afterAddr := 0, src.String()
	var skipped []string // hops between after and the next visible one
	for _, h := range hops {
		if !h.Visible {
			if h.Address == "" {
				skipped = append(skipped, fmt.Sprintf("hop %d did not answer", h.TTL))
			} else {
				skipped = append(skipped, fmt.Sprintf("hop %d (%s) quoted only %d bytes of it", h.TTL, h.Address, h.Quoted))
			}
			continue
		}
		if h.MSS == sent {
			after, afterAddr, skipped = h.TTL, h.Address, nil
			continue
		}
		c := &MSSClamp{Hop: h.TTL, Address: h.Address, AfterHop: after, AfterAddress: afterAddr, Sent: sent, Seen: h.MSS}
		became := fmt.Sprintf("to %d", h.MSS)
		if h.MSS == 0 {
			became = "away (the option is gone)"
		}
		f.Result = Found
		f.Summary = fmt.Sprintf("MSS clamped: %d rewritten %s between %s and hop %d (%s)", sent, became, hopName(after, afterAddr), h.TTL, h.Address)
		if after == 0 {
			f.Evidence = fmt.Sprintf("hop %d's Time Exceeded already quotes the SYN with %s", h.TTL, mssText(h.MSS))
		} else {
			f.Evidence = fmt.Sprintf("hop %d's Time Exceeded quotes the SYN with MSS %d as sent; hop %d's quotes it with %s", after, sent, h.TTL, mssText(h.MSS))
		}
		if len(skipped) > 0 {
			f.Evidence += "; in between, " + strings.Join(skipped, ", ")
		}
		f.Advice = fmt.Sprintf("a router or middlebox at %s (or on its link to hop %d) rewrites the MSS of SYNs (iptables TCPMSS, nft maxseg): "+
			"right where the path behind it has a smaller MTU, a lost %d bytes a segment where it has not", hopName(after, afterAddr), h.TTL, sent-h.MSS)
		return c, f
	}
	switch {
	case after == 0:
		f.Result = Unknown
		f.Summary = "MSS clamping: not visible"
		f.Evidence = "no hop quoted the SYN's TCP options (each quoted 8 bytes or fewer, or did not answer)"
		if len(hops) == 0 {
			f.Evidence = "no router answered the SYNs"
		}
	case len(skipped) == 0 && reached:
		f.Result = OK
		f.Summary = fmt.Sprintf("MSS unchanged up to hop %d (%s), the last router", after, afterAddr)
		f.Evidence = fmt.Sprintf("hop %d quotes the SYN with MSS %d as sent; a rewrite by that router itself, toward the target, is not visible to this method", after, sent)
	default:
		f.Result = Unknown
		f.Summary = fmt.Sprintf("MSS unchanged up to hop %d (%s); not visible past that hop", after, afterAddr)
		f.Evidence = fmt.Sprintf("hop %d quotes the SYN with MSS %d as sent", after, sent)
		if len(skipped) > 0 {
			f.Evidence += "; then " + strings.Join(skipped, ", ") + ": a rewrite there or later is not visible"
		}
		if !reached {
			f.Evidence += "; the SYNs never reached the target"
		}
	}
	return nil, f
}

func hopName(ttl int, addr string) string {
	if ttl == 0 {
		return "this host (" + addr + ")"
	}
	return fmt.Sprintf("hop %d (%s)", ttl, addr)
}

func mssText(mss int) string {
	if mss == 0 {
		return "no MSS option"
	}
	return fmt.Sprintf("MSS %d", mss)
}

// targetText says what the target answered the SYNs.
func targetText(w synWalk, port int) string {
	switch {
	case w.answer == "SYN-ACK" && w.synAckMSS > 0:
		return fmt.Sprintf("the target answered at hop %d with a SYN-ACK advertising MSS %d (port %d)", w.targetTTL, w.synAckMSS, port)
	case w.answer == "SYN-ACK":
		return fmt.Sprintf("the target answered at hop %d with a SYN-ACK without an MSS option (port %d)", w.targetTTL, port)
	case w.answer == "RST":
		return fmt.Sprintf("the target answered at hop %d with a RST: nothing listens on port %d, so it advertises no MSS (--port)", w.targetTTL, port)
	case w.answer != "":
		return fmt.Sprintf("the SYNs were refused at hop %d: %s", w.targetTTL, w.answer)
	}
	return fmt.Sprintf("the target never answered the SYNs to port %d", port)
}

// stallRisk says whether a big TCP transfer toward this host's peer
// would stall after the handshake: this host sends segments as large as
// the target's MSS allows (and its own interface), and when those
// packets exceed the path MTU while no router says "too big" (the path
// MTU's evidence is a black hole), they vanish and the connection hangs.
func stallRisk(synAckMSS int, ifMTU mtu.Size, pm *measure.Report) (bool, string) {
	if synAckMSS == 0 {
		return false, "unknown: the target sent no MSS (no SYN-ACK)"
	}
	if pm.PMTU == 0 {
		return false, "unknown: no path MTU was found"
	}
	v6 := pm.IPv6()
	seg := min(synAckMSS, mtu.MSS(ifMTU, v6)) + mtu.IPHeader(v6) + mtu.TCPHeader
	switch {
	case seg <= pm.PMTU:
		return false, fmt.Sprintf("full segments (MSS %d from the SYN-ACK) make %d-byte packets, which the path MTU %d carries", synAckMSS, seg, pm.PMTU)
	case pm.BlackHole:
		why := fmt.Sprintf("the target advertises MSS %d, so full segments make %d-byte packets, but the path carries only %d and no router says so "+
			"(bigger probes vanished without an ICMP): a big transfer stalls after the handshake", synAckMSS, seg, pm.PMTU)
		if pm.BlackHoleDirection != "" {
			why += "; the loss is on the " + pm.BlackHoleDirection + " path"
		}
		return true, why
	case pm.Evidence == "icmp":
		by := cmp.Or(pm.LimitingHop, "a router")
		return false, fmt.Sprintf("full segments make %d-byte packets, above the path MTU %d, but %s says so (ICMP), and TCP adapts", seg, pm.PMTU, by)
	}
	return false, fmt.Sprintf("full segments make %d-byte packets, above the path MTU %d, with no black hole found", seg, pm.PMTU)
}

func joinSentences(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}
