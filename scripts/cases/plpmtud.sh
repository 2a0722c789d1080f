# shellcheck shell=bash
# Cases for the path MTU without ICMP and without privilege (issue 25,
# packetization-layer PMTUD, RFC 8899): TCP data segments on ordinary
# connections (method tcp-data) and QUIC probes answered by Version
# Negotiation (method quic), against real servers: Go's net/http for
# HTTPS and HTTP, quic-go for HTTP/3 (internal/webtarget, built here).
# Sourced by scripts/netns-test.sh. Every case uses
#
#   c ──1500── r1 ──1400── r2 ──1500── t
#
# r1 forwards onto a 1400 link and drops its own Frag Needed and Packet
# Too Big (a PMTUD black hole), and drops 2% of what it forwards, both
# ways, at random. The small link is mid-path: t's SYN-ACK advertises the
# MSS of its own 1500 link and gives nothing away. t drops Echo Requests
# and runs the web server; pmtu runs as user nobody with no capability
# (ping_group_range stays the kernel's "1 0", so ICMP is closed to it).

# plpmtud_build FAMILY [webonly]: the topology above, checked before the
# loss and the filters go on; DST is t's address. With webonly, t sends no
# ICMP at all (no Echo Reply, no Port Unreachable, no error of any kind).
plpmtud_build() {
	local fam=$1 mode=${2:-}
	chain_build 1500 1400 1500
	if [[ $fam == ipv4 ]]; then DST=$T4; else DST=$T6; fi
	router_blackhole r1
	sanity c "$DST" 1400
	ping_df c "$DST" 1500 1 || true
	if c ip route get "$DST" | grep -q 'mtu'; then
		fail "topology broken: r1 still sends its ICMP: $(c ip route get "$DST" | tr '\n' ' ')"
	fi
	flush_pmtu c
	r1 nft add chain inet pmtu loss '{ type filter hook forward priority filter; policy accept; }'
	r1 nft add rule inet pmtu loss numgen random mod 100 '<' 2 counter drop
	t nft -f - <<-'EOF'
		table inet pmtu {
			counter quic_in {}
			counter https_syn {}
			counter http_syn {}
			chain in {
				type filter hook input priority filter; policy accept;
				icmp type echo-request drop
				icmpv6 type echo-request drop
				udp dport 443 counter name quic_in
				tcp dport 443 tcp flags & (syn | ack) == syn counter name https_syn
				tcp dport 80 tcp flags & (syn | ack) == syn counter name http_syn
			}
		}
	EOF
	if [[ $mode == webonly ]]; then
		# Every ICMP error and reply t could make; neighbor discovery
		# stays, or IPv6 would not work at all.
		t nft -f - <<-'EOF'
			table inet pmtu {
				chain out {
					type filter hook output priority filter; policy accept;
					meta l4proto icmp drop
					icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem, echo-reply } drop
				}
			}
		EOF
	fi
	ping_df c "$DST" 100 1 && fail "topology broken: $DST answers a ping through t's filter"
	flush_pmtu c
	webtarget_start
}

# webtarget_start: build internal/webtarget and run it in t: HTTPS and
# HTTP/3 on 443, HTTP on 80; it logs each TCP connection it accepts to
# $CASE_DIR/conns.
webtarget_start() {
	go build -o "$CASE_DIR/webtarget" ./internal/webtarget || fail "cannot build internal/webtarget"
	: >"$CASE_DIR/conns"
	t "$CASE_DIR/webtarget" -log "$CASE_DIR/conns" >"$CASE_DIR/webtarget.log" 2>&1 &
	local i
	for ((i = 0; i < 100; i++)); do
		t ss -Hltn 'sport = :443' | grep -q . && t ss -Hlun 'sport = :443' | grep -q . && return 0
		sleep 0.05
	done
	fail "webtarget did not listen on 443: $(cat "$CASE_DIR/webtarget.log")"
}

# t_counted NAME: a counter of t's nft table.
t_counted() {
	t nft -j list counter inet pmtu "$1" | jq '[.nftables[] | .counter? // empty | .packets] | add // 0'
}

# server_conns: the TCP connections the server accepted so far.
server_conns() { wc -l <"$CASE_DIR/conns"; }

