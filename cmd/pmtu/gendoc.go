package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/pmtu/pmtu/internal/buildinfo"
	"github.com/pmtu/pmtu/internal/clidoc"
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
			tree := clidoc.Tree(newApp(nil, io.Discard, io.Discard), clidoc.Options{HostArg: "HOST"})
			w := cCtx.App.Writer
			switch kind := cCtx.Args().First(); kind {
			case "man":
				return clidoc.WriteMan(w, tree, manInfo(tree, buildinfo.Get()))
			case "bash":
				return clidoc.WriteBash(w, tree, completion(kind))
			case "zsh":
				return clidoc.WriteZsh(w, tree, completion(kind))
			}
			return cli.Exit(fmt.Sprintf("pmtu: gendoc %q: want man, bash or zsh", cCtx.Args().First()), exitUsage)
		},
	}
}

// completion says how pmtu's flag values are completed; a flag not named
// takes a value nobody can guess.
func completion(kind string) clidoc.Completion {
	protos := make([]string, len(probe.Protos))
	for i, p := range probe.Protos {
		protos[i] = string(p)
	}
	return clidoc.Completion{
		Page:    "pmtu(8)",
		Command: "pmtu gendoc " + kind,
		Values: map[string]clidoc.Value{
			"--proto":      {Kind: clidoc.Words, Words: protos},
			"--interface":  {Kind: clidoc.Interface},
			"--netns":      {Kind: clidoc.Netns},
			"--cache-file": {Kind: clidoc.File},
			"--source":     {Kind: clidoc.Address},
		},
	}
}

// manInfo is what pmtu(8) says beyond the flags and commands: privileges,
// exit codes, environment, files.
func manInfo(tree *clidoc.Cmd, bi buildinfo.Info) clidoc.ManInfo {
	date := bi.Date
	if len(date) >= 10 {
		date = date[:10]
	}
	exits, exitNote := manExits(exitCodesHelp)
	return clidoc.ManInfo{
		Section: "8", Date: date, Source: "pmtu " + bi.Version,
		Manual: "System Manager's Manual", Command: "pmtu gendoc man",
		Description: `Every probe flag can also be set in the environment variable shown after it; a flag on the command line wins.
Sizes are whole IP packets, headers included.`,
		Sections: []clidoc.ManSection{
			{Name: "PRIVILEGES", Text: `With root or CAP_NET_RAW, probes go out on raw sockets and every ICMP error is read with its full quote.
The Debian package gives \fI/usr/bin/pmtu\fR the file capability \fBcap_net_raw+ep\fR when it is installed.
Without it, \fB\-\-proto icmp\fR uses ICMP datagram sockets where \fBnet.ipv4.ping_group_range\fR admits one of the user's groups,
and UDP probes read their errors from the socket's error queue (IP_RECVERR), which needs no privilege.
TCP probes need raw sockets.
\fBpmtu version\fR says which of these methods the calling user may use, and why.`},
			{Name: "EXIT STATUS", Items: append(exits, clidoc.ManItem{Tag: ".I with many hosts", Text: clidoc.Roff(exitNote)})},
			{Name: "ENVIRONMENT", Items: []clidoc.ManItem{
				{Tag: ".B " + clidoc.Roff(strings.Join(clidoc.EnvVars(tree), ", ")), Text: "The probe flags of the same names."},
				{Tag: ".B XDG_CACHE_HOME", Text: `Where the cache file lives, as \fI$XDG_CACHE_HOME/pmtu/cache.json\fR (default \fI~/.cache\fR).`},
			}},
			{Name: "FILES", Items: []clidoc.ManItem{
				{Tag: ".I $XDG_CACHE_HOME/pmtu/cache.json", Text: `The path MTUs pmtu found in the last 10 minutes (see \fBpmtu cache\fR).`},
			}},
			{Name: "SEE ALSO", Text: `.BR tracepath (8),
.BR ping (8),
.BR ip\-route (8),
.BR setcap (8),
.BR capabilities (7)`},
		},
	}
}

// manExits reads --help's EXIT CODES: each "   N  meaning" line, with the
// more-indented lines that continue it, is an item; the lines after the
// last item are a note.
func manExits(help string) (items []clidoc.ManItem, note string) {
	var notes []string
	for _, line := range strings.Split(help, "\n")[1:] {
		code, what, ok := strings.Cut(strings.TrimPrefix(line, "   "), "  ")
		switch {
		case ok && len(code) == 1 && code[0] >= '0' && code[0] <= '9':
			items = append(items, clidoc.ManItem{Tag: ".B " + code, Text: what})
		case strings.HasPrefix(line, "      ") && len(items) > 0 && len(notes) == 0:
			items[len(items)-1].Text += " " + strings.TrimSpace(line)
		case strings.TrimSpace(line) != "":
			notes = append(notes, strings.TrimSpace(line))
		}
	}
	for i := range items {
		items[i].Text = clidoc.Roff(items[i].Text)
	}
	return items, strings.Join(notes, " ")
}
