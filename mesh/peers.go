package mesh

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// SpecKind is where a peer set comes from.
type SpecKind int

// Spec kinds.
const (
	SpecDNS  SpecKind = iota + 1 // dns:NAME: every A and AAAA record of NAME
	SpecFile                     // file:PATH: one address a line
	SpecList                     // a comma list of addresses and names
)

// Spec is a parsed --peers value.
type Spec struct {
	Kind SpecKind
	// Name is SpecDNS's name, Path SpecFile's file, Items SpecList's
	// entries (addresses or names).
	Name  string
	Path  string
	Items []string
}

// ErrSpec is wrapped by every error of ParseSpec.
var ErrSpec = errors.New("bad peer spec")

// ParseSpec reads a --peers value: dns:NAME, file:PATH, or a comma list
// of addresses and names.
func ParseSpec(s string) (Spec, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return Spec{}, fmt.Errorf("%w: empty (want dns:NAME, file:PATH or ADDR,ADDR,...)", ErrSpec)
	case strings.HasPrefix(s, "dns:"):
		name := strings.TrimSuffix(strings.TrimPrefix(s, "dns:"), ".")
		if !validName(name) {
			return Spec{}, fmt.Errorf("%w: dns:%q is not a DNS name", ErrSpec, name)
		}
		return Spec{Kind: SpecDNS, Name: name}, nil
	case strings.HasPrefix(s, "file:"):
		p := strings.TrimPrefix(s, "file:")
		if p == "" {
			return Spec{}, fmt.Errorf("%w: file: needs a path", ErrSpec)
		}
		return Spec{Kind: SpecFile, Path: p}, nil
	}
	var items []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if _, err := netip.ParseAddr(f); err != nil && !validName(f) {
			return Spec{}, fmt.Errorf("%w: %q is neither an address nor a name", ErrSpec, f)
		}
		items = append(items, f)
	}
	if len(items) == 0 {
		return Spec{}, fmt.Errorf("%w: %q lists no peer", ErrSpec, s)
	}
	return Spec{Kind: SpecList, Items: items}, nil
}

func (s Spec) String() string {
	switch s.Kind {
	case SpecDNS:
		return "dns:" + s.Name
	case SpecFile:
		return "file:" + s.Path
	}
	return strings.Join(s.Items, ",")
}

// validName: letters, digits, hyphens, underscores and dots, 1 to 253
// bytes, no empty label.
func validName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if l == "" || len(l) > 63 {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// ParsePeerFile reads a file:PATH peer list: one address a line; blank
// lines and # comments are skipped. An error names the first bad line.
func ParsePeerFile(b []byte) ([]netip.Addr, error) {
	var out []netip.Addr
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		a, err := netip.ParseAddr(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %q is not an address", n, line)
		}
		out = append(out, a.Unmap())
	}
	return out, sc.Err()
}

// Resolver looks up a name's addresses (net.Resolver.LookupNetIP with
// network "ip" is one).
type Resolver func(ctx context.Context, host string) ([]netip.Addr, error)

// PeerSet is the current set of peers: what the Spec names, less this
// host's own addresses. Refresh it every interval. It is safe for
// concurrent use.
type PeerSet struct {
	spec    Spec
	resolve Resolver
	isLocal func(netip.Addr) bool
	family  func(netip.Addr) bool
	read    func(string) ([]byte, error)
	stat    func(string) (time.Time, error)

	mu    sync.RWMutex
	addrs []netip.Addr // sorted
	set   map[netip.Addr]bool
	self  []netip.Addr // own addresses the spec named
	mtime time.Time    // SpecFile: the file's modification time when read last
}

// NewPeerSet returns an empty PeerSet for spec: resolve looks up names,
// isLocal says which addresses are this host's (left out), and family,
// if set, which addresses can be probed (others are left out too).
func NewPeerSet(spec Spec, resolve Resolver, isLocal, family func(netip.Addr) bool) *PeerSet {
	return &PeerSet{spec: spec, resolve: resolve, isLocal: isLocal, family: family, read: os.ReadFile,
		stat: func(p string) (time.Time, error) {
			fi, err := os.Stat(p)
			if err != nil {
				return time.Time{}, err
			}
			return fi.ModTime(), nil
		}}
}

// Refresh resolves the spec again and returns the peers that came and
// went. On an error the set is kept as it was: a failed lookup is no
// reason to forget every peer.
func (p *PeerSet) Refresh(ctx context.Context) (added, removed []netip.Addr, err error) {
	all, err := p.lookup(ctx)
	if err != nil {
		return nil, nil, err
	}
	set := map[netip.Addr]bool{}
	var self []netip.Addr
	for _, a := range all {
		a = a.Unmap()
		if !a.IsValid() || set[a] {
			continue
		}
		if p.isLocal != nil && p.isLocal(a) {
			if !slices.Contains(self, a) {
				self = append(self, a)
			}
			continue
		}
		if p.family != nil && !p.family(a) {
			continue
		}
		set[a] = true
	}
	addrs := make([]netip.Addr, 0, len(set))
	for a := range set {
		addrs = append(addrs, a)
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	p.mu.Lock()
	for _, a := range addrs {
		if !p.set[a] {
			added = append(added, a)
		}
	}
	for _, a := range p.addrs {
		if !set[a] {
			removed = append(removed, a)
		}
	}
	p.addrs, p.set, p.self = addrs, set, self
	p.mu.Unlock()
	return added, removed, nil
}

func (p *PeerSet) lookup(ctx context.Context) ([]netip.Addr, error) {
	switch p.spec.Kind {
	case SpecDNS:
		if p.resolve == nil {
			return nil, errors.New("no resolver")
		}
		addrs, err := p.resolve(ctx, p.spec.Name)
		if err != nil {
			return nil, fmt.Errorf("looking up %s: %w", p.spec.Name, err)
		}
		return addrs, nil
	case SpecFile:
		mtime, err := p.stat(p.spec.Path)
		if err != nil {
			return nil, fmt.Errorf("peer file: %w", err)
		}
		b, err := p.read(p.spec.Path)
		if err != nil {
			return nil, fmt.Errorf("peer file: %w", err)
		}
		addrs, err := ParsePeerFile(b)
		if err != nil {
			return nil, fmt.Errorf("peer file %s: %w", p.spec.Path, err)
		}
		p.mu.Lock()
		p.mtime = mtime
		p.mu.Unlock()
		return addrs, nil
	}
	var out []netip.Addr
	for _, it := range p.spec.Items {
		if a, err := netip.ParseAddr(it); err == nil {
			out = append(out, a)
			continue
		}
		if p.resolve == nil {
			return nil, errors.New("no resolver")
		}
		addrs, err := p.resolve(ctx, it)
		if err != nil {
			return nil, fmt.Errorf("looking up %s: %w", it, err)
		}
		out = append(out, addrs...)
	}
	return out, nil
}

// FileChanged reports whether a file: spec's file changed since it was
// read last (by modification time); false for other specs.
func (p *PeerSet) FileChanged() bool {
	if p.spec.Kind != SpecFile {
		return false
	}
	mtime, err := p.stat(p.spec.Path)
	if err != nil {
		return false
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	return !mtime.Equal(p.mtime)
}

// Addrs returns the peers, sorted.
func (p *PeerSet) Addrs() []netip.Addr {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return slices.Clone(p.addrs)
}

// Contains reports whether a is a peer.
func (p *PeerSet) Contains(a netip.Addr) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.set[a.Unmap()]
}

// Self returns the addresses of this host that the spec named: how the
// peers know it.
func (p *PeerSet) Self() []netip.Addr {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return slices.Clone(p.self)
}
