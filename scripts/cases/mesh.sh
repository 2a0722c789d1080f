# shellcheck shell=bash
# Cases for pmtu mesh: agents in namespaces on one Linux bridge, a VXLAN
# overlay on top, peers from a real DNS server (dnsmasq), a real
# Prometheus, the page in headless Chromium. Sourced by
# scripts/netns-test.sh.
#
# mesh_build: six nodes n1..n6, each with one port on the bridge br0 in
# namespace sw (an L2 segment, like a rack), and a VXLAN overlay (VNI 42,
# head-end replication to every other node) at MTU 1450:
#
#            sw: br0 (a bridge: no router, no ICMP)
#     p1    p2    p3    p4    p5    p6
#    1500  1500  1500  1500  1500  1400      <- n6's port shrank, both ends
#     |     |     |     |     |     |
#    n1    n2    n3    n4    n5    n6         eth0 198.18.0.N/24
#    vx0 ═══ VXLAN 42 over eth0, MTU 1450 ══ vx0 198.18.100.N/24
#
#   n2: nft output drops packets over 1300 bytes to 198.18.100.3 (vx0
#       only): n2 → n3 carries 1300, n3 → n2 carries 1450.
#   n1: dnsmasq on 198.18.0.1 answers mesh.pmtu.test with all six
#       overlay addresses (a headless Service); every node asks it.
#
# Overlay packets of 1450 are 1500-byte frames on the underlay; the bridge
# drops those toward n6 (port 1400) silently. It lets a port's MTU plus 4
# bytes through (room for a VLAN tag, is_skb_forwardable), so the paths
# into n6 carry 1354. The tunnels set DF on their outer packets (df set,
# as overlays that must not fragment on the underlay do): n6's own kernel
# refuses inner packets that make outer ones above its 1400 underlay, so
# the paths out of n6 carry 1350. (With
# the default, df unset, n6 would fragment its outer packets and its
# paths out would carry 1450.) n2 → n3 is 1300, the other 19 pairs 1450.

MESH_PORT=10151
MESH_NAME=mesh.pmtu.test
MESH_N=6

# mesh_build N SMALL: N nodes on the bridge, node SMALL's port at 1400
# (0: none), the overlay, n2's drop toward n3 when N >= 3.
mesh_build() {
	local n=$1 small=$2 i j
	MESH_N=$n
	ns_add sw
	sw ip link add br0 type bridge
	# A switch forwards frames or drops them. Where br_netfilter is
	# loaded, a bridge that hands IPv4 to iptables also fragments what
	# has no DF (VXLAN's outer packets) to fit a smaller port: not here.
	if [[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]]; then
		sw sysctl -q -w net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-ip6tables=0 \
			net.bridge.bridge-nf-call-arptables=0
	fi
	sw ip link set br0 up
	for ((i = 1; i <= n; i++)); do
		ns_add "n$i"
		veth_link "n$i" eth0 sw "p$i" 1500
		sw ip link set "p$i" master br0
		"n$i" ip addr add "198.18.0.$i/24" dev eth0
	done
	for ((i = 1; i <= n; i++)); do
		"n$i" ip link add vx0 mtu 1450 type vxlan id 42 dstport 4789 local "198.18.0.$i" dev eth0 df set
		for ((j = 1; j <= n; j++)); do
			((j == i)) || "n$i" bridge fdb append 00:00:00:00:00:00 dev vx0 dst "198.18.0.$j"
		done
		"n$i" ip addr add "198.18.100.$i/24" dev vx0
		[[ -z ${MESH_V6:-} ]] || "n$i" ip -6 addr add "2001:db8:100::$i/64" dev vx0 nodad
		"n$i" ip link set vx0 up
	done
	# Then node SMALL's underlay port drops to 1400, both ends; its vx0
	# keeps 1450 (the VXLAN driver does not follow its lower device).
	if ((small > 0)); then
		"n$small" ip link set eth0 mtu 1400
		sw ip link set "p$small" mtu 1400
	fi
}

# mesh_expect S T: the path MTU from node S to node T in mesh_build 6 6.
mesh_expect() {
	if (($1 == 6)); then
		echo 1350
	elif (($2 == 6)); then
		echo 1354
	elif (($1 == 2 && $2 == 3)); then
		echo 1300
	else
		echo 1450
	fi
}

