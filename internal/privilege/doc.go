// Package privilege says which probe methods the running process may use:
// whether CAP_NET_RAW is in its effective capability set (raw sockets), and
// whether net.ipv4.ping_group_range admits one of its groups (ICMP datagram
// "ping" sockets, which IPv6 ping sockets share). UDP with IP_RECVERR needs
// neither.
//
// The parsers (ParseCapEff, ParseGroupRange) are pure; Check reads
// /proc/self/status and /proc/sys/net/ipv4/ping_group_range on Linux and
// returns errors.ErrUnsupported elsewhere. The answers are those of the
// network namespace and the credentials the process has when it calls Check:
// the kernel checks the same ones when a socket is made (capable(CAP_NET_RAW)
// in inet_create; ping_init_sock compares the effective GID and every
// supplementary group with the range).
package privilege
