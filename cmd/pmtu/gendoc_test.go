package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// helpFlags reads the flag names from --help output: the lines under
// OPTIONS: or GLOBAL OPTIONS:, "   --name value, -n value  usage".
func helpFlags(help string) []string {
	var names []string
	in := false
	for _, line := range strings.Split(help, "\n") {
		switch {
		case strings.HasSuffix(line, "OPTIONS:"):
			in = true
			continue
		case !strings.HasPrefix(line, "   "):
			in = false
		}
		if !in {
			continue
		}
		left, _, _ := strings.Cut(strings.TrimSpace(line), "  ")
		for _, n := range strings.Split(left, ", ") {
			name, _, _ := strings.Cut(n, " ")
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// helpCommands reads the command names under COMMANDS:.
func helpCommands(help string) []string {
	var names []string
	in := false
	for _, line := range strings.Split(help, "\n") {
		switch {
		case line == "COMMANDS:":
			in = true
			continue
		case !strings.HasPrefix(line, "   "):
			in = false
		}
		if in {
			names = append(names, strings.Fields(line)[0])
		}
	}
	return names
}

var (
	roffFont = regexp.MustCompile(`\\f[BIR]`)
	roffBold = regexp.MustCompile(`\\fB(.*?)\\fR`)
)

// manPageFlags reads a man page as writeMan writes it: the flags (the bold
// words of each .TP tag line) of the root (.SH OPTIONS) and of each
// command (.SS "pmtu trace"), by command.
func manPageFlags(t *testing.T, man string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	section := ""
	lines := strings.Split(man, "\n")
	for i, line := range lines {
		switch {
		case line == ".SH OPTIONS":
			section = "pmtu"
			out[section] = nil
		case strings.HasPrefix(line, ".SH "):
			section = ""
		case strings.HasPrefix(line, ".SS "):
			section = strings.ReplaceAll(strings.Trim(strings.TrimPrefix(line, ".SS "), `"`), `\-`, "-")
			out[section] = nil
		case line == ".TP" && section != "" && i+1 < len(lines) && strings.HasPrefix(lines[i+1], `\fB\-`):
			for _, m := range roffBold.FindAllStringSubmatch(lines[i+1], -1) {
				out[section] = append(out[section], strings.ReplaceAll(roffFont.ReplaceAllString(m[1], ""), `\-`, "-"))
			}
		}
	}
	for _, v := range out {
		sort.Strings(v)
	}
	return out
}

// The man page lists the same commands, and for each the same flags, as
// --help does.
func TestManMatchesHelp(t *testing.T) {
	man, errOut, code := runApp(t, "gendoc", "man")
	if code != exitOK || errOut != "" {
		t.Fatalf("gendoc man: exit %d, %s", code, errOut)
	}
	fromMan := manPageFlags(t, man)

	fromHelp := map[string][]string{}
	var walk func(path []string)
	walk = func(path []string) {
		help, errOut, code := runApp(t, append(path[1:], "--help")...)
		if code != exitOK || errOut != "" {
			t.Fatalf("%v --help: exit %d, %s", path, code, errOut)
		}
		fromHelp[strings.Join(path, " ")] = helpFlags(help)
		for _, c := range helpCommands(help) {
			walk(append(append([]string(nil), path...), c))
		}
	}
	walk([]string{"pmtu"})

	if len(fromHelp) < 6 || len(fromHelp["pmtu"]) < 20 {
		t.Fatalf("--help parsed to too little: %v", fromHelp)
	}
	if diff := cmp.Diff(fromHelp, fromMan); diff != "" {
		t.Errorf("flags by command, --help (-) against the man page (+):\n%s", diff)
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
