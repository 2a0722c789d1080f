package fleet

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/netip"
	"strings"
)

// MaxLine is the longest line Lines reads; a longer one is bad input.
const MaxLine = 4096

// ParseLine reads one line of a host file: the host it names, or "" for a
// blank or comment line. An error says why the line is not one host.
func ParseLine(line string) (string, error) {
	if i := strings.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	line = strings.TrimSpace(line)
	if line == "" {
		return "", nil
	}
	if strings.ContainsAny(line, " \t\v\f\r") {
		return "", fmt.Errorf("%q: one host per line", line)
	}
	if err := CheckHost(line); err != nil {
		return "", err
	}
	return line, nil
}

// CheckHost says whether s can name a host: an IPv4 or IPv6 address
// (brackets allowed, no zone), or a DNS name (RFC 1123: letters, digits,
// hyphens and dots, labels of 1 to 63, at most 253 in all; underscores are
// let through, as resolvers do).
func CheckHost(s string) error {
	if strings.ContainsAny(s, ":[]") {
		a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
		if err != nil || a.Zone() != "" {
			return fmt.Errorf("%q: not an IP address", s)
		}
		return nil
	}
	name := strings.TrimSuffix(s, ".")
	if name == "" || len(name) > 253 {
		return fmt.Errorf("%q: not a host name", s)
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("%q: not a host name", s)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("%q: not a host name", s)
			}
		}
	}
	return nil
}

// Lines reads a host file as it is used: one Target per host line, with
// its line number; a bad line is a Target with Err set, and reading goes
// on. A read error ends the list with a Target whose Err says so.
func Lines(r io.Reader) iter.Seq[Target] {
	return func(yield func(Target) bool) {
		br := bufio.NewReaderSize(r, MaxLine+1)
		n, index := 0, 0
		for {
			line, err := readLine(br)
			if line == "" && err == io.EOF {
				return
			}
			n++
			t := Target{Line: n, Index: index}
			switch {
			case errors.Is(err, errLong):
				t.Host, t.Err = line[:40]+"…", fmt.Errorf("line longer than %d bytes", MaxLine)
			case err != nil && err != io.EOF:
				t.Err = fmt.Errorf("reading: %w", err)
			default:
				t.Host, t.Err = ParseLine(line)
				if t.Host == "" && t.Err == nil {
					if err == io.EOF {
						return
					}
					continue
				}
				if t.Err != nil {
					t.Host = strings.TrimSpace(line)
				}
			}
			index++
			if !yield(t) || (err != nil && !errors.Is(err, errLong)) {
				return
			}
		}
	}
}

var errLong = errors.New("line too long")

// readLine reads one line without its end; a line longer than MaxLine is
// read to its end, its head returned with errLong.
func readLine(br *bufio.Reader) (string, error) {
	b, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		head := string(b)
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = br.ReadSlice('\n')
		}
		if err == nil || err == io.EOF {
			err = errLong
		}
		return head, err
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if len(s) > MaxLine {
		return s, errLong
	}
	return s, err
}

// Hosts is the targets named on a command line, each checked by
// CheckHost.
func Hosts(hosts []string) iter.Seq[Target] {
	return func(yield func(Target) bool) {
		for i, h := range hosts {
			t := Target{Host: strings.TrimSpace(h), Index: i}
			if t.Host == "" {
				t.Err = errors.New("the host is empty")
			} else {
				t.Err = CheckHost(t.Host)
			}
			if !yield(t) {
				return
			}
		}
	}
}
