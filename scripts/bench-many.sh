# shellcheck shell=bash
# shellcheck disable=SC2034 # sets NETNS_PREFIX for netns-lib.sh
# bench-many.sh: "scripts/bench.sh many", sourced by scripts/bench.sh (which
# sets BIN, WORK, PAUSE and LIMIT and has sourced netns-lib.sh). Prints a
# table; asserts nothing.
#
# Topology (netns-lib.sh fleet_build): every target is an address of one
# host t behind one router r1, and r1 routes each through t with its own
# route MTU, 1280 + (i mod 221), so 1280..1500:
#
#   c ──1500── r1 ──1500── t      t answers for 198.19.0.0/16 (AnyIP)
#                 r1: 198.19.X.Y/32 via t mtu 1280..1500, 10,000 routes
#
# Rows, each after a pause that refills the routers' ICMP rate limits:
#   - pmtu -f, 1000 targets: the defaults, then --rate 100000 (what the
#     budget allows) at the default --parallel, at 8 and at 256 (all over
#     one shared socket: does more in flight lose answers?), then
#     --rate 10000.
#   - the same, 10,000 targets: does the wall time grow linearly?
#   - xargs -P4 tracepath -n over the same 1000 targets. tracepath's probes
#     draw Time Exceeded from r1 and Port Unreachable from t, which Linux
#     rate-limits per destination (a burst of 6, then one a second), and
#     every target here shares r1 and t: at the kernel's defaults it manages
#     a few targets a second, so it runs over the first 40 only. Then
#     r1's and t's net.ipv4.icmp_ratelimit is set to 0 (no per-destination
#     limit) and tracepath runs over all 1000, beside pmtu's defaults again
#     in that setting.
#   - a black-hole mix: 1000 targets, of which 100 (198.19.200.1..100, route
#     MTU 1400) sit behind r1 dropping the Frag Needed that quote them:
#     found by probes alone, at --parallel 256 and at the defaults.
#     Printed: the wall times, and how long the black-hole searches took
#     (median and longest, from pmtu's JSON).
#
# Columns: targets; wall time; the largest resident set (GNU time's
# "%M" of the process tree, the largest single process); pmtu's live heap
# after Go's last collection (GODEBUG=gctrace=1); exact: how many targets
# got their true path MTU.