# check_exact FAMILY METHOD: pmtu found 1400 exactly, by probes (the
# black hole sends nothing), with METHOD.
check_exact() {
	check_found "$1" "$DST" 1400 veth1a 1500
	want_method "$2"
	want .exact == true
	want_str .evidence probes
	want .black_hole == true
}

# tcpdata: --proto tcp as nobody: no raw sockets, so tcp-data, against
# HTTPS on 443 and HTTP on 80. The connections pmtu says it used are the
# ones the server saw (a connection whose SYN the loss took three times
# in a row never reaches it), within a fifth.
plpmtud_tcp_case() {
	local fam=$1 port before conns srv syn
	plpmtud_build "$fam"
	nobody_bin
	for port in 443 80; do
		before=$(server_conns)
		pmtu_nobody c --json --proto tcp --port "$port" "$DST"
		check_exact "$fam" tcp-data
		want .port == "$port"
		want .traffic.connections '>' 0
		verdict
		sleep 0.2
		conns=$(jq .traffic.connections <<<"$OUT")
		srv=$(($(server_conns) - before))
		echo "port $port: pmtu used $conns connections, $(jq .traffic.bytes <<<"$OUT") bytes, $(jq .probes <<<"$OUT") probes in $(jq .elapsed_ms <<<"$OUT") ms; the server accepted $srv"
		# The server's count is shown beside pmtu's; it has run a few
		# above it (54 against 49) in some runs, with 2% loss both ways,
		# which is left open (see docs/tests.md): a fifth more fails.
		((srv > 0 && srv <= conns + conns / 5)) || fail "the server accepted $srv connections, pmtu says it opened $conns"
	done
	syn=$(t_counted https_syn)
	echo "t saw $syn SYNs to 443, $(t_counted http_syn) to 80; r1 dropped $(r1 nft list chain inet pmtu loss | grep -o 'packets [0-9]*')"
}

register plpmtud_tcp4 "IPv4 black hole at 1400 mid-path, 2% loss, no Echo, pmtu as nobody --proto tcp: tcp-data finds 1400 exactly on 443 and 80"
case_plpmtud_tcp4() { plpmtud_tcp_case ipv4; }

register plpmtud_tcp6 "IPv6 black hole at 1400 mid-path, 2% loss, no Echo, pmtu as nobody --proto tcp: tcp-data finds 1400 exactly on 443 and 80"
case_plpmtud_tcp6() { plpmtud_tcp_case ipv6; }

# quic: --proto quic as nobody, against quic-go's HTTP/3 server: 1400
# exactly from Version Negotiations; t counts the datagrams that reached
# it, no more than pmtu sent.
plpmtud_quic_case() {
	local fam=$1 sent got
	plpmtud_build "$fam"
	nobody_bin
	pmtu_nobody c --json --proto quic "$DST"
	check_exact "$fam" quic
	want .port == 443
	want .traffic.datagrams '>' 0
	verdict
	sent=$(jq .traffic.datagrams <<<"$OUT")
	got=$(t_counted quic_in)
	echo "pmtu sent $sent QUIC datagrams, $(jq .traffic.bytes <<<"$OUT") bytes, in $(jq .elapsed_ms <<<"$OUT") ms; t received $got"
	((got > 0 && got <= sent)) || fail "t received $got QUIC datagrams, pmtu says it sent $sent"
}

register plpmtud_quic4 "IPv4 black hole at 1400 mid-path, 2% loss, no Echo, pmtu as nobody --proto quic: 1400 exactly from a quic-go server"
case_plpmtud_quic4() { plpmtud_quic_case ipv4; }

register plpmtud_quic6 "IPv6 black hole at 1400 mid-path, 2% loss, no Echo, pmtu as nobody --proto quic: 1400 exactly from a quic-go server"
case_plpmtud_quic6() { plpmtud_quic_case ipv6; }

