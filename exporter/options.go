package exporter

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Size bounds of a probe, in IP bytes (whole packets, headers included).
const (
	minSize = 68    // the IPv4 minimum MTU (RFC 791)
	maxSize = 65535 // the largest IP packet
)

// MaxTimeout bounds the timeout parameter: one probe's wait.
const MaxTimeout = time.Minute

// Options are what a Prober needs for one search. The zero value asks for
// the defaults: ICMP, either family, sizes from the family floor to the
// egress interface MTU, the prober's tries and timeout.
type Options struct {
	Proto   string        // "icmp", "udp" or "tcp"; "" is icmp
	Port    int           // destination port of udp and tcp probes; 0 is the protocol's default
	Family  string        // "ip4", "ip6", or "" for either
	MaxSize int           // largest probe in IP bytes; 0 is the egress interface MTU
	MinSize int           // smallest probe in IP bytes; 0 is the family's floor
	Tries   int           // unanswered probes before a size counts as too big; 0 is the default
	Timeout time.Duration // how long one probe waits; 0 is the default
	Trace   bool          // also walk the hops and report each hop's path MTU
	// Checks runs pmtu check's checks after the search (package check):
	// one gauge per finding. Port is then the port of its SYNs.
	Checks  bool
	Profile bool // also measure the loss by packet size up to the path MTU (pmtu profile)
}

// CheckModule is the module name that runs pmtu check's checks when the
// configuration defines no module of that name.
const CheckModule = "check"

// ParamError is a bad request parameter (or module setting): which one,
// and why. Its Error is the one line a 400 answer carries.
type ParamError struct {
	Param string
	Value string
	Why   string
}

func (e *ParamError) Error() string {
	return fmt.Sprintf("parameter %s=%q: %s", e.Param, e.Value, e.Why)
}

// Request is a /probe request, parsed: the target, the search's options,
// and what the caller asked of the answer.
type Request struct {
	Target string
	Module string
	Options
	Debug bool
	// MaxAge, when positive, lets a result at most this old answer
	// (the cache parameter); 0 measures afresh.
	MaxAge time.Duration
}

// params are the /probe parameters, in the order the help lists them.
var params = []string{"target", "module", "proto", "port", "family", "max_size", "min_size", "tries", "timeout", "trace", "profile", "debug", "cache"}

// ParseRequest reads a /probe query. Each option starts from the named
// module's (modules may be nil), and a parameter given overrides it. It
// returns a *ParamError for the first bad, repeated or unknown parameter,
// checking them in a fixed order so the answer does not depend on map
// order.
func ParseRequest(q url.Values, modules map[string]Options) (Request, error) {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(params, k) {
			return Request{}, &ParamError{Param: k, Value: q.Get(k), Why: "unknown parameter (want one of " + strings.Join(params, ", ") + ")"}
		}
		if len(q[k]) > 1 {
			return Request{}, &ParamError{Param: k, Value: strings.Join(q[k], ","), Why: "given more than once"}
		}
	}
	var r Request
	r.Target = strings.TrimSpace(q.Get("target"))
	switch {
	case !q.Has("target") || r.Target == "":
		return r, &ParamError{Param: "target", Value: r.Target, Why: "which host? give target=HOST"}
	case len(r.Target) > 255 || strings.ContainsAny(r.Target, " /\\\t\r\n"):
		return r, &ParamError{Param: "target", Value: r.Target, Why: "not a host name or an IP address"}
	}
	if q.Has("module") {
		r.Module = q.Get("module")
		m, ok := modules[r.Module]
		if !ok && r.Module == CheckModule {
			m, ok = Options{Checks: true}, true
		}
		if !ok {
			names := make([]string, 0, len(modules))
			for n := range modules {
				names = append(names, n)
			}
			slices.Sort(names)
			why := "no such module in --config"
			if len(names) > 0 {
				why += " (have " + strings.Join(names, ", ") + ")"
			}
			return r, &ParamError{Param: "module", Value: r.Module, Why: why}
		}
		r.Options = m
	}
	if err := r.Options.set(q); err != nil {
		return r, err
	}
	var err error
	if r.Debug, err = parseBool(q, "debug", false); err != nil {
		return r, err
	}
	if q.Has("cache") {
		v := q.Get("cache")
		d, perr := time.ParseDuration(v)
		if perr != nil || d < 0 || d > 24*time.Hour {
			return r, &ParamError{Param: "cache", Value: v, Why: "want a duration from 0s to 24h, e.g. 5m"}
		}
		r.MaxAge = d
	}
	return r, r.Options.Check()
}

