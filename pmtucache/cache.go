package pmtucache

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/pmtu/pmtu/mtu"
)

// DefaultLifetime is how long a learned path MTU is believed: Linux's
// default net.ipv4.route.mtu_expires (600 s), the "about 10 minutes" of
// RFC 1191 §6.3.
const DefaultLifetime = 10 * time.Minute

// Path MTU limits, in IP packet bytes: package mtu's, as the ints an
// Entry holds.
const (
	minIPv4   = int(mtu.MinIPv4)
	floorIPv4 = int(mtu.LinuxMinPMTU)
	maxIPv4   = int(mtu.Max)
	minIPv6   = int(mtu.MinIPv6)
)

// Evidence says how a path MTU was learned.
type Evidence string

const (
	// EvidenceICMP: an ICMP Fragmentation Needed or Packet Too Big named
	// the MTU. Such a value may only lower a cached one.
	EvidenceICMP Evidence = "icmp"
	// EvidenceProbes: probes alone proved the MTU (RFC 4821, RFC 8899).
	EvidenceProbes Evidence = "probes"
)

// Key names one cache entry: where the path goes, from which namespace
// instance, and how it was probed. An entry answers only questions asked
// with its own Key.
type Key struct {
	Dst netip.Addr // destination
	Src netip.Addr // source address the path was measured from; may be the zero Addr
	// Net is the network namespace instance the probes left from
	// (CurrentNetwork). The zero Network is unknown: Cache.Answer never
	// answers a query for it.
	Net Network
	// Proto is what the probes were: "icmp" (Echo Requests), "udp" or
	// "tcp". Filters treat them differently, so one does not answer for
	// another. Port is the destination port of udp and tcp probes, 0 for
	// icmp.
	Proto string
	Port  int
}

// normal maps IPv4-mapped IPv6 addresses to IPv4, so that ::ffff:192.0.2.1
// and 192.0.2.1 share one entry.
func (k Key) normal() Key {
	k.Dst = k.Dst.Unmap()
	k.Src = k.Src.Unmap()
	return k
}

// compare orders keys by namespace, destination, source, protocol and
// port.
func (k Key) compare(o Key) int {
	if c := k.Net.compare(o.Net); c != 0 {
		return c
	}
	if c := k.Dst.Compare(o.Dst); c != 0 {
		return c
	}
	if c := k.Src.Compare(o.Src); c != 0 {
		return c
	}
	if c := cmp.Compare(k.Proto, o.Proto); c != 0 {
		return c
	}
	return cmp.Compare(k.Port, o.Port)
}

// Entry is one cached path MTU.
type Entry struct {
	Key

	// PMTU is the path MTU: the largest IP packet, IP header included,
	// that crosses the path unfragmented. Where Full is false it is only
	// the largest size proved to pass.
	PMTU int
	// Full is true when PMTU is the path MTU itself. It is false when the
	// search stopped at its ceiling (a --max-size below the path MTU)
	// with nothing refused: the path MTU is then at least PMTU.
	Full bool
	// Refused is the smallest size known not to pass (refused, lost, or
	// above the MTU an ICMP named); 0 if none was.
	Refused  int
	Evidence Evidence
	// Hop is the router whose ICMP named PMTU; the zero Addr if none did.
	Hop netip.Addr
	// Learned is when PMTU was stored; Expires is when it stops being
	// believed. Cache.Update sets both from its clock.
	Learned time.Time
	Expires time.Time
	// BelowFloor marks an IPv4 PMTU under 552, where Linux would have
	// stored and locked 552 instead of the reported value.
	BelowFloor bool

	// Method is how the probes were sent and read (probe.Method), for
	// showing; Key.Proto is what decides.
	Method string
	// The egress interface when the entry was learned: if the route now
	// leaves by another, or its MTU changed, the entry is stale.
	IfIndex int
	IfName  string
	IfMTU   int
	// NetnsInode is the namespace's inode number when learned, to show it
	// by its /run/netns name; unlike Key.Net, the kernel reuses it.
	NetnsInode uint64
	// Kernel is the kernel's own path MTU exception toward Dst right
	// after the search, the twin of an ICMP-learned entry (the same Frag
	// Needed or Packet Too Big made it); the zero Exception if the
	// kernel held none.
	Kernel Exception
	// Return is what the search's replies proved of the return path's
	// MTU, shown again with a cached answer; the zero ReturnPath if
	// nothing was kept.
	Return ReturnPath
	// BlackHoleDirection says, where the search found a black hole and
	// told which way it lies, "forward" or "return" (probe's
	// BlackHoleForward, BlackHoleReturn); "" otherwise. For showing,
	// like Method.
	BlackHoleDirection string
}

