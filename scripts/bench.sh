#!/usr/bin/env bash
#
# bench.sh: pmtu trace against tracepath -n (and scamper trace -M, when
# Debian has it) hop by hop, and pmtu HOST against tracepath end to end, on
# the same throw-away namespace topologies. Prints a table; asserts nothing.
#
#     scripts/bench.sh                 build pmtu into a temp dir, run all
#     BIN=bin/pmtu scripts/bench.sh    use that binary
#     scripts/bench.sh -no-scamper     leave scamper out
#     scripts/bench.sh serve           pmtu serve's CPU and RSS while
#                                      Prometheus scrapes 100 targets
#                                      every 5 s (scripts/bench-serve.sh)
#     scripts/bench.sh mesh            pmtu serve beside one pmtu mesh agent
#                                      with 100 peers, every 5 s: CPU and
#                                      RSS on one table (scripts/bench-mesh.sh)
#     scripts/bench.sh many            many targets in one process instead
#                                      (see bench_many below)
#     scripts/bench.sh micro           the Go micro-benchmarks instead (in a
#                                      loopback-only namespace; no root needed
#                                      where user namespaces are allowed)
#     scripts/bench.sh plpmtud         time to the path MTU as nobody, no ICMP:
#                                      tcp-data, quic, udp-recverr, tracepath
#                                      (see scripts/bench-plpmtud.sh)
#
# Needs root, ip, nft, jq and tracepath (scripts/deps.sh); installs
# Debian's scamper when it is missing and apt-get can get it.
#
# Topologies (IPv4, scripts/netns-lib.sh chain_build addressing: router rK
# answers from 198.18.K.2):
#
#   answering:  c ──1500── r1 ──1492── r2 ──1400── r3 ──1280── t
#   silent:     the same; r2 and r3 drop their own Time Exceeded
#   blackhole:  c ──1500── r1 ──1400── r2 ──1300── t
#               r1 drops its own Frag Needed (an ICMP black hole at 1400)
#   localhost:  pmtu trace localhost, in the client namespace
#
# Columns: wall time of the run; probes sent, as r1's nftables counts the
# packets that arrive from the client (the client's own loopback for
# localhost); for pmtu, "N≠M" flags a count M in its JSON that differs;
# "hop MTUs": whether every hop the tool gave a figure for got its right
# path MTU (hops it showed only as silent are left out; it must show the
# target), and for pmtu trace, "(k from ICMP)" counts the silent hops it
# measured by their own Frag Needed; "path MTU": what it found end to end,
# and the truth. A run is cut at 120 s ("timeout").
# Routers keep the kernel's default ICMP rate limits; each run starts after
# a pause that refills them.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/netns-lib.sh
. scripts/netns-lib.sh

# scripts/bench.sh serve: pmtu serve's CPU and memory under Prometheus,
# in its own script.
if [[ ${1:-} == serve ]]; then
	shift
	exec "$(dirname "${BASH_SOURCE[0]}")/bench-serve.sh" "$@"
fi
if [[ ${1:-} == mesh ]]; then
	shift
	exec "$(dirname "${BASH_SOURCE[0]}")/bench-mesh.sh" "$@"
fi

LIMIT=120 # seconds a run may take
PAUSE=6   # seconds between runs: a router's rate-limit bucket refills
SCAMPER=1
MODE=hops