// set overrides o with the option parameters present in q.
func (o *Options) set(q url.Values) error {
	if q.Has("proto") {
		o.Proto = strings.ToLower(q.Get("proto"))
	}
	if q.Has("family") {
		o.Family = strings.ToLower(q.Get("family"))
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"port", &o.Port}, {"max_size", &o.MaxSize}, {"min_size", &o.MinSize}, {"tries", &o.Tries}} {
		if !q.Has(p.name) {
			continue
		}
		v := q.Get(p.name)
		n, err := strconv.Atoi(v)
		if err != nil {
			return &ParamError{Param: p.name, Value: v, Why: "not a whole number"}
		}
		if n == 0 {
			return &ParamError{Param: p.name, Value: v, Why: "0 is not a value; leave the parameter out for the default"}
		}
		*p.dst = n
	}
	if q.Has("timeout") {
		v := q.Get("timeout")
		d, err := time.ParseDuration(v)
		if err != nil {
			return &ParamError{Param: "timeout", Value: v, Why: "not a duration (e.g. 500ms, 1s)"}
		}
		if d <= 0 {
			return &ParamError{Param: "timeout", Value: v, Why: "want a positive duration up to 1m"}
		}
		o.Timeout = d
	}
	var err error
	if o.Trace, err = parseBool(q, "trace", o.Trace); err != nil {
		return err
	}
	o.Profile, err = parseBool(q, "profile", o.Profile)
	return err
}

// Check says whether the options make sense, naming the first that does
// not as a *ParamError.
func (o Options) Check() error {
	switch o.Proto {
	case "", "icmp", "udp", "tcp", "quic":
	default:
		return &ParamError{Param: "proto", Value: o.Proto, Why: "want icmp, udp, tcp or quic"}
	}
	switch o.Family {
	case "", "ip4", "ip6":
	default:
		return &ParamError{Param: "family", Value: o.Family, Why: "want ip4 or ip6"}
	}
	if o.Port != 0 && !o.Checks {
		if o.Proto == "" || o.Proto == "icmp" {
			return &ParamError{Param: "port", Value: strconv.Itoa(o.Port), Why: "only for proto udp, tcp and quic; ICMP has no ports"}
		}
		if o.Port < 1 || o.Port > 65535 {
			return &ParamError{Param: "port", Value: strconv.Itoa(o.Port), Why: "outside 1-65535"}
		}
	}
	for _, s := range []struct {
		name string
		v    int
	}{{"max_size", o.MaxSize}, {"min_size", o.MinSize}} {
		if s.v != 0 && (s.v < minSize || s.v > maxSize) {
			return &ParamError{Param: s.name, Value: strconv.Itoa(s.v), Why: "outside 68-65535 (sizes are whole IP packets)"}
		}
	}
	if o.MinSize != 0 && o.MaxSize != 0 && o.MinSize > o.MaxSize {
		return &ParamError{Param: "min_size", Value: strconv.Itoa(o.MinSize), Why: fmt.Sprintf("above max_size %d", o.MaxSize)}
	}
	if o.Checks && (o.Port < 0 || o.Port > 65535) {
		return &ParamError{Param: "port", Value: strconv.Itoa(o.Port), Why: "outside 1-65535"}
	}
	if o.Tries != 0 && (o.Tries < 1 || o.Tries > 100) {
		return &ParamError{Param: "tries", Value: strconv.Itoa(o.Tries), Why: "outside 1-100"}
	}
	if o.Timeout < 0 || o.Timeout > MaxTimeout {
		return &ParamError{Param: "timeout", Value: o.Timeout.String(), Why: "want a positive duration up to 1m"}
	}
	return nil
}

// Query is o as /probe parameters, defaults left out; the inverse of
// ParseRequest's option parameters.
func (o Options) Query() url.Values {
	q := url.Values{}
	add := func(k, v string, set bool) {
		if set {
			q.Set(k, v)
		}
	}
	add("proto", o.Proto, o.Proto != "")
	add("port", strconv.Itoa(o.Port), o.Port != 0)
	add("family", o.Family, o.Family != "")
	add("max_size", strconv.Itoa(o.MaxSize), o.MaxSize != 0)
	add("min_size", strconv.Itoa(o.MinSize), o.MinSize != 0)
	add("tries", strconv.Itoa(o.Tries), o.Tries != 0)
	add("timeout", o.Timeout.String(), o.Timeout != 0)
	add("trace", "1", o.Trace)
	add("profile", "1", o.Profile)
	return q
}

func parseBool(q url.Values, name string, def bool) (bool, error) {
	if !q.Has(name) {
		return def, nil
	}
	v := q.Get(name)
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off", "":
		return false, nil
	}
	return false, &ParamError{Param: name, Value: v, Why: "want 1 or 0 (true or false)"}
}
