// Package ecmp merges path MTU searches made on many flows toward one
// target, and says how sure their answer is.
//
// A router that spreads traffic over equal-cost paths (ECMP) picks a
// branch per flow, by a hash of its addresses, protocol and ports (Linux
// with net.ipv4.fib_multipath_hash_policy=1) or its IPv6 flow label.
// When one branch has a narrower link, some flows see a smaller path MTU
// than others. One search per flow, each keeping one flow identity as
// Paris traceroute does (Augustin et al., IMC 2006), finds the path MTU of
// the branch that flow hashes to; Merge groups the flows by what they
// found, and MissBound says which branches N flows would have seen.
//
// # How sure
//
// A branch that carries a fraction p of the flows is missed by all N
// flows with probability (1−p)^N. MissBound gives the largest k such that
// a branch of fraction 1/k is missed with probability at most α (5%); StopAt
// is the stopping rule of the Multipath Detection Algorithm (Veitch,
// Augustin, Friedman, Teixeira, "Failure Control in Multipath Route
// Tracing", INFOCOM 2009): the flows needed, having seen k branches, to
// rule out a (k+1)th one, balanced, at confidence 1−α.
//
// Everything here is pure: no sockets, no clocks.
package ecmp