# mesh_dns: dnsmasq in n1 answers $MESH_NAME with the six overlay
# addresses; every node's resolver is it.
mesh_dns() {
	local i records=()
	for ((i = 1; i <= MESH_N; i++)); do
		records+=("--host-record=$MESH_NAME,198.18.100.$i${MESH_V6:+,2001:db8:100::$i}")
		echo "nameserver 198.18.0.1" >"/etc/netns/$(ns_full "n$i")/resolv.conf"
	done
	ip netns exec "$NS_N1" dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts \
		--listen-address=198.18.0.1 --bind-interfaces --pid-file="$CASE_DIR/dnsmasq.pid" \
		"${records[@]}" >"$CASE_DIR/dnsmasq.log" 2>&1 &
	MESH_PIDS+=" $!"
	for ((i = 0; i < 50; i++)); do
		[[ $(n2 getent ahostsv4 "$MESH_NAME" | awk '{print $1}' | sort -u | wc -l) == "$MESH_N" ]] && return 0
		sleep 0.1
	done
	fail "dnsmasq does not answer $MESH_NAME with $MESH_N addresses: $(n2 getent ahostsv4 "$MESH_NAME" | tr '\n' ' ') $(cat "$CASE_DIR/dnsmasq.log")"
}

# mesh_agent I [ARGS...]: start the agent of node I as user nobody with
# no capability, peers from DNS, interval 3 s, the mesh key; its pid in
# MESH_AGENT[I].
declare -gA MESH_AGENT=()
mesh_agent() {
	local i=$1
	shift
	ip netns exec "$(ns_full "n$i")" setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs \
		--inh-caps=-all --bounding-set=-all \
		"$BIN_ABS" mesh --peers "dns:$MESH_NAME" --listen "0.0.0.0:$MESH_PORT" --interval 3s \
		--key-file "$MESH_KEYDIR/key" "$@" >>"$CASE_DIR/agent$i.log" 2>&1 &
	MESH_AGENT[$i]=$!
	MESH_PIDS+=" $!"
}

# mesh_stop: stop what the case started.
mesh_stop() {
	SERVE_PIDS=${MESH_PIDS:-} serve_stop
	MESH_PIDS=
	[[ -z ${MESH_KEYDIR:-} ]] || rm -rf "$MESH_KEYDIR"
}

# mesh_prometheus: Prometheus in n1 finds the agents through DNS
# (dns_sd_configs, like kubernetes_sd finds pods), scrapes them every
# second, evaluates deploy/kubernetes/alerts.yml with for: cut to 1s and
# the stale threshold to 15 s.
mesh_prometheus() {
	PROM_PORT=9090
	sed -E -e 's/^( *for: ).*/\11s/' -e 's/> 600$/> 15/' deploy/kubernetes/alerts.yml >"$CASE_DIR/alerts.yml"
	grep -q '> 15$' "$CASE_DIR/alerts.yml" || fail "sed found no stale threshold in deploy/kubernetes/alerts.yml"
	cat >"$CASE_DIR/prometheus.yml" <<-EOF
		global:
		  scrape_interval: 1s
		  scrape_timeout: 1s
		  evaluation_interval: 1s
		rule_files:
		  - $CASE_DIR/alerts.yml
		scrape_configs:
		  - job_name: pmtu-mesh
		    dns_sd_configs:
		      - names: [$MESH_NAME]
		        type: A
		        port: $MESH_PORT
		        refresh_interval: 1s
	EOF
	promtool check config "$CASE_DIR/prometheus.yml" >/dev/null || fail "promtool rejects the test's config"
	ip netns exec "$NS_N1" prometheus --config.file="$CASE_DIR/prometheus.yml" --storage.tsdb.path="$CASE_DIR/tsdb" \
		--web.listen-address="127.0.0.1:$PROM_PORT" >"$CASE_DIR/prometheus.log" 2>&1 &
	MESH_PIDS+=" $!"
	serve_wait_http n1 "http://127.0.0.1:$PROM_PORT/-/ready" 30 || fail "prometheus is not ready: $(tail -n 5 "$CASE_DIR/prometheus.log")"
}

# mprom EXPR: an instant query to the case's Prometheus in n1, as sorted
# "labels value" lines (prom_query of serve.sh, from n1).
mprom() {
	n1 curl -sf --max-time 2 "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1" |
		jq -r '.data.result[] | "\(.metric | del(.__name__, .instance, .job) | to_entries | map("\(.key)=\(.value)") | join(",")) \(.value[1])"' |
		sort || true
}

# mesh_addr FAMILY N: node N's overlay address of FAMILY (4 or 6).
mesh_addr() {
	if (($1 == 6)); then echo "2001:db8:100::$2"; else echo "198.18.100.$2"; fi
}

# mesh_matrix_want [FAMILY]: the 30 lines mprom prints for
# pmtu_mesh_path_mtu_bytes of FAMILY (default 4) when every pair is exact.
mesh_matrix_want() {
	local s t f=${1:-4}
	for ((s = 1; s <= MESH_N; s++)); do
		for ((t = 1; t <= MESH_N; t++)); do
			((s == t)) || echo "source=$(mesh_addr "$f" "$s"),target=$(mesh_addr "$f" "$t") $(mesh_expect "$s" "$t")"
		done
	done | sort
}

