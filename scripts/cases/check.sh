# shellcheck shell=bash
# Cases for pmtu check: middleboxes that break big packets without
# changing the MTU. Sourced by scripts/netns-test.sh.
#
# Every case uses a chain of three routers and a target that listens on
# TCP 443 (socat), so that its SYN-ACK carries an MSS:
#
#   c ──1500── r1 ──1500── r2 ──1500── r3 ──1500── t:443
#   hop 1: 198.18.1.2   hop 2: 198.18.2.2   hop 3: 198.18.3.2   target 198.18.4.2
#
# Routers' rules sit in nft table "inet chk", chain "fw" on the forward
# hook (mbox_rule). A rule matched by input interface acts one way only:
# on r1, veth1b faces the client (forward), veth2a the target (return).

# mbox_chain [MTU...]: the chain (default four 1500 links) and the
# listener on t's TCP 443, v4 and v6.
mbox_chain() {
	(($#)) || set -- 1500 1500 1500 1500
	chain_build "$@"
	listen_tcp t 443
}

# mbox_rule ROUTER RULE...: add a rule to ROUTER's forward chain.
mbox_rule() {
	local r=$1
	shift
	if ! "$r" nft list chain inet chk fw >/dev/null 2>&1; then
		"$r" nft add table inet chk
		"$r" nft add chain inet chk fw '{ type filter hook forward priority filter; policy accept; }'
	fi
	"$r" nft add rule inet chk fw "$@"
}

# mbox_dst FAMILY: the target's address.
mbox_dst() {
	if [[ $1 == ipv4 ]]; then echo "$T4"; else echo "$T6"; fi
}

# mbox_hop FAMILY K: hop K's address.
mbox_hop() {
	if [[ $1 == ipv4 ]]; then chain_hop4 "$2"; else chain_hop6 "$2"; fi
}

# mbox_run FAMILY: pmtu check --json toward t; one JSON object.
mbox_run() {
	pmtu c check --json --timeout 500ms "$(mbox_dst "$1")"
	want_object
	want_str .family "$1"
}

# clamp_r2: r2 rewrites the MSS of SYNs it forwards to 1300. r2's own Time
# Exceeded quotes the SYN as it arrived (TTL expiry comes before the
# forward hook): the rewrite shows in r3's quote, between hop 2 and hop 3.
mbox_clamp_r2_case() {
	local fam=$1 sent=1460
	[[ $fam == ipv6 ]] && sent=1440
	mbox_chain
	mbox_rule r2 tcp flags syn tcp option maxseg size set 1300
	mbox_run "$fam"
	want_rc 3
	want .broken == true
	want .mss_clamp.hop == 3
	want_str .mss_clamp.address "$(mbox_hop "$fam" 3)"
	want .mss_clamp.after_hop == 2
	want_str .mss_clamp.after_address "$(mbox_hop "$fam" 2)"
	want .mss_clamp.sent == "$sent"
	want .mss_clamp.seen == 1300
	want .syn_ack_mss == 1300 # r2 clamps the SYN-ACK on its way back too
	want .stall_risk == false
	want_str '.findings[] | select(.check == "mss_clamp") | .result' found
	want_str '.fragments.'"$fam"'.forward' pass
	want_str '.fragments.'"$fam"'.return' pass
	want '.not_run | length' == 0
	verdict
}

register check_clamp_r2_4 "pmtu check, IPv4: r2 clamps the MSS to 1300: placed between hop 2 and hop 3, 1460 became 1300, exit 3"
case_check_clamp_r2_4() { mbox_clamp_r2_case ipv4; }

register check_clamp_r2_6 "pmtu check, IPv6: r2 clamps the MSS to 1300: placed between hop 2 and hop 3, 1440 became 1300, exit 3"
case_check_clamp_r2_6() { mbox_clamp_r2_case ipv6; }

# clamp_rtmtu: r1's link toward r2 is 1400 and r1 clamps as
# --clamp-mss-to-pmtu does (maxseg size set rt mtu): 1360 (IPv4) or 1340
# (IPv6), placed between hop 1 and hop 2. r1 also sends Frag Needed: no
# stall risk.
#
#   c ──1500── r1 ──1400── r2 ──1500── r3 ──1500── t:443
mbox_clamp_rtmtu_case() {
	local fam=$1 sent=1460 seen=1360
	[[ $fam == ipv6 ]] && sent=1440 seen=1340
	mbox_chain 1500 1400 1500 1500
	mbox_rule r1 tcp flags syn tcp option maxseg size set rt mtu
	mbox_run "$fam"
	want_rc 3
	want .mss_clamp.hop == 2
	want_str .mss_clamp.address "$(mbox_hop "$fam" 2)"
	want .mss_clamp.after_hop == 1
	want_str .mss_clamp.after_address "$(mbox_hop "$fam" 1)"
	want .mss_clamp.sent == "$sent"
	want .mss_clamp.seen == "$seen"
	want .path_mtu.pmtu == 1400
	want_str .path_mtu.evidence icmp
	want .stall_risk == false
	verdict
}

register check_clamp_rtmtu4 "pmtu check, IPv4: r1 clamps to its route MTU 1400 (rt mtu): 1460 became 1360 between hop 1 and hop 2"
case_check_clamp_rtmtu4() { mbox_clamp_rtmtu_case ipv4; }

register check_clamp_rtmtu6 "pmtu check, IPv6: r1 clamps to its route MTU 1400 (rt mtu): 1440 became 1340 between hop 1 and hop 2"
case_check_clamp_rtmtu6() { mbox_clamp_rtmtu_case ipv6; }

# mbox_frag_case FAMILY WAY: r1 drops fragments arriving from the client
# (forward), from the target (return), or both. IPv4 fragments are matched
# by their offset and More Fragments bit, IPv6 ones by the Fragment header.
mbox_frag_case() {
	local fam=$1 way=$2 match ifs fwd ret
	if [[ $fam == ipv4 ]]; then match=(ip frag-off '&' 0x3fff '!=' 0); else match=(exthdr frag exists); fi
	case $way in
	forward) ifs=(veth1b) fwd=dropped ret=unknown ;;
	return) ifs=(veth2a) fwd=pass ret=dropped ;;
	both) ifs=(veth1b veth2a) fwd=dropped ret=unknown ;;
	esac
	mbox_chain
	local i
	for i in "${ifs[@]}"; do
		mbox_rule r1 iifname "$i" "${match[@]}" counter drop
	done
	mbox_run "$fam"
	echo "r1: $(r1 nft list chain inet chk fw | grep -o 'counter packets [0-9]*' | tr '\n' ' ')"
	want_rc 3
	want .broken == true
	want_str ".fragments.$fam.forward" "$fwd"
	want_str ".fragments.$fam.return" "$ret"
	want .mss_clamp == null
	verdict
}

