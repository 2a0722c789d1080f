package netns

import "testing"

func TestPath(t *testing.T) {
	for _, tt := range []struct{ name, want string }{
		{"ci", "/run/netns/ci"},
		{"pmtu-1-c", "/run/netns/pmtu-1-c"},
		{"/proc/1/ns/net", "/proc/1/ns/net"},
		{"./ns", "./ns"},
	} {
		if got := Path(tt.name); got != tt.want {
			t.Errorf("Path(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
