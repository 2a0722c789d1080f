package mesh

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/probe/wire"
)

// Verdict is what a Responder did with one datagram.
type Verdict int

// Verdicts, in the order the checks run.
const (
	Answered    Verdict = iota // acknowledged
	Malformed                  // not a mesh datagram (ParseMesh failed)
	NotProbe                   // a mesh datagram, but not a probe
	NotPeer                    // from an address outside the peer set
	BadMAC                     // keyed responder: no MAC, or a wrong one
	RateLimited                // over its source's budget
	numVerdicts
)

var verdictNames = [numVerdicts]string{"answered", "malformed", "not_probe", "not_peer", "bad_mac", "rate_limited"}

func (v Verdict) String() string {
	if v >= 0 && v < numVerdicts {
		return verdictNames[v]
	}
	return "unknown"
}

// Default per-source budget of a Responder: a search sends rounds of up
// to 16 probes (search.DefaultWidth), and several searches of one peer
// may overlap only briefly.
const (
	DefaultRespondRate  = 100 // acknowledgements a second, per source
	DefaultRespondBurst = 64
)

// Responder decides which mesh probes to acknowledge: only probes from
// an address of the current peer set (IsPeer), with a valid MAC when Key
// is set, within a token bucket per source address
// (golang.org/x/time/rate). The acknowledgement is never longer than the
// probe. Set the fields before the first Answer; it is then safe for
// concurrent use.
type Responder struct {
	// Key, if set, is the shared key: probes without a valid HMAC are
	// not answered, and acknowledgements carry one.
	Key []byte
	// IsPeer reports whether an address is in the current peer set;
	// nil answers nobody.
	IsPeer func(netip.Addr) bool
	// Rate and Burst are each source's budget; 0 means the defaults.
	Rate  rate.Limit
	Burst int
	// Now is the clock; nil is time.Now.
	Now func() time.Time

	mu       sync.Mutex
	limiters map[netip.Addr]*rate.Limiter
	counts   [numVerdicts]atomic.Uint64
}

// Answer judges b, a UDP payload that arrived from from, and returns the
// acknowledgement to send back to it (nil: send nothing) and why.
func (r *Responder) Answer(from netip.Addr, b []byte) ([]byte, Verdict) {
	ack, v := r.answer(from.Unmap(), b)
	r.counts[v].Add(1)
	return ack, v
}

func (r *Responder) answer(from netip.Addr, b []byte) ([]byte, Verdict) {
	m, err := wire.ParseMesh(b)
	if err != nil {
		return nil, Malformed
	}
	if m.Kind != wire.MeshProbe {
		return nil, NotProbe
	}
	if r.IsPeer == nil || !r.IsPeer(from) {
		return nil, NotPeer
	}
	if r.Key != nil && !wire.VerifyMeshMAC(b, r.Key) {
		return nil, BadMAC
	}
	if !r.allow(from) {
		return nil, RateLimited
	}
	ack := wire.MarshalMeshAck(m, len(b), r.Key)
	if m.Shape != nil {
		ack = r.shaped(from, m, len(b))
	}
	if len(ack) > len(b) {
		// Cannot happen for a probe ParseMesh accepted (an unkeyed probe
		// is at least the unkeyed header; a keyed responder answers only
		// keyed probes), but the promise is kept here, not inferred.
		return nil, Malformed
	}
	return ack, Answered
}

func (r *Responder) allow(from netip.Addr) bool {
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.limiters[from]
	if l == nil {
		if r.limiters == nil {
			r.limiters = map[netip.Addr]*rate.Limiter{}
		}
		lim, burst := r.Rate, r.Burst
		if lim == 0 {
			lim = DefaultRespondRate
		}
		if burst == 0 {
			burst = DefaultRespondBurst
		}
		l = rate.NewLimiter(lim, burst)
		r.limiters[from] = l
	}
	return l.AllowN(now, 1)
}

// Prune forgets the budgets of sources no longer in the peer set, so that
// the Responder's memory follows the peer set.
func (r *Responder) Prune() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for a := range r.limiters {
		if r.IsPeer == nil || !r.IsPeer(a) {
			delete(r.limiters, a)
		}
	}
}

// Count returns how many datagrams got verdict v so far.
func (r *Responder) Count(v Verdict) uint64 {
	if v < 0 || v >= numVerdicts {
		return 0
	}
	return r.counts[v].Load()
}

// shaped builds the shaped acknowledgement a probe of n bytes (UDP
// payload) from from asked for (pmtu check's return direction of IPv6
// extension headers): an IP packet of the size asked, header included,
// but never a larger one than the probe's, and never smaller than a
// shaped acknowledgement can be. The socket attaches the header
// (transport.MeshSocket); if it may not, it sends the acknowledgement
// without, saying so (wire.WithoutHeader).
func (r *Responder) shaped(from netip.Addr, m wire.MeshMessage, n int) []byte {
	sh := wire.MeshShape{Header: m.Shape.Header, Status: wire.MeshShapeSent}
	if sh.Header != wire.MeshNoHeader && !from.Is6() {
		sh.Status = wire.MeshShapeNotIPv6
	}
	over := mtu.IPHeader(from.Is6()) + mtu.UDPHeader // the ack's IP packet, less its UDP payload
	least := wire.MeshLen(r.Key != nil) + wire.MeshShapeLen
	hdr := 0
	if sh.Status == wire.MeshShapeSent {
		hdr = sh.Header.Len()
	}
	if least+hdr > n {
		sh.Status, hdr = wire.MeshShapeTooSmall, 0
	}
	// The UDP payload: what makes the size asked, within [least, n-hdr].
	size := min(max(int(m.Shape.Size)-over-hdr, least), n-hdr)
	sh.Size = uint16(over + hdr + size)
	ack, err := wire.MarshalMeshShapedAck(m, n, sh, size, r.Key)
	if err != nil {
		return nil
	}
	return ack
}