register check_frag_fwd4 "pmtu check, IPv4: r1 drops fragments from the client only: forward dropped, return unknown"
case_check_frag_fwd4() { mbox_frag_case ipv4 forward; }
register check_frag_ret4 "pmtu check, IPv4: r1 drops fragments from the target only: forward pass, return dropped"
case_check_frag_ret4() { mbox_frag_case ipv4 return; }
register check_frag_both4 "pmtu check, IPv4: r1 drops fragments both ways: forward dropped"
case_check_frag_both4() { mbox_frag_case ipv4 both; }
register check_frag_fwd6 "pmtu check, IPv6: r1 drops the Fragment header from the client only: forward dropped, return unknown"
case_check_frag_fwd6() { mbox_frag_case ipv6 forward; }
register check_frag_ret6 "pmtu check, IPv6: r1 drops the Fragment header from the target only: forward pass, return dropped"
case_check_frag_ret6() { mbox_frag_case ipv6 return; }
register check_frag_both6 "pmtu check, IPv6: r1 drops the Fragment header both ways: forward dropped"
case_check_frag_both6() { mbox_frag_case ipv6 both; }

# check_hbh6: r2 drops every IPv6 packet with a Hop-by-Hop header
# (exthdr hbh exists drop): Hop-by-Hop forward dropped, Destination Options
# forward pass, both returns unknown (no pmtu mesh responder).
register check_hbh6 "pmtu check, IPv6: r2 drops Hop-by-Hop: hop_by_hop forward dropped, destination_options pass"
case_check_hbh6() {
	mbox_chain
	mbox_rule r2 exthdr hbh exists counter drop
	mbox_run ipv6
	want_rc 3
	want_str .ipv6_headers.hop_by_hop.forward dropped
	want_str .ipv6_headers.hop_by_hop.small dropped
	want_str .ipv6_headers.hop_by_hop.large dropped
	want_str .ipv6_headers.destination_options.forward pass
	want_str .ipv6_headers.hop_by_hop.return unknown
	want_true '.ipv6_headers.hop_by_hop.return_why | test("pmtu mesh")' "the return's reason does not name the missing responder"
	want_str .fragments.ipv6.forward pass
	verdict
}

