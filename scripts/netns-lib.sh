# shellcheck shell=bash
# shellcheck disable=SC2034 # sets variables for the scripts that source it
#
# netns-lib.sh: helpers for building throw-away network namespaces with
# chosen link MTUs, to run pmtu against real Linux routers. Source it:
#
#     . scripts/netns-lib.sh
#     trap netns_cleanup EXIT
#     chain_build 1500 1492 1400 1280
#     c ping -c1 "$T4"
#
# Every namespace is named "$NETNS_PREFIX-SHORT" (default prefix pmtu-$$, so
# names are per run) and gets a wrapper function SHORT that runs a command
# inside it, as WireGuard's tests/netns.sh does: "c ip route", "r1 nft list
# ruleset", "t ping ...". NS_SHORT (upper case) holds the full name, for
# "ip netns exec" and "ip -n".
#
# Only 198.18.0.0/15 and 2001:db8::/32 are used, and only inside the
# namespaces made here. No namespace gets a default route, and each gets its
# own resolv.conf naming its own loopback, so nothing can leave toward the
# machine's real network: a name lookup fails inside the namespace at once.
# The root namespace's addresses, routes and sysctls are never touched.
#
# Kernel notes (see shared/REFERENCE.md): veth, bridge and vxlan exist here;
# netem, gre and dummy do not. A device whose MTU is below 1280 loses its
# IPv6 addresses (the kernel turns IPv6 off on it), so such links carry IPv4
# only. DAD is off in every namespace and addresses are added "nodad", so
# IPv6 works at once. ICMP rate limits keep the kernel defaults (Frag Needed
# and Packet Too Big are never rate-limited).

NETNS_PREFIX=${NETNS_PREFIX:-pmtu-$$}
NETNS_LIST=()          # full names of the namespaces made so far, in order
NETNS_ETC_MADE=0       # 1 when this run created /etc/netns itself

# netns_die MSG: print MSG on stderr and fail.
netns_die() {
	echo "netns-lib: $*" >&2
	return 1
}

# ns_add SHORT [router]: make namespace $NETNS_PREFIX-SHORT, the wrapper
# function SHORT and the variable NS_SHORT. With "router", forwarding is on.
ns_add() {
	local short=$1 role=${2:-host} full var
	[[ $short =~ ^[a-z][a-z0-9]*$ ]] || netns_die "bad namespace name '$short'" || return
	full="$NETNS_PREFIX-$short"
	var="NS_${short^^}"
	ip netns add "$full" || return
	NETNS_LIST+=("$full")
	printf -v "$var" '%s' "$full"
	eval "$short() { ip netns exec \"\$$var\" \"\$@\"; }"

	# Name lookups inside the namespace go to its own loopback, where
	# nothing listens: "ip netns exec" bind-mounts this file over
	# /etc/resolv.conf.
	if [[ ! -d /etc/netns ]]; then
		mkdir -p /etc/netns && NETNS_ETC_MADE=1
	fi
	mkdir -p "/etc/netns/$full"
	echo "nameserver 127.0.0.1" >"/etc/netns/$full/resolv.conf"

	ip -n "$full" link set lo up
	ip netns exec "$full" sysctl -q -w \
		net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.accept_ra=0 \
		net.ipv6.conf.default.accept_ra=0 >/dev/null
	if [[ $role == router ]]; then
		ip netns exec "$full" sysctl -q -w \
			net.ipv4.ip_forward=1 \
			net.ipv6.conf.all.forwarding=1 >/dev/null
	fi
}

# netns_cleanup: kill what runs in our namespaces and delete them. Safe to
# call twice, and from an EXIT trap after a failure.
netns_cleanup() {
	local ns pids saved
	saved=$(trap -p INT TERM)
	trap '' INT TERM # finish cleaning up, even on a second Ctrl-C
	for ns in "${NETNS_LIST[@]}"; do
		pids=$(ip netns pids "$ns" 2>/dev/null) || true
		if [[ -n $pids ]]; then
			# shellcheck disable=SC2086 # one pid a word
			kill $pids 2>/dev/null || true
		fi
		ip netns del "$ns" 2>/dev/null || true
		rm -rf "/etc/netns/${ns:?}"
	done
	NETNS_LIST=()
	NETNS_V6=()
	if ((NETNS_ETC_MADE)); then
		rmdir /etc/netns 2>/dev/null && NETNS_ETC_MADE=0
	fi
	trap - INT TERM
	eval "$saved"
	return 0
}

