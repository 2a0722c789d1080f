#!/usr/bin/env bash
#
# bench-serve.sh (run as `scripts/bench.sh serve`): the CPU time and memory
# of pmtu serve while a real Prometheus scrapes it for 100 targets every
# 5 s. Prints the figures; asserts nothing.
#
#     scripts/bench.sh serve                    build pmtu, measure for 60 s
#     BENCH_SECONDS=120 scripts/bench.sh serve  measure longer
#     BIN=bin/pmtu scripts/bench.sh serve       use that binary
#     BENCH_SUMMARY=FILE ...                    also write the figures to
#                                               FILE, one "name value" a line
#                                               (scripts/bench-mesh.sh)
#
# Needs root, ip, jq, curl and Debian's prometheus (scripts/deps.sh).
#
# Topology (scripts/netns-lib.sh chain_build 1500 1400), the 100 targets
# being addresses of t:
#
#   c ──1500── r1 ──1400── t   198.18.2.10 … 198.18.2.109
#
# Each search crosses r1, whose Frag Needed names 1400: 2 probes a search.
# pmtu serve (defaults: --max-concurrent 16) and Prometheus both run in c,
# on its loopback. Measured after a warm-up of one scrape interval:
# pmtu serve's CPU time (utime + stime from /proc/PID/stat) over the run,
# its resident memory (VmRSS sampled each second, and VmHWM, the peak), the
# searches it answered by result (its own pmtu_exporter_searches_total),
# and what Prometheus read at the end.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/netns-lib.sh
. scripts/netns-lib.sh

SECONDS_RUN=${BENCH_SECONDS:-60}
TARGETS=100
INTERVAL=5
LISTEN=127.0.0.1:10150
PROM=127.0.0.1:9090

bench_begin serve ip jq curl prometheus timeout

NETNS_PREFIX="pmtu-bench-serve-$$"
chain_build 1500 1400
targets=()
for ((i = 10; i < 10 + TARGETS; i++)); do
	t ip addr add "198.18.2.$i/24" dev veth2b
	targets+=("198.18.2.$i")
done

{
	cat <<-EOF
		global:
		  scrape_interval: ${INTERVAL}s
		  scrape_timeout: ${INTERVAL}s
		  evaluation_interval: ${INTERVAL}s
		scrape_configs:
		  - job_name: pmtu
		    metrics_path: /probe
		    relabel_configs:
		      - source_labels: [__address__]
		        target_label: __param_target
		      - source_labels: [__param_target]
		        target_label: instance
		      - target_label: __address__
		        replacement: $LISTEN
		    static_configs:
		      - targets:
	EOF
	printf '          - %s\n' "${targets[@]}"
} >"$WORK/prometheus.yml"

ip netns exec "$NS_C" "$BIN" serve --listen "$LISTEN" --allow 198.18.0.0/15 >"$WORK/serve.log" 2>&1 &
SERVE_PID=$!
PIDS+=("$SERVE_PID")
ip netns exec "$NS_C" prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
	--web.listen-address="$PROM" >"$WORK/prometheus.log" 2>&1 &
PIDS+=("$!")
for ((i = 0; i < 300; i++)); do
	c curl -sf -o /dev/null "http://$PROM/-/ready" && break
	sleep 0.1
done
[[ $(cat "/proc/$SERVE_PID/comm") == pmtu ]] || { echo "bench serve: pid $SERVE_PID is not pmtu" >&2; exit 1; }

# searches RESULT: pmtu_exporter_searches_total{result=RESULT} now.
searches() {
	c curl -sf "http://$LISTEN/metrics" | awk -v r="$1" '$1 == "pmtu_exporter_searches_total{result=\"" r "\"}" { print $2 }'
}
# cpu_ticks: pmtu serve's utime + stime, in clock ticks; sys_ticks: stime.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$SERVE_PID/stat"; }
sys_ticks() { awk '{ print $15 }' "/proc/$SERVE_PID/stat"; }
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$SERVE_PID/status"; }

