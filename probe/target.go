package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/pmtu/pmtu/mtu"
	"github.com/pmtu/pmtu/netns"
	probetarget "github.com/pmtu/pmtu/probe/target"
	"github.com/pmtu/pmtu/route"
)

// Target is a host resolved to one address, with the kernel's route to it
// as seen from where the probes leave (Options.Netns, Interface and
// Source applied). Lookup makes one; Find and Trace probe it.
type Target struct {
	// Host is the host as given; Addr the address probed.
	Host string
	Addr netip.Addr
	// Route is the kernel's route to Addr: the egress interface and its
	// MTU (the largest probe unless Options.MaxSize says otherwise) and
	// the source address probes leave from. With Options.Interface it is
	// that interface; with Options.Source that source.
	Route route.Route
	// NetnsID identifies the namespace of Options.Netns ("net:[INODE]");
	// "" without it.
	NetnsID string
	// Note is what the user should know about the address, "" if nothing:
	// an IPv4-mapped address probed as IPv4, or a path that never leaves
	// the host (probe/target).
	Note string

	opts  Options
	local func(netip.Addr) bool // an address of the probing namespace?
}

// InputError is a mistake in what was asked: a host that does not
// resolve or is not of the family asked for, a Source that is not this
// host's, an Interface that does not exist.
type InputError struct {
	// Option names the Options field at fault in lower case ("source",
	// "interface"); "" when the host is.
	Option string
	// Msg says what is wrong, in one sentence for the user.
	Msg string
}

func (e *InputError) Error() string {
	if e.Option == "" {
		return e.Msg
	}
	return e.Option + " " + e.Msg
}

func inputErrorf(option, format string, args ...any) error {
	return &InputError{Option: option, Msg: fmt.Sprintf(format, args...)}
}

// NetnsError is a failure to enter Options.Netns: missing, or no
// privilege (errors.Is netns.ErrPermission, os.ErrNotExist).
type NetnsError struct {
	Name string
	Err  error
}

func (e *NetnsError) Error() string { return fmt.Sprintf("network namespace %s: %v", e.Name, e.Err) }

// Unwrap returns the cause.
func (e *NetnsError) Unwrap() error { return e.Err }

// ErrNoRoute is wrapped by Lookup's error when the kernel has no route to
// the host: Lookup then still returns the Target, without a Route.
var ErrNoRoute = errors.New("no route")

// Lookup resolves host (a name or an address) to one address of
// o.Network and looks up the kernel's route to it, in o.Netns if set,
// pinned to o.Interface and o.Source. Names are resolved in this
// process's namespace, with its resolver. o may be nil.
//
// Errors: an *InputError for a mistake in host or o, a *NetnsError, or
// one wrapping ErrNoRoute (with the Target).
func Lookup(ctx context.Context, host string, o *Options) (*Target, error) {
	t := &Target{Host: host}
	if o != nil {
		t.opts = *o
	}
	o = &t.opts
	nw := o.world()
	// given is the address as written, zone and IPv4 mapping kept, for
	// probetarget.Check to judge once the route is known.
	given, err := nw.resolve(ctx, host, o.network())
	if err != nil {
		return nil, err
	}
	t.Addr = given.Unmap()
	src := o.Source.Unmap()
	if src.IsValid() && src.Is6() != t.Addr.Is6() {
		return nil, inputErrorf("source", "%s and %s are not of one family", src, t.Addr)
	}
	var errRoute error
	look := func() error {
		t.local = o.localAddrs(nw)
		if src.IsValid() && !t.local(src) {
			return inputErrorf("source", "%s is not an address of this host%s", src, inNetns(o.Netns))
		}
		var ifi *net.Interface
		if o.Interface != "" {
			var err error
			if ifi, err = nw.interfaceByName(o.Interface); err != nil {
				return inputErrorf("interface", "%s: no such interface%s", o.Interface, inNetns(o.Netns))
			}
		}
		t.Route, errRoute = nw.route(ctx, t.Addr)
		if err := t.classify(given); err != nil {
			return err
		}
		if errRoute != nil {
			errRoute = fmt.Errorf("%w to %s%s: %w", ErrNoRoute, t.Addr, inNetns(o.Netns), errRoute)
			return nil
		}
		if ifi != nil && ifi.Index != t.Route.IfIndex {
			// The probes leave where the caller said, not where the
			// table would send them: that interface's MTU bounds them.
			t.Route.IfIndex, t.Route.IfName, t.Route.IfMTU = ifi.Index, ifi.Name, mtu.Size(ifi.MTU)
			t.Route.Src = ifaceAddr(ifi, t.Addr.Is6())
		}
		if src.IsValid() {
			t.Route.Src = src
		}
		return nil
	}
	if o.Netns == "" {
		if err := look(); err != nil {
			return nil, err
		}
		return t, errRoute
	}
	if t.NetnsID, err = netns.ID(o.Netns); err == nil {
		err = netns.Do(o.Netns, look)
	}
	if err != nil {
		var ie *InputError
		if errors.As(err, &ie) {
			return nil, err
		}
		return nil, &NetnsError{Name: o.Netns, Err: err}
	}
	return t, errRoute
}