# micro: the Go benchmarks of the hot paths, each run COUNT times (default
# 5), printed as the range of ns/op seen: parsing a router's quote
# (probe/wire), rejecting a forged packet (probe/transport), and whole
# searches over the fake network (probe/search), waits not counted.
micro() {
	local count=${COUNT:-5} out
	# In a namespace with only loopback, as scripts/test.sh runs the tests:
	# a benchmark that regressed into sending could reach nothing.
	local unshare=(unshare -n)
	((EUID == 0)) || unshare=(unshare -rn)
	go mod download
	out=$("${unshare[@]}" -- env GOPROXY=off GOTOOLCHAIN=local sh -c 'ip link set lo up && exec "$@"' micro \
		go test -run '^$' -bench . -benchmem -count "$count" ./probe/wire ./probe/transport ./probe/search)
	echo "go test -bench . -count $count ./probe/wire ./probe/transport ./probe/search on $(nproc) cores:"
	awk '
		/^cpu:/ { sub(/^cpu: /, ""); cpu = $0 }
		/^Benchmark/ {
			name = $1; sub(/-[0-9]+$/, "", name); v = $3 + 0
			if (!(name in lo)) { order[++n] = name; lo[name] = v; hi[name] = v }
			if (v < lo[name]) lo[name] = v
			if (v > hi[name]) hi[name] = v
		}
		function show(ns) { return ns < 1000 ? sprintf("%.0f ns", ns) : ns < 1e6 ? sprintf("%.2f µs", ns / 1e3) : sprintf("%.2f ms", ns / 1e6) }
		END {
			print "cpu: " cpu
			for (i = 1; i <= n; i++) printf "%-40s %s – %s per op\n", order[i], show(lo[order[i]]), show(hi[order[i]])
		}' <<<"$out"
}
if [[ ${1:-} == micro ]]; then
	micro
	exit 0
fi

for arg in "$@"; do
	case $arg in
	-no-scamper | --no-scamper) SCAMPER=0 ;;
	many) MODE=many SCAMPER=0 ;;
	plpmtud) MODE=plpmtud SCAMPER=0 ;;
	-h | -help | --help)
		sed -n '3,18s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
		exit 0
		;;
	*)
		echo "bench: unknown argument $arg" >&2
		exit 2
		;;
	esac
done

if ((EUID != 0)); then
	echo "bench: needs root for network namespaces" >&2
	exit 2
fi
for tool in ip nft jq tracepath timeout; do
	command -v "$tool" >/dev/null || { echo "bench: missing $tool: run scripts/deps.sh" >&2; exit 2; }
done
if ((SCAMPER)) && ! command -v scamper >/dev/null; then
	echo "bench: installing Debian's scamper" >&2
	if ! apt-get install -y -qq scamper >/dev/null 2>&1; then
		# The package lists may be missing or old: once, then again.
		if apt-get update -qq >/dev/null 2>&1; then
			apt-get install -y -qq scamper >/dev/null 2>&1 || true
		fi
	fi
	command -v scamper >/dev/null || { echo "bench: no scamper; leaving it out" >&2; SCAMPER=0; }
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pmtu-bench.XXXXXX")
trap 'netns_cleanup; rm -rf "$WORK"' EXIT
# pmtu HOST reads and rewrites its cache file even with --no-cache: a
# cache of its own keeps the user's (maybe large, maybe locked by another
# run) out of the timings.
export XDG_CACHE_HOME=$WORK/cache
trap 'exit 130' INT TERM

if [[ -z ${BIN:-} ]]; then
	BIN=$WORK/pmtu
	go build -o "$BIN" ./cmd/pmtu
fi
BIN=$(realpath "$BIN")

ROWS=()

# row TOOL TOPOLOGY WALL PROBES HOPS PMTU: one line of the table.
row() {
	ROWS+=("$(printf '%-18s %-10s %9s %7s %-22s %s' "$@")")
}

# counter_add: count on r1 every IPv4 packet from the client as it arrives
# (nft table inet pmtucount, prerouting): the probes of every tool, on the
# router's side, whatever socket sent them. counter_reset / counter_read:
# the packets counted since the reset. COUNT_NS and COUNT_TABLE say where.
counter_add() {
	r1 nft -f - <<-EOF
		table inet pmtucount {
			chain probes {
				type filter hook prerouting priority -300; policy accept;
				ip saddr $C4 counter
			}
		}
	EOF
	COUNT_NS=r1
}
counter_total() {
	"$COUNT_NS" nft -j list table inet pmtucount |
		jq '[.nftables[] | .rule? // empty | .expr[] | .counter? // empty | .packets] | add // 0'
}
counter_reset() { COUNT0=$(counter_total); }
counter_read() { echo $(($(counter_total) - COUNT0)); }