# mesh_family_selector FAMILY: a label matcher for the pairs of FAMILY.
mesh_family_selector() {
	if (($1 == 6)); then echo '{target=~".*:.*"}'; else echo '{target!~".*:.*"}'; fi
}

# mesh_wait_exact SECONDS [FAMILY]: wait until Prometheus holds all 30
# pairs of FAMILY (default 4) exact.
mesh_wait_exact() {
	local i want f=${2:-4}
	want=$(mesh_matrix_want "$f")
	for ((i = 0; i < $1 * 2; i++)); do
		MESH_GOT=$(mprom "pmtu_mesh_path_mtu_bytes$(mesh_family_selector "$f")")
		[[ $MESH_GOT == "$want" ]] && return 0
		sleep 0.5
	done
	return 1
}

# mesh_wait_alerts WANT: wait (20 s at most) until the MeshPathMTUMismatch
# alerts firing in Prometheus, as sorted SOURCE>TARGET lines, are WANT;
# they are left in MESH_ALERTS either way.
mesh_wait_alerts() {
	local i
	for ((i = 0; i < 40; i++)); do
		MESH_ALERTS=$(n1 curl -sf "http://127.0.0.1:$PROM_PORT/api/v1/alerts" |
			jq -r '.data.alerts[] | select(.labels.alertname == "MeshPathMTUMismatch" and .state == "firing") | "\(.labels.source)>\(.labels.target)"' | sort)
		[[ $MESH_ALERTS == "$1" ]] && return 0
		sleep 0.5
	done
	return 1
}

# mesh_setup: the topology, checked with DF pings, the key, dnsmasq, six
# agents and Prometheus.
mesh_setup() {
	if ! command -v prometheus >/dev/null || ! command -v dnsmasq >/dev/null || ! command -v setpriv >/dev/null; then
		skip "no prometheus, dnsmasq or setpriv: run scripts/deps.sh"
	fi
	MESH_PIDS=
	trap 'mesh_stop; netns_cleanup' EXIT
	mesh_build 6 6
	n2 nft -f - <<-'EOF'
		table inet mesh {
			chain out {
				type filter hook output priority filter; policy accept;
				oifname "vx0" ip daddr 198.18.100.3 ip length > 1300 drop
				oifname "vx0" ip6 daddr 2001:db8:100::3 ip6 length > 1260 drop
			}
		}
	EOF
	# The topology itself: overlay 1450 between n1 and n2, 1354 (silent
	# at the bridge) from n1 to n6, 1300 from n2 to n3.
	sanity n1 198.18.100.2 1450
	ping_df n1 198.18.100.6 1354 || fail "topology broken: n1 → n6 does not carry 1354"
	ping_df n1 198.18.100.6 1355 1 && fail "topology broken: n1 → n6 carries 1355"
	ping_df n2 198.18.100.3 1300 || fail "topology broken: n2 → n3 does not carry 1300"
	ping_df n2 198.18.100.3 1301 1 && fail "topology broken: n2 → n3 carries 1301"
	# n3 → n2 carries 1450, but an Echo cannot show it: n2's reply of
	# 1450 is dropped on its way back. Only the agents can tell.
	if [[ -n ${MESH_V6:-} ]]; then
		sanity n1 2001:db8:100::2 1450
		ping_df n1 2001:db8:100::6 1354 || fail "topology broken: n1 → n6 does not carry 1354 over IPv6"
		ping_df n1 2001:db8:100::6 1355 1 && fail "topology broken: n1 → n6 carries 1355 over IPv6"
		ping_df n2 2001:db8:100::3 1300 || fail "topology broken: n2 → n3 does not carry 1300 over IPv6"
		ping_df n2 2001:db8:100::3 1301 1 && fail "topology broken: n2 → n3 carries 1301 over IPv6"
	fi
	local i
	for ((i = 1; i <= 6; i++)); do flush_pmtu "n$i"; done
	echo "sanity: the overlay carries 1450, 1354 into n6, n2 → n3 1300${MESH_V6:+, over IPv4 and IPv6}"

	MESH_KEYDIR=$(mktemp -d /tmp/pmtu-mesh-key.XXXXXX)
	chmod 755 "$MESH_KEYDIR"
	head -c 32 /dev/urandom | base64 >"$MESH_KEYDIR/key"
	chmod 644 "$MESH_KEYDIR/key"
	mesh_dns
	for ((i = 1; i <= 6; i++)); do mesh_agent "$i"; done
	mesh_prometheus
}

