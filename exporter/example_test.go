package exporter_test

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"

	"github.com/pmtu/pmtu/exporter"
)

// A Server with a prober of its own: pmtu serve passes one that sends
// probes; this one answers 1400 for every target.
func ExampleServer() {
	s := &exporter.Server{
		Prober: func(ctx context.Context, target string, opts exporter.Options, log io.Writer) (exporter.Result, error) {
			fmt.Fprintf(log, "probing %s up to %d bytes\n", target, opts.MaxSize)
			return exporter.Result{PMTU: 1400, Evidence: "icmp", LimitingHop: "198.18.2.2", InterfaceMTU: 1500, Probes: 2, Rounds: 2}, nil
		},
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/probe?target=198.18.3.2&max_size=1500", nil))
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if strings.HasPrefix(line, "pmtu_path_mtu") {
			fmt.Println(line)
		}
	}
	// Output:
	// pmtu_path_mtu_bytes 1400
	// pmtu_path_mtu_info{evidence="icmp",limiting_hop="198.18.2.2"} 1
}