# webonly: t sends no ICMP at all; pmtu as nobody with no flags: Echo is
# skipped (no raw socket, and ping sockets are closed to nobody), TCP to
# 443 answers by tcp-data and finds 1400 exactly; UDP, last in the order,
# is not asked. The text names the
# method that answered. pmtu trace walks with Echo, and tcp-data gives the
# last hop.
plpmtud_webonly_case() {
	local fam=$1
	plpmtud_build "$fam" webonly
	nobody_bin
	pmtu_nobody c --json "$DST"
	check_exact "$fam" tcp-data
	want '[.methods_tried[] | "\(.way)/\(.method // "skipped")/\(.answered)"]' == '["ICMP Echo/skipped/false","TCP to port 443/tcp-data/true"]'
	verdict
	echo "tcp-data: $(jq -c .traffic <<<"$OUT"), $(jq .elapsed_ms <<<"$OUT") ms in all"
	pmtu_nobody c "$DST"
	[[ $RC == 0 && $OUT == *"path MTU to $DST: 1400"* && $OUT == *"TCP to port 443 answered (method tcp-data)"* ]] ||
		fail "the text does not give 1400 and the method that answered: $OUT"

	# pmtu trace: Echo is skipped, TCP 443 answers by tcp-data, which
	# sets no hop limit: a walk by UDP (what nobody may send) finds r1,
	# r2 and the black hole after r1, and tcp-data gives the last hop,
	# the target at hop 3, 1400.
	pmtu_nobody c trace --json "$DST"
	want_rc 0
	want_object
	want .reached == true
	want .pmtu == 1400
	want_str .last_hop_method tcp-data
	want '.hops | length' == 3
	want_str '.hops[-1].address' "$DST"
	want '.hops[-1].pmtu' == 1400
	want '.hops[-1].icmp' == null
	want '.hops[1].mtu_drop' == true
	want '.hops[1].black_hole_after' == 1
	want '.traffic.connections' '>' 0
	verdict
}

register plpmtud_webonly4 "IPv4 web-only target (no ICMP at all) behind the 1400 black hole with 2% loss, nobody, no flags: 1400 through the fallback to tcp-data; trace's last hop by tcp-data"
case_plpmtud_webonly4() { plpmtud_webonly_case ipv4; }

register plpmtud_webonly6 "IPv6 web-only target (no ICMP at all) behind the 1400 black hole with 2% loss, nobody, no flags: 1400 through the fallback to tcp-data; trace's last hop by tcp-data"
case_plpmtud_webonly6() { plpmtud_webonly_case ipv6; }

# icmp: routers that do send Frag Needed / Packet Too Big, and no loss:
#
#   c ──1500── r1 ──1400── r2 ──1300── r3 ──1500── t      t drops Echo
#
# tcp-data learns the sizes as the kernel does, from the ICMP that reaches
# its connections (tcpi_pmtu; the kernel keeps no sender), and finds 1300
# exactly; quic reads each router's error from its socket's error queue,
# with the router's address, as udp-recverr does.
plpmtud_icmp_case() {
	local fam=$1 hop
	chain_build 1500 1400 1300 1500
	if [[ $fam == ipv4 ]]; then DST=$T4 hop=$(chain_hop4 2); else DST=$T6 hop=$(chain_hop6 2); fi
	sanity c "$DST" 1300
	t nft add table inet pmtu
	t nft add chain inet pmtu in '{ type filter hook input priority filter; policy accept; }'
	t nft add rule inet pmtu in icmp type echo-request drop
	t nft add rule inet pmtu in icmpv6 type echo-request drop
	webtarget_start
	nobody_bin
	pmtu_nobody c --json --proto tcp "$DST"
	check_found "$fam" "$DST" 1300 veth1a 1500
	want_method tcp-data
	want_str .evidence icmp
	want '.events[-1].next_hop_mtu' == 1300
	verdict
	echo "tcp-data: $(jq -c '[.events[].next_hop_mtu]' <<<"$OUT") learnt, $(jq .probes <<<"$OUT") probes, $(jq -c .traffic <<<"$OUT")"
	flush_pmtu c
	pmtu_nobody c --json --proto quic "$DST"
	check_found "$fam" "$DST" 1300 veth1a 1500
	want_method quic
	want_str .evidence icmp
	want_str .limiting_hop "$hop"
	want '[.events[].next_hop_mtu]' == '[1400,1300]'
	verdict
}

register plpmtud_icmp4 "IPv4 chain 1500 > 1400 > 1300 > 1500 with Frag Needed, no Echo, nobody: tcp-data and quic find 1300"
case_plpmtud_icmp4() { plpmtud_icmp_case ipv4; }

register plpmtud_icmp6 "IPv6 chain 1500 > 1400 > 1300 > 1500 with Packet Too Big, no Echo, nobody: tcp-data and quic find 1300"
case_plpmtud_icmp6() { plpmtud_icmp_case ipv6; }
