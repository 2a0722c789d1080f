// Package clidoc turns a urfave/cli v2 App into a man page and bash and zsh
// completion scripts, from the same flag and command definitions that
// --help prints, so they cannot drift apart.
//
// Tree reads the App's visible commands and flags once; WriteMan, WriteBash
// and WriteZsh render that tree. What the App cannot say (the man page's
// own sections, how a flag's value is completed, which synopsis word is a
// host) the caller passes in as data.
package clidoc

import (
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// Cmd is one command as the documentation shows it: the App's root, or one
// of its visible commands, with its visible subcommands.
type Cmd struct {
	path        []string // "pmtu", "cache", "list"
	usage       string   // one line
	usageText   string   // the synopsis, one form a line
	description string
	flags       []flagDoc
	subs        []*Cmd
	host        bool // takes a host argument
}

// name is the command's path joined by spaces: "pmtu cache list".
func (c *Cmd) name() string { return strings.Join(c.path, " ") }

// base is the command's own name: "list".
func (c *Cmd) base() string { return c.path[len(c.path)-1] }

// fn is a command's completion function name: _pmtu_cache_list.
func (c *Cmd) fn() string { return "_" + strings.Join(c.path, "_") }

// walk calls f on c and then on each command under it, depth first.
func (c *Cmd) walk(f func(*Cmd)) {
	f(c)
	for _, s := range c.subs {
		s.walk(f)
	}
}

// flagDoc is one flag as --help prints it.
type flagDoc struct {
	names []string // "--verbose", "-v"
	arg   string   // the value's placeholder, "" for a flag without one
	usage string   // what it does, without default or environment
	help  string   // what --help prints right of the names
}

// Options says what Tree cannot read from the App.
type Options struct {
	// HostArg is the synopsis word that stands for a host name, "HOST":
	// a command whose synopsis (UsageText) names it after the command
	// itself, not after one of its subcommands, has host names completed.
	// Empty: no command takes a host.
	HostArg string
}

// Tree reads app's visible flags and commands. app should be fresh: running
// an App changes it (urfave/cli adds its help flag and command).
func Tree(app *cli.App, opts Options) *Cmd {
	root := &Cmd{
		path: []string{app.Name}, usage: app.Usage, usageText: app.UsageText,
		description: app.Description, flags: flagDocs(app.Flags, app.HideHelp),
	}
	if opts.HostArg != "" {
		root.host = strings.Contains(strings.SplitN(app.UsageText, "\n", 2)[0], opts.HostArg)
	}
	root.subs = cmds(root.path, app.Commands, opts)
	return root
}

func cmds(parent []string, cs []*cli.Command, opts Options) []*Cmd {
	var out []*Cmd
	for _, c := range cs {
		if c.Hidden {
			continue
		}
		d := &Cmd{
			path: append(append([]string(nil), parent...), c.Name), usage: c.Usage,
			usageText: c.UsageText, description: c.Description,
			flags: flagDocs(c.Flags, c.HideHelp),
		}
		d.subs = cmds(d.path, c.Subcommands, opts)
		// It takes a host if a synopsis line names one after the
		// command itself, not after one of its subcommands.
		for _, line := range strings.Split(c.UsageText, "\n") {
			rest, ok := strings.CutPrefix(line, d.name()+" ")
			if opts.HostArg == "" || !ok || !strings.Contains(rest, opts.HostArg) {
				continue
			}
			first, _, _ := strings.Cut(rest, " ")
			if !slices.ContainsFunc(d.subs, func(s *Cmd) bool { return s.base() == first }) {
				d.host = true
			}
		}
		out = append(out, d)
	}
	return out
}

// flagDocs reads each visible flag's --help line (cli.Flag's String: names
// and placeholder, a tab, usage, default and environment), adding --help
// as urfave/cli does when it runs the command.
func flagDocs(flags []cli.Flag, hideHelp bool) []flagDoc {
	var out []flagDoc
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
func parseFlagHelp(f cli.Flag) flagDoc {
	left, right, _ := strings.Cut(f.String(), "\t")
	d := flagDoc{help: right}
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

// EnvVars returns the environment variables that the flags of root and of
// every command under it read, as --help shows them ("[$NAME]"), sorted,
// each once.
func EnvVars(root *Cmd) []string {
	var envs []string
	root.walk(func(c *Cmd) {
		for _, f := range c.flags {
			if _, env, ok := strings.Cut(f.help, "[$"); ok {
				envs = append(envs, strings.TrimSuffix(env, "]"))
			}
		}
	})
	slices.Sort(envs)
	return slices.Compact(envs)
}
