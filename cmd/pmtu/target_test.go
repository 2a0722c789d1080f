package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// Every target that has no path MTU is refused at once, for pmtu HOST and
// pmtu trace HOST alike: exit 2 and one line saying why, in words, never
// the implementation's. (probe's TestLookupRefusesTargets shows that no
// prober opens, and covers the broadcast classes that need a route.)
// --interface lo keeps anything that did leave on this host.
func TestRefusedTargets(t *testing.T) {
	tests := []struct {
		name, host, want string
	}{
		{"IPv4 unspecified", "0.0.0.0", "pmtu: 0.0.0.0 is the unspecified address: it names no host, so it has no path MTU; give the address of the host to measure"},
		{"IPv6 unspecified", "::", "pmtu: :: is the unspecified address: it names no host, so it has no path MTU; give the address of the host to measure"},
		{"limited broadcast", "255.255.255.255", "pmtu: 255.255.255.255 is the limited broadcast address: it reaches every host on the link, so it has no single path MTU"},
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
				args := append(append([]string{}, cmd...), "--interface", "lo", "--timeout", "50ms", tt.host)
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
			})
		}
	}
}
