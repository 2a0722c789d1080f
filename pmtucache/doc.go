// Package pmtucache remembers path MTUs the way the Linux kernel does, so a
// second run of pmtu toward the same destination can answer at once.
//
// # The model
//
// A Cache holds one Entry per Key: destination address, source address
// (which may be the zero netip.Addr), the network namespace instance
// (Network: the boot ID and the namespace's SO_NETNS_COOKIE, which unlike
// its inode number is never reused while the machine is up), and the probe
// protocol and port. An entry holds the path MTU in IP packet bytes,
// whether it is the path MTU itself or only a lower bound (a search that
// stopped at its ceiling), how it was learned (an ICMP that named it, or
// probes alone), the router that reported it, the egress interface and its
// MTU, the kernel's own exception toward the destination when it was
// stored, and when it expires. Update follows Linux's
// __ip_rt_update_pmtu (net/ipv4/route.c) and the RFCs it implements:
//
//   - An entry lives for DefaultLifetime, 10 minutes: the kernel's
//     net.ipv4.route.mtu_expires of 600 s, the "about 10 minutes" RFC 1191
//     §6.3 and RFC 8201 §5.3 ask for before trying larger sizes again.
//   - Expiry is lazy, as in the kernel: an expired entry is dropped when it
//     is looked up; a Store also prunes expired entries when it saves.
//   - An ICMP never raises a path MTU (RFC 1191 §3, RFC 8201 §4): a larger
//     value than the cached one is ignored. A smaller value replaces it and
//     restarts the clock. The same value restarts the clock only once half
//     of the lifetime or less is left, as the kernel does.
//   - What probes proved (RFC 4821, RFC 8899) replaces what an ICMP said,
//     even when larger, and replaces what earlier probes proved.
//   - IPv6 values below 1280 (RFC 8200 §5) and IPv4 values below 68
//     (RFC 791) are refused. IPv4 values from 68 to 551 are kept as reported
//     but flagged BelowFloor: there Linux would store and lock its min_pmtu
//     of 552 instead (net.ipv4.route.min_pmtu).
//
// Update reports which rule applied in a Result.
//
// # Answers that still hold
//
// Measured stores what a finished search proved: a probe of that size came
// back, so it replaces the entry for its key, except that a lower bound
// does not replace a full answer it agrees with. Answer gives an entry only
// for a Query it answers, in a world where it still holds: same Key, not
// expired, the same egress interface and MTU, the kernel's twin exception
// (made by the same Frag Needed or Packet Too Big) still there with the
// same MTU while it should be alive, and the query's bounds containing the
// value. Otherwise it says why, wrapping ErrNoEntry, ErrStale or
// ErrOtherQuestion.
//
// # Kept between runs
//
// A Store keeps a Cache in a versioned JSON file, by default
// $XDG_CACHE_HOME/pmtu/cache.json (see DefaultPath). Store.Update takes an
// advisory lock (flock(2) on a sibling ".lock" file), loads, applies a
// change, prunes and replaces the file atomically (a temporary file in the
// same directory, then rename), so many pmtu processes at once lose no
// entry. Store.Load takes no lock and never blocks: a corrupt, truncated or
// foreign file gives one warning wrapping ErrCorrupt and an empty cache, and
// is rebuilt by the next Store.Update. A file of an older format version
// (version 1 keyed entries by the reusable namespace inode) is read as
// empty, without a warning, and rewritten by the next Store.Update.
//
// # The kernel's view
//
// WithKernel pairs each entry with the kernel's own path MTU exception for
// the same destination (package route, like `ip route get`), so the two can
// be shown side by side.
package pmtucache
