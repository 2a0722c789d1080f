// Package mesh is pmtu mesh: one agent per node that measures its own
// outbound path MTU to every peer, and answers its peers' probes.
//
// # Parts
//
//   - peers.go: the peer set, from a SPEC (dns:NAME, file:PATH or a comma
//     list), re-resolved every interval through an injected resolver, the
//     agent's own addresses left out.
//   - responder.go: Responder, which acknowledges a probe with a small
//     datagram saying how many bytes arrived, only for peers, only with a
//     valid HMAC when keyed, within a per-source budget, never longer than
//     the probe. The datagrams are probe/wire's (mesh.go). A probe may
//     ask for a shaped acknowledgement: one that comes back carrying an
//     IPv6 Hop-by-Hop or Destination Options header, in an IP packet of a
//     size it names but never larger than itself (pmtu check's return
//     direction of extension headers). The socket attaches the header as
//     ancillary data, which Linux allows only with CAP_NET_RAW; without
//     it the acknowledgement goes without the header and says so.
//   - agent.go: Agent, which runs one search (probe/search.Discover) per
//     peer over a transport.MeshSocket, one UDP socket per family, spread
//     over the interval with jitter, at once for a new peer or a signal.
//   - metrics.go: the Prometheus metrics of the matrix row this agent owns.
//   - page.go: the heatmap at /, built from this agent's row and its
//     peers' rows, read from their /metrics.
//
// # Why a responder
//
// A path MTU found from ICMP alone trusts routers to send it and
// networks to deliver it: an L2 segment with a smaller port drops big
// frames with no ICMP at all, and NAT and load balancers eat Packet Too
// Big. Echo measures a round trip. Here the peer says what arrived, so
// each direction is measured exactly by the node it leaves from
// (RFC 8899's probe acknowledgement, as DPLPMTUD over UDP does).
// Fragmentation Needed and Packet Too Big still count as evidence when
// they come (RFC 1191, RFC 8201), validated as every pmtu method
// validates them (RFC 5927).
//
// # Privilege
//
// None: the probes leave from an ordinary UDP socket with
// IP_PMTUDISC_PROBE (IPv6: IPV6_PMTUDISC_PROBE), which sets DF and sizes
// against the interface MTU, and IP_RECVERR, which queues ICMP errors on
// the socket. The agent runs as a non-root user with no capability.
package mesh