# pmtu_probes: r1's count of pmtu's probes, "N≠M" when its JSON says M.
pmtu_probes() {
	local n own
	n=$(counter_read)
	own=$(jq '.probes' "$WORK/out" 2>/dev/null || echo '?')
	if [[ $n == "$own" ]]; then echo "$n"; else echo "$n≠$own"; fi
}

# timed CMD...: run CMD in the client namespace, at most LIMIT seconds,
# output in $WORK/out. Sets WALL (seconds, or "timeout") and RC.
timed() {
	local t0 t1
	sleep "$PAUSE"
	flush_pmtu c
	counter_reset
	t0=$EPOCHREALTIME
	RC=0
	timeout -k 5 "$LIMIT" ip netns exec "$NS_C" "$@" >"$WORK/out" 2>"$WORK/err" || RC=$?
	t1=$EPOCHREALTIME
	WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f s", b - a }')
	if ((RC == 124 || RC == 137)); then WALL=timeout; fi
}

# judge GOT: "yes" when every hop in GOT ("TTL:PMTU ..." for the hops a
# tool showed an answer for) has its true path MTU (TRUTH, the same for
# every hop) and the target's hop is among them; else "no".
judge() {
	local w truth=" $TRUTH "
	if [[ $WALL == timeout ]]; then
		echo timeout
		return
	fi
	for w in $1; do
		[[ $truth == *" $w "* ]] || { echo no; return; }
	done
	[[ " $1 " == *" ${TRUTH##* } "* ]] && echo yes || echo no
}

# The parsers: "TTL:PMTU ..." for the hops each tool heard.
hops_pmtu() {
	jq -r '[.hops[] | select(.pmtu > 0) | "\(.ttl):\(.pmtu)"] | join(" ")' "$WORK/out" 2>/dev/null || true
}
# judge_pmtu: judge, with "(k from ICMP)" for the silent hops pmtu trace
# measured by their own Frag Needed.
judge_pmtu() {
	local k
	k=$(jq '[.hops[] | select(.pmtu_from)] | length' "$WORK/out" 2>/dev/null || echo 0)
	if ((k > 0)); then echo "$(judge "$(hops_pmtu)") ($k from ICMP)"; else judge "$(hops_pmtu)"; fi
}
hops_tracepath() {
	awk '
		/^ *[0-9]+\?:/ { if (match($0, /pmtu [0-9]+/)) cur = substr($0, RSTART + 5, RLENGTH - 5); next }
		/^ *[0-9]+:/ {
			ttl = $1; sub(":", "", ttl)
			if (match($0, /pmtu [0-9]+/)) cur = substr($0, RSTART + 5, RLENGTH - 5)
			if ($2 == "no") next
			hop[ttl + 0] = cur; if (ttl + 0 > max) max = ttl + 0
		}
		END { for (i = 1; i <= max; i++) if (i in hop) printf "%s%d:%s", (n++ ? " " : ""), i, hop[i]; print "" }
	' "$WORK/out"
}
hops_scamper() {
	awk '
		/^ *[0-9]+  [0-9a-f.:]+ / && match($0, /mtu: [0-9]+/) {
			printf "%s%d:%s", (n++ ? " " : ""), $1, substr($0, RSTART + 5, RLENGTH - 5)
		}
		END { print "" }
	' "$WORK/out"
}

