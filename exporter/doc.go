// Package exporter is pmtu's Prometheus exporter: the HTTP side of
// `pmtu serve`. It follows the multi-target pattern of blackbox_exporter
// and snmp_exporter: Prometheus asks GET /probe?target=HOST, the exporter
// runs one path MTU search toward HOST and answers in the Prometheus text
// format, from a registry made for that request (promhttp.HandlerFor).
//
// The package does not send packets. It is given a Prober, a function
// that runs one search with the Options it asks for and returns a Result;
// `pmtu serve` passes one that uses package probe. Tests pass a fake.
//
// # Requests
//
// /probe takes the target and the search's parameters (proto, port,
// family, max_size, min_size, tries, timeout, trace), optionally a named
// module of defaults from a configuration file (module), debug=true for
// the search's log instead of metrics, and cache=D to accept a result at
// most D old. Every scrape measures afresh unless cache is given. A bad
// or unknown parameter is answered 400 with one line naming it.
//
// The search's deadline is the X-Prometheus-Scrape-Timeout-Seconds
// header (10 s without it) minus a margin, so an answer is ready before
// Prometheus gives up on the scrape.
//
// # Safety
//
// An open /probe makes this host send packets wherever it is told, so a
// Server limits who is probed (Allow: a target whose address lies outside
// every prefix is answered 403) and how many searches run at once
// (MaxConcurrent: one more is answered 503 at once, holding no memory).
// The address checked is the address probed: a name is resolved once.
//
// # Metrics
//
// Per probe: pmtu_probe_success, pmtu_probe_duration_seconds,
// pmtu_path_mtu_bytes, pmtu_black_hole, pmtu_path_mtu_info{evidence,
// limiting_hop}, pmtu_interface_mtu_bytes, pmtu_kernel_cached_mtu_bytes,
// pmtu_probes_sent, pmtu_round_trips, pmtu_icmp_ignored and, with trace=1,
// pmtu_hop_path_mtu_bytes{ttl,address}. On /metrics, the exporter's own:
// Go runtime and process, pmtu_exporter_probes_in_flight and
// pmtu_exporter_searches_total{result}. Names follow the Prometheus
// naming practices: base units (bytes, seconds), a pmtu_ prefix, _total
// for counters only.
package exporter