# netns_sweep PREFIX: delete every namespace named PREFIX-something, for a
# parent whose children made namespaces under per-run prefixes and may have
# been killed before their own cleanup ran. PREFIX must be per run.
netns_sweep() {
	local prefix=${1:?} ns
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		[[ $ns == "$prefix"-* ]] || continue
		NETNS_LIST+=("$ns")
	done
	netns_cleanup
}

# veth_link LEFT LDEV RIGHT RDEV MTU: a veth pair between two of our
# namespaces (short names), both ends at MTU, both up.
veth_link() {
	local left=$1 ldev=$2 right=$3 rdev=$4 mtu=$5 lns rns
	lns=$(ns_full "$left") && rns=$(ns_full "$right") || return
	ip -n "$lns" link add "$ldev" type veth peer name "$rdev" netns "$rns" || return
	ip -n "$lns" link set "$ldev" mtu "$mtu" up &&
		ip -n "$rns" link set "$rdev" mtu "$mtu" up
}

# ns_full SHORT: the full name of one of our namespaces.
ns_full() {
	local var="NS_${1^^}"
	[[ -n ${!var:-} ]] || netns_die "no namespace '$1' in this run" || return
	printf '%s\n' "${!var}"
}

# set_mtu SHORT DEV MTU: change a device's MTU. The kernel drops a device's
# IPv6 addresses when its MTU goes below 1280 and does not bring them back
# when it goes up again: set_mtu keeps them (NETNS_V6) and puts them back.
declare -gA NETNS_V6=() # "ns/dev" -> global IPv6 addresses (with /len) to restore
set_mtu() {
	local ns dev=$2 mtu=$3 a
	ns=$(ns_full "$1") || return
	for a in $(ip -n "$ns" -6 -o addr show dev "$dev" scope global | awk '{print $4}'); do
		[[ " ${NETNS_V6[$ns/$dev]:-} " == *" $a "* ]] || NETNS_V6[$ns/$dev]+=" $a"
	done
	ip -n "$ns" link set "$dev" mtu "$mtu" || return
	if ((mtu >= 1280)); then
		for a in ${NETNS_V6[$ns/$dev]:-}; do
			ip -n "$ns" -6 addr replace "$a" dev "$dev" nodad || return
		done
	fi
}

# wait_ipv6 SHORT...: wait (at most 5 s) until no address is tentative.
wait_ipv6() {
	local short ns i
	for short in "$@"; do
		ns=$(ns_full "$short") || return
		for ((i = 0; i < 50; i++)); do
			[[ -z $(ip -n "$ns" -6 addr show tentative) ]] && break
			sleep 0.1
		done
	done
}

# flush_pmtu SHORT: forget the PMTU exceptions the kernel learned in a
# namespace (after sanity pings, so pmtu starts from a clean kernel).
flush_pmtu() {
	local ns
	ns=$(ns_full "$1") || return
	ip -n "$ns" -4 route flush cache &&
		ip -n "$ns" -6 route flush cache
}