echo "bench serve: warming up for one scrape interval (${INTERVAL} s), then measuring for ${SECONDS_RUN} s" >&2
sleep "$INTERVAL"
ok0=$(searches success) fail0=$(searches failure) over0=$(searches overloaded)
cpu0=$(cpu_ticks) sys0=$(sys_ticks)
t0=$EPOCHREALTIME
rss_max=0 rss_sum=0 n=0
for ((s = 0; s < SECONDS_RUN; s++)); do
	sleep 1
	r=$(rss_kb)
	((r > rss_max)) && rss_max=$r
	rss_sum=$((rss_sum + r)) n=$((n + 1))
done
cpu1=$(cpu_ticks) sys1=$(sys_ticks)
t1=$EPOCHREALTIME
ok1=$(searches success) fail1=$(searches failure) over1=$(searches overloaded)
hwm=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$SERVE_PID/status")
up=$(c curl -sf "http://$PROM/api/v1/query" --data-urlencode 'query=sum(up{job="pmtu"})' | jq -r '.data.result[0].value[1] // "0"')
at1400=$(c curl -sf "http://$PROM/api/v1/query" --data-urlencode 'query=count(pmtu_path_mtu_bytes == 1400)' | jq -r '.data.result[0].value[1] // "0"')
# prom_value EXPR: the one value of an instant query over the run.
prom_value() {
	c curl -sf "http://$PROM/api/v1/query" --data-urlencode "query=$1" | jq -r '.data.result[0].value[1] // "0"'
}
range="[${SECONDS_RUN}s]"
p50=$(prom_value "quantile(0.5, quantile_over_time(0.5, pmtu_probe_duration_seconds$range))")
p99=$(prom_value "max(quantile_over_time(0.99, pmtu_probe_duration_seconds$range))")
slow=$(prom_value "count(max_over_time(pmtu_round_trips$range) > 2)")
ignored=$(prom_value "sum(sum_over_time(pmtu_icmp_ignored$range))")
bench_stop

tck=$(getconf CLK_TCK)
ok=$((ok1 - ok0)) fail=$((fail1 - fail0)) over=$((over1 - over0))
awk -v ok="$ok" -v fail="$fail" -v over="$over" -v c0="$cpu0" -v c1="$cpu1" -v s0="$sys0" -v s1="$sys1" -v summary="${BENCH_SUMMARY:-}" -v tck="$tck" -v t0="$t0" -v t1="$t1" \
	-v rmax="$rss_max" -v rsum="$rss_sum" -v n="$n" -v hwm="$hwm" -v up="$up" -v at="$at1400" -v targets="$TARGETS" \
	-v interval="$INTERVAL" -v p50="$p50" -v p99="$p99" -v slow="$slow" -v ignored="$ignored" 'BEGIN {
	wall = t1 - t0; cpu = (c1 - c0) / tck; all = ok + fail + over
	printf "pmtu serve, Prometheus scraping %d targets every %d s, measured for %.0f s:\n", targets, interval, wall
	printf "  searches    %d (%d success, %d failure, %d overloaded), %.1f a second\n", all, ok, fail, over, all / wall
	printf "  CPU         %.2f s user+system (%.2f s system): %.2f%% of one core, %.2f ms a search\n", cpu, (s1 - s0) / tck, 100 * cpu / wall, (all ? 1000 * cpu / all : 0)
	printf "  memory      RSS %.1f MB on average, %.1f MB at most (VmHWM %.1f MB)\n", rsum / n / 1024, rmax / 1024, hwm / 1024
	printf "  Prometheus  %d of %d targets up, %d read pmtu_path_mtu_bytes 1400\n", up, targets, at
	if (summary != "") {
		printf "cpu_pct %.2f\nrss_avg_mb %.1f\nrss_max_mb %.1f\nsearches_per_s %.1f\nexact %d\ntargets %d\n", \
			100 * cpu / wall, rsum / n / 1024, rmax / 1024, all / wall, at, targets > summary
	}
	printf "  duration    median %.2f ms, p99 %.2f ms; %d targets took more than 2 round trips; %d ICMP ignored\n", 1000 * p50, 1000 * p99, slow, ignored
}'