// ReturnPath is what the replies of a search proved of the return path's
// MTU (probe.ReturnBounds): the way back carries Min (0: nothing known)
// and no more than Max (0: no upper bound known). Evidence says how:
// "whole replies", "fragmented replies", "lost replies" or "unknown"
// (UDP and TCP answers are small); "" in the zero ReturnPath, which
// means nothing was kept.
type ReturnPath struct {
	Min, Max int
	Evidence string
}

// check returns an error if r cannot be cached.
func (r ReturnPath) check() error {
	switch {
	case r.Evidence == "" && (r.Min != 0 || r.Max != 0):
		return fmt.Errorf("pmtucache: return path %d to %d without evidence", r.Min, r.Max)
	case r.Min < 0 || r.Max < 0 || max(r.Min, r.Max) > int(mtu.Max) || (r.Max != 0 && r.Max < r.Min):
		return fmt.Errorf("pmtucache: return path bounds %d to %d impossible", r.Min, r.Max)
	}
	return nil
}

// ExpiresIn returns the time e has left at now, or 0 once it has expired.
func (e Entry) ExpiresIn(now time.Time) time.Duration {
	return max(e.Expires.Sub(now), 0)
}

// expired reports whether e has expired at now. As in the kernel
// (time_after_eq), an entry expires at its Expires instant.
func (e Entry) expired(now time.Time) bool { return !now.Before(e.Expires) }

// check returns an error if e cannot be cached. e.Key must be normal.
func (e Entry) check() error {
	switch {
	case !e.Dst.IsValid():
		return errors.New("pmtucache: invalid destination address")
	case e.Src.IsValid() && e.Src.Is4() != e.Dst.Is4():
		return fmt.Errorf("pmtucache: source %s and destination %s differ in family", e.Src, e.Dst)
	case e.Hop.IsValid() && e.Hop.Unmap().Is4() != e.Dst.Is4():
		return fmt.Errorf("pmtucache: hop %s and destination %s differ in family", e.Hop, e.Dst)
	case e.Evidence != EvidenceICMP && e.Evidence != EvidenceProbes:
		return fmt.Errorf("pmtucache: unknown evidence %q", e.Evidence)
	case e.Dst.Is6() && e.PMTU < minIPv6:
		return fmt.Errorf("pmtucache: IPv6 path MTU %d below the minimum of %d refused", e.PMTU, minIPv6)
	case e.Dst.Is4() && e.PMTU < minIPv4:
		return fmt.Errorf("pmtucache: IPv4 path MTU %d below the minimum of %d refused", e.PMTU, minIPv4)
	case e.Dst.Is4() && e.PMTU > maxIPv4:
		return fmt.Errorf("pmtucache: IPv4 path MTU %d above the maximum of %d refused", e.PMTU, maxIPv4)
	case e.Refused != 0 && e.Refused <= e.PMTU:
		return fmt.Errorf("pmtucache: refused size %d not above the path MTU %d", e.Refused, e.PMTU)
	case e.Port < 0 || e.Port > 65535:
		return fmt.Errorf("pmtucache: port %d outside 0–65535", e.Port)
	}
	return e.Return.check()
}

// Action says what Cache.Update did.
type Action int

const (
	// Stored: the value is now cached with a full lifetime.
	Stored Action = iota + 1
	// Refreshed: the cached value was the same; its lifetime restarted.
	Refreshed
	// Ignored: nothing changed; Result.Reason says why.
	Ignored
)

