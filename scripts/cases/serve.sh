# shellcheck shell=bash
# Cases for pmtu serve (the Prometheus exporter, scraped by a real
# Prometheus) and pmtu watch. Sourced by scripts/netns-test.sh.
#
# Both use this chain (chain_build 1500 1500 1500), two targets: t, behind
# r2's link 3, and r2 itself, before it:
#
#   c ──1500── r1 ──1500── r2 ──1500→1400── t
#   .1.1            .2.2 (r2, target 2)     .3.2 (t, target 1)
#
# The case lowers r2's veth3a (its link toward t) from 1500 to 1400: r2
# then answers 1500-byte packets for t with a Frag Needed naming 1400, from
# 198.18.2.2. The path to r2 itself keeps 1500.

# serve_wait_http SHORT URL SECONDS: wait until URL answers in namespace
# SHORT.
serve_wait_http() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		"$1" curl -sf -o /dev/null "$2" && return 0
		sleep 0.1
	done
	return 1
}

# prom_query EXPR: the result of an instant query to the case's Prometheus
# as "labels=value" lines, sorted; "" when empty.
prom_query() {
	c curl -sf --max-time 2 "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1" |
		jq -r '.data.result[] | "\(.metric | del(.__name__) | to_entries | map("\(.key)=\(.value)") | join(",")) \(.value[1])"' |
		sort || true
}

# serve_stop: stop the case's Prometheus and pmtu serve (its trap).
serve_stop() {
	local pid
	for pid in ${SERVE_PIDS:-}; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in ${SERVE_PIDS:-}; do
		wait "$pid" 2>/dev/null || true
	done
	SERVE_PIDS=
}

