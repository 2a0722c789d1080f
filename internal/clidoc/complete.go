package clidoc

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Kind is how a flag's value is completed.
type Kind int

// The kinds of value a completion script knows how to offer.
const (
	Words     Kind = iota + 1 // one of Value.Words
	File                      // a file name
	Interface                 // a network interface
	Netns                     // a network namespace (ip netns list)
	Address                   // an address of this host (bash only)
)

// Value says how one flag's value is completed.
type Value struct {
	Kind  Kind
	Words []string // for Words
}

// Completion is what a completion script says beyond the App's commands
// and flags.
type Completion struct {
	Page    string // the man page the script goes with, "pmtu(8)", named in a comment
	Command string // the command that prints the script, "pmtu gendoc bash", named in a comment
	// Values says how a flag's value is completed, by the flag's first
	// (long) name, "--proto"; a flag not named here takes a value nobody
	// can guess.
	Values map[string]Value
}

// WriteBash writes a bash-completion script: it finds the command being
// typed by walking the words, skipping flags and their values, then offers
// that command's flags, its subcommands, host names, or a flag's values.
func WriteBash(w io.Writer, root *Cmd, comp Completion) error {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	fn := root.fn()
	p(`# bash completion for %s, made by "%s" from the flags --help prints.`, comp.Page, comp.Command)
	p(``)
	example := fn
	if i := slices.IndexFunc(root.subs, func(s *Cmd) bool { return len(s.subs) == 0 }); i >= 0 {
		example += ", " + root.subs[i].fn() + ", ..."
	}
	p(`# %s_flags CMD: the flags of command CMD (%s).`, fn, example)
	p(`%s_flags() {`, fn)
	p("\tcase $1 in")
	root.walk(func(c *Cmd) {
		var names []string
		for _, f := range c.flags {
			names = append(names, f.names...)
		}
		p("\t%s) echo '%s' ;;", c.fn(), strings.Join(names, " "))
	})
	p("\tesac")
	p(`}`)
	p(``)
	p(`# %s_valued CMD FLAG: whether FLAG of command CMD takes a value.`, fn)
	p(`%s_valued() {`, fn)
	p("\tcase $1:$2 in")
	root.walk(func(c *Cmd) {
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
	p(`# %s_subs CMD: the subcommands of CMD.`, fn)
	p(`%s_subs() {`, fn)
	p("\tcase $1 in")
	root.walk(func(c *Cmd) {
		if len(c.subs) == 0 {
			return
		}
		var names []string
		for _, s := range c.subs {
			names = append(names, s.base())
		}
		p("\t%s) echo '%s' ;;", c.fn(), strings.Join(names, " "))
	})
	p("\tesac")
	p(`}`)
	p(``)
	p(`%s() {`, fn)
	p("\tlocal cur prev words cword split")
	p("\t_init_completion -s || return")
	p("\tlocal cmd=%s i word", fn)
	p("\tfor ((i = 1; i < cword; i++)); do")
	p("\t\tword=${words[i]}")
	p("\t\tcase $word in")
	p("\t\t-*=*) ;;")
	p("\t\t-*) %s_valued \"$cmd\" \"$word\" && ((i++)) ;;", fn)
	p("\t\t*)")
	p("\t\t\tif [[ \" $(%s_subs \"$cmd\") \" == *\" $word \"* ]]; then", fn)
	p("\t\t\t\tcmd=${cmd}_$word")
	p("\t\t\telse")
	p("\t\t\t\tbreak")
	p("\t\t\tfi")
	p("\t\t\t;;")
	p("\t\tesac")
	p("\tdone")
	p(``)
	p("\tif %s_valued \"$cmd\" \"$prev\"; then", fn)
	p("\t\tcase $prev in")
	var flagNames []string
	for n := range comp.Values {
		flagNames = append(flagNames, n)
	}
	slices.Sort(flagNames)
	for _, n := range flagNames {
		switch v := comp.Values[n]; v.Kind {
		case Words:
			p("\t\t%s) mapfile -t COMPREPLY < <(compgen -W '%s' -- \"$cur\") ;;", n, strings.Join(v.Words, " "))
		case Interface:
			p("\t\t%s) _available_interfaces ;;", n)
		case Netns:
			p("\t\t%s) mapfile -t COMPREPLY < <(compgen -W \"$(ip netns list 2>/dev/null | awk '{print $1}')\" -- \"$cur\") ;;", n)
		case File:
			p("\t\t%s) _filedir ;;", n)
		case Address:
			p("\t\t%s) _ip_addresses ;;", n)
		}
	}
	p("\t\tesac")
	p("\t\treturn")
	p("\tfi")
	p("\t$split && return")
	p(``)
	p("\tif [[ $cur == -* ]]; then")
	p("\t\tmapfile -t COMPREPLY < <(compgen -W \"$(%s_flags \"$cmd\")\" -- \"$cur\")", fn)
	p("\t\treturn")
	p("\tfi")
	p("\tmapfile -t COMPREPLY < <(compgen -W \"$(%s_subs \"$cmd\")\" -- \"$cur\")", fn)
	var hosts []string
	root.walk(func(c *Cmd) {
		if c.host {
			hosts = append(hosts, c.fn())
		}
	})
	if len(hosts) > 0 {
		p("\tcase $cmd in")
		p("\t%s) _known_hosts_real -a -- \"$cur\" ;;", strings.Join(hosts, " | "))
		p("\tesac")
	}
	p(`} &&`)
	p("\tcomplete -F %s %s", fn, root.path[0])
	_, err := io.WriteString(w, b.String())
	return err
}

// zq quotes s for zsh in single quotes.
func zq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// zdesc makes s safe inside an _arguments [description].
func zdesc(s string) string {
	return strings.NewReplacer(`\`, `\\`, `[`, `\[`, `]`, `\]`, `:`, `\:`).Replace(s)
}

// WriteZsh writes a zsh completion function (#compdef NAME): one
// _arguments call per command.
func WriteZsh(w io.Writer, root *Cmd, comp Completion) error {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	fn := root.fn()
	p(`#compdef %s`, root.path[0])
	p(`# zsh completion for %s, made by "%s" from the flags --help prints.`, comp.Page, comp.Command)
	p(``)
	p(`%s_netns() {`, fn)
	p("\tlocal -a ns")
	p("\tns=(${(f)\"$(ip netns list 2>/dev/null)\"})")
	p("\tcompadd - ${ns%%%% *}")
	p(`}`)
	var fns []*Cmd
	root.walk(func(c *Cmd) { fns = append(fns, c) })
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
				action = ":" + zdesc(f.arg) + ":"
				switch v := comp.Values[f.names[0]]; v.Kind {
				case Words:
					action += "(" + strings.Join(v.Words, " ") + ")"
				case Interface:
					action += "_net_interfaces"
				case File:
					action += "_files"
				case Netns:
					action += fn + "_netns"
				default:
					action += " "
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
				// name\:"description", in the ((...)) of _alternative
				items = append(items, zdesc(s.base())+`\:"`+zdesc(strings.ReplaceAll(s.usage, `"`, `'`))+`"`)
			}
			alts := []string{zq(`commands:command:((` + strings.Join(items, " ") + `))`)}
			if c.host {
				alts = append(alts, zq("hosts:host:_hosts"))
			}
			p("\tfirst) _alternative %s && ret=0 ;;", strings.Join(alts, " "))
			p("\targs)")
			p("\t\tcurcontext=${curcontext%%:*:*}:%s-$line[1]:", strings.Join(c.path, "-"))
			p("\t\tcase $line[1] in")
			for _, s := range c.subs {
				p("\t\t%s) %s && ret=0 ;;", s.base(), s.fn())
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
	p(`%s "$@"`, fn)
	_, err := io.WriteString(w, b.String())
	return err
}
