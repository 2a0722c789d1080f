package pmtucache

import (
	"errors"
	"fmt"
	"time"

	"github.com/pmtu/pmtu/route"
)

// Exception is the kernel's path MTU exception toward one destination, as
// `ip route get` shows it ("cache expires 599sec mtu 1400"). The zero
// Exception means the kernel holds none.
type Exception struct {
	MTU     int
	Expires time.Time
}

// ExceptionOf is r's path MTU exception, read at now; the zero Exception
// if r has none.
func ExceptionOf(r route.Route, now time.Time) Exception {
	if !r.Cached || r.MTU <= 0 {
		return Exception{}
	}
	return Exception{MTU: r.MTU, Expires: now.Add(r.Expires)}
}

// twinSlack is how long before its recorded expiry a kernel exception may
// already be gone: the kernel counts in ticks and rounds.
const twinSlack = 2 * time.Second

// Query is a question a cached entry may answer: the path MTU toward
// Key.Dst, probed as Key says, by a search between Floor and Ceil, and
// what the world looks like now.
type Query struct {
	Key
	// Floor and Ceil bound the search that would run: the smallest and
	// the largest probe. 0 means no bound.
	Floor, Ceil int
	// IfIndex and IfMTU are the egress interface the route to Dst uses
	// now, and its MTU.
	IfIndex, IfMTU int
	// Kernel is the kernel's path MTU exception toward Dst now.
	Kernel Exception
}

// Why an entry does not answer a query; Cache.Answer wraps one of them in
// an error that says more.
var (
	// ErrNoEntry: nothing usable is cached for the query's key.
	ErrNoEntry = errors.New("nothing cached")
	// ErrStale: the world changed since the entry was learned.
	ErrStale = errors.New("the cached answer no longer holds")
	// ErrOtherQuestion: the entry answers another search's question.
	ErrOtherQuestion = errors.New("the cached answer is for another question")
)

// Answer returns the live entry that answers q, or an error that wraps
// ErrNoEntry, ErrStale or ErrOtherQuestion and says why none does (with
// the entry it judged, if there was one). An entry answers q when all of
// these hold:
//
//   - it has q's Key: the same destination and source, the same network
//     namespace instance in the same boot (a known one), and the same
//     probe protocol and port;
//   - it has not expired;
//   - the route still leaves by the interface it left by, and that
//     interface's MTU has not changed;
//   - the kernel agrees: the path MTU exception the kernel held when the
//     entry was stored is still there, with the same MTU, while it should
//     still be alive (else `ip route flush cache`, a route change or a
//     new namespace removed it); and no exception has appeared below an
//     entry for which the kernel held none;
//   - its value lies within q's bounds: a full answer between Floor and
//     Ceil; a lower bound only for a search with the same ceiling.
func (c *Cache) Answer(q Query) (Entry, error) {
	q.Key = q.Key.normal()
	if q.Net.IsZero() {
		return Entry{}, fmt.Errorf("%w: the network namespace has no known identity", ErrNoEntry)
	}
	c.mu.Lock()
	now := c.now()
	e, ok := c.m[q.Key]
	if ok && e.expired(now) {
		delete(c.m, q.Key)
		ok = false
	}
	var near *Entry
	if !ok {
		for _, o := range c.m {
			if o.Dst == q.Dst && o.Src == q.Src && !o.expired(now) && (near == nil || o.Net == q.Net) {
				near = &o
			}
		}
	}
	c.mu.Unlock()
	if !ok {
		if near == nil {
			return Entry{}, ErrNoEntry
		}
		return *near, fmt.Errorf("%w for this key: %s", ErrNoEntry, near.unlike(q.Key))
	}
	if why := e.stale(q, now); why != "" {
		return e, fmt.Errorf("%w: %s", ErrStale, why)
	}
	if why := e.outside(q); why != "" {
		return e, fmt.Errorf("%w: %s", ErrOtherQuestion, why)
	}
	return e, nil
}

// unlike says how e's key differs from k's, which has the same
// destination and source.
func (e Entry) unlike(k Key) string {
	switch {
	case e.Net.Boot != k.Net.Boot:
		return "an entry from another boot is never used"
	case e.Net != k.Net:
		return fmt.Sprintf("an entry from another network namespace instance (%s, now %s) is never used", e.Net, k.Net)
	}
	return fmt.Sprintf("the entry was learned with %s probes, not %s", protoPort(e.Key), protoPort(k))
}