# check_dstopts6: r2 drops Destination Options: the other way round.
register check_dstopts6 "pmtu check, IPv6: r2 drops Destination Options: destination_options forward dropped, hop_by_hop pass"
case_check_dstopts6() {
	mbox_chain
	mbox_rule r2 exthdr dst exists counter drop
	mbox_run ipv6
	want_rc 3
	want_str .ipv6_headers.destination_options.forward dropped
	want_str .ipv6_headers.hop_by_hop.forward pass
	verdict
}

# The way back of the extension headers: a pmtu mesh agent on t (its one
# peer the client) answers pmtu check with acknowledgements that carry
# Hop-by-Hop or Destination Options. A rule on r1 matched by input
# interface veth2a (from the target) drops them only on the way back.

# mbox_responder [SETPRIV-ARGS...]: start pmtu mesh on t as user nobody,
# by default with CAP_NET_RAW (ambient: Linux asks it of a socket that
# attaches IPv6 options, even a UDP one), keyed with $CASE_DIR's key;
# stopped when the case ends.
mbox_responder() {
	local caps=(--inh-caps=+net_raw --ambient-caps=+net_raw) i
	(($#)) && caps=("$@")
	nobody_bin
	trap 'SERVE_PIDS=${MBOX_AGENT:-} serve_stop; rm -rf "$NOBODY_DIR"; netns_cleanup' EXIT
	head -c 32 /dev/urandom | base64 >"$NOBODY_DIR/key"
	chmod 644 "$NOBODY_DIR/key"
	ip netns exec "$(ns_full t)" setpriv --reuid=65534 --regid=65534 --clear-groups "${caps[@]}" \
		"$NOBODY_DIR/pmtu" mesh --peers "$C6" --listen "[::]:10151" --interval 60s --key-file "$NOBODY_DIR/key" \
		>"$CASE_DIR/agent.log" 2>&1 &
	MBOX_AGENT=$!
	for ((i = 0; i < 50; i++)); do
		[[ -n $(t ss -Hln6u 'sport = :10151') ]] && return
		sleep 0.1
	done
	fail "pmtu mesh does not listen on t's UDP 10151: $(cat "$CASE_DIR/agent.log")"
}

# mbox_back_run: pmtu check --json toward t's IPv6 address, with the
# mesh's key.
mbox_back_run() {
	pmtu c check --json --timeout 500ms --key-file "$NOBODY_DIR/key" "$T6"
	want_object
	want_str .ipv6_headers.responder "[$T6]:10151"
}

# mbox_back_case HDR NFT-HDR OTHER: r1 drops HDR (nft exthdr NFT-HDR) only
# on the way back: forward pass, return dropped (small and at the path
# MTU), the other header pass both ways, exit 3.
mbox_back_case() {
	local hdr=$1 nfthdr=$2 other=$3
	mbox_chain
	mbox_responder
	mbox_rule r1 iifname veth2a exthdr "$nfthdr" exists counter drop
	mbox_back_run
	want_rc 3
	want_str ".ipv6_headers.$hdr.forward" pass
	want_str ".ipv6_headers.$hdr.return" dropped
	want_str ".ipv6_headers.$hdr.return_small" dropped
	want_str ".ipv6_headers.$hdr.return_large" dropped
	want_true ".ipv6_headers.$hdr.return_why | test(\"while a plain one of that size did\")" "return_why does not say the plain acknowledgement came"
	want_str ".findings[] | select(.check == \"${hdr}_return\") | .result" found
	want_str ".ipv6_headers.$other.forward" pass
	want_str ".ipv6_headers.$other.return" pass
	verdict
	local rules
	rules=$(r1 nft list chain inet chk fw)
	[[ $rules == *"counter packets "[1-9]* ]] || fail "r1's rule dropped nothing: $rules"
}

register check_hbh_back6 "pmtu check, IPv6, pmtu mesh on the target: r1 drops Hop-by-Hop only on the way back: forward pass, return dropped, exit 3"
case_check_hbh_back6() { mbox_back_case hop_by_hop hbh destination_options; }

register check_dst_back6 "pmtu check, IPv6, pmtu mesh on the target: r1 drops Destination Options only on the way back: forward pass, return dropped, exit 3"
case_check_dst_back6() { mbox_back_case destination_options dst hop_by_hop; }

# check_back_clean6: nothing on the path: both headers pass both ways, the
# large acknowledgements at the path MTU (Destination Options 8 bytes
# less: Linux will not send one at the MTU), exit 0.
register check_back_clean6 "pmtu check, IPv6, pmtu mesh on the target, clean path: both headers pass forward and back, exit 0"
case_check_back_clean6() {
	mbox_chain
	mbox_responder
	mbox_back_run
	want_rc 0
	local hdr
	for hdr in hop_by_hop destination_options; do
		want_str ".ipv6_headers.$hdr.forward" pass
		want_str ".ipv6_headers.$hdr.return" pass
		want_str ".ipv6_headers.$hdr.return_small" pass
		want_str ".ipv6_headers.$hdr.return_large" pass
	done
	want .ipv6_headers.hop_by_hop.return_size == 1500
	want .ipv6_headers.destination_options.return_size == 1492
	want '.not_run | length' == 0
	verdict
}

# check_back_nocap6: the agent runs without CAP_NET_RAW: it answers
# without the headers and says so; pmtu check reports the way back
# unknown, naming the capability, never dropped. The key left out: no
# answer at all, and a reason that names the key.
register check_back_nocap6 "pmtu check, IPv6, pmtu mesh without CAP_NET_RAW: return unknown, saying why; without the key: unknown, naming --key-file"
case_check_back_nocap6() {
	mbox_chain
	mbox_responder --inh-caps=-all
	mbox_back_run
	want_rc 0
	want_str .ipv6_headers.hop_by_hop.return unknown
	want_str .ipv6_headers.destination_options.return unknown
	want_true '.ipv6_headers.hop_by_hop.return_why | test("CAP_NET_RAW")' "return_why does not name CAP_NET_RAW"
	verdict
	pmtu c check --json --timeout 500ms "$T6"
	want_rc 0
	want_str .ipv6_headers.hop_by_hop.return unknown
	want_true '.ipv6_headers.hop_by_hop.return_why | test("--key-file")' "return_why does not name the key"
	verdict
}

# check_clean: nothing on the path: nothing found, exit 0, 20 runs of 20
# in each family.
register check_clean "pmtu check on a clean path: nothing broken, 20 of 20 runs, v4 and v6"
case_check_clean() {
	mbox_chain
	local fam run
	for fam in ipv4 ipv6; do
		for ((run = 1; run <= 20; run++)); do
			mbox_run "$fam" >"$CASE_DIR/run.log"
			want_rc 0
			want .broken == false
			want .mss_clamp == null
			want_str '.findings[] | select(.check == "mss_clamp") | .result' ok
			want '[.findings[] | select(.result == "found")] | length' == 0
			want_str ".fragments.$fam.forward" pass
			want_str ".fragments.$fam.return" pass
			((${#PROBLEMS[@]} == 0)) || cat "$CASE_DIR/run.log"
			verdict
		done
		echo "$fam: 20 of 20 runs found nothing"
	done
}

# check_quote8: r2 clamps to 1300, and r3 quotes only 8 bytes of what it
# drops (its own Time Exceeded is dropped, icmpforge -quote8 sends one
# quoting 8 bytes): hop 3 shows no options, so the clamp is "not visible
# past hop 2" -- never "not clamped".
mbox_quote8_case() {
	local fam=$1 forge="$CASE_DIR/icmpforge" log="$CASE_DIR/icmpforge.log"
	mbox_chain
	mbox_rule r2 tcp flags syn tcp option maxseg size set 1300
	router_silent r3
	# icmpforge's messages come from its raw socket, owned by root.
	r3 nft insert rule inet pmtu silent meta skuid 0 accept
	go build -o "$forge" ./internal/icmpforge
	r3 "$forge" -quote8 -i veth3b -from4 "$(chain_hop4 3)" -from6 "$(chain_hop6 3)" -for 40s >"$log" 2>&1 &
	wait_ready "$log" icmpforge
	mbox_run "$fam"
	want_rc 0
	want .mss_clamp == null
	want_str '.findings[] | select(.check == "mss_clamp") | .result' unknown
	want_true '.findings[] | select(.check == "mss_clamp") | .summary | test("not visible past that hop")' "mss_clamp does not say \"not visible\""
	want_true '[.findings[] | .summary, .evidence | select(test("not clamped"))] | length == 0' "a finding says \"not clamped\""
	want '.mss_hops[2].visible' == false
	want '.mss_hops[2].quoted' == 8
	want_str '.mss_hops[2].address' "$(mbox_hop "$fam" 3)"
	want '.mss_hops[1].mss' == "$([[ $fam == ipv4 ]] && echo 1460 || echo 1440)"
	verdict
}

register check_quote8_4 "pmtu check, IPv4: r3 quotes 8 bytes behind r2's clamp: not visible past hop 2, never not clamped"
case_check_quote8_4() { mbox_quote8_case ipv4; }

register check_quote8_6 "pmtu check, IPv6: r3 quotes 8 bytes behind r2's clamp: not visible past hop 2, never not clamped"
case_check_quote8_6() { mbox_quote8_case ipv6; }

# check_stall: r1's link toward the target is 1400 and r1's Frag Needed
# is filtered; t advertises MSS 1460 (its own link is 1500): full segments
# make 1500-byte packets that vanish: a stall risk, and a black hole.
#
#   c ──1500── r1 ──1400── r2 ──1500── r3 ──1500── t:443     r1: no ICMP
register check_stall "pmtu check, IPv4: black hole at 1400 and the target's MSS 1460: stall risk, exit 3"
case_check_stall() {
	mbox_chain 1500 1400 1500 1500
	router_blackhole r1
	mbox_run ipv4
	want_rc 3
	want .stall_risk == true
	want .syn_ack_mss == 1460
	want .path_mtu.pmtu == 1400
	want .path_mtu.black_hole == true
	want_str '.findings[] | select(.check == "stall_risk") | .result' found
	want_str '.findings[] | select(.check == "path_mtu") | .result' found
	verdict
}

# check_nobody: user nobody, no capabilities (methods.sh's pmtu_nobody):
# the path MTU is still measured, with an unprivileged method, and every
# other check is listed as not run, saying it needs raw sockets. Nothing
# found: exit 0.
register check_nobody "pmtu check as user nobody: path MTU measured, the other checks not run and why, exit 0"
case_check_nobody() {
	mbox_chain
	mbox_rule r2 tcp flags syn tcp option maxseg size set 1300
	nobody_bin
	pmtu_nobody c check --json --timeout 500ms "$T4"
	want_rc 0
	want_object
	want .path_mtu.pmtu == 1500
	want_str '.findings[] | select(.check == "path_mtu") | .result' ok
	want '.not_run | length' == 4
	want_true '[.not_run[] | select(.why | test("root or CAP_NET_RAW"))] | length == 4' "not_run does not say raw sockets are needed"
	want .mss_clamp == null
	want_str .fragments.ipv4.forward unknown
	verdict
}

# check_serve: pmtu serve's module=check over real sockets: r2 clamps the
# MSS and r1 drops fragments from the client; one gauge per finding says
# so, and pmtu_check_broken is 1.
register check_serve "pmtu serve, module=check: a gauge per finding (mss_clamp and fragments_forward found)"
case_check_serve() {
	local listen=127.0.0.1:10150 metrics
	mbox_chain
	mbox_rule r2 tcp flags syn tcp option maxseg size set 1300
	mbox_rule r1 iifname veth1b ip frag-off '&' 0x3fff '!=' 0 drop
	ip netns exec "$NS_C" "$BIN_ABS" serve --listen "$listen" >"$CASE_DIR/serve.log" 2>&1 &
	serve_wait_http c "http://$listen/metrics" 10 || fail "pmtu serve does not answer on $listen: $(cat "$CASE_DIR/serve.log")"
	metrics=$(c curl -s -H 'X-Prometheus-Scrape-Timeout-Seconds: 20' "http://$listen/probe?target=$T4&module=check&timeout=500ms")
	grep '^pmtu_check\|^pmtu_probe_success\|^pmtu_path_mtu_bytes' <<<"$metrics"
	local want
	for want in 'pmtu_probe_success 1' 'pmtu_path_mtu_bytes 1500' 'pmtu_check_broken 1' \
		'pmtu_check_finding{check="mss_clamp",result="found"} 1' \
		'pmtu_check_finding{check="fragments_forward",result="found"} 1' \
		'pmtu_check_finding{check="fragments_return",result="unknown"} 0' \
		'pmtu_check_finding{check="path_mtu",result="ok"} 0'; do
		grep -qxF "$want" <<<"$metrics" || PROBLEMS+=("no line $want")
	done
	OUT='' verdict
}
