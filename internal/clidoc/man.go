package clidoc

import (
	"fmt"
	"io"
	"strings"
)

// ManInfo is what a man page says beyond the App's own text: its header
// and the sections after COMMANDS.
type ManInfo struct {
	Section string // the manual section, "8"
	Date    string // the page's date, "2026-11-27"; may be empty
	Source  string // the header's source, "pmtu 1.2.0"
	Manual  string // the manual's title, "System Manager's Manual"
	Command string // the command that prints the page, "pmtu gendoc man", named in a comment

	// Description is roff (see Roff) added as a paragraph after the
	// App's Description.
	Description string
	// Sections come after COMMANDS, in order.
	Sections []ManSection
}

// ManSection is one .SH section: roff text, then tagged paragraphs.
type ManSection struct {
	Name  string    // "EXIT STATUS"
	Text  string    // roff lines, written as they are; may be empty
	Items []ManItem // each a .TP paragraph, after Text
}

// ManItem is one tagged paragraph (.TP).
type ManItem struct {
	Tag  string // the tag's roff line: ".B 0", ".I /etc/file", "\\fB\\-v\\fR"
	Text string // roff
}

// Roff escapes text for a man page: backslashes, minus signs, a dot or
// quote that begins a line (which would make it a request), and every
// character beyond ASCII as \[uXXXX].
func Roff(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case (r == '.' || r == '\'') && (i == 0 || s[i-1] == '\n'):
			b.WriteString(`\&`)
			b.WriteRune(r)
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
	return b.String()
}

// manFlag is a flag's tag line: bold names, italic placeholder.
func manFlag(f flagDoc) string {
	parts := make([]string, len(f.names))
	for i, n := range f.names {
		parts[i] = `\fB` + Roff(n) + `\fR`
		if f.arg != "" {
			parts[i] += ` \fI` + Roff(f.arg) + `\fR`
		}
	}
	return strings.Join(parts, ", ")
}

// WriteMan writes root's man page in the man macros: NAME, SYNOPSIS,
// DESCRIPTION, OPTIONS (root's flags), COMMANDS (each command's synopsis,
// description and flags), then info's sections.
func WriteMan(w io.Writer, root *Cmd, info ManInfo) error {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	name := root.path[0]
	p(`.\" %s(%s), made by "%s" from the flags --help prints.`, name, info.Section, info.Command)
	p(`.TH %s %s "%s" "%s" "%s"`, Roff(strings.ToUpper(name)), Roff(info.Section), Roff(info.Date), Roff(info.Source), Roff(info.Manual))
	p(`.nh`)
	p(`.ad l`)
	p(`.SH NAME`)
	p(`%s \- %s`, Roff(name), Roff(root.usage))
	p(`.SH SYNOPSIS`)
	for i, line := range strings.Split(root.usageText, "\n") {
		if i > 0 {
			p(`.br`)
		}
		cmd, rest, _ := strings.Cut(line, " ")
		p(`\fB%s\fR %s`, Roff(cmd), Roff(rest))
	}
	p(`.SH DESCRIPTION`)
	p(`%s`, Roff(root.description))
	if info.Description != "" {
		p(`.PP`)
		p(`%s`, info.Description)
	}
	if len(root.flags) > 0 {
		p(`.SH OPTIONS`)
		manFlags(p, root.flags)
	}
	if len(root.subs) > 0 {
		p(`.SH COMMANDS`)
		for _, c := range root.subs {
			c.walk(func(c *Cmd) { manCmd(p, c) })
		}
	}
	for _, s := range info.Sections {
		p(`.SH %s`, s.Name)
		if s.Text != "" {
			p(`%s`, s.Text)
		}
		for _, it := range s.Items {
			p(`.TP`)
			p(`%s`, it.Tag)
			p(`%s`, it.Text)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// manCmd writes one command's subsection.
func manCmd(p func(string, ...any), c *Cmd) {
	p(`.SS "%s"`, Roff(c.name()))
	if c.usage != "" {
		p(`%s.`, Roff(strings.ToUpper(c.usage[:1])+c.usage[1:]))
		p(`.PP`)
	}
	for i, line := range strings.Split(c.usageText, "\n") {
		if i > 0 {
			p(`.br`)
		}
		p(`\fB%s\fR`, Roff(line))
	}
	if c.description != "" {
		p(`.PP`)
		p(`%s`, Roff(c.description))
	}
	if len(c.flags) > 0 {
		p(`.PP`)
		p(`Options of \fB%s\fR:`, Roff(c.name()))
		manFlags(p, c.flags)
	}
}

func manFlags(p func(string, ...any), flags []flagDoc) {
	for _, f := range flags {
		p(`.TP`)
		p(`%s`, manFlag(f))
		p(`%s`, Roff(f.help))
	}
}
