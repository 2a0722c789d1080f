package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMeshUsageErrors(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short")
	if err := os.WriteFile(short, []byte("tooshort\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"mesh"}, "--peers SPEC is required"},
		{[]string{"mesh", "--peers", ""}, "--peers: bad peer spec: empty"},
		{[]string{"mesh", "--peers", "dns:"}, `--peers: bad peer spec: dns:""`},
		{[]string{"mesh", "--peers", "198.18.0.1,what is this"}, `"what is this" is neither an address nor a name`},
		{[]string{"mesh", "--peers", "dns:mesh", "--listen", "10151"}, `--listen "10151"`},
		{[]string{"mesh", "--peers", "dns:mesh", "--listen", "0.0.0.0:0"}, "a fixed port"},
		{[]string{"mesh", "--peers", "dns:mesh", "--listen", "node-1:10151"}, `--listen "node-1:10151"`},
		{[]string{"mesh", "--peers", "dns:mesh", "--interval", "10ms"}, "--interval 10ms is outside 1s–24h"},
		{[]string{"mesh", "--peers", "dns:mesh", "--rate", "0"}, "--rate 0"},
		{[]string{"mesh", "--peers", "dns:mesh", "--parallel", "0"}, "--parallel 0"},
		{[]string{"mesh", "--peers", "dns:mesh", "--key-file", filepath.Join(dir, "missing")}, "--key-file: open"},
		{[]string{"mesh", "--peers", "dns:mesh", "--key-file", short}, "holds 8 bytes, want at least 16"},
		{[]string{"mesh", "--peers", "dns:mesh", "198.18.0.1"}, "no arguments"},
		{[]string{"mesh", "--bogus"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		out, errOut, code := runApp(t, tt.args...)
		if code != exitUsage || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tt.want) {
			t.Errorf("pmtu %s: exit %d, stdout %q, stderr %q; want exit 2 and one line saying %q", strings.Join(tt.args, " "), code, out, errOut, tt.want)
		}
	}
}
