package clidoc

import (
	"bytes"
	"io"
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
	"github.com/urfave/cli/v2"
)

// testApp is a small App with what a renderer must cope with: aliases,
// placeholders, environment variables, hidden flags and commands, nested
// commands, a synopsis naming HOST after a command and after a subcommand.
func testApp(w io.Writer) *cli.App {
	mode := func() cli.Flag {
		return &cli.StringFlag{Name: "mode", Usage: "one of `MODE` fast, slow", EnvVars: []string{"TOOL_MODE"}}
	}
	return &cli.App{
		Name:      "tool",
		Usage:     "do things to a host",
		UsageText: "tool [flags] HOST\ntool sub [flags] HOST\ntool group list|drop [HOST]\ntool plain",
		Description: "tool does things \u2192 to hosts.\n" +
			".dots and \\backslashes -- stay text",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "say more"},
			&cli.IntFlag{Name: "size", Usage: "send `BYTES` [at most]: ok", EnvVars: []string{"TOOL_SIZE"}, Value: 1500},
			mode(),
			&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "read hosts from `FILE`"},
			&cli.DurationFlag{Name: "wait", Usage: "how long to wait"},
			&cli.StringFlag{Name: "secret", Hidden: true},
		},
		Commands: []*cli.Command{
			{Name: "group", Usage: "the groups", UsageText: "tool group list\ntool group drop [HOST]", HideHelpCommand: true, Subcommands: []*cli.Command{
				{Name: "list", Usage: "list them", UsageText: "tool group list [--json]", Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "as JSON"}}},
				{Name: "drop", Usage: `drop one, or "all"`, UsageText: "tool group drop [HOST]", HideHelp: true},
			}},
			{Name: "sub", Usage: "do it slowly", UsageText: "tool sub [flags] HOST", Description: "sub is slow.",
				Flags: []cli.Flag{mode(), &cli.IntFlag{Name: "hops", Aliases: []string{"n"}, Usage: "at most `N` hops"}}},
			{Name: "hidden", Usage: "not shown", Hidden: true},
			{Name: "plain", Usage: "take no host", UsageText: "tool plain"},
		},
		HideHelpCommand: true,
		Writer:          w,
		ErrWriter:       w,
	}
}

var testOpts = Options{HostArg: "HOST"}

var testComp = Completion{
	Page: "tool(1)", Command: "tool doc",
	Values: map[string]Value{
		"--mode": {Kind: Words, Words: []string{"fast", "slow"}},
		"--file": {Kind: File},
	},
}

