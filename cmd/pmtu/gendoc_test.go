package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// thLine matches the man page's .TH line, whose date and version are
// this build's.
var thLine = regexp.MustCompile(`(?m)^\.TH PMTU 8 ".*" "pmtu .*" `)

// What gendoc prints is what testdata/gendoc.* hold: pmtu's man page and
// completion scripts, as a reviewer reads them. The man page's .TH line
// names this build, so it is compared without its date and version.
func TestGendocGolden(t *testing.T) {
	for _, kind := range []string{"man", "bash", "zsh"} {
		t.Run(kind, func(t *testing.T) {
			out, errOut, code := runApp(t, "gendoc", kind)
			if code != exitOK || errOut != "" {
				t.Fatalf("gendoc %s: exit %d, %s", kind, code, errOut)
			}
			out = thLine.ReplaceAllString(out, `.TH PMTU 8 "DATE" "pmtu VERSION" `)
			golden := filepath.Join("testdata", "gendoc."+kind)
			if *update {
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), out); diff != "" {
				t.Errorf("gendoc %s (-want +got), run go test -update to accept:\n%s", kind, diff)
			}
		})
	}
}

func TestManRenders(t *testing.T) {
	manCmd, err := exec.LookPath("man")
	if err != nil {
		t.Skip("no man here")
	}
	man, _, _ := runApp(t, "gendoc", "man")
	f := filepath.Join(t.TempDir(), "pmtu.8")
	if err := os.WriteFile(f, []byte(man), 0o644); err != nil {
		t.Fatal(err)
	}
	// What lintian runs on a manual page: groff's warnings are errors.
	cmd := exec.Command(manCmd, "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", f)
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "MANWIDTH=80")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("man -l: %v\n%s", err, out)
	}
	text, err := exec.Command(manCmd, "-l", f).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"pmtu - find the path MTU", "--max-size", "pmtu trace", "EXIT STATUS", "setcap"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("rendered page lacks %q", want)
		}
	}
}

// The bash completion, run by bash with bash-completion's helpers
// stubbed: each case is the words typed and what must (not) be offered.
func TestBashCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash here")
	}
	script, _, code := runApp(t, "gendoc", "bash")
	if code != exitOK {
		t.Fatalf("gendoc bash: exit %d", code)
	}
	stubs := `
_init_completion() {
	words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD
	cur=${words[cword]}; prev=${words[cword-1]}; split=false
}
_known_hosts_real() { COMPREPLY+=(HOSTS); }
_filedir() { COMPREPLY=(FILES); }
_available_interfaces() { COMPREPLY=(IFACES); }
_ip_addresses() { COMPREPLY=(ADDRS); }
complete() { :; }
`
	tests := []struct {
		line    string // the words typed; the last is being completed
		want    []string
		notWant []string
	}{
		{"pmtu --ma", []string{"--max-size"}, []string{"--max-hops"}},
		{"pmtu trace --ma", []string{"--max-size", "--max-hops"}, nil},
		{"pmtu --proto ", []string{"icmp", "udp", "tcp"}, []string{"HOSTS"}},
		{"pmtu trace --proto u", []string{"udp"}, []string{"icmp"}},
		{"pmtu ", []string{"cache", "trace", "version", "HOSTS"}, []string{"gendoc"}},
		{"pmtu -4 --max-size 1400 ", []string{"HOSTS", "trace"}, nil},
		{"pmtu cache ", []string{"list", "flush"}, []string{"HOSTS"}},
		{"pmtu cache flush ", []string{"HOSTS"}, nil},
		{"pmtu cache list --", []string{"--json", "--help"}, []string{"--proto"}},
		{"pmtu version --", []string{"--json"}, []string{"--proto"}},
		{"pmtu --cache-file ", []string{"FILES"}, nil},
		{"pmtu --interface ", []string{"IFACES"}, nil},
		{"pmtu --max-size ", nil, []string{"HOSTS", "trace"}},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			words := strings.Fields(tt.line)
			if strings.HasSuffix(tt.line, " ") {
				words = append(words, "")
			}
			var quoted []string
			for _, w := range words {
				quoted = append(quoted, "'"+w+"'")
			}
			prog := stubs + script + "\nCOMP_WORDS=(" + strings.Join(quoted, " ") + ")\n" +
				"COMP_CWORD=" + strconv.Itoa(len(words)-1) + "\n_pmtu\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
			out, err := exec.Command(bash, "-c", prog).CombinedOutput()
			if err != nil {
				t.Fatalf("bash: %v\n%s", err, out)
			}
			got := strings.Fields(string(out))
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("offered %v, want %q among them", got, w)
				}
			}
			for _, w := range tt.notWant {
				if slices.Contains(got, w) {
					t.Errorf("offered %v, want no %q", got, w)
				}
			}
		})
	}
}

func TestZshCompletionParses(t *testing.T) {
	zsh, err := exec.LookPath("zsh")
	if err != nil {
		t.Skip("no zsh here")
	}
	script, _, _ := runApp(t, "gendoc", "zsh")
	cmd := exec.Command(zsh, "-n")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("zsh -n: %v\n%s", err, out)
	}
}

func TestGendocUsage(t *testing.T) {
	for _, args := range [][]string{{"gendoc"}, {"gendoc", "fish"}, {"gendoc", "man", "bash"}} {
		out, errOut, code := runApp(t, args...)
		if code != exitUsage || out != "" || !strings.HasPrefix(errOut, "pmtu: gendoc") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}
