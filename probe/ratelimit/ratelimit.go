// Package ratelimit is the one model of how a host limits the ICMP errors
// it sends toward one destination: Linux's token bucket (net/ipv4/icmp.c
// icmpv4_xrlim_allow with inet_peer_xrlim_allow; net.ipv4.icmp_ratelimit,
// net.ipv6.icmp.ratelimit; RFC 1812 §4.3.2.8, RFC 4443 §2.4 (f)). Linux
// limits Time Exceeded and Destination Unreachable this way, never
// Fragmentation Needed or Packet Too Big.
//
// The search (probe/search) uses it to guess what a router has left to
// answer with, the transports (probe/transport) to say what a target
// allows, and the fake network (internal/probetest) to behave like a
// Linux router. It imports nothing of pmtu.
package ratelimit

import "time"

// Limit is a token bucket: Burst answers at once, then one more every
// Every.
type Limit struct {
	Burst int
	Every time.Duration
}

// Linux is the kernel's default limit: a burst of 6 (XRLIM_BURST_FACTOR),
// then one per second (net.ipv4.icmp_ratelimit = 1000 ms).
var Linux = Limit{Burst: 6, Every: time.Second}

// Bucket is the state of one Limit, as far as its owner knows it. It is
// full when first used, unless Empty was called first. The zero Bucket
// of a zero Limit allows nothing; it is not safe for concurrent use.
type Bucket struct {
	Limit
	tokens float64
	at     time.Time
	primed bool
}

// NewBucket returns a full bucket of l.
func NewBucket(l Limit) *Bucket { return &Bucket{Limit: l} }

// refill adds the tokens earned since the last look, up to Burst.
func (b *Bucket) refill(now time.Time) {
	if !b.primed {
		b.tokens, b.at, b.primed = float64(b.Burst), now, true
		return
	}
	if now.After(b.at) {
		if b.Every > 0 {
			b.tokens = min(float64(b.Burst), b.tokens+float64(now.Sub(b.at))/float64(b.Every))
		}
		b.at = now
	}
}

// Allow takes a token at now if there is one: what the sender does
// before it sends an answer.
func (b *Bucket) Allow(now time.Time) bool {
	b.refill(now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// Spend records that an answer was sent at now, whether or not the
// bucket thought a token was left.
func (b *Bucket) Spend(now time.Time) {
	b.refill(now)
	b.tokens = max(0, b.tokens-1)
}

// Empty records that the bucket had no token left at now.
func (b *Bucket) Empty(now time.Time) {
	b.refill(now)
	b.tokens = 0
}

// ReadyAt returns when the bucket will next have a whole token: now if
// it has one.
func (b *Bucket) ReadyAt(now time.Time) time.Time {
	b.refill(now)
	if b.tokens >= 1 {
		return now
	}
	return b.at.Add(time.Duration((1 - b.tokens) * float64(b.Every)))
}
