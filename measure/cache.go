package measure

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/netns"
	"github.com/pmtu/pmtu/pmtucache"
	"github.com/pmtu/pmtu/probe"
)

// cacheQuery is what a search asks the cache.
type cacheQuery struct {
	q     pmtucache.Query
	inode uint64 // the probing namespace's inode number, for cache list
	err   error  // why the cache cannot answer this target, for the log
}

// newCacheQuery names the question a search toward t asks: its key (the
// probing namespace's identity, from ident, the source, the probe
// protocol and port), the search's bounds, and the world as it is now
// (the egress interface and the kernel's path MTU exception, from
// t.Route). A namespace without a readable identity gets no cache: an
// answer could not be told from another namespace's.
func newCacheQuery(o *probe.Options, t *probe.Target, now time.Time, ident func() (pmtucache.Network, uint64, error)) cacheQuery {
	proto := cmp.Or(o.Proto, probe.ProtoICMP)
	port := 0
	if proto != probe.ProtoICMP {
		port = cmp.Or(o.Port, proto.DefaultPort())
	}
	cq := cacheQuery{q: pmtucache.Query{
		Key:     pmtucache.Key{Dst: t.Addr, Src: t.Route.Src, Proto: string(proto), Port: port},
		Floor:   int(cmp.Or(o.MinSize, mtu.Floor(t.Addr.Is6()))),
		Ceil:    int(t.Ceil()),
		IfIndex: t.Route.IfIndex,
		IfMTU:   int(t.Route.IfMTU),
		Kernel:  pmtucache.ExceptionOf(t.Route, now),
	}}
	if o.Flow != 0 {
		// An answer holds for its flow's ECMP branch; the cache keys
		// answers by host and port, for any flow.
		cq.err = fmt.Errorf("--flow %d: the answer is one flow's, and the cache holds answers for any flow", o.Flow)
		return cq
	}
	cq.q.Net, cq.inode, cq.err = ident()
	return cq
}

// ProbingNetwork is the identity of the namespace ns ("" this one), read
// inside it: what keys the cache's answers.
func ProbingNetwork(ns string) (n pmtucache.Network, inode uint64, err error) {
	read := func() error {
		var err error
		n, inode, err = pmtucache.CurrentNetwork()
		return err
	}
	if ns == "" {
		err = read()
	} else {
		err = netns.Do(ns, read)
	}
	return n, inode, err
}

// StoreAt is the cache file at path, or the default one where path is
// "", on the clock now (nil: time.Now).
func StoreAt(path string, now func() time.Time) (*pmtucache.Store, error) {
	if path == "" {
		var err error
		if path, err = pmtucache.DefaultPath(); err != nil {
			return nil, err
		}
	}
	return &pmtucache.Store{Path: path, Clock: now}, nil
}

// kernelNow is the kernel's path MTU exception toward t now: the twin an
// ICMP-learned entry keeps. The zero Exception if there is none or it
// cannot be read.
func kernelNow(ctx context.Context, t *probe.Target, now time.Time) pmtucache.Exception {
	r, err := t.RouteNow(ctx)
	if err != nil {
		return pmtucache.Exception{}
	}
	return pmtucache.ExceptionOf(r, now)
}

// missText says, for the log, why the cache gave no answer: "nothing
// cached", or the entry it judged and why it was not used.
func missText(e pmtucache.Entry, err error, now time.Time) string {
	if e.PMTU == 0 {
		return err.Error()
	}
	return fmt.Sprintf("not using the entry %d (%s, learned %v ago): %v", e.PMTU, e.Evidence, now.Sub(e.Learned).Truncate(time.Second), err)
}

// cacheable reports whether an answer found with method belongs in the
// cache under the protocol asked for (asked, "icmp" when not chosen): not
// one a fallback found, since a run asking that protocol would get an
// answer its probes never earned.
func cacheable(method probe.Method, asked probe.Proto) bool {
	if asked == "" {
		asked = probe.ProtoICMP
	}
	return method.Proto() == asked
}