func protoPort(k Key) string {
	if k.Port == 0 {
		return k.Proto
	}
	return fmt.Sprintf("%s port %d", k.Proto, k.Port)
}

// stale says why e no longer holds in the world q describes at now, or ""
// if nothing says so.
func (e Entry) stale(q Query, now time.Time) string {
	switch {
	case e.IfIndex != q.IfIndex:
		return fmt.Sprintf("the route now leaves by interface #%d, not by %s (#%d) as when learned", q.IfIndex, e.ifName(), e.IfIndex)
	case e.IfMTU != q.IfMTU:
		return fmt.Sprintf("interface %s now has MTU %d, not %d as when learned", e.ifName(), q.IfMTU, e.IfMTU)
	}
	k := q.Kernel
	if e.Kernel.MTU != 0 {
		switch {
		case k.MTU == 0 && now.Before(e.Kernel.Expires.Add(-twinSlack)):
			return fmt.Sprintf("the kernel no longer holds the path MTU exception (mtu %d) it learned with this entry: "+
				"flushed (ip route flush cache), or the route or namespace changed", e.Kernel.MTU)
		case k.MTU != 0 && k.MTU != e.Kernel.MTU:
			return fmt.Sprintf("the kernel's path MTU exception toward %s now says %d, not %d as when learned", e.Dst, k.MTU, e.Kernel.MTU)
		}
		return ""
	}
	if k.MTU != 0 && k.MTU < e.PMTU {
		return fmt.Sprintf("the kernel now holds a path MTU exception of %d toward %s, below the cached %d", k.MTU, e.Dst, e.PMTU)
	}
	return ""
}

// outside says why e's value does not answer a search between q.Floor and
// q.Ceil, or "" if it does.
func (e Entry) outside(q Query) string {
	if !e.Full {
		if q.Ceil != e.PMTU {
			return fmt.Sprintf("it proves only that the path carries %d (a search that stopped at --max-size %d), not what a search up to %d finds", e.PMTU, e.PMTU, q.Ceil)
		}
		return ""
	}
	if (q.Floor != 0 && e.PMTU < q.Floor) || (q.Ceil != 0 && e.PMTU > q.Ceil) {
		return fmt.Sprintf("the cached path MTU %d lies outside this search's sizes %d–%d", e.PMTU, q.Floor, q.Ceil)
	}
	return ""
}

func (e Entry) ifName() string {
	if e.IfName != "" {
		return e.IfName
	}
	return fmt.Sprintf("#%d", e.IfIndex)
}

// Measured stores what a finished search proved, as e describes it (all
// of Entry but Learned, Expires and BelowFloor, which it sets). Unlike an
// ICMP offered to Update, a search's answer was proved by a probe of that
// size coming back, so it replaces the cached entry for the key whatever
// that held; except that a lower bound (Full false) does not replace a
// full answer of the same interface that it agrees with.
func (c *Cache) Measured(e Entry) (Result, error) {
	e.Key = e.Key.normal()
	e.Hop = e.Hop.Unmap()
	if err := e.check(); err != nil {
		return Result{}, err
	}
	e.BelowFloor = e.Dst.Is4() && e.PMTU < floorIPv4

	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	e.Learned, e.Expires = now, now.Add(c.lifetime())
	old, ok := c.m[e.Key]
	if ok && !old.expired(now) && !e.Full && old.Full && old.PMTU >= e.PMTU &&
		old.IfIndex == e.IfIndex && old.IfMTU == e.IfMTU {
		return Result{Action: Ignored, Reason: fmt.Sprintf("a lower bound of %d adds nothing to the cached path MTU %d", e.PMTU, old.PMTU), Entry: old}, nil
	}
	if c.m == nil {
		c.m = make(map[Key]Entry)
	}
	c.m[e.Key] = e
	reason := "no live entry"
	if ok && !old.expired(now) {
		reason = fmt.Sprintf("measured, replacing %d", old.PMTU)
	}
	return Result{Action: Stored, Reason: reason, Entry: e}, nil
}
