// Package measure is what `pmtu HOST` does, as one call a Go program can
// make: resolve the host and read the route, ask the cache under its
// trust rules, search with probe.Find and its fallbacks, explain a
// failure in the user's terms (package explain), and store what was
// proved. Its Report is the JSON schema of `pmtu HOST --json`
// (docs/json.md); cmd/pmtu only parses flags and prints it.
//
// # One host, many hosts
//
// Host measures one host. A Session measures many with one cache read
// and one cache write, sharing whatever Options.Probe shares: a
// probe.Engine (one raw socket per family) and a packet budget (Pace).
//
// # Errors
//
// Every failure is an *Error whose Msg is one sentence for the user and
// whose Kind says what kind it is: NoAnswer (the Report says what was
// proved), BadInput, CannotProbe or Stopped.
//
// # Cache
//
// Answers are cached for 10 minutes (RFC 1981 §5.3, Linux's
// net.ipv4.route.mtu_expires) in pmtucache's file, keyed by the probing
// namespace, source, protocol and port; see package pmtucache for when
// an entry is trusted.
package measure