# bench_many: build the fleet, run every row, print the table.
bench_many() {
	if [[ ! -x /usr/bin/time ]]; then
		echo "bench: installing Debian's time (GNU time, for the max RSS)" >&2
		apt-get install -y -qq time >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq time >/dev/null 2>&1; } || true
		[[ -x /usr/bin/time ]] || { echo "bench: no /usr/bin/time" >&2; exit 2; }
	fi
	NETNS_PREFIX="pmtu-bench-$$-many"
	fleet_build
	local t10k="$WORK/truth10k" t1k="$WORK/truth1k" bh="$WORK/truthbh"
	awk 'BEGIN { for (i = 0; i < 10000; i++) printf "198.19.%d.%d %d\n", int(i / 254), i % 254 + 1, 1280 + i % 221 }' >"$t10k"
	head -n 1000 "$t10k" >"$t1k"
	{ head -n 900 "$t1k"; awk 'BEGIN { for (i = 1; i <= 100; i++) printf "198.19.200.%d 1400\n", i }'; } >"$bh"
	fleet_routes "$t10k"
	fleet_routes "$bh"
	local f
	for f in "$t10k" "$t1k" "$bh"; do
		awk '{print $1}' "$f" >"$f.hosts"
		jq -Rn '[inputs | split(" ") | {(.[0]): (.[1] | tonumber)}] | add' "$f" >"$f.json"
	done
	echo "bench: r1's ICMP limits (icmp_ratelimit icmp_msgs_per_sec icmp_msgs_burst): $(r1 sysctl -n net.ipv4.icmp_ratelimit net.ipv4.icmp_msgs_per_sec net.ipv4.icmp_msgs_burst | tr '\n' ' ')" >&2

	MROWS=()
	many_run "pmtu -f (defaults)" "$t1k" "$BIN" --no-cache --json -f "$t1k.hosts"
	many_run "pmtu -f --rate 100000" "$t1k" "$BIN" --no-cache --json --rate 100000 -f "$t1k.hosts"
	many_run "pmtu -f --rate 100000 --parallel 8" "$t1k" "$BIN" --no-cache --json --rate 100000 --parallel 8 -f "$t1k.hosts"
	many_run "pmtu -f --rate 100000 --parallel 256" "$t1k" "$BIN" --no-cache --json --rate 100000 --parallel 256 -f "$t1k.hosts"
	many_run "pmtu -f --rate 10000" "$t1k" "$BIN" --no-cache --json --rate 10000 -f "$t1k.hosts"
	many_run "pmtu -f (defaults)" "$t10k" "$BIN" --no-cache --json -f "$t10k.hosts"
	many_run "pmtu -f --rate 100000" "$t10k" "$BIN" --no-cache --json --rate 100000 -f "$t10k.hosts"

	head -n 40 "$t1k" >"$WORK/truth40"
	awk '{print $1}' "$WORK/truth40" >"$WORK/truth40.hosts"
	tracepath_run "xargs -P4 tracepath -n" "$WORK/truth40"

	r1 sysctl -q -w net.ipv4.icmp_ratelimit=0
	t sysctl -q -w net.ipv4.icmp_ratelimit=0
	tracepath_run "xargs -P4 tracepath -n [no per-dest ICMP limit]" "$t1k"
	many_run "pmtu -f (defaults) [no per-dest ICMP limit]" "$t1k" "$BIN" --no-cache --json -f "$t1k.hosts"
	r1 sysctl -q -w net.ipv4.icmp_ratelimit=1000
	t sysctl -q -w net.ipv4.icmp_ratelimit=1000

	r1 nft -f - <<-'EOF'
		table ip pmtu {
			chain blackhole {
				type filter hook output priority filter; policy accept;
				icmp type destination-unreachable icmp code frag-needed @th,192,24 0xc613c8 drop
			}
		}
	EOF
	many_run "pmtu -f --parallel 256, 100 black holes" "$bh" "$BIN" --no-cache --json --parallel 256 -f "$bh.hosts"
	local bh256
	bh256=$(jq -s -r '[.[] | select(.address | startswith("198.19.200.")) | .elapsed_ms] | sort |
		"with --parallel 256: black-hole searches: \(length), median \(.[length / 2 | floor] / 1000 * 100 | round / 100) s, longest \(.[-1] / 1000 * 100 | round / 100) s"' "$WORK/out" 2>/dev/null) || bh256=""
	many_run "pmtu -f (defaults), 100 black holes" "$bh" "$BIN" --no-cache --json -f "$bh.hosts"
	local bhstats
	bhstats=$(jq -s -r '[.[] | select(.address | startswith("198.19.200.")) | .elapsed_ms] | sort |
		"black-hole searches: \(length), median \(.[length / 2 | floor] / 1000 * 100 | round / 100) s, longest \(.[-1] / 1000 * 100 | round / 100) s"' "$WORK/out" 2>/dev/null) || bhstats="black-hole searches: ?"
	local others
	others=$(jq -s -r '[.[] | select(.address | startswith("198.19.200.") | not) | .elapsed_ms] | sort |
		"the others: median \(.[length / 2 | floor]) ms, longest \(.[-1]) ms"' "$WORK/out" 2>/dev/null) || others=""
	netns_cleanup

	printf '%-50s %8s %9s %9s %9s %s\n' run targets wall "max RSS" "live heap" exact
	printf '%s\n' "${MROWS[@]}"
	echo "$bhstats; $others"
	[[ -z $bh256 ]] || echo "$bh256"
}

# many_run NAME TRUTH CMD...: run CMD in c, timed; one row.
many_run() {
	local name=$1 truth=$2 n exact heap
	shift 2
	measured env GODEBUG=gctrace=1 "$@"
	# Go's live heap after its last collection (gctrace's "A->B->C MB": C).
	heap=$(grep '^gc ' "$WORK/err" | tail -n 1 | grep -o '[0-9]*->[0-9]*->[0-9]* MB' | sed 's/.*->//') || heap='?'
	heap=${heap:-?}
	n=$(wc -l <"$truth")
	exact=$(jq -s --slurpfile t "$truth.json" '[.[] | select(.pmtu == $t[0][.address])] | length' "$WORK/out" 2>/dev/null) || exact='?'
	echo "bench: $name, $n targets: $WALL, $RSS, live heap $heap, $exact exact, exit $RC" >&2
	MROWS+=("$(printf '%-50s %8s %9s %9s %9s %s' "$name" "$n" "$WALL" "$RSS" "$heap" "$exact/$n")")
}

# tracepath_run NAME TRUTH: xargs -P4 tracepath -n over TRUTH's hosts, one
# output file each; exact: "Resume: pmtu N" with N the truth.
tracepath_run() {
	local name=$1 truth=$2 n exact=0 dir="$WORK/tracepath" a m
	rm -rf "$dir"
	mkdir -p "$dir"
	measured xargs -P4 -I{} sh -c "tracepath -n {} >$dir/{} 2>&1" <"$truth.hosts"
	n=$(wc -l <"$truth")
	while read -r a m; do
		grep -q "Resume: pmtu $m " "$dir/$a" 2>/dev/null && exact=$((exact + 1))
	done <"$truth"
	echo "bench: $name, $n targets: $WALL, $RSS, $exact exact, exit $RC" >&2
	MROWS+=("$(printf '%-50s %8s %9s %9s %9s %s' "$name" "$n" "$WALL" "$RSS" "-" "$exact/$n")")
}

# measured CMD...: after the pause, run CMD in c under GNU time, at most
# LIMIT seconds, stdin kept, stdout in $WORK/out. Sets WALL, RSS and RC.
measured() {
	local t0 t1 kb
	sleep "$PAUSE"
	flush_pmtu c
	RC=0
	t0=$EPOCHREALTIME
	timeout -k 5 "$LIMIT" ip netns exec "$NS_C" /usr/bin/time -f '%M' -o "$WORK/time" "$@" >"$WORK/out" 2>"$WORK/err" || RC=$?
	t1=$EPOCHREALTIME
	WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f s", b - a }')
	kb=$(tail -n 1 "$WORK/time" 2>/dev/null) || kb=
	if [[ $kb =~ ^[0-9]+$ ]]; then
		RSS=$(awk -v k="$kb" 'BEGIN { printf "%.1f MB", k / 1024 }')
	else
		RSS='?'
	fi
	if ((RC == 124 || RC == 137)); then WALL=timeout; fi
}