func (a Action) String() string {
	switch a {
	case Stored:
		return "stored"
	case Refreshed:
		return "refreshed"
	case Ignored:
		return "ignored"
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// Result is what Cache.Update did and why.
type Result struct {
	Action Action
	Reason string // which rule applied, in words
	Entry  Entry  // what the cache holds for the key afterwards
}

// Cache is a path MTU cache. The zero value is an empty cache, ready for
// use, with DefaultLifetime and the system clock. A Cache is safe for
// concurrent use by multiple goroutines. Set Clock and Lifetime before
// first use and do not change them afterwards. A Cache must not be copied
// after first use.
type Cache struct {
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
	// Lifetime is how long a learned value is believed; 0 means
	// DefaultLifetime.
	Lifetime time.Duration

	mu sync.Mutex
	m  map[Key]Entry
}

func (c *Cache) now() time.Time {
	if c.Clock != nil {
		return c.Clock()
	}
	return time.Now()
}

func (c *Cache) lifetime() time.Duration {
	if c.Lifetime > 0 {
		return c.Lifetime
	}
	return DefaultLifetime
}

// Lookup returns the live entry for k. An expired entry is dropped.
func (c *Cache) Lookup(k Key) (Entry, bool) {
	k = k.normal()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return Entry{}, false
	}
	if e.expired(c.now()) {
		delete(c.m, k)
		return Entry{}, false
	}
	return e, true
}

// Update offers a newly learned path MTU to the cache: e's Key, PMTU,
// Evidence and Hop. Update sets e's Learned, Expires and BelowFloor itself.
// It returns an error, and changes nothing, for a value no path can have
// (IPv6 below 1280, IPv4 below 68) or a malformed entry; otherwise it
// reports whether the value was stored, refreshed the cached one, or was
// ignored, and why. A refresh changes only the cached entry's Expires and
// what the latest replies proved of the way back (Return,
// BlackHoleDirection).
func (c *Cache) Update(e Entry) (Result, error) {
	e.Key = e.Key.normal()
	e.Hop = e.Hop.Unmap()
	if err := e.check(); err != nil {
		return Result{}, err
	}
	e.BelowFloor = e.Dst.Is4() && e.PMTU < floorIPv4

	c.mu.Lock()
	defer c.mu.Unlock()
	now, life := c.now(), c.lifetime()
	e.Learned, e.Expires = now, now.Add(life)

	old, ok := c.m[e.Key]
	if ok && old.expired(now) {
		delete(c.m, e.Key)
		ok = false
	}
	store := func(reason string) (Result, error) {
		if c.m == nil {
			c.m = make(map[Key]Entry)
		}
		c.m[e.Key] = e
		return Result{Action: Stored, Reason: reason, Entry: e}, nil
	}
	switch {
	case !ok:
		return store("no live entry")
	case e.Evidence == EvidenceProbes:
		return store(fmt.Sprintf("probes proved %d, replacing %d (%s)", e.PMTU, old.PMTU, old.Evidence))
	case e.PMTU > old.PMTU:
		return Result{Action: Ignored, Reason: fmt.Sprintf("an ICMP never raises the path MTU: %d above cached %d", e.PMTU, old.PMTU), Entry: old}, nil
	case e.PMTU < old.PMTU:
		return store(fmt.Sprintf("lower than cached %d", old.PMTU))
	case old.Expires.Sub(now) > life/2:
		return Result{Action: Ignored, Reason: fmt.Sprintf("same value with %s left, more than half its lifetime", old.Expires.Sub(now)), Entry: old}, nil
	}
	old.Expires = e.Expires
	old.Return, old.BlackHoleDirection = e.Return, e.BlackHoleDirection
	c.m[e.Key] = old
	return Result{Action: Refreshed, Reason: "same value with half its lifetime or less left", Entry: old}, nil
}

// Delete removes every entry for dst, whatever its source and namespace,
// and returns how many it removed.
func (c *Cache) Delete(dst netip.Addr) int {
	dst = dst.Unmap()
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for k := range c.m {
		if k.Dst == dst {
			delete(c.m, k)
			n++
		}
	}
	return n
}

// Flush removes every entry and returns how many there were, expired ones
// included.
func (c *Cache) Flush() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.m)
	clear(c.m)
	return n
}

// Entries returns the live entries, ordered by namespace, destination and
// source.
func (c *Cache) Entries() []Entry {
	c.mu.Lock()
	now := c.now()
	es := make([]Entry, 0, len(c.m))
	for _, e := range c.m {
		if !e.expired(now) {
			es = append(es, e)
		}
	}
	c.mu.Unlock()
	slices.SortFunc(es, func(a, b Entry) int { return a.Key.compare(b.Key) })
	return es
}

// prune drops expired entries and returns how many it dropped.
func (c *Cache) prune() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	n := 0
	for k, e := range c.m {
		if e.expired(now) {
			delete(c.m, k)
			n++
		}
	}
	return n
}

// put stores e as it is, for loading from a file. e must be checked.
func (c *Cache) put(e Entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[Key]Entry)
	}
	c.m[e.Key] = e
}

// all returns every entry, expired ones included, for saving.
func (c *Cache) all() []Entry {
	c.mu.Lock()
	es := make([]Entry, 0, len(c.m))
	for _, e := range c.m {
		es = append(es, e)
	}
	c.mu.Unlock()
	slices.SortFunc(es, func(a, b Entry) int { return a.Key.compare(b.Key) })
	return es
}
