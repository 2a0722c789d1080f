package main

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/pmtu/pmtu/internal/buildinfo"
	"github.com/pmtu/pmtu/probe"
)

// newGendocCommand builds the hidden `pmtu gendoc man|bash|zsh`, which
// prints the man page pmtu(8) or a shell completion script made from the
// same flag and command definitions that --help prints, so they cannot
// drift apart. scripts/package.sh runs it.
func newGendocCommand() *cli.Command {
	return &cli.Command{
		Name:      "gendoc",
		Usage:     "print the man page (man) or a completion script (bash, zsh)",
		UsageText: "pmtu gendoc man|bash|zsh",
		Hidden:    true,
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() != 1 {
				return cli.Exit("pmtu: gendoc wants one of man, bash, zsh", exitUsage)
			}
			// A fresh app: the running one has been changed by running.
			doc := docTree(newApp(nil, io.Discard, io.Discard))
			w := cCtx.App.Writer
			switch cCtx.Args().First() {
			case "man":
				return writeMan(w, doc, buildinfo.Get())
			case "bash":
				return writeBash(w, doc)
			case "zsh":
				return writeZsh(w, doc)
			}
			return cli.Exit(fmt.Sprintf("pmtu: gendoc %q: want man, bash or zsh", cCtx.Args().First()), exitUsage)
		},
	}
}

// docCmd is one command as the documentation shows it.
type docCmd struct {
	path        []string // "pmtu", "cache", "list"
	usage       string   // one line
	usageText   string   // the synopsis, one form a line
	description string
	flags       []docFlag
	subs        []*docCmd
	host        bool // takes a HOST argument
}

// name is the command's path joined by spaces: "pmtu cache list".
func (c *docCmd) name() string { return strings.Join(c.path, " ") }

// docFlag is one flag as --help prints it.
type docFlag struct {
	names []string // "--verbose", "-v"
	arg   string   // the value's placeholder, "" for a flag without one
	usage string   // what it does, without default or environment
	help  string   // what --help prints right of the names
}

// docTree walks app's visible flags and commands.
func docTree(app *cli.App) *docCmd {
	root := &docCmd{
		path: []string{app.Name}, usage: app.Usage, usageText: app.UsageText,
		description: app.Description, flags: docFlags(app.Flags, app.HideHelp),
		host: strings.Contains(strings.SplitN(app.UsageText, "\n", 2)[0], "HOST"),
	}
	root.subs = docCmds(root.path, app.Commands)
	return root
}

func docCmds(parent []string, cmds []*cli.Command) []*docCmd {
	var out []*docCmd
	for _, c := range cmds {
		if c.Hidden {
			continue
		}
		d := &docCmd{
			path: append(append([]string(nil), parent...), c.Name), usage: c.Usage,
			usageText: c.UsageText, description: c.Description,
			flags: docFlags(c.Flags, c.HideHelp),
		}
		d.subs = docCmds(d.path, c.Subcommands)
		// It takes a HOST if a synopsis line names one after the
		// command itself, not after one of its subcommands.
		for _, line := range strings.Split(c.UsageText, "\n") {
			rest, ok := strings.CutPrefix(line, d.name()+" ")
			if !ok || !strings.Contains(rest, "HOST") {
				continue
			}
			first, _, _ := strings.Cut(rest, " ")
			if !slices.ContainsFunc(d.subs, func(s *docCmd) bool { return s.path[len(s.path)-1] == first }) {
				d.host = true
			}
		}
		out = append(out, d)
	}
	return out
}

// docFlags reads each visible flag's --help line (cli.Flag's String: names
// and placeholder, a tab, usage, default and environment), adding --help
// as urfave/cli does when it runs the command.
func docFlags(flags []cli.Flag, hideHelp bool) []docFlag {
	var out []docFlag
	hasHelp := false
	for _, f := range flags {
		if v, ok := f.(cli.VisibleFlag); ok && !v.IsVisible() {
			continue
		}
		if f == cli.HelpFlag {
			hasHelp = true
		}
		out = append(out, parseFlagHelp(f))
	}
	if !hideHelp && !hasHelp && cli.HelpFlag != nil {
		out = append(out, parseFlagHelp(cli.HelpFlag))
	}
	return out
}

