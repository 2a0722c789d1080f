package measure

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/pmtu/pmtu/pmtucache"
	"github.com/pmtu/pmtu/probe"
)

// Options says how to measure. The zero value (or nil) probes as
// probe.Options' zero value does, asks the default cache file first and
// stores what it proves there.
type Options struct {
	// Probe says how to probe: protocol, sizes, waits, namespace, and,
	// in tests, the world probed (Probe.Net). Its Proto "" is ICMP with
	// the fallbacks.
	Probe probe.Options
	// Cache is where answers are kept; nil is the default file
	// ($XDG_CACHE_HOME/pmtu/cache.json). NoCache probes even when it has
	// a fresh answer (and still stores the new one); Fresh neither reads
	// nor writes it (what pmtu watch and pmtu serve measure).
	Cache   *pmtucache.Store
	NoCache bool
	Fresh   bool
	// Now is the clock of the cache; nil is time.Now.
	Now func() time.Time
	// Notes, if set, is told what the user should know and may act on:
	// a mapped address probed as IPv4, a path that never leaves the
	// host, a cache file that could not be read.
	Notes func(line string)
	// Log, if set, is told how the cache and the sockets went, for -v.
	Log func(line string)
	// Exe is the program named in advice to grant raw sockets; "" is
	// this executable.
	Exe string
}

// Host measures the path MTU to host as `pmtu HOST` does: resolve and
// route, the cache under its trust rules, the search with its fallbacks,
// the diagnosis of a failure, and the cache store. o may be nil.
//
// The Report is nil only when the host could not be looked up (an
// *Error of Kind BadInput, or Stopped when ctx ended the lookup). On any
// other error the Report says what was
// proved and, in Report.Error, why there is no answer; the error is an
// *Error (see KindOf).
func Host(ctx context.Context, host string, o *Options) (*Report, error) {
	s := NewSession(o)
	defer s.Close()
	rep, err := s.Host(ctx, host)
	s.Save(ctx)
	return rep, err
}

// Session measures many hosts with one cache read and one cache write,
// and whatever the options share: one probe.Engine (Options.Probe.Engine)
// and one packet budget (Options.Probe.Pace). It is safe for concurrent
// use: pmtu's many-host runs call Host from many goroutines.
type Session struct {
	o Options

	loadOnce sync.Once
	store    *pmtucache.Store // nil: no cache
	cache    *pmtucache.Cache // nil: not read (NoCache, or no file)

	identOnce sync.Once
	ident     pmtucache.Network
	inode     uint64
	identErr  error

	mu      sync.Mutex
	learned []pmtucache.Entry
}

// NewSession returns a Session measuring with o (nil: the defaults).
func NewSession(o *Options) *Session {
	s := &Session{}
	if o != nil {
		s.o = *o
	}
	if s.o.Now == nil {
		s.o.Now = time.Now
	}
	return s
}

// Close releases nothing today; it is there so a Session can come to own
// sockets without its callers changing.
func (s *Session) Close() {}

func (s *Session) note(format string, args ...any) {
	if s.o.Notes != nil {
		s.o.Notes(fmt.Sprintf(format, args...))
	}
}

func (s *Session) log(format string, args ...any) {
	if s.o.Log != nil {
		s.o.Log(fmt.Sprintf(format, args...))
	}
}

// load reads the cache file once, for every target of the Session.
func (s *Session) load(ctx context.Context) {
	s.loadOnce.Do(func() {
		if s.o.Fresh {
			return
		}
		s.store = s.o.Cache
		if s.store == nil {
			var err error
			if s.store, err = StoreAt("", s.o.Now); err != nil {
				s.log("cache: not used: %v", err)
				return
			}
		}
		if s.o.NoCache {
			return
		}
		c, warn := s.store.Load(ctx)
		if warn != nil {
			s.note("warning: %v", warn)
		}
		s.cache = c
	})
}

// network is the probing namespace's identity, read once.
func (s *Session) network() (pmtucache.Network, uint64, error) {
	s.identOnce.Do(func() { s.ident, s.inode, s.identErr = ProbingNetwork(s.o.Probe.Netns) })
	return s.ident, s.inode, s.identErr
}

