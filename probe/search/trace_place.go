package search

import (
	"net/netip"

	"github.com/pmtu/pmtu/mtu"
)

// Placing size refusals on the path.
//
// A Fragmentation Needed or Packet Too Big from router A, quoting a probe
// of s bytes sent with hop limit t, says three things: A is one of the
// hops before t; s bytes reached A; and nothing larger than the MTU it
// named passes the link behind A. Once A's hop limit j is known, s is a
// proof for hop j and every hop before it (even a hop that sends no Time
// Exceeded), and the refusal holds for every hop from j+1 on, not only
// from t.
//
// A's hop limit is the one that answered from A's address. Else it is
// found by elimination among the hops before the smallest hop limit at
// which A's refusals appear: a hop that answered from another address,
// or where another router sits, is not A; nor is any hop that a probe
// larger than A lets through passed on its way (it came back as a Time
// Exceeded or a reply from farther). Only positive answers rule a hop
// out, so a lost packet never places a router. When exactly one hop is
// left, A is there; when more are, A stays unplaced and the hops keep
// their bounds.

// place places the routers whose refusals are not yet placed, and applies
// what each refusal of a placed router proves.
func (w *walk) place() {
	for i := range w.tooBig {
		r := &w.tooBig[i]
		if r.applied {
			continue
		}
		a := r.ev.From
		j, ok := w.at[a]
		if !ok {
			if j, ok = w.eliminate(a); !ok {
				continue
			}
			w.at[a] = j
		}
		r.applied = true
		if j < 1 || j >= r.ttl || j > len(w.hops) {
			continue // not before the probe's hop limit: a route change; the refusal holds from r.ttl as told
		}
		w.proved(j, r.size)
		for _, o := range w.hops[j : r.ttl-1] {
			noteRefusal(o.sizer, r.size, r.ev.MTU)
		}
		if h := w.hops[j-1]; h.reply == NoReply {
			h.fromICMP = a
		}
	}
}

// eliminate returns the only hop limit where router a can be, by its
// refusals (see above); ok is false while more than one is possible.
func (w *walk) eliminate(a netip.Addr) (ttl int, ok bool) {
	tmin, thr := 0, mtu.Max
	for _, r := range w.tooBig {
		if r.ev.From != a {
			continue
		}
		if tmin == 0 || r.ttl < tmin {
			tmin = r.ttl
		}
		if r.ev.MTU > 0 {
			thr = min(thr, r.ev.MTU)
		} else {
			thr = min(thr, r.size-1)
		}
	}
	// A probe larger than thr that came back from hop limit t passed
	// every hop before t: a is none of them.
	from := 1
	for _, p := range w.sent {
		if p.byHop && p.size > thr && p.hop.ttl > from {
			from = p.hop.ttl
		}
	}
	others := map[int]bool{}
	for b, j := range w.at {
		if b != a {
			others[j] = true
		}
	}
	for j := from; j < tmin && j <= len(w.hops); j++ {
		h := w.hops[j-1]
		if others[j] || (h.reply != NoReply && h.addr != a) {
			continue
		}
		if ok {
			return 0, false // two hops are possible
		}
		ttl, ok = j, true
	}
	return ttl, ok
}
