package exporter

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseRequest(t *testing.T) {
	modules := map[string]Options{"jumbo": {MaxSize: 9000, Tries: 5}, "https": {Proto: "tcp", Port: 443}}
	tests := []struct {
		name  string
		query string
		want  Request
	}{
		{"target only", "target=198.18.3.2", Request{Target: "198.18.3.2"}},
		{"every option", "target=h&proto=UDP&port=53&family=ip6&max_size=1500&min_size=1280&tries=4&timeout=250ms&trace=1",
			Request{Target: "h", Options: Options{Proto: "udp", Port: 53, Family: "ip6", MaxSize: 1500, MinSize: 1280, Tries: 4, Timeout: 250 * time.Millisecond, Trace: true}}},
		{"module", "target=h&module=jumbo", Request{Target: "h", Module: "jumbo", Options: Options{MaxSize: 9000, Tries: 5}}},
		{"parameter overrides module", "target=h&module=jumbo&tries=2", Request{Target: "h", Module: "jumbo", Options: Options{MaxSize: 9000, Tries: 2}}},
		{"debug and cache", "target=h&debug=true&cache=5m", Request{Target: "h", Debug: true, MaxAge: 5 * time.Minute}},
		{"trace=false", "target=h&trace=false", Request{Target: "h"}},
		{"ipv6 literal", "target=[2001:db8::1]", Request{Target: "[2001:db8::1]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseRequest(q, modules)
			if err != nil {
				t.Fatalf("ParseRequest(%q): %v", tt.query, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseRequest(%q) (-want +got):\n%s", tt.query, diff)
			}
		})
	}
}

// badParams is every way a parameter can be wrong, with the parameter the
// error must name. The HTTP test answers each with 400.
var badParams = []struct {
	name  string
	query string
	param string
}{
	{"no target", "proto=icmp", "target"},
	{"empty target", "target=", "target"},
	{"target with a slash", "target=198.18.0.0/16", "target"},
	{"unknown parameter", "target=h&size=1500", "size"},
	{"repeated parameter", "target=h&tries=1&tries=2", "tries"},
	{"unknown module", "target=h&module=nope", "module"},
	{"bad proto", "target=h&proto=sctp", "proto"},
	{"bad family", "target=h&family=ipx", "family"},
	{"port with icmp", "target=h&port=80", "port"},
	{"port out of range", "target=h&proto=udp&port=70000", "port"},
	{"port not a number", "target=h&proto=udp&port=http", "port"},
	{"max_size too small", "target=h&max_size=67", "max_size"},
	{"max_size too big", "target=h&max_size=65536", "max_size"},
	{"max_size not a number", "target=h&max_size=big", "max_size"},
	{"min_size above max_size", "target=h&min_size=1400&max_size=1300", "min_size"},
	{"min_size too small", "target=h&min_size=10", "min_size"},
	{"tries zero", "target=h&tries=0", "tries"},
	{"tries too many", "target=h&tries=101", "tries"},
	{"timeout not a duration", "target=h&timeout=soon", "timeout"},
	{"timeout negative", "target=h&timeout=-1s", "timeout"},
	{"timeout too long", "target=h&timeout=2h", "timeout"},
	{"trace not a bool", "target=h&trace=maybe", "trace"},
	{"debug not a bool", "target=h&debug=2", "debug"},
	{"cache not a duration", "target=h&cache=later", "cache"},
	{"cache too long", "target=h&cache=48h", "cache"},
}

func TestParseRequestErrors(t *testing.T) {
	for _, tt := range badParams {
		t.Run(tt.name, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseRequest(q, map[string]Options{"jumbo": {MaxSize: 9000}})
			var pe *ParamError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseRequest(%q) = %v, want a *ParamError", tt.query, err)
			}
			if pe.Param != tt.param {
				t.Errorf("ParseRequest(%q) names %q, want %q (%v)", tt.query, pe.Param, tt.param, err)
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "parameter "+tt.param) {
				t.Errorf("error %q is not one line starting %q", msg, "parameter "+tt.param)
			}
		})
	}
}

// Options.Query is read back by ParseRequest as the same options.
func TestQueryRoundTrip(t *testing.T) {
	for _, o := range []Options{
		{},
		{Proto: "tcp", Port: 443, Family: "ip4", MaxSize: 9000, MinSize: 576, Tries: 7, Timeout: 1500 * time.Millisecond, Trace: true},
	} {
		q := o.Query()
		q.Set("target", "h")
		got, err := ParseRequest(q, nil)
		if err != nil {
			t.Fatalf("ParseRequest(%s): %v", q.Encode(), err)
		}
		if diff := cmp.Diff(o, got.Options); diff != "" {
			t.Errorf("round trip of %s (-want +got):\n%s", q.Encode(), diff)
		}
	}
}

func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{"target=198.18.3.2", "target=h&proto=tcp&port=443&max_size=9000&min_size=1280&tries=3&timeout=1s&trace=1&debug=true&cache=1m", "module=x&target=y"} {
		f.Add(s)
	}
	for _, tt := range badParams {
		f.Add(tt.query)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		r, err := ParseRequest(q, map[string]Options{"x": {Proto: "udp"}})
		if err != nil {
			var pe *ParamError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseRequest(%q) = %v, not a *ParamError", raw, err)
			}
			if !q.Has(pe.Param) && !slices.Contains(params, pe.Param) {
				t.Fatalf("error names %q, not a parameter of %q", pe.Param, raw)
			}
			return
		}
		if r.Target == "" {
			t.Fatalf("ParseRequest(%q) accepted an empty target", raw)
		}
		if err := r.Options.Check(); err != nil {
			t.Fatalf("ParseRequest(%q) accepted options that fail Check: %v", raw, err)
		}
	})
}

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig([]byte(`
modules:
  jumbo:
    max_size: 9000
  https:
    proto: tcp
    port: 443
    timeout: 500ms
    family: ip6
    trace: true
`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Options{
		"jumbo": {MaxSize: 9000},
		"https": {Proto: "tcp", Port: 443, Timeout: 500 * time.Millisecond, Family: "ip6", Trace: true},
	}
	if diff := cmp.Diff(want, c.Modules); diff != "" {
		t.Errorf("modules (-want +got):\n%s", diff)
	}
	if c, err := ParseConfig(nil); err != nil || len(c.Modules) != 0 {
		t.Errorf("empty file: %v, %v; want no modules, no error", c, err)
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "modules:\n  a:\n    max_sise: 9000\n", "max_sise"},
		{"bad size", "modules:\n  a:\n    max_size: 12\n", "module a: max_size"},
		{"bad timeout", "modules:\n  a:\n    timeout: soon\n", "module a: timeout"},
		{"port with icmp", "modules:\n  a:\n    port: 80\n", "module a: port"},
		{"not yaml", "modules: [\n", "config:"},
		{"unknown top key", "module:\n  a: {}\n", "module"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseConfig: %v, want an error saying %q", err, tt.want)
			}
		})
	}
}
