package mesh

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseSpec(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Spec
		bad  bool
	}{
		{"dns:pmtu-mesh.monitoring.svc.cluster.local", Spec{Kind: SpecDNS, Name: "pmtu-mesh.monitoring.svc.cluster.local"}, false},
		{"dns:mesh.", Spec{Kind: SpecDNS, Name: "mesh"}, false},
		{"file:/etc/pmtu/peers", Spec{Kind: SpecFile, Path: "/etc/pmtu/peers"}, false},
		{"198.18.0.1, 198.18.0.2,2001:db8::1,node-3", Spec{Kind: SpecList, Items: []string{"198.18.0.1", "198.18.0.2", "2001:db8::1", "node-3"}}, false},
		{"", Spec{}, true},
		{"dns:", Spec{}, true},
		{"dns:a..b", Spec{}, true},
		{"file:", Spec{}, true},
		{",,", Spec{}, true},
		{"198.18.0.1,not an address", Spec{}, true},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSpec(tt.in)
			if tt.bad {
				if !errors.Is(err, ErrSpec) {
					t.Fatalf("ParseSpec(%q) = %+v, %v; want an ErrSpec", tt.in, got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParsePeerFile(t *testing.T) {
	got, err := ParsePeerFile([]byte("# nodes\n198.18.0.1\n\n  2001:db8::2  # node 2\n::ffff:198.18.0.3\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Addr{addr("198.18.0.1"), addr("2001:db8::2"), addr("198.18.0.3")}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(x, y netip.Addr) bool { return x == y })); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := ParsePeerFile([]byte("198.18.0.1\nnode-2\n")); err == nil || err.Error() != `line 2: "node-2" is not an address` {
		t.Errorf("bad line: %v", err)
	}
}

// TestPeerSetDNS: re-resolved on each Refresh through the injected
// resolver; own addresses and another family's are left out; a failed
// lookup keeps the set.
func TestPeerSetDNS(t *testing.T) {
	answer := []netip.Addr{addr("198.18.0.1"), addr("198.18.0.2"), addr("198.18.0.3"), addr("2001:db8::9")}
	var fail error
	resolve := func(_ context.Context, host string) ([]netip.Addr, error) {
		if host != "mesh.test" {
			t.Errorf("resolved %q", host)
		}
		return answer, fail
	}
	ps := NewPeerSet(Spec{Kind: SpecDNS, Name: "mesh.test"}, resolve,
		func(a netip.Addr) bool { return a == addr("198.18.0.1") }, netip.Addr.Is4)
	added, removed, err := ps.Refresh(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cmpAddrs(t, "added", []netip.Addr{addr("198.18.0.2"), addr("198.18.0.3")}, added)
	cmpAddrs(t, "removed", nil, removed)
	cmpAddrs(t, "self", []netip.Addr{addr("198.18.0.1")}, ps.Self())
	if !ps.Contains(addr("198.18.0.2")) || ps.Contains(addr("198.18.0.1")) || ps.Contains(addr("2001:db8::9")) {
		t.Error("Contains: wrong members")
	}
	answer = []netip.Addr{addr("198.18.0.1"), addr("198.18.0.3"), addr("198.18.0.4")}
	added, removed, _ = ps.Refresh(context.Background())
	cmpAddrs(t, "added", []netip.Addr{addr("198.18.0.4")}, added)
	cmpAddrs(t, "removed", []netip.Addr{addr("198.18.0.2")}, removed)
	fail = errors.New("SERVFAIL")
	if _, _, err := ps.Refresh(context.Background()); err == nil {
		t.Error("a failed lookup: no error")
	}
	cmpAddrs(t, "kept after the failure", []netip.Addr{addr("198.18.0.3"), addr("198.18.0.4")}, ps.Addrs())
}

// TestPeerSetFile: file: is re-read when it changes.
func TestPeerSetFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "peers")
	if err := os.WriteFile(path, []byte("198.18.0.1\n198.18.0.2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ps := NewPeerSet(Spec{Kind: SpecFile, Path: path}, nil, nil, nil)
	if _, _, err := ps.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ps.FileChanged() {
		t.Error("FileChanged right after a read")
	}
	if err := os.WriteFile(path, []byte("198.18.0.2\n198.18.0.7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	if !ps.FileChanged() {
		t.Fatal("FileChanged false after a write")
	}
	added, removed, err := ps.Refresh(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cmpAddrs(t, "added", []netip.Addr{addr("198.18.0.7")}, added)
	cmpAddrs(t, "removed", []netip.Addr{addr("198.18.0.1")}, removed)
}

func cmpAddrs(t *testing.T, what string, want, got []netip.Addr) {
	t.Helper()
	if diff := cmp.Diff(want, got, cmp.Comparer(func(x, y netip.Addr) bool { return x == y })); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}
