#!/usr/bin/env bash
#
# bench-mesh.sh (run as `scripts/bench.sh mesh`): pmtu serve and one
# pmtu mesh agent side by side, on the same kind of topology and at the
# same load (100 paths measured every 5 s): CPU time and memory. Prints
# one table; asserts nothing.
#
#     scripts/bench.sh mesh                    build pmtu, measure each for 60 s
#     BENCH_SECONDS=120 scripts/bench.sh mesh  measure longer
#     BIN=bin/pmtu scripts/bench.sh mesh       use that binary
#
# Needs root, ip, jq, curl and Debian's prometheus (scripts/deps.sh).
#
# serve: scripts/bench-serve.sh, a real Prometheus scraping /probe for
# 100 targets every 5 s. mesh (scripts/netns-lib.sh chain_build 1500 1400):
#
#   c ──1500── r1 ──1400── t   198.18.2.10 … 198.18.2.109
#   agent A                    100 agents, one on each address
#
# A (in c, --interval 5s) measures its 100 peers: each search crosses r1,
# whose Frag Needed names 1400 (evidence icmp), and A answers the probes
# of the 100 agents in t, each of which measures A (their own interface,
# 1400, is acknowledged: evidence ack). So A does what a node of a
# 101-node mesh does: 20 searches a second of its own, 20 a second of
# its peers' answered. A real Prometheus in c scrapes A's /metrics every
# 5 s. Measured after a warm-up of two intervals: A's CPU time
# (utime + stime), its RSS (sampled each second) and VmHWM, its searches,
# and how many of its 100 pairs Prometheus reads at 1400.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/netns-lib.sh
. scripts/netns-lib.sh

SECONDS_RUN=${BENCH_SECONDS:-60}
PEERS=100
INTERVAL=5
PORT=10151
PROM=127.0.0.1:9090

bench_begin mesh ip jq curl prometheus

# serve, by its own script, which writes its figures to a file.
echo "bench mesh: pmtu serve first (scripts/bench-serve.sh)" >&2
BENCH_SUMMARY=$WORK/serve.sum BIN=$BIN BENCH_SECONDS=$SECONDS_RUN scripts/bench-serve.sh >"$WORK/serve.out"
cat "$WORK/serve.out" >&2

# The mesh.
NETNS_PREFIX="pmtu-bench-mesh-$$"
chain_build 1500 1400
peers=()
for ((i = 10; i < 10 + PEERS; i++)); do
	t ip addr add "198.18.2.$i/24" dev veth2b
	peers+=("198.18.2.$i")
done
printf '%s\n' "${peers[@]}" >"$WORK/peers"
for p in "${peers[@]}"; do
	ip netns exec "$NS_T" "$BIN" mesh --peers "$C4" --listen "$p:$PORT" --interval "${INTERVAL}s" >>"$WORK/peers.log" 2>&1 &
	PIDS+=("$!")
done
ip netns exec "$NS_C" "$BIN" mesh --peers "file:$WORK/peers" --listen "$C4:$PORT" --interval "${INTERVAL}s" >"$WORK/agent.log" 2>&1 &
AGENT_PID=$!
PIDS+=("$AGENT_PID")
cat >"$WORK/prometheus.yml" <<-EOF
	global:
	  scrape_interval: ${INTERVAL}s
	  scrape_timeout: ${INTERVAL}s
	scrape_configs:
	  - job_name: pmtu-mesh
	    static_configs:
	      - targets: ['$C4:$PORT']
EOF
ip netns exec "$NS_C" prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
	--web.listen-address="$PROM" >"$WORK/prometheus.log" 2>&1 &
PIDS+=("$!")
for ((i = 0; i < 300; i++)); do
	c curl -sf -o /dev/null "http://$PROM/-/ready" && break
	sleep 0.1
done
sleep 0.5
[[ $(cat "/proc/$AGENT_PID/comm" 2>/dev/null) == pmtu ]] || { echo "bench mesh: the agent is not running: $(cat "$WORK/agent.log")" >&2; exit 1; }

