package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestResolve(t *testing.T) {
	vcs := []debug.BuildSetting{
		{Key: "-trimpath", Value: "true"},
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "572c538abcdef0123456789abcdef0123456789a"},
		{Key: "vcs.time", Value: "2026-11-27T04:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}
	tests := []struct {
		name    string
		bi      *debug.BuildInfo
		stamped Info
		want    Info
	}{
		{
			name: "no build info at all",
			want: Info{Version: "devel"},
		},
		{
			name: "go build in a checkout with -buildvcs=false",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/pmtu/pmtu", Version: "(devel)"}},
			want: Info{Version: "devel", GoVersion: "go1.26.8"},
		},
		{
			name: "go build in a dirty checkout",
			bi: &debug.BuildInfo{GoVersion: "go1.26.8",
				Main:     debug.Module{Version: "v0.0.0-20261127040000-572c538abcde+dirty"},
				Settings: vcs},
			want: Info{Version: "v0.0.0-20261127040000-572c538abcde", GoVersion: "go1.26.8",
				Commit: "572c538abcdef0123456789abcdef0123456789a", Date: "2026-11-27T04:00:00Z", Modified: true},
		},
		{
			name: "go install @latest of a tagged release",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}},
			want: Info{Version: "v1.2.0", GoVersion: "go1.26.8"},
		},
		{
			name: "go install @latest of an untagged commit: the pseudo-version has both",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261127045000-572c538abcde"}},
			want: Info{Version: "v0.0.0-20261127045000-572c538abcde", GoVersion: "go1.26.8",
				Commit: "572c538abcde", Date: "2026-11-27T04:50:00Z"},
		},
		{
			name: "pseudo-version after a pre-release",
			bi:   &debug.BuildInfo{Main: debug.Module{Version: "v1.3.0-rc.1.0.20261127045000-572c538abcde"}},
			want: Info{Version: "v1.3.0-rc.1.0.20261127045000-572c538abcde", Commit: "572c538abcde", Date: "2026-11-27T04:50:00Z"},
		},
		{
			name: "pseudo-version after a release",
			bi:   &debug.BuildInfo{Main: debug.Module{Version: "v1.2.1-0.20261127045000-572c538abcde"}},
			want: Info{Version: "v1.2.1-0.20261127045000-572c538abcde", Commit: "572c538abcde", Date: "2026-11-27T04:50:00Z"},
		},
		{
			name: "a version that only looks like a pseudo-version",
			bi:   &debug.BuildInfo{Main: debug.Module{Version: "v1.2.0-beta"}},
			want: Info{Version: "v1.2.0-beta"},
		},
		{
			name:    "the linker's stamp wins over everything",
			bi:      &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: vcs},
			stamped: Info{Version: "0.1.0~git20261127.572c538", Commit: "572c538", Date: "2026-11-27T05:00:00Z"},
			want:    Info{Version: "0.1.0~git20261127.572c538", GoVersion: "go1.26.8", Commit: "572c538", Date: "2026-11-27T05:00:00Z"},
		},
		{
			name:    "a stamped version alone keeps the recorded commit",
			bi:      &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs[:4]},
			stamped: Info{Version: "1.0"},
			want:    Info{Version: "1.0", Commit: "572c538abcdef0123456789abcdef0123456789a", Date: "2026-11-27T04:00:00Z"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, resolve(tt.bi, tt.stamped)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestGet(t *testing.T) {
	got := Get()
	if got.Version == "" || !strings.HasPrefix(got.GoVersion, "go") || !strings.Contains(got.Platform, "/") {
		t.Errorf("Get() = %+v: want a version, a Go version and GOOS/GOARCH", got)
	}
}