// parseFlagHelp splits a flag's --help line: "--max-size value\tlargest
// probe ... [$PMTU_MAX_SIZE]".
func parseFlagHelp(f cli.Flag) docFlag {
	left, right, _ := strings.Cut(f.String(), "\t")
	d := docFlag{help: right}
	for _, n := range strings.Split(left, ", ") {
		name, arg, _ := strings.Cut(n, " ")
		d.names = append(d.names, name)
		d.arg = arg
	}
	if df, ok := f.(cli.DocGenerationFlag); ok {
		d.usage = strings.ReplaceAll(df.GetUsage(), "`", "")
	}
	return d
}

// --- the man page ---------------------------------------------------------

// roff escapes text for a man page: backslashes, minus signs, a leading dot
// or quote, and every character beyond ASCII as \[uXXXX].
func roff(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\e`)
		case r == '-':
			b.WriteString(`\-`)
		case r > 127:
			fmt.Fprintf(&b, `\[u%04X]`, r)
		default:
			b.WriteRune(r)
		}
	}
	out := b.String()
	if strings.HasPrefix(out, ".") || strings.HasPrefix(out, "'") {
		out = `\&` + out
	}
	return out
}

// manFlag is a flag's tag line: bold names, italic placeholder.
func manFlag(f docFlag) string {
	parts := make([]string, len(f.names))
	for i, n := range f.names {
		parts[i] = `\fB` + roff(n) + `\fR`
		if f.arg != "" {
			parts[i] += ` \fI` + roff(f.arg) + `\fR`
		}
	}
	return strings.Join(parts, ", ")
}

// exitCodes reads exitCodesHelp's "   N  meaning" lines.
func exitCodes() [][2]string {
	var out [][2]string
	for _, line := range strings.Split(exitCodesHelp, "\n")[1:] {
		code, what, ok := strings.Cut(strings.TrimSpace(line), "  ")
		if ok {
			out = append(out, [2]string{code, what})
		}
	}
	return out
}

// writeMan writes pmtu(8) in the man macros.
func writeMan(w io.Writer, root *docCmd, bi buildinfo.Info) error {
	date := bi.Date
	if len(date) >= 10 {
		date = date[:10]
	}
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	p(`.\" pmtu(8), made by "pmtu gendoc man" from the flags --help prints.`)
	p(`.TH PMTU 8 "%s" "pmtu %s" "System Manager's Manual"`, roff(date), roff(bi.Version))
	p(`.nh`)
	p(`.ad l`)
	p(`.SH NAME`)
	p(`pmtu \- %s`, roff(root.usage))
	p(`.SH SYNOPSIS`)
	for i, line := range strings.Split(root.usageText, "\n") {
		if i > 0 {
			p(`.br`)
		}
		cmd, rest, _ := strings.Cut(line, " ")
		p(`\fB%s\fR %s`, roff(cmd), roff(rest))
	}
	p(`.SH DESCRIPTION`)
	p(`%s`, roff(root.description))
	p(`.PP`)
	p(`Every probe flag can also be set in the environment variable shown after it; a flag on the command line wins.`)
	p(`Sizes are whole IP packets, headers included.`)
	p(`.SH OPTIONS`)
	manFlags(p, root.flags)
	p(`.SH COMMANDS`)
	var walk func(c *docCmd)
	walk = func(c *docCmd) {
		p(`.SS "%s"`, roff(c.name()))
		p(`%s.`, roff(strings.ToUpper(c.usage[:1])+c.usage[1:]))
		p(`.PP`)
		for i, line := range strings.Split(c.usageText, "\n") {
			if i > 0 {
				p(`.br`)
			}
			p(`\fB%s\fR`, roff(line))
		}
		if c.description != "" {
			p(`.PP`)
			p(`%s`, roff(c.description))
		}
		if len(c.flags) > 0 {
			p(`.PP`)
			p(`Options of \fB%s\fR:`, roff(c.name()))
			manFlags(p, c.flags)
		}
		for _, s := range c.subs {
			walk(s)
		}
	}
	for _, c := range root.subs {
		walk(c)
	}
	p(`.SH PRIVILEGES`)
	p(`With root or CAP_NET_RAW, probes go out on raw sockets and every ICMP error is read with its full quote.`)
	p(`The Debian package gives \fI/usr/bin/pmtu\fR the file capability \fBcap_net_raw+ep\fR when it is installed.`)
	p(`Without it, \fB\-\-proto icmp\fR uses ICMP datagram sockets where \fBnet.ipv4.ping_group_range\fR admits one of the user's groups,`)
	p(`and UDP probes read their errors from the socket's error queue (IP_RECVERR), which needs no privilege.`)
	p(`TCP probes need raw sockets.`)
	p(`\fBpmtu version\fR says which of these methods the calling user may use, and why.`)
	p(`.SH EXIT STATUS`)
	for _, c := range exitCodes() {
		p(`.TP`)
		p(`.B %s`, roff(c[0]))
		p(`%s`, roff(c[1]))
	}
	p(`.SH ENVIRONMENT`)
	var envs []string
	var all func(c *docCmd)
	all = func(c *docCmd) {
		for _, f := range c.flags {
			if _, env, ok := strings.Cut(f.help, "[$"); ok {
				envs = append(envs, strings.TrimSuffix(env, "]"))
			}
		}
		for _, s := range c.subs {
			all(s)
		}
	}
	all(root)
	sort.Strings(envs)
	envs = compactStrings(envs)
	p(`.TP`)
	p(`.B %s`, roff(strings.Join(envs, ", ")))
	p(`The probe flags of the same names.`)
	p(`.TP`)
	p(`.B XDG_CACHE_HOME`)
	p(`Where the cache file lives, as \fI$XDG_CACHE_HOME/pmtu/cache.json\fR (default \fI~/.cache\fR).`)
	p(`.SH FILES`)
	p(`.TP`)
	p(`.I $XDG_CACHE_HOME/pmtu/cache.json`)
	p(`The path MTUs pmtu found in the last 10 minutes (see \fBpmtu cache\fR).`)
	p(`.SH SEE ALSO`)
	p(`.BR tracepath (8),`)
	p(`.BR ping (8),`)
	p(`.BR ip\-route (8),`)
	p(`.BR setcap (8),`)
	p(`.BR capabilities (7)`)
	_, err := io.WriteString(w, b.String())
	return err
}