# searches: pmtu_mesh_searches_total, all results, now.
searches() {
	c curl -sf "http://$C4:$PORT/metrics" | awk '$1 ~ /^pmtu_mesh_searches_total/ { s += $2 } END { print s + 0 }'
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$AGENT_PID/stat"; }
sys_ticks() { awk '{ print $15 }' "/proc/$AGENT_PID/stat"; }
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$AGENT_PID/status"; }

echo "bench mesh: $PEERS peers, warming up for two intervals ($((2 * INTERVAL)) s), then measuring for $SECONDS_RUN s" >&2
sleep $((2 * INTERVAL))
s0=$(searches) cpu0=$(cpu_ticks) sys0=$(sys_ticks)
t0=$EPOCHREALTIME
rss_max=0 rss_sum=0 n=0
for ((s = 0; s < SECONDS_RUN; s++)); do
	sleep 1
	r=$(rss_kb)
	((r > rss_max)) && rss_max=$r
	rss_sum=$((rss_sum + r)) n=$((n + 1))
done
s1=$(searches) cpu1=$(cpu_ticks) sys1=$(sys_ticks)
t1=$EPOCHREALTIME
hwm=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$AGENT_PID/status")
prom_value() {
	c curl -sf "http://$PROM/api/v1/query" --data-urlencode "query=$1" | jq -r '.data.result[0].value[1] // "0"'
}
exact=$(prom_value 'count(pmtu_mesh_path_mtu_bytes == 1400)')
icmp=$(prom_value 'count(pmtu_mesh_path_mtu_info{evidence="icmp"})')
answered=$(c curl -sf "http://$C4:$PORT/metrics" | awk '$1 == "pmtu_mesh_responder_probes_total{verdict=\"answered\"}" { print $2 }')
# The peers' agents, for scale: their mean CPU over the whole run.
peer_cpu=$(for pid in "${PIDS[@]}"; do
	[[ $pid == "$AGENT_PID" || $(cat "/proc/$pid/comm" 2>/dev/null) != pmtu ]] && continue
	awk '{ print $14 + $15, $22 }' "/proc/$pid/stat"
done | awk -v tck="$(getconf CLK_TCK)" -v up="$(awk '{ print $1 }' /proc/uptime)" \
	'{ c += $1 / tck; w += up - $2 / tck; k++ } END { if (k) printf "%.2f", 100 * c / w; else printf "-" }')
bench_stop

tck=$(getconf CLK_TCK)
declare -A sv=()
while read -r k v; do sv[$k]=$v; done <"$WORK/serve.sum"
echo
awk -v c0="$cpu0" -v c1="$cpu1" -v y0="$sys0" -v y1="$sys1" -v tck="$tck" -v t0="$t0" -v t1="$t1" -v s0="$s0" -v s1="$s1" \
	-v rmax="$rss_max" -v rsum="$rss_sum" -v n="$n" -v hwm="$hwm" -v peers="$PEERS" -v exact="$exact" -v icmp="$icmp" \
	-v answered="$answered" -v peer_cpu="$peer_cpu" -v interval="$INTERVAL" \
	-v scpu="${sv[cpu_pct]}" -v savg="${sv[rss_avg_mb]}" -v smax="${sv[rss_max_mb]}" -v sps="${sv[searches_per_s]}" \
	-v sexact="${sv[exact]}" -v stargets="${sv[targets]}" 'BEGIN {
	wall = t1 - t0; cpu = (c1 - c0) / tck
	printf "%-44s %-12s %-10s %-10s %-13s %s\n", "100 paths every " interval " s", "CPU, 1 core", "RSS mean", "RSS max", "searches/s", "exact"
	printf "%-44s %-12s %-10s %-10s %-13s %s\n", "pmtu serve, Prometheus scraping /probe", sprintf("%.2f%%", scpu), savg " MB", smax " MB", sps, sexact "/" stargets " at 1400"
	printf "%-44s %-12s %-10s %-10s %-13s %s\n", "pmtu mesh, one agent, " peers " peers", sprintf("%.2f%%", 100 * cpu / wall), sprintf("%.1f MB", rsum / n / 1024), sprintf("%.1f MB", rmax / 1024), sprintf("%.1f", (s1 - s0) / wall), exact "/" peers " at 1400"
	printf "%-44s %-12s %-10s\n", "goal", "<= 2%", "<= 40 MB"
	printf "\nmesh agent: %.2f s CPU in %.0f s (%.2f s system), VmHWM %.1f MB; %d of its pairs by icmp evidence; %d peer probes answered; the %d peer agents (one search of it each per interval): %s%% of a core each, mean\n", \
		cpu, wall, (y1 - y0) / tck, hwm / 1024, icmp, answered, peers, peer_cpu
}'
