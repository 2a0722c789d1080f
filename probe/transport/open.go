package transport

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/pmtu/pmtu/probe/wire"
)

// ErrPermission is wrapped by the errors of the methods that need raw
// sockets (root or CAP_NET_RAW) when the process may not open them.
var ErrPermission = errors.New("raw sockets need root or CAP_NET_RAW")

// OpenConfig says where and how to open a method's sockets; nil means
// defaults.
type OpenConfig struct {
	// Src, if valid, is the source address: sockets are bound to it.
	// Invalid means the kernel's choice, learnt with a UDP connect (which
	// sends nothing). Quotes must name the source either way.
	Src netip.Addr
	// Interface, if set, binds every socket to that device
	// (SO_BINDTODEVICE).
	Interface string
	// Port is the destination port of UDP and TCP probes; 0 means the
	// protocol's DefaultPort.
	Port int
	// Flow pins the flow every probe of the conn belongs to (flow.go): the
	// source port of UDP and TCP probes, the Echo identifier of
	// MethodICMP's. 0 lets Open choose one (an ephemeral port, a random
	// identifier), which then stays the same for the conn's life.
	Flow uint16
	// Local reports whether an address is this host's (see ICMPConfig);
	// nil means loopback and the source.
	Local func(netip.Addr) bool
	// Enter runs fn where sockets must be created: in a network namespace
	// (netns.Do), both for the sockets made by Open and for those a method
	// makes per probe. Nil runs fn directly.
	Enter func(fn func() error) error
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Namespace names the namespace Enter enters ("" for this one): an
	// Engine shares a socket only between conns of one namespace.
	Namespace string
	// ServerName is the host name the user gave (its address when it
	// was given as one): TCP data probes name it in their TLS SNI and
	// HTTP Host header.
	ServerName string
	// Methods, if set, are the only methods Open may use, in the
	// protocol's order (Proto.Methods): the one the user named, or ICMP
	// Echo alone (icmp, ping-socket) where pmtu asks by Echo before its
	// fallbacks.
	Methods []Method
	// RouteSrc, if valid, is the source the kernel's route to the
	// destination names, already looked up: an Engine uses it instead
	// of asking again when Src is not set, and binds nothing to it.
	RouteSrc netip.Addr
}

func (cfg *OpenConfig) enter(fn func() error) error {
	if cfg.Enter == nil {
		return fn()
	}
	return cfg.Enter(fn)
}

func (cfg *OpenConfig) port(p Proto) int {
	if cfg.Port != 0 {
		return cfg.Port
	}
	return p.DefaultPort()
}

func (cfg *OpenConfig) now() func() time.Time {
	if cfg.Now != nil {
		return cfg.Now
	}
	return time.Now
}

func (cfg *OpenConfig) local(src netip.Addr) func(netip.Addr) bool {
	if cfg.Local != nil {
		return cfg.Local
	}
	return func(a netip.Addr) bool { return a.IsLoopback() || a == src }
}

// Open opens the first method of p this process may use toward dst
// (Proto.Methods gives the order): it moves on when a method's sockets
// are refused for lack of privilege (IsPermission) and stops at any other
// error. When no method may be used the error is a *NoMethodError.
func Open(p Proto, dst netip.Addr, cfg *OpenConfig) (wire.Conn, Method, error) {
	ms := p.Methods()
	if ms == nil {
		return nil, "", fmt.Errorf("unknown probe protocol %q (want one of %s)", p, joinProtos())
	}
	if cfg != nil && cfg.Methods != nil {
		ms = slices.DeleteFunc(slices.Clone(ms), func(m Method) bool { return !slices.Contains(cfg.Methods, m) })
		if len(ms) == 0 {
			return nil, "", fmt.Errorf("methods %v do not send %s probes", cfg.Methods, p)
		}
	}
	return choose(p, ms, func(m Method) (wire.Conn, error) { return OpenMethod(m, dst, cfg) })
}

// choose opens the first of ms that open allows.
func choose(p Proto, ms []Method, open func(Method) (wire.Conn, error)) (wire.Conn, Method, error) {
	nm := &NoMethodError{Proto: p}
	for _, m := range ms {
		c, err := open(m)
		if err == nil {
			return c, m, nil
		}
		if !IsPermission(err) {
			return nil, m, fmt.Errorf("%s probes: %w", m, err)
		}
		nm.Tried = append(nm.Tried, MethodError{Method: m, Err: err})
	}
	return nil, "", nm
}

// MethodError is why one method could not be opened.
type MethodError struct {
	Method Method
	Err    error
}

func (e MethodError) Error() string { return fmt.Sprintf("%s: %v", e.Method, e.Err) }

// NoMethodError says that no method of a protocol may be used here, and
// why each was refused.
type NoMethodError struct {
	Proto Proto
	Tried []MethodError
}

func (e *NoMethodError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "no way to send %s probes here", e.Proto)
	for i, t := range e.Tried {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(t.Error())
	}
	return b.String()
}

// Unwrap lets errors.Is see why each method was refused.
func (e *NoMethodError) Unwrap() []error {
	errs := make([]error, len(e.Tried))
	for i, t := range e.Tried {
		errs[i] = t.Err
	}
	return errs
}

// IsPermission reports whether err means the process lacks a privilege:
// ErrPermission, EPERM or EACCES.
func IsPermission(err error) bool {
	return errors.Is(err, ErrPermission) || errors.Is(err, os.ErrPermission) ||
		errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES)
}

func joinProtos() string {
	s := make([]string, len(Protos))
	for i, p := range Protos {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}

// newCookie returns 8 random bytes that mark a conn's probes.
func newCookie() [8]byte {
	var c [8]byte
	_, _ = rand.Read(c[:])
	return c
}