# serve: Prometheus 2 (Debian's), scrape and rule evaluation every 1 s,
# scrapes pmtu serve in the client namespace for both targets, with the
# shipped alerts (examples/alerts.yml). Their `for:` is cut to 1s by sed
# for this test, so that the drop alert can fire within 10 s; the
# expressions are the shipped ones. After r2's link drops to 1400,
# Prometheus must show pmtu_path_mtu_bytes 1400 for t, 1500 for r2, and
# PathMTUDropped firing for t alone, within 10 s.
register serve "pmtu serve scraped by a real Prometheus: 1500 → 1400 on one target within 10 s, the other unchanged, the drop alert firing"
case_serve() {
	if ! command -v prometheus >/dev/null || ! command -v curl >/dev/null; then
		skip "no prometheus or curl: run scripts/deps.sh"
	fi
	PROM_PORT=9090
	local listen=127.0.0.1:10150 t1 t2=198.18.2.2 i got1 got2 alert t0 t_mtu='' t_alert=''
	chain_build 1500 1500 1500
	t1=$T4
	sanity c "$t1" 1500
	sanity c "$t2" 1500
	SERVE_PIDS=
	trap 'serve_stop; netns_cleanup' EXIT

	# The rules: the shipped ones, for: cut to 1s.
	sed -E 's/^( *for: ).*/\11s/' examples/alerts.yml >"$CASE_DIR/alerts.yml"
	grep -q 'for: 1s' "$CASE_DIR/alerts.yml" || fail "sed found no for: in examples/alerts.yml"
	# The scrape config: examples/prometheus.yml's relabelling, 1 s.
	cat >"$CASE_DIR/prometheus.yml" <<-EOF
		global:
		  scrape_interval: 1s
		  scrape_timeout: 1s
		  evaluation_interval: 1s
		rule_files:
		  - $CASE_DIR/alerts.yml
		scrape_configs:
		  - job_name: pmtu
		    metrics_path: /probe
		    static_configs:
		      - targets: [$t1, $t2]
		    relabel_configs:
		      - source_labels: [__address__]
		        target_label: __param_target
		      - source_labels: [__param_target]
		        target_label: instance
		      - target_label: __address__
		        replacement: $listen
		  - job_name: pmtu_exporter
		    static_configs:
		      - targets: [$listen]
	EOF
	promtool check config "$CASE_DIR/prometheus.yml" || fail "promtool rejects the test's config"

	ip netns exec "$NS_C" "$BIN_ABS" serve --listen "$listen" --allow 198.18.0.0/15 >"$CASE_DIR/serve.log" 2>&1 &
	SERVE_PIDS+=" $!"
	serve_wait_http c "http://$listen/metrics" 10 || fail "pmtu serve does not answer on $listen: $(cat "$CASE_DIR/serve.log")"
	ip netns exec "$NS_C" prometheus --config.file="$CASE_DIR/prometheus.yml" --storage.tsdb.path="$CASE_DIR/tsdb" \
		--web.listen-address="127.0.0.1:$PROM_PORT" >"$CASE_DIR/prometheus.log" 2>&1 &
	SERVE_PIDS+=" $!"
	serve_wait_http c "http://127.0.0.1:$PROM_PORT/-/ready" 30 || fail "prometheus is not ready: $(tail -n 5 "$CASE_DIR/prometheus.log")"

	# Both paths at 1500, as Prometheus sees them.
	for ((i = 0; i < 100; i++)); do
		got1=$(prom_query "pmtu_path_mtu_bytes{instance=\"$t1\"}")
		got2=$(prom_query "pmtu_path_mtu_bytes{instance=\"$t2\"}")
		[[ $got1 == *" 1500" && $got2 == *" 1500" ]] && break
		sleep 0.1
	done
	echo "before: $got1 / $got2"
	[[ $got1 == *" 1500" && $got2 == *" 1500" ]] || fail "Prometheus does not show 1500 for both targets after 10 s: '$got1' '$got2'"
	[[ -z $(prom_query 'ALERTS{alertstate="firing"}') ]] || fail "alerts fire before any change: $(prom_query ALERTS)"
	# Two more scrapes at 1500, so the 1-day maximum holds them.
	sleep 2

	set_mtu r2 veth3a 1400
	t0=$EPOCHREALTIME
	echo "r2 veth3a: 1500 -> 1400"
	for ((i = 0; i < 100; i++)); do
		got1=$(prom_query "pmtu_path_mtu_bytes{instance=\"$t1\"}")
		[[ -z $t_mtu && $got1 == *" 1400" ]] && t_mtu=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
		alert=$(prom_query 'ALERTS{alertname="PathMTUDropped",alertstate="firing"}')
		[[ -z $t_alert && -n $alert ]] && t_alert=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
		[[ -n $t_mtu && -n $t_alert ]] && break
		sleep 0.1
	done
	got2=$(prom_query "pmtu_path_mtu_bytes{instance=\"$t2\"}")
	echo "after: $got1 (at ${t_mtu:-never} s) / $got2; alert: $alert (at ${t_alert:-never} s)"
	[[ -n $t_mtu ]] || PROBLEMS+=("pmtu_path_mtu_bytes for $t1 is '$got1' 10 s after the change, want 1400")
	[[ $got2 == *" 1500" ]] || PROBLEMS+=("pmtu_path_mtu_bytes for $t2 is '$got2', want 1500 unchanged")
	[[ -n $t_alert ]] || PROBLEMS+=("PathMTUDropped not firing 10 s after the change: $(prom_query 'ALERTS')")
	[[ $alert == *"instance=$t1,"* && $alert != *"instance=$t2,"* ]] || PROBLEMS+=("PathMTUDropped fires for '$alert', want $t1 alone")
	# How pmtu knows: r2's Frag Needed, named in the info metric.
	got1=$(prom_query "pmtu_path_mtu_info{instance=\"$t1\"}")
	[[ $got1 == *"evidence=icmp"*"limiting_hop=198.18.2.2"* ]] || PROBLEMS+=("pmtu_path_mtu_info for $t1 is '$got1', want evidence icmp, limiting_hop 198.18.2.2")
	# The exporter's own metrics, scraped too.
	got1=$(prom_query 'pmtu_exporter_searches_total{result="success"}')
	[[ ${got1##* } -ge 4 ]] || PROBLEMS+=("pmtu_exporter_searches_total{result=\"success\"} is '$got1', want at least 4")
	# Safe by default: a target outside --allow is refused, and no probe goes out.
	local code
	code=$(c curl -s -o "$CASE_DIR/403" -w '%{http_code}' "http://$listen/probe?target=10.0.0.1")
	[[ $code == 403 ]] || PROBLEMS+=("a target outside --allow got HTTP $code, want 403: $(cat "$CASE_DIR/403")")
	# A target with no path MTU, inside --allow (c's own link's broadcast):
	# 400 with the sentence pmtu HOST prints (issue 18).
	code=$(c curl -s -o "$CASE_DIR/400" -w '%{http_code}' "http://$listen/probe?target=198.18.1.255")
	[[ $code == 400 && $(<"$CASE_DIR/400") == "pmtu: 198.18.1.255 is the broadcast address of 198.18.1.0/24: it reaches every host on that subnet, so it has no single path MTU" ]] ||
		PROBLEMS+=("the subnet's broadcast got HTTP $code, want 400 with the sentence: $(cat "$CASE_DIR/400")")
	# The / page lists recent probes with their logs.
	local page
	page=$(c curl -sf "http://$listen/") || true
	[[ $page == *"path MTU 1400"* && $page == *"198.18.2.2 sent"*"MTU 1400"* ]] || PROBLEMS+=("/ does not show a probe that found 1400")
	# Prometheus's 1 s scrape timeout, less the 0.5 s margin, bounded the
	# searches it asked for.
	[[ $page == *"deadline 500ms"* ]] || PROBLEMS+=("/ shows no search with the deadline 500ms (1 s scrape timeout - 0.5 s)")
	# trace=1: each hop's path MTU, r2's link the drop.
	local metrics hops
	metrics=$(c curl -s "http://$listen/probe?target=$t1&trace=1") || true
	echo "/probe?target=$t1&trace=1:"
	grep '^pmtu_' <<<"$metrics" || true
	hops=$(grep '^pmtu_hop_path_mtu_bytes' <<<"$metrics" | sort | tr '\n' ' ') || true
	[[ $hops == 'pmtu_hop_path_mtu_bytes{address="198.18.1.2",ttl="1"} 1500 pmtu_hop_path_mtu_bytes{address="198.18.2.2",ttl="2"} 1500 pmtu_hop_path_mtu_bytes{address="198.18.3.2",ttl="3"} 1400 ' ]] ||
		PROBLEMS+=("trace=1 hops are '$hops', want r1 1500, r2 1500, t 1400")
	# The kernel's own cached value, as ip route get shows it.
	local kroute
	kroute=$(c ip route get "$t1" | tr '\n' ' ')
	echo "ip route get $t1: $kroute"
	[[ $kroute == *" mtu 1400 "* && $metrics == *"pmtu_kernel_cached_mtu_bytes 1400"* ]] ||
		PROBLEMS+=("pmtu_kernel_cached_mtu_bytes does not match ip route get: '$kroute'")
	echo "a probe's log, from /probe?debug=true:"
	c curl -s "http://$listen/probe?target=$t1&debug=true" | sed -n '/^Logs/,/^Metrics/p'
	OUT='' verdict
	serve_stop
	grep -q 'shut down' "$CASE_DIR/serve.log" || fail "pmtu serve did not shut down cleanly on SIGTERM: $(cat "$CASE_DIR/serve.log")"
}

# watch: pmtu watch prints each target's first path MTU, then exactly one
# change line when r2's link drops to 1400; with --exit-on-drop --json it
# exits 3 on that drop, its last line the change.
register watch "pmtu watch: exactly one change line when a path MTU drops; --exit-on-drop exits 3"
case_watch() {
	local t1 t2=198.18.2.2 i pid1 pid2 rc changes
	chain_build 1500 1500 1500
	t1=$T4
	sanity c "$t1" 1500
	sanity c "$t2" 1500

	ip netns exec "$NS_C" "$BIN_ABS" watch --interval 300ms "$t1" "$t2" >"$CASE_DIR/watch.out" 2>"$CASE_DIR/watch.err" &
	pid1=$!
	ip netns exec "$NS_C" "$BIN_ABS" watch --interval 300ms --json --exit-on-drop "$t1" "$t2" >"$CASE_DIR/drop.out" 2>"$CASE_DIR/drop.err" &
	pid2=$!
	for ((i = 0; i < 50; i++)); do
		[[ $(wc -l <"$CASE_DIR/watch.out") -ge 2 && $(wc -l <"$CASE_DIR/drop.out") -ge 2 ]] && break
		sleep 0.1
	done
	echo "before:"; cat "$CASE_DIR/watch.out"
	set_mtu r2 veth3a 1400
	echo "r2 veth3a: 1500 -> 1400"
	for ((i = 0; i < 50; i++)); do
		grep -q '→' "$CASE_DIR/watch.out" && break
		sleep 0.1
	done
	# A few more rounds, so a repeated line would show.
	sleep 2
	kill "$pid1" 2>/dev/null || true
	rc=0
	wait "$pid1" || rc=$?
	echo "watch:"; cat "$CASE_DIR/watch.out" "$CASE_DIR/watch.err"
	((rc == 0)) || PROBLEMS+=("pmtu watch exited $rc on SIGTERM, want 0")
	grep -Eq "^[0-9]{2}:[0-9]{2}:[0-9]{2} $t1 1500 \\(proved by probes\\)\$" "$CASE_DIR/watch.out" ||
		PROBLEMS+=("no start line for $t1 at 1500")
	changes=$(grep -c '→' "$CASE_DIR/watch.out" || true)
	((changes == 1)) || PROBLEMS+=("$changes change lines, want exactly 1")
	grep -Eq "^[0-9]{2}:[0-9]{2}:[0-9]{2} $t1 1500 → 1400 \\(198\\.18\\.2\\.2 said 1400\\)\$" "$CASE_DIR/watch.out" ||
		PROBLEMS+=("the change line is not \"HH:MM:SS $t1 1500 → 1400 (198.18.2.2 said 1400)\"")
	[[ $(wc -l <"$CASE_DIR/watch.out") -eq 3 ]] || PROBLEMS+=("$(wc -l <"$CASE_DIR/watch.out") lines, want 3 (two starts, one change)")

	rc=0
	wait "$pid2" || rc=$?
	echo "watch --json --exit-on-drop (exit $rc):"; cat "$CASE_DIR/drop.out" "$CASE_DIR/drop.err"
	((rc == 3)) || PROBLEMS+=("pmtu watch --exit-on-drop exited $rc, want 3")
	# shellcheck disable=SC2034 # read by want and verdict
	OUT=$(tail -n 1 "$CASE_DIR/drop.out")
	want_str .event change
	want_str .target "$t1"
	want .from == 1500
	want .to == 1400
	want_str .limiting_hop 198.18.2.2
	verdict
}