# mesh: the six-node case.
register mesh "pmtu mesh: 6 agents (nobody, no capability) on a bridge + VXLAN, peers from dnsmasq, Prometheus: 30 pairs exact, the asymmetric pair both ways, mismatch alerts for the shrunken node, the 6x6 page in Chromium"
case_mesh() {
	mesh_setup
	local i t0=$SECONDS
	# Unprivileged: uid nobody, no effective capability.
	for ((i = 1; i <= 6; i++)); do
		local st
		st=$(grep -E '^(Uid|CapEff):' "/proc/${MESH_AGENT[$i]}/status" | awk '{print $2}' | tr '\n' ' ')
		[[ $st == "65534 0000000000000000 " ]] || PROBLEMS+=("agent $i runs as uid/CapEff '$st', want 65534 and none")
	done

	if ! mesh_wait_exact 60; then
		echo "want:"; mesh_matrix_want
		echo "got:"; echo "$MESH_GOT"
		for ((i = 1; i <= 6; i++)); do echo "agent $i:"; tail -n 20 "$CASE_DIR/agent$i.log"; done
		fail "Prometheus does not hold all 30 pairs exact within 60 s"
	fi
	echo "all 30 ordered pairs exact in Prometheus after $((SECONDS - t0)) s:"
	echo "$MESH_GOT" | column -c 200
	# Both directions of the asymmetric pair, by name.
	[[ $(mprom 'pmtu_mesh_path_mtu_bytes{source="198.18.100.2",target="198.18.100.3"}') == *" 1300" ]] || PROBLEMS+=("n2 → n3 is not 1300")
	[[ $(mprom 'pmtu_mesh_path_mtu_bytes{source="198.18.100.3",target="198.18.100.2"}') == *" 1450" ]] || PROBLEMS+=("n3 → n2 is not 1450")
	echo "evidence:"
	mprom 'pmtu_mesh_path_mtu_info' | awk '{print $1}' | sed 's/,interface=vx0//' | column -c 200
	[[ $(mprom 'count(pmtu_mesh_path_mtu_info{target="198.18.100.6",evidence="silence"})') == *" 5" ]] ||
		PROBLEMS+=("the 5 paths into n6 are not all evidence=silence: $(mprom 'pmtu_mesh_path_mtu_info{target="198.18.100.6"}')")
	echo "answers ignored, per agent: $(mprom 'pmtu_mesh_answers_ignored_total' | tr '\n' ' ')"
	echo "evidence out of n6: $(mprom 'pmtu_mesh_path_mtu_info{source="198.18.100.6"}' | grep -o 'evidence=[a-z]*' | sort | uniq -c | tr '\n' ' ')"
	[[ $(mprom 'count(pmtu_mesh_interface_mtu_bytes == 1450)') == *" 30" ]] || PROBLEMS+=("pmtu_mesh_interface_mtu_bytes is not 1450 (vx0) for all 30")

	# The mismatch alert: every pair touching n6, and n2 → n3; nothing else.
	local want_alerts got_alerts s tt
	want_alerts=$(for ((s = 1; s <= 6; s++)); do for ((tt = 1; tt <= 6; tt++)); do
		if ((s != tt && $(mesh_expect "$s" "$tt") < 1450)); then echo "198.18.100.$s>198.18.100.$tt"; fi
	done; done | sort)
	mesh_wait_alerts "$want_alerts" || true
	got_alerts=$MESH_ALERTS
	echo "MeshPathMTUMismatch firing for $(wc -l <<<"$got_alerts") pairs: $(tr '\n' ' ' <<<"$got_alerts")"
	[[ $got_alerts == "$want_alerts" ]] || PROBLEMS+=("MeshPathMTUMismatch fires for '$(tr '\n' ' ' <<<"$got_alerts")', want '$(tr '\n' ' ' <<<"$want_alerts")'")
	local other
	other=$(n1 curl -sf "http://127.0.0.1:$PROM_PORT/api/v1/alerts" | jq -r '[.data.alerts[] | select(.labels.alertname != "MeshPathMTUMismatch")] | length')
	[[ $other == 0 ]] || PROBLEMS+=("$other other alerts fire")

	# The page, in headless Chromium, from n1's agent: its row and the
	# five peers' rows.
	if command -v chromium >/dev/null; then
		local url="http://198.18.100.1:$MESH_PORT/" prof dom cells known mism
		prof=$(mktemp -d)
		ip netns exec "$NS_N1" timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
			--disable-component-update --disable-sync --no-first-run --user-data-dir="$prof" \
			--window-size=720,560 --screenshot="$CASE_DIR/mesh.png" "$url" >"$CASE_DIR/chromium.log" 2>&1 || true
		dom=$(ip netns exec "$NS_N1" timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
			--disable-component-update --disable-sync --no-first-run --user-data-dir="$prof" --dump-dom "$url" 2>>"$CASE_DIR/chromium.log") || true
		rm -rf "$prof"
		cells=$(grep -o '<g class="cell"' <<<"$dom" | wc -l)
		known=$(grep -oE 'data-pmtu="1[0-9]{3}"' <<<"$dom" | wc -l)
		mism=$(grep -o 'data-mismatch="true"' <<<"$dom" | wc -l)
		echo "page in Chromium: $cells cells, $known with a path MTU, $mism below the interface MTU; screenshot $(stat -c %s "$CASE_DIR/mesh.png" 2>/dev/null || echo none) bytes"
		[[ -n ${MESH_SCREENSHOT:-} && -s $CASE_DIR/mesh.png ]] && cp "$CASE_DIR/mesh.png" "$MESH_SCREENSHOT"
		((cells == 36 && known == 30 && mism == 11)) || PROBLEMS+=("the page shows $cells cells, $known known, $mism mismatched; want 36, 30, 11")
		[[ $dom == *"198.18.100.2 → 198.18.100.3: path MTU 1300, interface vx0 MTU 1450, evidence silence"* ]] ||
			PROBLEMS+=("no cell title gives n2 → n3's evidence")
		[[ -s $CASE_DIR/mesh.png ]] || PROBLEMS+=("Chromium made no screenshot: $(tail -n 3 "$CASE_DIR/chromium.log")")
	else
		PROBLEMS+=("no chromium: run scripts/deps.sh")
	fi
	OUT='' verdict
}

