package probe

import (
	"os/exec"
	"strings"
	"testing"
)

// The layers import only downward: wire imports neither the sockets nor
// the search, the search does not import the sockets, and ecmp (merging
// what searches found) imports neither; probe does not import the
// workflow (measure), nor measure the commands; no binary or library
// links the fake network.
func TestLayers(t *testing.T) {
	const mod = "github.com/pmtu/pmtu/"
	tests := []struct {
		pkg       string
		forbidden []string
	}{
		{"probe/wire", []string{"probe/transport", "probe/search", "sockopt", "probe/ratelimit"}},
		{"probe/search", []string{"probe/transport", "sockopt", "netns", "route"}},
		{"probe/ratelimit", []string{"probe/wire", "probe/transport", "probe/search"}},
		{"probe/transport", []string{"probe/search"}},
		// ecmp is pure arithmetic over what searches found: no sockets.
		{"probe/ecmp", []string{"probe/transport", "probe/search", "sockopt", "netns", "route"}},
		{"mtu", []string{"probe", "probe/wire"}},
		// Gone from the top: the token bucket is golang.org/x/time/rate's,
		// ecmp is probe/ecmp.
		{"...", []string{"ratebudget", "ecmp"}},
		// The probe library knows nothing of the workflow above it, and
		// the workflow nothing of the command line or the exporter.
		{"probe", []string{"measure", "measure/fleet", "exporter", "pmtucache", "explain"}},
		{"measure", []string{"exporter", "internal/clidoc"}},
		// The many-host runner knows no sockets and no probes.
		{"measure/fleet", []string{"probe", "probe/transport", "sockopt"}},
		{"...", []string{"fleet"}},
		// The fakes are for tests: the binary, the workflow and the
		// exporter never link them.
		{"cmd/pmtu", []string{"internal/fakenet", "internal/probetest"}},
		{"exporter", []string{"internal/fakenet", "internal/probetest"}},
		{"mesh", []string{"internal/fakenet", "internal/probetest", "measure", "exporter"}},
		{"measure", []string{"internal/fakenet", "internal/probetest"}},
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", mod+tt.pkg).Output()
			if err != nil {
				t.Skipf("go list: %v", err)
			}
			deps := map[string]bool{}
			for _, d := range strings.Fields(string(out)) {
				deps[d] = true
			}
			for _, f := range tt.forbidden {
				if deps[mod+f] {
					t.Errorf("%s imports %s", tt.pkg, f)
				}
			}
		})
	}
}
