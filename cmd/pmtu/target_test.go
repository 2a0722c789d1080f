package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/route"
)

// countingConn is a prober on a path that carries every size: each probe
// is answered by the target. It counts what was sent.
type countingConn struct {
	dst     netip.Addr
	mu      sync.Mutex
	sent    *int
	answers []probe.Event
}

func (c *countingConn) Send(ctx context.Context, p probe.Probe) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	*c.sent++
	c.answers = append(c.answers, probe.Event{Kind: probe.Reached, Seq: p.Seq, From: c.dst, IPv6: c.dst.Is6(), At: time.Now(), Bytes: int(p.Size)})
	return nil
}

func (c *countingConn) Recv(deadline time.Time) (probe.Event, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.answers) == 0 {
		return probe.Event{}, os.ErrDeadlineExceeded
	}
	ev := c.answers[0]
	c.answers = c.answers[1:]
	return ev, nil
}

func (c *countingConn) Target() netip.Addr { return c.dst }
func (c *countingConn) Close() error       { return nil }

// fakeNetwork replaces the route lookup and the prober for one test: the
// route to every address leaves by "veth0" (MTU 1500) on 198.18.1.1/24 or
// 2001:db8:1::1/64, and every probe reaches the target. It returns the
// count of probers opened and probes sent.
func fakeNetwork(t *testing.T) (opened, sent *int) {
	t.Helper()
	opened, sent = new(int), new(int)
	oldRoute, oldOpen := routeGet, openProber
	t.Cleanup(func() { routeGet, openProber = oldRoute, oldOpen })
	routeGet = func(_ context.Context, dst netip.Addr) (route.Route, error) {
		r := route.Route{Dst: dst, IfIndex: 1, IfName: "veth0", IfMTU: 1500, Type: route.Unicast}
		u := dst.Unmap()
		switch {
		case u.IsLoopback():
			r.IfName, r.IfMTU, r.Type = "lo", 65536, route.Local
		case u.Is4() && netip.MustParsePrefix("198.18.1.0/24").Contains(u):
			r.Prefix = netip.MustParsePrefix("198.18.1.1/24")
		case u.Is6() && netip.MustParsePrefix("2001:db8:1::/64").Contains(u):
			r.Prefix = netip.MustParsePrefix("2001:db8:1::1/64")
		case u == netip.MustParseAddr("198.18.7.255"):
			// The prefix is unknown here but the kernel says broadcast.
			r.Type = route.Broadcast
		case u.Is4() && u.As4()[0] >= 224:
			return route.Route{}, errors.New("network is unreachable")
		}
		return r, nil
	}
	openProber = func(tg target) (probe.Conn, error) {
		*opened++
		return &countingConn{dst: tg.addr, sent: sent}, nil
	}
	return opened, sent
}

