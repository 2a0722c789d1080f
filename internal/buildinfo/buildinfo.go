// Package buildinfo says which pmtu this is: its version, commit and build
// date, from what the Go toolchain records in the binary (debug.BuildInfo:
// the module version of a `go install ...@version`, the vcs.* settings of a
// build in a checkout), unless a release build stamped them with the linker:
//
//	go build -ldflags "-X github.com/pmtu/pmtu/internal/buildinfo.version=1.2.0 \
//	    -X github.com/pmtu/pmtu/internal/buildinfo.commit=$(git rev-parse HEAD) \
//	    -X github.com/pmtu/pmtu/internal/buildinfo.date=2026-11-27T05:00:00Z" ./cmd/pmtu
package buildinfo

import (
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
)

// Stamped by -ldflags -X (scripts/package.sh); empty otherwise.
var (
	version string
	commit  string
	date    string
)

// Info describes one build.
type Info struct {
	Version   string `json:"version"`            // "1.2.0", "v0.0.0-2026...", or "devel"
	Commit    string `json:"commit,omitempty"`   // the VCS revision, when known
	Date      string `json:"date,omitempty"`     // the commit's or the build's time, RFC 3339, when known
	Modified  bool   `json:"modified,omitempty"` // built from a checkout with uncommitted changes
	GoVersion string `json:"go"`                 // the toolchain that built it
	Platform  string `json:"platform"`           // GOOS/GOARCH
}

// Get returns this binary's Info.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	info := resolve(bi, Info{Version: version, Commit: commit, Date: date})
	info.Platform = runtime.GOOS + "/" + runtime.GOARCH
	if info.GoVersion == "" {
		info.GoVersion = runtime.Version()
	}
	return info
}

// A pseudo-version ends in the commit's UTC time and its 12-digit short
// hash (go.dev/ref/mod#pseudo-versions): vX.0.0-yyyymmddhhmmss-abcdefabcdef,
// vX.Y.Z-pre.0.yyyymmddhhmmss-abcdefabcdef, vX.Y.(Z+1)-0.yyyymmddhhmmss-abcdefabcdef.
var pseudo = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+-(?:[0-9A-Za-z.-]*\.)?([0-9]{14})-([0-9a-f]{12})(?:\+incompatible)?$`)

// resolve merges what the linker stamped (the non-empty fields of
// stamped win) with what the toolchain recorded in bi, which may be nil.
func resolve(bi *debug.BuildInfo, stamped Info) Info {
	info := Info{Version: "devel"}
	if bi != nil {
		info.GoVersion = bi.GoVersion
		// A checkout's build is "v0.0.0-...+dirty" since Go 1.24: the
		// vcs settings below say as much.
		if v := strings.TrimSuffix(bi.Main.Version, "+dirty"); v != "" && v != "(devel)" {
			info.Version = v
			if m := pseudo.FindStringSubmatch(v); m != nil {
				t := m[1]
				info.Date = t[0:4] + "-" + t[4:6] + "-" + t[6:8] + "T" + t[8:10] + ":" + t[10:12] + ":" + t[12:14] + "Z"
				info.Commit = m[2]
			}
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Commit = s.Value
			case "vcs.time":
				info.Date = s.Value
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
	}
	if stamped.Version != "" {
		info.Version = stamped.Version
	}
	if stamped.Commit != "" {
		info.Commit = stamped.Commit
		info.Modified = false
	}
	if stamped.Date != "" {
		info.Date = stamped.Date
	}
	return info
}