// classify refuses a target that has no path MTU (probetarget.Check),
// before any socket is opened, as an InputError, and sets the address to
// probe and its Note. given is the address as resolved, with its zone and
// IPv4 mapping; t.Route and t.local are what the lookup found.
func (t *Target) classify(given netip.Addr) error {
	eg := probetarget.Egress{
		Prefix:    t.Route.Prefix,
		Broadcast: t.Route.Type == route.Broadcast,
		Local:     t.Route.Type == route.Local || (t.local != nil && t.local(t.Addr)),
	}
	v, err := probetarget.Check(given, eg)
	if err != nil {
		return &InputError{Msg: err.Error()}
	}
	t.Addr, t.Note = v.Addr, v.Note
	return nil
}

// Ceil is the largest probe of a search toward t: Options.MaxSize, else
// the egress interface MTU (1500 when the route names none), at most
// 65535.
func (t *Target) Ceil() mtu.Size {
	c := t.opts.MaxSize
	if c == 0 {
		c = t.Route.IfMTU
	}
	if c == 0 {
		c = 1500
	}
	return min(c, mtu.Max)
}

// ifaceAddr is an address of ifi of the family, a global one if it has
// one; invalid if none.
func ifaceAddr(ifi *net.Interface, v6 bool) netip.Addr {
	addrs, _ := ifi.Addrs()
	var best netip.Addr
	for _, a := range addrs {
		p, err := netip.ParsePrefix(a.String())
		if err != nil || p.Addr().Unmap().Is6() != v6 {
			continue
		}
		if ip := p.Addr().Unmap(); !best.IsValid() || (ip.IsGlobalUnicast() && !best.IsGlobalUnicast()) {
			best = ip
		}
	}
	return best
}

func inNetns(name string) string {
	if name == "" {
		return ""
	}
	return " in network namespace " + name
}

// resolve turns host into one address of network ("ip", "ip4", "ip6"). A
// literal address is returned as written, with its zone and IPv4 mapping,
// for classify to judge.
func resolve(ctx context.Context, host, network string) (netip.Addr, error) {
	return resolveWith(ctx, net.DefaultResolver.LookupNetIP, host, network)
}

// resolveWith is resolve with lookup for the resolver.
func resolveWith(ctx context.Context, lookup func(ctx context.Context, network, host string) ([]netip.Addr, error), host, network string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		if u := a.Unmap(); (network == "ip4" && !u.Is4()) || (network == "ip6" && !u.Is6()) {
			return netip.Addr{}, inputErrorf("", "%s is not an %s address", host, map[string]string{"ip4": "IPv4", "ip6": "IPv6"}[network])
		}
		return a, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	addrs, err := lookup(ctx, network, host)
	if err != nil || len(addrs) == 0 {
		return netip.Addr{}, inputErrorf("", "cannot resolve %q: %s", host, ResolveWhy(err))
	}
	return addrs[0].Unmap(), nil
}

// ResolveWhy says in words why a name did not resolve: the name server's
// answer, or why no name server answered, never Go's dial string ("read
// udp 127.0.0.1:59038->127.0.0.1:53: read: connection refused").
func ResolveWhy(err error) string {
	var dnsErr *net.DNSError
	if err == nil || !errors.As(err, &dnsErr) || dnsErr.IsNotFound {
		return "no such host"
	}
	server := "the name server"
	if host, _, splitErr := net.SplitHostPort(dnsErr.Server); splitErr == nil && host != "" {
		server = "the name server " + host
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return server + " refused the query (nothing listens there; see /etc/resolv.conf)"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return server + " is unreachable from here (see /etc/resolv.conf and the routes)"
	case dnsErr.IsTimeout:
		return server + " did not answer in time"
	case dnsErr.Err == "server misbehaving":
		// Go's words for a SERVFAIL (or an answer it could not read).
		return server + " failed to answer the query (SERVFAIL); try again"
	}
	// A socket error the resolver kept only as text (Go's dial string):
	// its words are not for the user.
	return server + " did not answer (see /etc/resolv.conf); try again"
}

// localAddrs returns a function that says whether an address is this
// host's (in the calling thread's namespace), so the kernel's looped-back
// ICMP is not taken for a router's.
func localAddrs() func(netip.Addr) bool {
	set := map[netip.Addr]bool{}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil {
				set[p.Addr().Unmap()] = true
			}
		}
	}
	return func(a netip.Addr) bool { return a.IsLoopback() || set[a.Unmap()] }
}

// RouteNow reads the kernel's route toward t again, in Options.Netns:
// after a search it holds the path MTU exception the kernel learned from
// the same ICMP (what a cache entry keeps as its twin).
func (t *Target) RouteNow(ctx context.Context) (route.Route, error) {
	nw := t.opts.world()
	var r route.Route
	look := func() error {
		var err error
		r, err = nw.route(ctx, t.Addr)
		return err
	}
	if t.opts.Netns == "" {
		return r, look()
	}
	return r, netns.Do(t.opts.Netns, look)
}

// Options returns the options t was looked up with.
func (t *Target) Options() Options { return t.opts }
