# shellcheck shell=bash
# shellcheck disable=SC2034 # sets NETNS_PREFIX for netns-lib.sh
# bench-plpmtud.sh: "scripts/bench.sh plpmtud", sourced by scripts/bench.sh
# (which sets BIN, WORK and LIMIT and has sourced netns-lib.sh). Prints a
# table; asserts nothing.
#
# Time to the exact path MTU without ICMP and without privilege (issue
# 25), every tool run as user nobody with no capability:
#
#   c ──1500── r1 ──1400── r2 ──1500── t
#
# r1 drops its own Frag Needed (a black hole at 1400) and 2% of what it
# forwards, both ways; t drops Echo Requests and runs internal/webtarget
# (HTTPS and HTTP/3 on 443, HTTP on 80). Two targets in turn: t answering
# Port Unreachable as Linux does (rate-limited), then web-only (t sends no
# ICMP at all).
#
# Rows: pmtu --proto tcp (tcp-data), pmtu --proto quic, pmtu --proto udp
# (udp-recverr, proved by the target's Port Unreachable), pmtu with no
# flags (the fallback order), tracepath -n; RUNS runs each (default 5).
# Columns: the wall time of each run (median, and the slowest), how many
# runs found 1400 exactly, and what the tool spent (connections or
# datagrams, from pmtu's JSON).

# bench_plpmtud: build the topology, run every row, print the table.
bench_plpmtud() {
	local runs=${RUNS:-5} mode
	local nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all
		env HOME="$WORK/nobody/home" XDG_CACHE_HOME="$WORK/nobody/home/cache")
	mkdir -p "$WORK/nobody"
	mkdir -m 777 "$WORK/nobody/home"
	chmod 755 "$WORK" "$WORK/nobody"
	install -m 755 "$BIN" "$WORK/nobody/pmtu"
	go build -o "$WORK/webtarget" ./internal/webtarget
	printf '%-26s %-16s %-22s %-7s %s\n' "tool (as nobody)" target "wall: median (max)" exact "cost (median)"
	for mode in port-unreachable web-only; do
		NETNS_PREFIX="pmtu-bench-$$-plpmtud-$mode"
		chain_build 1500 1400 1500
		router_blackhole r1
		r1 nft add chain inet pmtu loss '{ type filter hook forward priority filter; policy accept; }'
		r1 nft add rule inet pmtu loss numgen random mod 100 '<' 2 drop
		t nft add table inet pmtu
		t nft add chain inet pmtu in '{ type filter hook input priority filter; policy accept; }'
		t nft add rule inet pmtu in icmp type echo-request drop
		t nft add rule inet pmtu in icmpv6 type echo-request drop
		if [[ $mode == web-only ]]; then
			t nft add chain inet pmtu out '{ type filter hook output priority filter; policy accept; }'
			t nft add rule inet pmtu out meta l4proto icmp drop
		fi
		t "$WORK/webtarget" -log /dev/null >/dev/null 2>&1 &
		sleep 0.5
		plpmtud_row "$mode" "pmtu --proto tcp" "${nobody[@]}" "$WORK/nobody/pmtu" --no-cache --json --proto tcp "$T4"
		plpmtud_row "$mode" "pmtu --proto quic" "${nobody[@]}" "$WORK/nobody/pmtu" --no-cache --json --proto quic "$T4"
		plpmtud_row "$mode" "pmtu --proto udp" "${nobody[@]}" "$WORK/nobody/pmtu" --no-cache --json --proto udp "$T4"
		plpmtud_row "$mode" "pmtu (no flags)" "${nobody[@]}" "$WORK/nobody/pmtu" --no-cache --json "$T4"
		plpmtud_row "$mode" "tracepath -n" "${nobody[@]}" tracepath -n "$T4"
		netns_cleanup
	done
}

# plpmtud_row TARGET TOOL CMD...: RUNS runs of CMD in c, one row.
plpmtud_row() {
	local target=$1 tool=$2 i t0 t1 walls=() costs=() exact=0 out got
	shift 2
	for ((i = 0; i < ${RUNS:-5}; i++)); do
		flush_pmtu c
		t0=$EPOCHREALTIME
		out=$(timeout -k 5 "$LIMIT" ip netns exec "$NS_C" "$@" 2>/dev/null) || true
		t1=$EPOCHREALTIME
		walls+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')")
		if [[ $tool == tracepath* ]]; then
			got=$(tail -n 1 <<<"$out" | grep -o 'pmtu [0-9]*' | awk '{print $2}') || true
		else
			got=$(jq '.pmtu' <<<"$out" 2>/dev/null) || got=0
			costs+=("$(jq -r 'if .traffic == null then "\(.probes) probes" elif .traffic.connections > 0 then "\(.traffic.connections) connections" else "\(.traffic.datagrams) datagrams" end' <<<"$out" 2>/dev/null || echo '?')")
		fi
		[[ $got == 1400 ]] && exact=$((exact + 1))
	done
	printf '%-26s %-16s %-22s %-7s %s\n' "$tool" "$target" \
		"$(printf '%s\n' "${walls[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "%.2f s (%.2f s)", a[int((NR + 1) / 2)], a[NR] }')" \
		"$exact/${RUNS:-5}" "$(printf '%s\n' "${costs[@]:-n/a}" | sort -n | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }')"
}