func manFlags(p func(string, ...any), flags []docFlag) {
	for _, f := range flags {
		p(`.TP`)
		p(`%s`, manFlag(f))
		p(`%s`, roff(f.help))
	}
}

func compactStrings(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// --- completion -----------------------------------------------------------

// completeAs says how a flag's value is completed; a flag not named here
// takes a value nobody can guess.
var completeAs = map[string]string{
	"--proto":      "words:" + protoWords(),
	"--interface":  "interface",
	"--netns":      "netns",
	"--cache-file": "file",
	"--source":     "address",
}

func protoWords() string {
	s := make([]string, len(probe.Protos))
	for i, p := range probe.Protos {
		s[i] = string(p)
	}
	return strings.Join(s, " ")
}

// fn is a command's completion function name: _pmtu_cache_list.
func (c *docCmd) fn() string { return "_" + strings.Join(c.path, "_") }

func (c *docCmd) walk(f func(*docCmd)) {
	f(c)
	for _, s := range c.subs {
		s.walk(f)
	}
}

// writeBash writes a bash-completion script: it finds the command being
// typed by walking the words, skipping flags and their values, then offers
// that command's flags, its subcommands, host names, or a flag's values.
func writeBash(w io.Writer, root *docCmd) error {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	p(`# bash completion for pmtu(8), made by "pmtu gendoc bash" from the flags --help prints.`)
	p(``)
	p(`# _pmtu_flags CMD: the flags of command CMD (_pmtu, _pmtu_trace, ...).`)
	p(`_pmtu_flags() {`)
	p("\tcase $1 in")
	root.walk(func(c *docCmd) {
		var names []string
		for _, f := range c.flags {
			names = append(names, f.names...)
		}
		p("\t%s) echo '%s' ;;", c.fn(), strings.Join(names, " "))
	})
	p("\tesac")
	p(`}`)
	p(``)
	p(`# _pmtu_valued CMD FLAG: whether FLAG of command CMD takes a value.`)
	p(`_pmtu_valued() {`)
	p("\tcase $1:$2 in")
	root.walk(func(c *docCmd) {
		for _, f := range c.flags {
			if f.arg == "" {
				continue
			}
			for _, n := range f.names {
				p("\t%s:%s) return 0 ;;", c.fn(), n)
			}
		}
	})
	p("\tesac")
	p("\treturn 1")
	p(`}`)
	p(``)
	p(`# _pmtu_subs CMD: the subcommands of CMD.`)
	p(`_pmtu_subs() {`)
	p("\tcase $1 in")
	root.walk(func(c *docCmd) {
		if len(c.subs) == 0 {
			return
		}
		var names []string
		for _, s := range c.subs {
			names = append(names, s.path[len(s.path)-1])
		}
		p("\t%s) echo '%s' ;;", c.fn(), strings.Join(names, " "))
	})
	p("\tesac")
	p(`}`)
	p(``)
	p(`_pmtu() {`)
	p("\tlocal cur prev words cword split")
	p("\t_init_completion -s || return")
	p("\tlocal cmd=_pmtu i word")
	p("\tfor ((i = 1; i < cword; i++)); do")
	p("\t\tword=${words[i]}")
	p("\t\tcase $word in")
	p("\t\t-*=*) ;;")
	p("\t\t-*) _pmtu_valued \"$cmd\" \"$word\" && ((i++)) ;;")
	p("\t\t*)")
	p("\t\t\tif [[ \" $(_pmtu_subs \"$cmd\") \" == *\" $word \"* ]]; then")
	p("\t\t\t\tcmd=${cmd}_$word")
	p("\t\t\telse")
	p("\t\t\t\tbreak")
	p("\t\t\tfi")
	p("\t\t\t;;")
	p("\t\tesac")
	p("\tdone")
	p(``)
	p("\tif _pmtu_valued \"$cmd\" \"$prev\"; then")
	p("\t\tcase $prev in")
	var flagNames []string
	for n := range completeAs {
		flagNames = append(flagNames, n)
	}
	sort.Strings(flagNames)
	for _, n := range flagNames {
		switch how := completeAs[n]; {
		case strings.HasPrefix(how, "words:"):
			p("\t\t%s) mapfile -t COMPREPLY < <(compgen -W '%s' -- \"$cur\") ;;", n, strings.TrimPrefix(how, "words:"))
		case how == "interface":
			p("\t\t%s) _available_interfaces ;;", n)
		case how == "netns":
			p("\t\t%s) mapfile -t COMPREPLY < <(compgen -W \"$(ip netns list 2>/dev/null | awk '{print $1}')\" -- \"$cur\") ;;", n)
		case how == "file":
			p("\t\t%s) _filedir ;;", n)
		case how == "address":
			p("\t\t%s) _ip_addresses ;;", n)
		}
	}
	p("\t\tesac")
	p("\t\treturn")
	p("\tfi")
	p("\t$split && return")
	p(``)
	p("\tif [[ $cur == -* ]]; then")
	p("\t\tmapfile -t COMPREPLY < <(compgen -W \"$(_pmtu_flags \"$cmd\")\" -- \"$cur\")")
	p("\t\treturn")
	p("\tfi")
	p("\tmapfile -t COMPREPLY < <(compgen -W \"$(_pmtu_subs \"$cmd\")\" -- \"$cur\")")
	p("\tcase $cmd in")
	var hosts []string
	root.walk(func(c *docCmd) {
		if c.host {
			hosts = append(hosts, c.fn())
		}
	})
	p("\t%s) _known_hosts_real -a -- \"$cur\" ;;", strings.Join(hosts, " | "))
	p("\tesac")
	p(`} &&`)
	p("\tcomplete -F _pmtu pmtu")
	_, err := io.WriteString(w, b.String())
	return err
}

// zq quotes s for zsh in single quotes.
func zq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// zdesc makes s safe inside an _arguments [description].
func zdesc(s string) string {
	return strings.NewReplacer(`\`, `\\`, `[`, `\[`, `]`, `\]`, `:`, `\:`).Replace(s)
}

// writeZsh writes a zsh completion function (#compdef pmtu): one
// _arguments call per command.
func writeZsh(w io.Writer, root *docCmd) error {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	p(`#compdef pmtu`)
	p(`# zsh completion for pmtu(8), made by "pmtu gendoc zsh" from the flags --help prints.`)
	p(``)
	p(`_pmtu_netns() {`)
	p("\tlocal -a ns")
	p("\tns=(${(f)\"$(ip netns list 2>/dev/null)\"})")
	p("\tcompadd - ${ns%%%% *}")
	p(`}`)
	var fns []*docCmd
	root.walk(func(c *docCmd) { fns = append(fns, c) })
	for i := len(fns) - 1; i >= 0; i-- {
		c := fns[i]
		p(``)
		p(`%s() {`, c.fn())
		p("\tlocal curcontext=$curcontext state line ret=1")
		p("\ttypeset -A opt_args")
		p("\t_arguments -C -s -S \\")
		for _, f := range c.flags {
			action := ""
			if f.arg != "" {
				how := completeAs[f.names[0]]
				switch {
				case strings.HasPrefix(how, "words:"):
					action = ":" + zdesc(f.arg) + ":(" + strings.TrimPrefix(how, "words:") + ")"
				case how == "interface":
					action = ":" + zdesc(f.arg) + ":_net_interfaces"
				case how == "file":
					action = ":" + zdesc(f.arg) + ":_files"
				case how == "netns":
					action = ":" + zdesc(f.arg) + ":_pmtu_netns"
				default:
					action = ":" + zdesc(f.arg) + ": "
				}
			}
			desc := "[" + zdesc(f.usage) + "]"
			for _, n := range f.names {
				spec := n
				if f.arg != "" && strings.HasPrefix(n, "--") {
					spec += "="
				}
				excl := ""
				if len(f.names) > 1 {
					excl = "(" + strings.Join(f.names, " ") + ")"
				}
				p("\t\t%s \\", zq(excl+spec+desc+action))
			}
		}
		switch {
		case len(c.subs) > 0:
			p("\t\t%s \\", zq("1: :->first"))
			p("\t\t%s && ret=0", zq("*:: :->args"))
			p("\tcase $state in")
			var items []string
			for _, s := range c.subs {
				items = append(items, zdesc(s.path[len(s.path)-1])+`\:`+zdesc(strings.ReplaceAll(s.usage, `"`, `'`)))
			}
			var alts []string
			alts = append(alts, zq(`commands:command:((`+strings.Join(quoteEach(items), " ")+`))`))
			if c.host {
				alts = append(alts, zq("hosts:host:_hosts"))
			}
			p("\tfirst) _alternative %s && ret=0 ;;", strings.Join(alts, " "))
			p("\targs)")
			p("\t\tcurcontext=${curcontext%%:*:*}:%s-$line[1]:", strings.Join(c.path, "-"))
			p("\t\tcase $line[1] in")
			for _, s := range c.subs {
				p("\t\t%s) %s && ret=0 ;;", s.path[len(s.path)-1], s.fn())
			}
			p("\t\tesac")
			p("\t\t;;")
			p("\tesac")
		case c.host:
			p("\t\t%s && ret=0", zq("1:host:_hosts"))
		default:
			p("\t\t&& ret=0")
		}
		p("\treturn ret")
		p(`}`)
	}
	p(``)
	p(`_pmtu "$@"`)
	_, err := io.WriteString(w, b.String())
	return err
}

// quoteEach wraps each "name\:description" as name\:"description".
func quoteEach(items []string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		name, desc, _ := strings.Cut(it, `\:`)
		out[i] = name + `\:"` + desc + `"`
	}
	return out
}
