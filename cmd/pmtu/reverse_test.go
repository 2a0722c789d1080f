package main

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pmtu/pmtu/measure"
	"github.com/pmtu/pmtu/probe"
	"github.com/pmtu/pmtu/probe/search"
)

func TestReverseReport(t *testing.T) {
	tests := []struct {
		name     string
		res      probe.Result
		wantJSON string // the fields this adds
		wantText string // directionText
	}{
		{"fragmented replies",
			probe.Result{Return: probe.ReturnBounds{Min: 1300, Max: 1307, Evidence: search.ReturnFragmented}},
			`{"black_hole":false,"reverse":{"min":1300,"max":1307,"evidence":"fragmented replies"}}`,
			"  return path: MTU 1300 to 1307 (fragmented replies)\n"},
		{"whole replies",
			probe.Result{Return: probe.ReturnBounds{Min: 1500, Evidence: search.ReturnWhole}},
			`{"black_hole":false,"reverse":{"min":1500,"max":0,"evidence":"whole replies"}}`,
			"  return path: carries at least 1500 (whole replies)\n"},
		{"udp: unknown",
			probe.Result{},
			`{"black_hole":false,"reverse":{"min":0,"max":0,"evidence":"unknown"}}`,
			"  return path: MTU unknown (the answers to these probes are small)\n"},
		{"a return black hole",
			probe.Result{Return: probe.ReturnBounds{Min: 1300, Max: 1300, Evidence: search.ReturnLost},
				BlackHoleDirection: probe.BlackHoleReturn, ForwardMethod: probe.MethodUDP},
			`{"black_hole":true,"black_hole_direction":"return","forward_method":"udp","reverse":{"min":1300,"max":1300,"evidence":"lost replies"}}`,
			"  return path: MTU 1300 (lost replies)\n" +
				"  the black hole is on the way back: a router there drops the Packet Too Big the target is owed, " +
				"or ICMP to the target is filtered\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &measure.Report{}
			r.FromFind(&tt.res, 1500)
			full, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			// Only the fields this adds, in the report's own encoding.
			var all map[string]json.RawMessage
			if err := json.Unmarshal(full, &all); err != nil {
				t.Fatal(err)
			}
			some := map[string]json.RawMessage{}
			for _, k := range []string{"black_hole", "black_hole_direction", "reverse", "forward_method"} {
				if v, ok := all[k]; ok {
					some[k] = v
				}
			}
			b, err := json.Marshal(some)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantJSON, string(b)); diff != "" {
				t.Errorf("JSON (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantText, directionText(r)); diff != "" {
				t.Errorf("text (-want +got):\n%s", diff)
			}
		})
	}
}