func render(t *testing.T, write func(io.Writer, *Cmd) error) string {
	t.Helper()
	var b bytes.Buffer
	if err := write(&b, Tree(testApp(io.Discard), testOpts)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func testMan(t *testing.T) string {
	return render(t, func(w io.Writer, c *Cmd) error {
		return WriteMan(w, c, ManInfo{
			Section: "1", Date: "2026-01-02", Source: "tool 1.0", Manual: "User Commands", Command: "tool doc man",
			Description: "More about \\fBtool\\fR.",
			Sections: []ManSection{
				{Name: "EXIT STATUS", Items: []ManItem{{Tag: ".B 0", Text: "it worked"}}},
				{Name: "ENVIRONMENT", Items: []ManItem{{Tag: ".B " + Roff(strings.Join(EnvVars(c), ", ")), Text: "The flags."}}},
				{Name: "SEE ALSO", Text: ".BR other (1)"},
			},
		})
	})
}

func TestTree(t *testing.T) {
	root := Tree(testApp(io.Discard), testOpts)
	hosts := map[string]bool{}
	var names []string
	root.walk(func(c *Cmd) {
		names = append(names, c.name())
		hosts[c.name()] = c.host
	})
	if want := []string{"tool", "tool group", "tool group list", "tool group drop", "tool sub", "tool plain"}; !slices.Equal(names, want) {
		t.Errorf("commands %q, want %q (no hidden ones)", names, want)
	}
	// group names HOST only after its subcommand drop.
	want := map[string]bool{"tool": true, "tool group": false, "tool group list": false,
		"tool group drop": true, "tool sub": true, "tool plain": false}
	if diff := cmp.Diff(want, hosts); diff != "" {
		t.Errorf("takes a host (-want +got):\n%s", diff)
	}
	none := Tree(testApp(io.Discard), Options{})
	none.walk(func(c *Cmd) {
		if c.host {
			t.Errorf("%s takes a host without Options.HostArg", c.name())
		}
	})

	f := root.flags[1]
	if !slices.Equal(f.names, []string{"--size"}) || f.arg != "BYTES" || f.usage != "send BYTES [at most]: ok" ||
		!strings.Contains(f.help, "(default: 1500) [$TOOL_SIZE]") {
		t.Errorf("--size read as %+v", f)
	}
	last := func(c *Cmd) []string { return c.flags[len(c.flags)-1].names }
	if got := last(root); !slices.Equal(got, []string{"--help", "-h"}) {
		t.Errorf("root's last flag %q, want --help, -h added", got)
	}
	if drop := root.subs[0].subs[1]; len(drop.flags) != 0 {
		t.Errorf("drop (HideHelp) has flags %+v", drop.flags)
	}
	if got := EnvVars(root); !slices.Equal(got, []string{"TOOL_MODE", "TOOL_SIZE"}) {
		t.Errorf("EnvVars %q", got)
	}
}

func TestRoff(t *testing.T) {
	for in, want := range map[string]string{
		"plain text":        "plain text",
		"--max-size":        `\-\-max\-size`,
		`a\b`:               `a\eb`,
		".starts":           `\&.starts`,
		"'quoted'":          `\&'quoted'`,
		"mid.dot's":         "mid.dot's",
		"\u2192 é":          `\[u2192] \[u00E9]`,
		"a - b -- c.":       `a \- b \-\- c.`,
		"one\n.two\n'three": "one\n\\&.two\n\\&'three",
	} {
		if got := Roff(in); got != want {
			t.Errorf("Roff(%q) = %q, want %q", in, got, want)
		}
	}
}

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

// manPageFlags reads a man page as WriteMan writes it: the flags (the bold
// words of each .TP tag line) of the root (.SH OPTIONS, as root) and of
// each command (.SS "tool sub"), by command.
func manPageFlags(man, root string) map[string][]string {
	out := map[string][]string{}
	section := ""
	lines := strings.Split(man, "\n")
	for i, line := range lines {
		switch {
		case line == ".SH OPTIONS":
			section = root
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
	fromMan := manPageFlags(testMan(t), "tool")

	fromHelp := map[string][]string{}
	var walk func(path []string)
	walk = func(path []string) {
		if strings.Join(path, " ") == "tool group drop" {
			// drop hides its --help: nothing to ask.
			fromHelp["tool group drop"] = nil
			return
		}
		var out bytes.Buffer
		// A fresh App each time: running one changes it.
		if err := testApp(&out).Run(append(path, "--help")); err != nil {
			t.Fatalf("%v --help: %v", path, err)
		}
		help := out.String()
		fromHelp[strings.Join(path, " ")] = helpFlags(help)
		for _, c := range helpCommands(help) {
			walk(append(append([]string(nil), path...), c))
		}
	}
	walk([]string{"tool"})

	if len(fromHelp) != 6 || len(fromHelp["tool"]) < 8 {
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
	man := testMan(t)
	for _, want := range []string{
		`.\" tool(1), made by "tool doc man" from the flags --help prints.` + "\n",
		`.TH TOOL 1 "2026\-01\-02" "tool 1.0" "User Commands"` + "\n",
		".PP\nMore about \\fBtool\\fR.\n.SH OPTIONS\n",
		".SH EXIT STATUS\n.TP\n.B 0\nit worked\n.SH ENVIRONMENT\n.TP\n.B TOOL_MODE, TOOL_SIZE\nThe flags.\n.SH SEE ALSO\n.BR other (1)\n",
	} {
		if !strings.Contains(man, want) {
			t.Errorf("page lacks %q:\n%s", want, man)
		}
	}
	f := filepath.Join(t.TempDir(), "tool.1")
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
	cmd = exec.Command(manCmd, "-l", f)
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "MANWIDTH=80")
	text, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"tool - do things to a host", "--size BYTES", "tool group list",
		".dots and \\backslashes -- stay text", "Do it slowly.", "sub is slow.", "Options of tool sub:"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("rendered page lacks %q:\n%s", want, text)
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
	script := render(t, func(w io.Writer, c *Cmd) error { return WriteBash(w, c, testComp) })
	if want := "# bash completion for tool(1), made by \"tool doc\" from the flags --help prints.\n"; !strings.HasPrefix(script, want) {
		t.Errorf("script starts %q, want %q", script[:min(len(script), 100)], want)
	}
	stubs := `
_init_completion() {
	words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD
	cur=${words[cword]}; prev=${words[cword-1]}; split=false
}
_known_hosts_real() { COMPREPLY+=(HOSTS); }
_filedir() { COMPREPLY=(FILES); }
complete() { echo "complete $*" >&2; }
`
	tests := []struct {
		line    string // the words typed; the last is being completed
		want    []string
		notWant []string
	}{
		{"tool --s", []string{"--size"}, []string{"--secret", "--verbose"}},
		{"tool -", []string{"-v", "--verbose", "-f", "--help", "-h"}, []string{"--hops", "--json"}},
		{"tool sub --", []string{"--mode", "--hops", "--help"}, []string{"--size"}},
		{"tool --mode ", []string{"fast", "slow"}, []string{"HOSTS", "sub"}},
		{"tool sub --mode s", []string{"slow"}, []string{"fast"}},
		{"tool --file ", []string{"FILES"}, []string{"HOSTS"}},
		{"tool --size ", nil, []string{"HOSTS", "sub"}},
		{"tool ", []string{"group", "sub", "plain", "HOSTS"}, []string{"hidden"}},
		{"tool -v --size 9000 --mode=fast ", []string{"HOSTS", "sub"}, nil},
		{"tool group ", []string{"list", "drop"}, []string{"HOSTS"}},
		{"tool group drop ", []string{"HOSTS"}, nil},
		{"tool group list --", []string{"--json", "--help"}, []string{"--mode"}},
		{"tool plain ", nil, []string{"HOSTS"}},
		{"tool sub -n 3 ", []string{"HOSTS"}, nil},
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
				"COMP_CWORD=" + strconv.Itoa(len(words)-1) + "\n_tool\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
			cmd := exec.Command(bash, "-c", prog)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil || stderr.String() != "complete -F _tool tool\n" {
				t.Fatalf("bash: %v\n%s%s", err, out, &stderr)
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

func TestZsh(t *testing.T) {
	script := render(t, func(w io.Writer, c *Cmd) error { return WriteZsh(w, c, testComp) })
	for _, want := range []string{
		"#compdef tool\n# zsh completion for tool(1), made by \"tool doc\" from the flags --help prints.\n",
		`'--mode=[one of MODE fast, slow]:MODE:(fast slow)'`,
		`'(--file -f)-f[read hosts from FILE]:FILE:_files'`,
		`'--size=[send BYTES \[at most\]\: ok]:BYTES: '`,
		`'(--verbose -v)--verbose[say more]'`,
		`first) _alternative 'commands:command:((group\:"the groups" sub\:"do it slowly" plain\:"take no host"))' 'hosts:host:_hosts' && ret=0 ;;`,
		`first) _alternative 'commands:command:((list\:"list them" drop\:"drop one, or '\''all'\''"))' && ret=0 ;;`,
		"_tool_group_drop() {\n\tlocal curcontext=$curcontext state line ret=1\n\ttypeset -A opt_args\n\t_arguments -C -s -S \\\n\t\t'1:host:_hosts' && ret=0\n",
		"_tool_plain() {\n\tlocal curcontext=$curcontext state line ret=1\n\ttypeset -A opt_args\n\t_arguments -C -s -S \\\n\t\t'(--help -h)--help[show help]' \\\n\t\t'(--help -h)-h[show help]' \\\n\t\t&& ret=0\n",
		"\n_tool \"$@\"\n",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %q", want)
		}
	}
	if strings.Contains(script, "hidden") || strings.Contains(script, "secret") {
		t.Error("script names a hidden command or flag")
	}
	zsh, err := exec.LookPath("zsh")
	if err != nil {
		t.Log("no zsh here: not parsed")
		return
	}
	cmd := exec.Command(zsh, "-n")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("zsh -n: %v\n%s", err, out)
	}
}