# mesh6: the six nodes dual-stack: IPv6 on the VXLAN overlay beside
# IPv4, peers from dnsmasq's A and AAAA records. Each agent measures its
# 10 peers (5 nodes, 2 families); Prometheus must hold the 30 IPv6 pairs
# exact as well as the 30 IPv4 ones, n2 → n3 1300 and n3 → n2 1450 over
# IPv6 too, the 5 IPv6 paths into n6 by silence, and the mismatch alert
# for the 11 pairs of each family that carry less than vx0's 1450.
register mesh6 "pmtu mesh over IPv6: the six nodes dual-stack on the overlay, peers from A and AAAA records: 30 IPv6 pairs exact beside the 30 IPv4 ones, the asymmetric pair both ways, mismatch alerts for both families"
case_mesh6() {
	MESH_V6=1
	mesh_setup
	local i t0=$SECONDS
	if ! mesh_wait_exact 60 6; then
		echo "want:"; mesh_matrix_want 6
		echo "got:"; echo "$MESH_GOT"
		for ((i = 1; i <= 6; i++)); do echo "agent $i:"; tail -n 20 "$CASE_DIR/agent$i.log"; done
		fail "Prometheus does not hold all 30 IPv6 pairs exact within 60 s"
	fi
	echo "all 30 IPv6 pairs exact in Prometheus after $((SECONDS - t0)) s:"
	echo "$MESH_GOT" | column -c 200
	mesh_wait_exact 20 4 || PROBLEMS+=("the 30 IPv4 pairs are not all exact beside IPv6: $(mesh_matrix_want 4 | diff - <(echo "$MESH_GOT") | tr '\n' ' ')")
	echo "and the 30 IPv4 pairs beside them"
	[[ $(mprom 'pmtu_mesh_path_mtu_bytes{source="2001:db8:100::2",target="2001:db8:100::3"}') == *" 1300" ]] || PROBLEMS+=("n2 → n3 is not 1300 over IPv6")
	[[ $(mprom 'pmtu_mesh_path_mtu_bytes{source="2001:db8:100::3",target="2001:db8:100::2"}') == *" 1450" ]] || PROBLEMS+=("n3 → n2 is not 1450 over IPv6")
	[[ $(mprom 'count(pmtu_mesh_path_mtu_info{target="2001:db8:100::6",evidence="silence"})') == *" 5" ]] ||
		PROBLEMS+=("the 5 IPv6 paths into n6 are not all evidence=silence: $(mprom 'pmtu_mesh_path_mtu_info{target="2001:db8:100::6"}')")
	echo "IPv6 evidence out of n6: $(mprom 'pmtu_mesh_path_mtu_info{source="2001:db8:100::6"}' | grep -o 'evidence=[a-z]*' | sort | uniq -c | tr '\n' ' ')"
	echo "peers per agent: $(mprom 'pmtu_mesh_peers' | awk '{print $NF}' | tr '\n' ' ')"
	[[ $(mprom 'count(pmtu_mesh_peers == 10)') == *" 6" ]] || PROBLEMS+=("not every agent has 10 peers (5 nodes, 2 families): $(mprom 'pmtu_mesh_peers' | tr '\n' ' ')")
	local want_alerts got_alerts s tt f
	want_alerts=$(for f in 4 6; do for ((s = 1; s <= 6; s++)); do for ((tt = 1; tt <= 6; tt++)); do
		if ((s != tt && $(mesh_expect "$s" "$tt") < 1450)); then echo "$(mesh_addr $f "$s")>$(mesh_addr $f "$tt")"; fi
	done; done; done | sort)
	mesh_wait_alerts "$want_alerts" || true
	got_alerts=$MESH_ALERTS
	echo "MeshPathMTUMismatch firing for $(grep -c : <<<"$got_alerts") IPv6 and $(grep -vc : <<<"$got_alerts") IPv4 pairs"
	[[ $got_alerts == "$want_alerts" ]] || PROBLEMS+=("MeshPathMTUMismatch fires for '$(tr '\n' ' ' <<<"$got_alerts")', want '$(tr '\n' ' ' <<<"$want_alerts")'")
	echo "ICMP signals outside a search: $(mprom 'sum by (result) (pmtu_mesh_icmp_signals_total)' | tr '\n' ' ')"
	OUT='' verdict
}