// Host measures one host (see the package function Host); what it
// proves is kept for Save.
func (s *Session) Host(ctx context.Context, host string) (*Report, error) {
	po := s.o.Probe
	t, err := Lookup(ctx, host, &po)
	if t == nil {
		if ctx.Err() != nil {
			// A lookup cut short (Ctrl-C, a deadline) says nothing of
			// the host.
			return nil, &Error{Kind: Stopped, Msg: "stopped before the search ended: " + Bounds(nil), Err: ctx.Err()}
		}
		return nil, err
	}
	rep := newReport(host, t)
	rep.target = t
	if t.Note != "" {
		s.note("note: %s", t.Note)
	}
	if err != nil {
		rep.Error = err.Error()
		return rep, err
	}
	rep.Interface, rep.InterfaceMTU = t.Route.IfName, int(t.Route.IfMTU)
	ceil := t.Ceil()

	s.load(ctx)
	var cq cacheQuery
	if s.store != nil {
		cq = newCacheQuery(&po, t, s.o.Now(), s.network)
		if cq.err != nil {
			s.log("cache: not used: %v", cq.err)
		}
	}
	if s.cache != nil && cq.err == nil {
		e, err := s.cache.Answer(cq.q)
		if err == nil {
			rep.fromCache(e, s.o.Now())
			return rep, nil
		}
		s.log("cache: %s", missText(e, err, s.o.Now()))
	}

	res, derr := t.Find(ctx)
	if res == nil {
		s.log("opening the prober failed: %v", derr)
		if isStop(derr) {
			rep.Error = "stopped before the search ended: " + Bounds(nil)
			return rep, &Error{Kind: Stopped, Msg: rep.Error, Err: derr}
		}
		oe := OpenError(po.Proto, t.Addr, &po, s.o.Exe, derr)
		rep.Error = oe.Msg
		return rep, oe
	}
	rep.FromFind(res, ceil)
	if derr == nil {
		rep.LossHint = lossHint(ctx, t, res, host)
	}
	if derr != nil {
		if !rep.BelowFloor(derr, po.MinSize, &res.Result) {
			rep.ExplainFailure(derr, host, &res.Result)
		}
		kind := NoAnswer
		if isStop(derr) {
			kind = Stopped
		}
		return rep, &Error{Kind: kind, Msg: rep.Error, Err: derr}
	}
	if s.store != nil && cq.err == nil && rep.Confirmed && cacheable(res.Method, po.Proto) {
		e := rep.cacheEntry(cq.q, cq.inode, kernelNow(ctx, t, s.o.Now()))
		s.mu.Lock()
		s.learned = append(s.learned, e)
		s.mu.Unlock()
	}
	return rep, nil
}

// Save writes what the Session learned in one transaction: one lock, one
// read of the file as it is now (other processes may have written it
// since), one atomic write. It runs after a cancel too, and says in
// Notes what could not be cached.
func (s *Session) Save(ctx context.Context) {
	s.mu.Lock()
	learned := s.learned
	s.learned = nil
	s.mu.Unlock()
	if s.store == nil || len(learned) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*pmtucache.DefaultLockWait)
	defer cancel()
	err := s.store.Update(ctx, func(c *pmtucache.Cache) error {
		for _, e := range learned {
			r, err := c.Measured(e)
			if err != nil {
				return err
			}
			s.log("cache: %s (%s)", r.Action, r.Reason)
		}
		return nil
	})
	if err != nil {
		s.note("warning: the answer was not cached: %v", err)
	}
}

// Lookup resolves host and reads the kernel's route to it
// (probe.Lookup), its failures said in words: an *Error of Kind BadInput
// and no Target for a host or option at fault, or of Kind NoAnswer with
// the Target when there is no route to it.
func Lookup(ctx context.Context, host string, o *probe.Options) (*probe.Target, error) {
	t, err := probe.Lookup(ctx, host, o)
	switch {
	case err == nil:
		return t, nil
	case errors.Is(err, probe.ErrNoRoute) && t != nil:
		re := &routeError{Dst: t.Addr, Netns: o.Netns, Err: err}
		return t, &Error{Kind: NoAnswer, Msg: re.Error(), Err: re}
	}
	return nil, lookupError(err)
}

func exePath() string {
	p, err := os.Executable()
	if err != nil {
		return "pmtu"
	}
	return p
}