# ---------------------------------------------------------------------------
# A linear chain.
#
# chain_build MTU1 MTU2 ... MTUn: n links, n-1 routers. Link i joins node
# i-1 (left, toward the client) and node i (right, toward the target); node
# 0 is the client c, nodes 1..n-1 are routers r1..r(n-1), node n is the
# target t. For chain_build 1500 1492 1400 1280:
#
#   c                r1               r2               r3               t
#   veth1a ──1500── veth1b  veth2a ──1492── veth2b  veth3a ──1400── veth3b  veth4a ──1280── veth4b
#   .1.1            .1.2    .2.1            .2.2    .3.1            .3.2    .4.1            .4.2
#
# Link i is 198.18.i.0/24 and 2001:db8:i::/64: left end .1 / ::1, right end
# .2 / ::2 (links below 1280 carry no IPv6). Each node has a route to every
# other link's subnet through its neighbor on that side; routers forward.
#
# A router sends its ICMP (Frag Needed, Packet Too Big) from its address on
# the interface toward the client, the way Linux picks an ICMP source by
# default: router rK answers from 198.18.K.2 / 2001:db8:K::2 (chain_hop4 K,
# chain_hop6 K).
#
# Sets: CHAIN_N (links), CHAIN_MTUS (array, index 1..n), C4/C6 (client),
# T4/T6 (target), CHAIN_PMTU (the smallest link MTU) and CHAIN_BOTTLENECK
# (the first link at that MTU).
chain_build() {
	(($# >= 1)) || netns_die "chain_build: need at least one link MTU" || return
	local n=$# i j k mtu
	CHAIN_N=$n
	CHAIN_MTUS=(0 "$@")
	CHAIN_PMTU=${CHAIN_MTUS[1]}
	CHAIN_BOTTLENECK=1
	for ((i = 1; i <= n; i++)); do
		mtu=${CHAIN_MTUS[i]}
		[[ $mtu =~ ^[0-9]+$ ]] && ((mtu >= 68 && mtu <= 65535)) ||
			netns_die "chain_build: bad MTU '$mtu'" || return
		if ((mtu < CHAIN_PMTU)); then
			CHAIN_PMTU=$mtu
			CHAIN_BOTTLENECK=$i
		fi
	done

	ns_add c || return
	for ((i = 1; i < n; i++)); do
		ns_add "r$i" router || return
	done
	ns_add t || return

	for ((i = 1; i <= n; i++)); do
		mtu=${CHAIN_MTUS[i]}
		veth_link "$(chain_node $((i - 1)))" "veth${i}a" "$(chain_node "$i")" "veth${i}b" "$mtu" || return
		"$(chain_node $((i - 1)))" ip addr add "198.18.$i.1/24" dev "veth${i}a" || return
		"$(chain_node "$i")" ip addr add "198.18.$i.2/24" dev "veth${i}b" || return
		if ((mtu >= 1280)); then
			"$(chain_node $((i - 1)))" ip -6 addr add "2001:db8:$i::1/64" dev "veth${i}a" nodad || return
			"$(chain_node "$i")" ip -6 addr add "2001:db8:$i::2/64" dev "veth${i}b" nodad || return
		else
			# No IPv6 below 1280; set_mtu puts these back if the link grows.
			NETNS_V6[$(ns_full "$(chain_node $((i - 1)))")/veth${i}a]=" 2001:db8:$i::1/64"
			NETNS_V6[$(ns_full "$(chain_node "$i")")/veth${i}b]=" 2001:db8:$i::2/64"
		fi
	done

	# Routes: node k reaches link j (not one of its own) through its left
	# neighbor (198.18.k.1) when j < k, through its right neighbor
	# (198.18.(k+1).2) when j > k+1. IPv6 only where every link on the
	# way carries IPv6.
	for ((k = 0; k <= n; k++)); do
		for ((j = 1; j <= n; j++)); do
			if ((j < k)); then
				"$(chain_node "$k")" ip route add "198.18.$j.0/24" via "198.18.$k.1" || return
				if chain_has6 "$j" "$k"; then
					"$(chain_node "$k")" ip -6 route add "2001:db8:$j::/64" via "2001:db8:$k::1" || return
				fi
			elif ((j > k + 1)); then
				"$(chain_node "$k")" ip route add "198.18.$j.0/24" via "198.18.$((k + 1)).2" || return
				if chain_has6 $((k + 1)) "$j"; then
					"$(chain_node "$k")" ip -6 route add "2001:db8:$j::/64" via "2001:db8:$((k + 1))::2" || return
				fi
			fi
		done
	done

	C4=198.18.1.1
	C6=2001:db8:1::1
	T4=198.18.$n.2
	T6=2001:db8:$n::2
	local nodes=(c)
	for ((i = 1; i < n; i++)); do nodes+=("r$i"); done
	nodes+=(t)
	wait_ipv6 "${nodes[@]}"
}

# chain_node K: the short name of node K (0 = c, n = t, else rK).
chain_node() {
	if (($1 == 0)); then
		echo c
	elif (($1 == CHAIN_N)); then
		echo t
	else
		echo "r$1"
	fi
}

# chain_has6 FROM TO: links FROM..TO all carry IPv6 (MTU 1280 or more).
chain_has6() {
	local i
	for ((i = $1; i <= $2; i++)); do
		((CHAIN_MTUS[i] >= 1280)) || return 1
	done
}

# chain_hop4 K / chain_hop6 K: router rK's address toward the client, the
# source of the ICMP it sends back.
chain_hop4() { echo "198.18.$1.2"; }
chain_hop6() { echo "2001:db8:$1::2"; }

# chain_limiting_hop4 / 6: the router that owns the bottleneck link (the one
# whose egress is the smallest MTU), or "" when the bottleneck is link 1 (the
# client's own interface: no router says anything).
chain_limiting_hop4() {
	((CHAIN_BOTTLENECK > 1)) && chain_hop4 $((CHAIN_BOTTLENECK - 1)) || echo ""
}
chain_limiting_hop6() {
	((CHAIN_BOTTLENECK > 1)) && chain_hop6 $((CHAIN_BOTTLENECK - 1)) || echo ""
}

# router_blackhole SHORT: router SHORT drops the Frag Needed and Packet Too
# Big its own kernel makes (a PMTUD black hole, RFC 2923: its ICMP is
# filtered), in nft table "inet pmtu", chain "blackhole" on the output hook,
# which callers may add to. Only locally made packets pass the output hook,
# so what it forwards is untouched.
router_blackhole() {
	"$1" nft -f - <<-'EOF'
		table inet pmtu {
			chain blackhole {
				type filter hook output priority filter; policy accept;
				icmp type destination-unreachable icmp code frag-needed drop
				icmpv6 type packet-too-big drop
			}
		}
	EOF
}

# router_silent SHORT: router SHORT sends no Time Exceeded of its own (IPv4
# and IPv6), as routers that hide from traceroute do, in nft table "inet
# pmtu", chain "silent" on the output hook.
router_silent() {
	"$1" nft -f - <<-'EOF'
		table inet pmtu {
			chain silent {
				type filter hook output priority filter; policy accept;
				icmp type time-exceeded drop
				icmpv6 type time-exceeded drop
			}
		}
	EOF
}

# ---------------------------------------------------------------------------
# A VXLAN overlay.
#
# vxlan_build [UNDERLAY_MTU]: a chain c ── r1 ── t whose two links are
# UNDERLAY_MTU (default 1500), and a VXLAN tunnel (VNI 42, UDP 4789, IPv4
# underlay) between c and t, whose devices are UNDERLAY_MTU - 50:
#
#   c                          r1                          t
#   veth1a ──1500── veth1b   veth2a ──1500── veth2b
#   198.18.1.1                                         198.18.2.2
#   vx0 ═══════════════ VXLAN 42 over UDP ═══════════════ vx0   (MTU 1450)
#   198.18.100.1/24   2001:db8:100::1/64      198.18.100.2/24   2001:db8:100::2/64
#
# Sets what chain_build sets, and VX_MTU, VX_C4/VX_C6 and VX_T4/VX_T6.
vxlan_build() {
	local under=${1:-1500}
	chain_build "$under" "$under" || return
	VX_MTU=$((under - 50))
	c ip link add vx0 mtu "$VX_MTU" type vxlan id 42 dstport 4789 \
		local "$C4" remote "$T4" dev veth1a || return
	t ip link add vx0 mtu "$VX_MTU" type vxlan id 42 dstport 4789 \
		local "$T4" remote "$C4" dev veth2b || return
	c ip addr add 198.18.100.1/24 dev vx0 &&
		t ip addr add 198.18.100.2/24 dev vx0 &&
		c ip -6 addr add 2001:db8:100::1/64 dev vx0 nodad &&
		t ip -6 addr add 2001:db8:100::2/64 dev vx0 nodad &&
		c ip link set vx0 up &&
		t ip link set vx0 up || return
	VX_C4=198.18.100.1
	VX_C6=2001:db8:100::1
	VX_T4=198.18.100.2
	VX_T6=2001:db8:100::2
	wait_ipv6 c t
}

# ---------------------------------------------------------------------------
# Checks on the topology itself.

# ping_size SHORT DST PMTU: the ping payload (-s) that makes an IP packet of
# exactly PMTU bytes toward DST (20 + 8 header bytes for IPv4, 40 + 8 for
# IPv6).
ping_size() {
	if [[ $2 == *:* ]]; then
		echo $(($3 - 48))
	else
		echo $(($3 - 28))
	fi
}

# ping_df SHORT DST SIZE [TRIES]: a don't-fragment ping of an IP packet of
# SIZE bytes, up to TRIES times (default 3, so a first packet lost to
# neighbor discovery is not a verdict). Succeeds when an answer came back.
ping_df() {
	local short=$1 dst=$2 size=$3 tries=${4:-3} s try
	s=$(ping_size "$short" "$dst" "$size")
	for ((try = 0; try < tries; try++)); do
		"$short" ping -n -q -M "do" -s "$s" -c 1 -W 1 "$dst" >/dev/null 2>&1 && return 0
	done
	return 1
}

# sanity_pmtu SHORT DST PMTU: prove the topology has path MTU PMTU
# from SHORT to DST: a PMTU-byte packet gets an answer and a PMTU+1 one does
# not. Then
# forget what the kernel learned, so pmtu starts clean. Prints why on
# failure.
sanity_pmtu() {
	local short=$1 dst=$2 pmtu=$3
	if ! ping_df "$short" "$dst" "$pmtu"; then
		echo "topology broken: a $pmtu-byte DF ping from $short to $dst got no answer" >&2
		flush_pmtu "$short"
		return 1
	fi
	# One try: a second one would be refused locally (the kernel has just
	# learned the PMTU) and wait out -W for nothing.
	if ping_df "$short" "$dst" $((pmtu + 1)) 1; then
		echo "topology broken: a $((pmtu + 1))-byte DF ping from $short to $dst got an answer (path MTU above $pmtu)" >&2
		flush_pmtu "$short"
		return 1
	fi
	flush_pmtu "$short"
}

# ---------------------------------------------------------------------------
# A fleet: many targets behind one router, each with its own path MTU.
#
# fleet_build: chain_build 1500 1500, then t answers for every address of
# 198.19.0.0/16 and 2001:db8:f::/48 (AnyIP: a "local" route on its
# loopback), and c reaches them through r1:
#
#   c ──1500── r1 ──1500── t      t: local 198.19.0.0/16, local 2001:db8:f::/48
#                 r1: ADDR via t mtu M, one route per target (fleet_routes)
#
# A router forwards by a route's mtu metric (REFERENCE.md), so r1 answers a
# probe to ADDR above M with a Frag Needed / Packet Too Big naming M. Every
# target is the same host t, a router's ICMP rate limits stay the kernel's.
fleet_build() {
	chain_build 1500 1500 || return
	t ip route add local 198.19.0.0/16 dev lo &&
		t ip -6 route add local 2001:db8:f::/48 dev lo &&
		c ip route add 198.19.0.0/16 via 198.18.1.2 &&
		c ip -6 route add 2001:db8:f::/48 via 2001:db8:1::2 || return
	# r1's default for the fleet, for addresses without a route of their
	# own: through t at the link's MTU.
	r1 ip route add 198.19.0.0/16 via 198.18.2.2 &&
		r1 ip -6 route add 2001:db8:f::/48 via 2001:db8:2::2
}

# fleet_addr4 I / fleet_addr6 I: the address of fleet target I (0..65023).
fleet_addr4() { echo "198.19.$(($1 / 254)).$(($1 % 254 + 1))"; }
fleet_addr6() { printf '2001:db8:f::%x\n' $(($1 + 1)); }

# fleet_routes FILE: FILE holds "ADDR MTU" lines; r1 routes each ADDR
# through t with that MTU, in one "ip -batch".
fleet_routes() {
	awk '{ if ($1 ~ /:/) print "route replace " $1 "/128 via 2001:db8:2::2 mtu " $2;
	       else print "route replace " $1 "/32 via 198.18.2.2 mtu " $2 }' "$1" |
		ip -n "$NS_R1" -batch -
}

# ---------------------------------------------------------------------------
# Benches (scripts/bench-serve.sh, scripts/bench-mesh.sh).
#
# bench_begin NAME TOOL...: the start of a bench: root and TOOLs or exit 2;
# WORK, a temp dir; PIDS, the processes bench_stop kills and waits for; an EXIT
# trap that stops them, deletes the namespaces and WORK; BIN built into
# WORK unless set, made absolute.
bench_begin() {
	local name=$1 tool
	shift
	if ((EUID != 0)); then
		echo "bench $name: needs root for network namespaces" >&2
		exit 2
	fi
	for tool in "$@"; do
		command -v "$tool" >/dev/null || { echo "bench $name: missing $tool: run scripts/deps.sh" >&2; exit 2; }
	done
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/pmtu-bench-$name.XXXXXX")
	PIDS=()
	trap 'bench_stop; netns_cleanup; rm -rf "$WORK"' EXIT
	trap 'exit 130' INT TERM
	if [[ -z ${BIN:-} ]]; then
		BIN=$WORK/pmtu
		go build -o "$BIN" ./cmd/pmtu
	fi
	BIN=$(realpath "$BIN")
}

# bench_stop: kill what a bench started (PIDS) and wait for it.
bench_stop() {
	local pid
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	PIDS=()
}