# mesh_count_acks SHORT: count, in namespace SHORT, the mesh
# acknowledgements that arrive (UDP from the mesh port whose payload
# starts "PMTM" and is of kind 2) and the probes that leave (kind 1), in
# nft table inet meshcount.
mesh_count_acks() {
	"$1" nft -f - <<-EOF
		table inet meshcount {
			chain in {
				type filter hook input priority filter; policy accept;
				udp sport $MESH_PORT @th,64,32 0x504d544d @th,104,8 2 counter
			}
			chain out {
				type filter hook output priority filter; policy accept;
				udp dport $MESH_PORT @th,64,32 0x504d544d @th,104,8 1 counter
			}
		}
	EOF
}

# mesh_counted SHORT CHAIN: the packets counted in CHAIN (in or out).
mesh_counted() {
	"$1" nft list chain inet meshcount "$2" | grep -oE 'packets [0-9]+' | awk '{print $2}'
}

# meshfaults: on the six-node mesh, once exact:
#   - n5's agent stops: the pairs to and from n5 go stale in Prometheus
#     (the series end), MeshPathStale fires for the pairs into n5, the
#     other 20 stay; n5's agent comes back: all 30 exact again.
#   - n7, on the bridge but in nobody's peer set, runs an agent with the
#     right key toward n1: not one acknowledgement reaches it, and n1's
#     responder counts its probes as not_peer.
#   - n4's agent restarts with a wrong key: not one acknowledgement
#     reaches n4, the others' responders count bad_mac, and n4's pairs
#     end; with the right key again, all 30 are exact.
# (1000 forged acknowledgements believed 0 times: TestMeshForgedAcks in
# probe/transport, a unit test.)
register meshfaults "pmtu mesh faults: a peer goes and comes back (stale, then back), a non-peer's probes and a bad HMAC get no answer"
case_meshfaults() {
	mesh_setup
	local i got
	mesh_wait_exact 60 || fail "not all 30 pairs exact within 60 s: $MESH_GOT"
	echo "all 30 pairs exact"

	# A peer goes away.
	kill "${MESH_AGENT[5]}"
	wait "${MESH_AGENT[5]}" 2>/dev/null || true
	echo "n5's agent stopped"
	for ((i = 0; i < 60; i++)); do
		got=$(mprom 'count(pmtu_mesh_path_mtu_bytes{target="198.18.100.5"} or pmtu_mesh_path_mtu_bytes{source="198.18.100.5"})')
		[[ -z $got ]] && break
		sleep 0.5
	done
	[[ -z $got ]] || PROBLEMS+=("30 s after n5's agent stopped, Prometheus still has $got series to or from n5")
	[[ $(mprom 'count(pmtu_mesh_path_mtu_bytes)') == *" 20" ]] || PROBLEMS+=("the other pairs: $(mprom 'count(pmtu_mesh_path_mtu_bytes)'), want 20")
	for ((i = 0; i < 60; i++)); do
		got=$(n1 curl -sf "http://127.0.0.1:$PROM_PORT/api/v1/alerts" |
			jq -r '[.data.alerts[] | select(.labels.alertname == "MeshPathStale" and .state == "firing" and .labels.target == "198.18.100.5")] | length')
		((got == 5)) && break
		sleep 0.5
	done
	echo "pairs to or from n5 gone from Prometheus; MeshPathStale firing for $got pairs into n5"
	((got == 5)) || PROBLEMS+=("MeshPathStale fires for $got pairs into n5, want the 5 from the other agents")
	mesh_agent 5
	mesh_wait_exact 60 || PROBLEMS+=("after n5's agent came back, not all 30 pairs exact within 60 s: $(mesh_matrix_want | diff - <(echo "$MESH_GOT") | tr '\n' ' ')")
	echo "n5 back: all 30 pairs exact again"

	# A stranger probes n1.
	ns_add n7
	veth_link n7 eth0 sw p7 1500
	sw ip link set p7 master br0
	n7 ip addr add 198.18.0.7/24 dev eth0
	mesh_count_acks n7
	ip netns exec "$NS_N7" setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs --inh-caps=-all --bounding-set=-all \
		"$BIN_ABS" mesh --peers 198.18.0.1 --listen "0.0.0.0:$MESH_PORT" --interval 2s --key-file "$MESH_KEYDIR/key" >"$CASE_DIR/agent7.log" 2>&1 &
	MESH_PIDS+=" $!"
	local before_np
	before_np=$(mprom 'sum(pmtu_mesh_responder_probes_total{verdict="not_peer"})')
	sleep 6
	local acks probes np
	acks=$(mesh_counted n7 in) probes=$(mesh_counted n7 out)
	np=$(mprom 'sum(pmtu_mesh_responder_probes_total{verdict="not_peer"})')
	echo "n7, no peer of n1's: sent $probes probes, got $acks acknowledgements; not_peer ${before_np##* } -> ${np##* }"
	((probes > 0)) || PROBLEMS+=("n7 sent no probe, so its silence proves nothing")
	((acks == 0)) || PROBLEMS+=("n7, in nobody's peer set, got $acks acknowledgements")
	((${np##* } > ${before_np##* })) || PROBLEMS+=("n1's responder did not count n7's probes as not_peer")
	grep -q 'path MTU [0-9]' "$CASE_DIR/agent7.log" && PROBLEMS+=("n7 found a path MTU: $(cat "$CASE_DIR/agent7.log")")

	# A peer with the wrong key.
	kill "${MESH_AGENT[4]}"
	wait "${MESH_AGENT[4]}" 2>/dev/null || true
	head -c 32 /dev/urandom | base64 >"$MESH_KEYDIR/wrong"
	chmod 644 "$MESH_KEYDIR/wrong"
	mesh_count_acks n4
	local before_bm
	before_bm=$(mprom 'sum(pmtu_mesh_responder_probes_total{verdict="bad_mac"})')
	ip netns exec "$NS_N4" setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs --inh-caps=-all --bounding-set=-all \
		"$BIN_ABS" mesh --peers "dns:$MESH_NAME" --listen "0.0.0.0:$MESH_PORT" --interval 3s --key-file "$MESH_KEYDIR/wrong" >"$CASE_DIR/agent4-wrong.log" 2>&1 &
	local wrong=$!
	MESH_PIDS+=" $wrong"
	sleep 8
	acks=$(mesh_counted n4 in) probes=$(mesh_counted n4 out)
	local bm
	bm=$(mprom 'sum(pmtu_mesh_responder_probes_total{verdict="bad_mac"})')
	got=$(mprom 'count(pmtu_mesh_path_mtu_bytes{source="198.18.100.4"} or pmtu_mesh_path_mtu_bytes{target="198.18.100.4"})')
	echo "n4 with a wrong key: sent $probes probes, got $acks acknowledgements; bad_mac ${before_bm##* } -> ${bm##* }; pairs of n4 in Prometheus: ${got:-none}"
	((probes > 0)) || PROBLEMS+=("n4 sent no probe with its wrong key, so its silence proves nothing")
	((acks == 0)) || PROBLEMS+=("n4, with a wrong key, got $acks acknowledgements")
	((${bm##* } > ${before_bm##* })) || PROBLEMS+=("no responder counted bad_mac")
	[[ -z $got ]] || PROBLEMS+=("with a wrong key on n4, Prometheus still has $got pairs of n4")
	kill "$wrong"
	wait "$wrong" 2>/dev/null || true
	mesh_agent 4
	mesh_wait_exact 60 || PROBLEMS+=("after n4 got the right key back, not all 30 pairs exact within 60 s")
	echo "n4 with the right key: all 30 pairs exact again"
	OUT='' verdict
}

# meshscale: 30 agents on one bridge (the underlay, no overlay), n29's and
# n30's ports at 1400: 870 ordered pairs, peers from a file. Every pair
# must be exact within two intervals (10 s each) of the agents' start:
# into n29 and n30 1404 (the bridge passes a port's MTU plus a VLAN tag's
# 4 bytes), out of them 1400 (their interface), 1500 elsewhere. Prints
# each agent's CPU and RSS after a minute.
register meshscale "pmtu mesh at scale: 30 agents, 870 pairs exact within two intervals; CPU and RSS per agent"
case_meshscale() {
	command -v setpriv >/dev/null || skip "no setpriv"
	local n=30 i s t iv=10 start
	MESH_PIDS=
	trap 'mesh_stop; netns_cleanup' EXIT
	ns_add sw
	sw ip link add br0 type bridge
	if [[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]]; then
		sw sysctl -q -w net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-ip6tables=0 net.bridge.bridge-nf-call-arptables=0
	fi
	sw ip link set br0 up
	MESH_KEYDIR=$(mktemp -d /tmp/pmtu-mesh-key.XXXXXX)
	chmod 755 "$MESH_KEYDIR"
	for ((i = 1; i <= n; i++)); do
		ns_add "n$i"
		veth_link "n$i" eth0 sw "p$i" 1500
		sw ip link set "p$i" master br0
		"n$i" ip addr add "198.18.0.$i/24" dev eth0
		echo "198.18.0.$i" >>"$MESH_KEYDIR/peers"
	done
	for i in 29 30; do
		"n$i" ip link set eth0 mtu 1400
		sw ip link set "p$i" mtu 1400
	done
	chmod 644 "$MESH_KEYDIR/peers"
	ping_df n1 198.18.0.2 1500 || fail "topology broken: n1 → n2 does not carry 1500"
	start=$SECONDS
	declare -A pid=()
	for ((i = 1; i <= n; i++)); do
		ip netns exec "$(ns_full "n$i")" setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs --inh-caps=-all --bounding-set=-all \
			"$BIN_ABS" mesh --peers "file:$MESH_KEYDIR/peers" --listen "0.0.0.0:$MESH_PORT" --interval "${iv}s" >"$CASE_DIR/agent$i.log" 2>&1 &
		pid[$i]=$!
		MESH_PIDS+=" $!"
	done
	local exact wrong
	for ((;;)); do
		exact=0 wrong=
		for ((s = 1; s <= n; s++)); do
			local want metrics got
			metrics=$("n$s" curl -sf --max-time 2 "http://198.18.0.$s:$MESH_PORT/metrics" | grep '^pmtu_mesh_path_mtu_bytes') || true
			for ((t = 1; t <= n; t++)); do
				((s == t)) && continue
				if ((s >= 29)); then want=1400; elif ((t >= 29)); then want=1404; else want=1500; fi
				got=$(grep -F "target=\"198.18.0.$t\"}" <<<"$metrics" | awk '{print $2}') || true
				if [[ $got == "$want" ]]; then exact=$((exact + 1)); else wrong="$s>$t:${got:-none}/$want"; fi
			done
		done
		((exact == n * (n - 1))) && break
		((SECONDS - start > 2 * iv + 5)) && break
		sleep 1
	done
	echo "$exact of $((n * (n - 1))) pairs exact $((SECONDS - start)) s after the agents started${wrong:+ (e.g. $wrong)}"
	((exact == n * (n - 1))) || fail "only $exact of $((n * (n - 1))) pairs exact within two intervals (plus the 5 s the check takes)"
	((SECONDS - start <= 2 * iv + 5)) || fail "all exact only after $((SECONDS - start)) s"
	# A minute of steady state, then CPU and RSS per agent.
	declare -A cpu0=()
	local hz t0 t1
	hz=$(getconf CLK_TCK)
	t0=$EPOCHREALTIME
	for ((i = 1; i <= n; i++)); do cpu0[$i]=$(awk '{print $14 + $15}' "/proc/${pid[$i]}/stat"); done
	sleep 60
	t1=$EPOCHREALTIME
	local total=0 maxrss=0 probes=0 line
	for ((i = 1; i <= n; i++)); do
		local c r
		c=$(awk '{print $14 + $15}' "/proc/${pid[$i]}/stat")
		r=$(awk '/^VmRSS/ {print $2}' "/proc/${pid[$i]}/status")
		line+=$(awk -v a="${cpu0[$i]}" -v b="$c" -v hz="$hz" -v t0="$t0" -v t1="$t1" -v i="$i" -v r="$r" \
			'BEGIN { printf "n%d %.2f%% %.1fMB  ", i, 100 * (b - a) / hz / (t1 - t0), r / 1024 }')
		total=$((total + c - cpu0[$i]))
		((r > maxrss)) && maxrss=$r
	done
	echo "per agent over 60 s (CPU of one core, RSS): $line"
	probes=$(for ((i = 1; i <= n; i++)); do "n$i" curl -sf "http://198.18.0.$i:$MESH_PORT/metrics" | awk '/^pmtu_mesh_probes_sent_total/ {print $2}'; done | awk '{s += $1} END {print s}')
	awk -v t="$total" -v hz="$hz" -v n="$n" -v d="$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" -v m="$maxrss" -v p="$probes" -v up="$((SECONDS - start))" \
		'BEGIN { printf "mean CPU %.2f%% of one core per agent, largest RSS %.1f MB; %d probes sent by all agents in %d s: %.1f probes/s per agent\n", 100 * t / hz / d / n, m / 1024, p, up, p / up / n }'
	local series
	series=$("n1" curl -sf "http://198.18.0.1:$MESH_PORT/metrics" | grep -c '^pmtu_mesh_') || true
	echo "pmtu_mesh_* series on one agent: $series"
}
