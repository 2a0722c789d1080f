package fleet

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		line, want, err string // err: substring of the error; "" for none
	}{
		{"", "", ""},
		{"   ", "", ""},
		{"# a comment", "", ""},
		{"  # indented comment", "", ""},
		{"198.18.1.2", "198.18.1.2", ""},
		{"198.18.1.2   # the db", "198.18.1.2", ""},
		{"\t2001:db8::2\r", "2001:db8::2", ""},
		{"[2001:db8::2]", "[2001:db8::2]", ""},
		{"db1.example.net", "db1.example.net", ""},
		{"db1.example.net.", "db1.example.net.", ""},
		{"_srv.example", "_srv.example", ""},
		{"db1 db2", "", `"db1 db2": one host per line`},
		{"!!garbage$$", "", `"!!garbage$$": not a host name`},
		{"2001:db8::zz", "", `"2001:db8::zz": not an IP address`},
		{"fe80::1%eth0", "", "not an IP address"},
		{"-lead.example", "", "not a host name"},
		{"a..b", "", "not a host name"},
		{".", "", "not a host name"},
		{strings.Repeat("a", 64) + ".example", "", "not a host name"},
		{strings.Repeat("a.", 127) + "ab", "", "not a host name"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			got, err := ParseLine(tt.line)
			if got != tt.want {
				t.Errorf("ParseLine(%q) = %q, want %q", tt.line, got, tt.want)
			}
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("ParseLine(%q) error %v, want none", tt.line, err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("ParseLine(%q) error %v, want one with %q", tt.line, err, tt.err)
			}
		})
	}
}

// line is a Target as the tests compare it: the error as its text.
type line struct {
	Host  string
	Line  int
	Index int
	Err   string
}

func collect(seq func(func(Target) bool)) []line {
	var got []line
	for t := range seq {
		l := line{Host: t.Host, Line: t.Line, Index: t.Index}
		if t.Err != nil {
			l.Err = t.Err.Error()
		}
		got = append(got, l)
	}
	return got
}

func TestLines(t *testing.T) {
	long := strings.Repeat("x", MaxLine+10)
	tests := []struct {
		name, in string
		want     []line
	}{
		{"empty", "", nil},
		{"no newline at end", "198.18.1.2", []line{{"198.18.1.2", 1, 0, ""}}},
		{"comments, blanks, bad lines", "# fleet\n\n198.18.1.2\nno such host\n  \n!!\n2001:db8::2 # v6\r\n",
			[]line{
				{"198.18.1.2", 3, 0, ""},
				{"no such host", 4, 1, `"no such host": one host per line`},
				{"!!", 6, 2, `"!!": not a host name`},
				{"2001:db8::2", 7, 3, ""},
			}},
		{"a line too long, then on", long + "\nhost.example\n",
			[]line{
				{long[:40] + "…", 1, 0, "line longer than 4096 bytes"},
				{"host.example", 2, 1, ""},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := collect(Lines(strings.NewReader(tt.in)))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Lines (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLinesReadError(t *testing.T) {
	got := collect(Lines(iotest.OneByteReader(strings.NewReader("198.18.1.2\n"))))
	if diff := cmp.Diff([]line{{"198.18.1.2", 1, 0, ""}}, got); diff != "" {
		t.Errorf("one-byte reads (-want +got):\n%s", diff)
	}
	r := io.MultiReader(strings.NewReader("198.18.1.2\n"), iotest.ErrReader(errors.New("disk gone")))
	got = collect(Lines(r))
	want := []line{{"198.18.1.2", 1, 0, ""}, {"", 2, 1, "reading: disk gone"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("a read error (-want +got):\n%s", diff)
	}
}

func TestLinesStopsEarly(t *testing.T) {
	n := 0
	for range Lines(strings.NewReader("a\nb\nc\n")) {
		n++
		if n == 2 {
			break
		}
	}
	if n != 2 {
		t.Errorf("read %d targets, want to stop at 2", n)
	}
}

func TestHosts(t *testing.T) {
	got := collect(Hosts([]string{"198.18.1.2", " ", "x y", "db.example"}))
	want := []line{
		{"198.18.1.2", 0, 0, ""},
		{"", 0, 1, "the host is empty"},
		{"x y", 0, 2, `"x y": not a host name`},
		{"db.example", 0, 3, ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Hosts (-want +got):\n%s", diff)
	}
}

// FuzzLines: any input gives targets with increasing line numbers and
// indexes 0, 1, 2..., each either a host ParseLine accepts or an error.
func FuzzLines(f *testing.F) {
	for _, s := range []string{"", "198.18.1.2\n# x\n\nbad line\n", "[2001:db8::1]\r\n", strings.Repeat("y", MaxLine+3)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var prev []Target
		for tg := range Lines(strings.NewReader(in)) {
			if tg.Index != len(prev) {
				t.Fatalf("index %d, want %d", tg.Index, len(prev))
			}
			if len(prev) > 0 && tg.Line <= prev[len(prev)-1].Line {
				t.Fatalf("line %d after %d", tg.Line, prev[len(prev)-1].Line)
			}
			if tg.Err == nil {
				if h, err := ParseLine(tg.Host); err != nil || h != tg.Host {
					t.Fatalf("host %q does not parse back: %q, %v", tg.Host, h, err)
				}
			}
			prev = append(prev, tg)
		}
		if n := strings.Count(in, "\n") + 1; len(prev) > n {
			t.Fatalf("%d targets from %d lines", len(prev), n)
		}
	})
}