// Every target that has no path MTU is refused at once, for pmtu HOST and
// pmtu trace HOST alike: exit 2, one line saying why, and no probe.
func TestRefusedTargets(t *testing.T) {
	tests := []struct {
		name, host, want string
	}{
		{"IPv4 unspecified", "0.0.0.0", "pmtu: 0.0.0.0 is the unspecified address: it names no host, so it has no path MTU; give the address of the host to measure"},
		{"IPv6 unspecified", "::", "pmtu: :: is the unspecified address: it names no host, so it has no path MTU; give the address of the host to measure"},
		{"limited broadcast", "255.255.255.255", "pmtu: 255.255.255.255 is the limited broadcast address: it reaches every host on the link, so it has no single path MTU"},
		{"subnet broadcast", "198.18.1.255", "pmtu: 198.18.1.255 is the broadcast address of 198.18.1.0/24: it reaches every host on that subnet, so it has no single path MTU"},
		{"broadcast route", "198.18.7.255", "pmtu: 198.18.7.255 is a broadcast address: it reaches every host on its subnet, so it has no single path MTU"},
		{"mapped subnet broadcast", "::ffff:198.18.1.255", "pmtu: ::ffff:198.18.1.255 is the broadcast address of 198.18.1.0/24"},
		{"IPv4 multicast", "224.0.0.1", "pmtu: 224.0.0.1 is a multicast group: it has no single path MTU; give the unicast address of one member"},
		{"IPv6 multicast", "ff02::1", "pmtu: ff02::1 is a multicast group: it has no single path MTU; give the unicast address of one member"},
		{"IPv6 multicast in brackets", "[ff05::2]", "pmtu: ff05::2 is a multicast group"},
		{"link-local without zone", "fe80::1", "pmtu: fe80::1 is link-local: name the interface, e.g. fe80::1%eth0"},
		{"zone on a global IPv6 address", "2001:db8:2::2%lo", "pmtu: 2001:db8:2::2%lo has a zone (%lo), but only link-local addresses take one: give 2001:db8:2::2"},
	}
	for _, cmd := range [][]string{nil, {"trace"}} {
		for _, tt := range tests {
			name := strings.Join(append(cmd, tt.name), " ")
			t.Run(name, func(t *testing.T) {
				opened, sent := fakeNetwork(t)
				args := append(append([]string{}, cmd...), "--timeout", "50ms", tt.host)
				if cmd == nil {
					args = append([]string{"--cache-file", filepath.Join(t.TempDir(), "cache.json"), "--no-cache"}, args...)
				}
				out, errOut, code := runApp(t, args...)
				if code != exitUsage {
					t.Errorf("exit %d, want %d", code, exitUsage)
				}
				if out != "" {
					t.Errorf("stdout %q, want nothing", out)
				}
				lines := strings.Split(strings.TrimSpace(errOut), "\n")
				if len(lines) != 1 || !strings.HasPrefix(lines[0], tt.want) {
					t.Errorf("stderr %q, want one line starting %q", errOut, tt.want)
				}
				for _, internal := range []string{"dial ", ":9", "connect:", "route get", "socket"} {
					if strings.Contains(errOut, internal) {
						t.Errorf("stderr %q names the implementation (%q)", errOut, internal)
					}
				}
				if *opened != 0 || *sent != 0 {
					t.Errorf("%d probers opened, %d probes sent; want none", *opened, *sent)
				}
			})
		}
	}
}

// The addresses that stay working: a mapped address is probed as its IPv4
// address, loopback with a note, and the fake's counters do see probes.
func TestAcceptedTargets(t *testing.T) {
	tests := []struct {
		name, host, addr, note string
	}{
		{"IPv4-mapped", "::ffff:198.18.3.2", "198.18.3.2",
			"pmtu: note: ::ffff:198.18.3.2 is an IPv4-mapped IPv6 address: probing the IPv4 address 198.18.3.2\n"},
		{"IPv4 loopback", "127.0.0.1", "127.0.0.1", "pmtu: note: 127.0.0.1 is a loopback address: the path never leaves the host\n"},
		{"IPv6 loopback", "::1", "::1", "pmtu: note: ::1 is a loopback address: the path never leaves the host\n"},
		{"host on the subnet", "198.18.1.254", "198.18.1.254", ""},
		{"link-local with a zone", "fe80::1%veth0", "fe80::1%veth0", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opened, sent := fakeNetwork(t)
			out, errOut, code := runApp(t, "--cache-file", filepath.Join(t.TempDir(), "cache.json"), "--no-cache",
				"--json", "--max-size", "1500", tt.host)
			if code != exitOK {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if errOut != tt.note {
				t.Errorf("stderr %q, want %q", errOut, tt.note)
			}
			var got struct {
				Address string
				PMTU    int
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, out)
			}
			if got.Address != tt.addr || got.PMTU != 1500 {
				t.Errorf("address %s pmtu %d, want %s and 1500", got.Address, got.PMTU, tt.addr)
			}
			if *opened != 1 || *sent == 0 {
				t.Errorf("%d probers opened, %d probes sent; want 1 and some", *opened, *sent)
			}
		})
	}
}