# bench TOPOLOGY PMTU: run every tool on the topology built, whose path MTU
# is PMTU and whose hops have the path MTUs TRUTH.
bench() {
	local topo=$1 pmtu=$2 got e2e
	DST=$T4
	echo "bench: $topo: hops $TRUTH, silent: ${SILENT:-none}; path MTU $pmtu" >&2

	timed "$BIN" --no-cache trace --json -n "$DST"
	row "pmtu trace" "$topo" "$WALL" "$(pmtu_probes)" \
		"$(judge_pmtu)" "$(jq '.pmtu' "$WORK/out" 2>/dev/null || echo '?')/$pmtu"
	echo "  pmtu trace: $(hops_pmtu)" >&2

	timed tracepath -n "$DST"
	got=$(hops_tracepath)
	# The last line: "Resume: pmtu N hops H back B" or "Too many hops: pmtu N".
	e2e=$(tail -n 1 "$WORK/out" | grep -o 'pmtu [0-9]*' | awk '{print $2}') || true
	[[ $(tail -n 1 "$WORK/out") == *Resume:* ]] || got="$got (not reached)"
	row "tracepath -n" "$topo" "$WALL" "$(counter_read)" "$(judge "$got")" "${e2e:-?}/$pmtu"
	echo "  tracepath: $got" >&2

	if ((SCAMPER)); then
		timed scamper -O text -c "trace -M" -i "$DST"
		got=$(hops_scamper)
		e2e=${got##*:}
		row "scamper trace -M" "$topo" "$WALL" "$(counter_read)" "$(judge "$got")" "${e2e:-?}/$pmtu"
		echo "  scamper: $got" >&2
	fi

	timed "$BIN" --no-cache --json "$DST"
	row "pmtu HOST" "$topo" "$WALL" "$(pmtu_probes)" "n/a" \
		"$(jq '.pmtu' "$WORK/out" 2>/dev/null || echo '?')/$pmtu"
}

if [[ $MODE == many ]]; then
	# shellcheck source=scripts/bench-many.sh
	. scripts/bench-many.sh
	bench_many
	exit 0
fi
if [[ $MODE == plpmtud ]]; then
	# shellcheck source=scripts/bench-plpmtud.sh
	. scripts/bench-plpmtud.sh
	bench_plpmtud
	exit 0
fi

NETNS_PREFIX="pmtu-bench-$$-1"
chain_build 1500 1492 1400 1280
counter_add
TRUTH="1:1500 2:1492 3:1400 4:1280" SILENT=
bench answering 1280
netns_cleanup

NETNS_PREFIX="pmtu-bench-$$-2"
chain_build 1500 1492 1400 1280
counter_add
router_silent r2
router_silent r3
TRUTH="1:1500 2:1492 3:1400 4:1280" SILENT="2 3"
bench silent 1280
netns_cleanup

NETNS_PREFIX="pmtu-bench-$$-3"
chain_build 1500 1400 1300
counter_add
router_blackhole r1
TRUTH="1:1500 2:1400 3:1300" SILENT=
bench blackhole 1300
netns_cleanup

# localhost: one hop, counted as it leaves on the client's loopback.
NETNS_PREFIX="pmtu-bench-$$-4"
ns_add c
c nft -f - <<-'EOF'
	table inet pmtucount {
		chain probes {
			type filter hook output priority -300; policy accept;
			oifname "lo" icmp type echo-request counter
			oifname "lo" icmpv6 type echo-request counter
		}
	}
EOF
COUNT_NS=c
TRUTH="1:$(c cat /sys/class/net/lo/mtu)"
TRUTH=${TRUTH/65536/65535} # the largest IP packet
echo "bench: localhost: hops $TRUTH" >&2
timed "$BIN" --no-cache trace --json -n localhost
row "pmtu trace" localhost "$WALL" "$(pmtu_probes)" "$(judge_pmtu)" "$(jq '.pmtu' "$WORK/out" 2>/dev/null || echo '?')/${TRUTH#1:}"
echo "  pmtu trace: $(hops_pmtu)" >&2
netns_cleanup

printf '%-18s %-10s %9s %7s %-22s %s\n' tool topology wall probes "hop MTUs" "path MTU (got/true)"
printf '%s\n' "${ROWS[@]}"
