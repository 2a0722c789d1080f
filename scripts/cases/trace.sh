# shellcheck shell=bash
# Cases for pmtu trace: the path MTU at every hop, every hop probed at once,
# against real Linux routers at their default ICMP rate limits. Sourced by
# scripts/netns-test.sh.

# trace_hops: the hops of the JSON in OUT, one word per hop:
# TTL/ADDRESS/PMTU/REPLY, with "/drop:REPORTER" at a drop ("drop:-" when no
# router named it).
trace_hops() {
	jq -r '[.hops[] | "\(.ttl)/\(.address)/\(.pmtu)/\(.reply)"
		+ (if .mtu_drop then "/drop:" + (if .reported_by == "" then "-" else .reported_by end) else "" end)]
		| join(" ")' <<<"$OUT" 2>/dev/null || echo '(no hops)'
}

# want_hops WORDS...: the hops are exactly these (see trace_hops).
want_hops() {
	local got want="$*"
	got=$(trace_hops)
	[[ $got == "$want" ]] || PROBLEMS+=("hops are \"$got\", want \"$want\"")
}

# check_traced PMTU HOPS: what every trace that reached its target says.
check_traced() {
	want_rc 0
	want_object
	want .reached == true
	want .pmtu == "$1"
	want '.hops | length' == "$2"
	want '(.error // "")' == '""'
	want_true '[.hops[] | select(.reply == "time_exceeded" or .reply == "reached") | .icmp != null and .rtt_ms > 0] | all' \
		"a hop that answered has no icmp or no rtt"
}

# addr FAMILY K: router K's address toward the client (chain_build's
# addressing); K = CHAIN_N is the target.
trace_addr() {
	if [[ $1 == ipv4 ]]; then chain_hop4 "$2"; else chain_hop6 "$2"; fi
}

# trace_chain: each drop shows at the right hop, named by the router before
# it:
#
#   c ──1500── r1 ──1492── r2 ──1400── r3 ──1280── t
#   hop 1 r1: 1500, hop 2 r2: 1492 (r1 said), hop 3 r3: 1400 (r2 said),
#   hop 4 t: 1280 (r3 said), reached; k = 3 drops take k+1 = 4 rounds.
trace_chain_case() {
	local fam=$1 dst a1 a2 a3 a4
	chain_build 1500 1492 1400 1280
	if [[ $fam == ipv4 ]]; then dst=$T4; else dst=$T6; fi
	a1=$(trace_addr "$fam" 1) a2=$(trace_addr "$fam" 2) a3=$(trace_addr "$fam" 3) a4=$(trace_addr "$fam" 4)
	sanity c "$dst" 1280

	pmtu c trace --json -n "$dst"
	check_traced 1280 4
	want_str .address "$dst"
	want_hops "1/$a1/1500/time_exceeded" "2/$a2/1492/time_exceeded/drop:$a1" \
		"3/$a3/1400/time_exceeded/drop:$a2" "4/$a4/1280/reached/drop:$a3"
	want .rounds '<=' 4
	want .elapsed_ms '<' 500
	verdict

	# The text says the same, one line a hop.
	pmtu c trace -n "$dst"
	want_rc 0
	[[ $OUT == *" 2  $a2 "*"pmtu 1492"*"MTU drops here: $a1 said 1492"* ]] ||
		PROBLEMS+=("text does not show the drop to 1492 at hop 2: $OUT")
	[[ $OUT == *"path MTU 1280, 4 hops, reached"* ]] || PROBLEMS+=("text lacks the closing line: $OUT")
	OUT='' verdict
}

register trace4 "trace, IPv4 chain 1500 > 1492 > 1400 > 1280: each drop at its hop, named by the router before it"
case_trace4() { trace_chain_case ipv4; }

register trace6 "trace, IPv6 chain 1500 > 1492 > 1400 > 1280: each drop at its hop, named by the router before it"
case_trace6() { trace_chain_case ipv6; }

# trace_ratelimit: five routers at the kernel's default ICMP rate limit
# (net.ipv4.icmp_ratelimit 1000 ms, a burst of 6), each bucket used up just
# before the run by TTL-limited pings. Every hop must still be shown, none
# as "no reply":
#
#   c ──1500── r1 ──1500── r2 ──1500── r3 ──1500── r4 ──1500── r5 ──1400── t
trace_ratelimit_case() {
	local fam=$1 dst k words=() a limit
	chain_build 1500 1500 1500 1500 1500 1400
	if [[ $fam == ipv4 ]]; then dst=$T4; else dst=$T6; fi
	limit=$(r1 sysctl -n net.ipv4.icmp_ratelimit)
	[[ $limit == 1000 ]] || fail "topology broken: r1 has net.ipv4.icmp_ratelimit $limit, want the default 1000"
	sanity c "$dst" 1400
	# Use up every router's burst at once, right before the run: ten Time
	# Exceeded asked of each, 2 ms apart; a router answers about six.
	for ((k = 1; k < CHAIN_N; k++)); do
		c ping -n -c 10 -i 0.002 -W 0.1 -t "$k" "$dst" >"$CASE_DIR/drain$k" 2>&1 &
	done
	wait
	for ((k = 1; k < CHAIN_N; k++)); do
		echo "r$k: $(grep -o '[0-9]* errors' "$CASE_DIR/drain$k" || echo '0 errors') for 10 asked"
	done

	pmtu c trace --json -n "$dst"
	for ((k = 1; k < CHAIN_N; k++)); do
		a=$(trace_addr "$fam" "$k")
		words+=("$k/$a/1500/time_exceeded")
	done
	words+=("$CHAIN_N/$(trace_addr "$fam" "$CHAIN_N")/1400/reached/drop:$(trace_addr "$fam" $((CHAIN_N - 1)))")
	check_traced 1400 "$CHAIN_N"
	want_hops "${words[@]}"
	want '[.hops[] | select(.reply == "none")] | length' == 0
	want .elapsed_ms '<' 5000
	verdict
}

register trace_ratelimit "trace, IPv4, 5 routers at the default ICMP rate limit, buckets used up: every hop answered"
case_trace_ratelimit() { trace_ratelimit_case ipv4; }

register trace_ratelimit6 "trace, IPv6, 5 routers at the default ICMP rate limit, buckets used up: every hop answered"
case_trace_ratelimit6() { trace_ratelimit_case ipv6; }

# trace_silent: the last two routers drop their own Time Exceeded; they
# show as "no reply", the target is reached, and the walk costs about one
# timeout (1 s), not one per silent hop:
#
#   c ──1500── r1 ──1500── r2 ──1500── r3 ──1500── r4 ──1500── t
#                                      r3, r4 output: drop time-exceeded
trace_silent_case() {
	local fam=$1 dst k
	chain_build 1500 1500 1500 1500 1500
	if [[ $fam == ipv4 ]]; then dst=$T4; else dst=$T6; fi
	router_silent r3
	router_silent r4
	sanity c "$dst" 1500

	pmtu c trace --json -n "$dst"
	check_traced 1500 5
	want_hops "1/$(trace_addr "$fam" 1)/1500/time_exceeded" "2/$(trace_addr "$fam" 2)/1500/time_exceeded" \
		"3//0/none" "4//0/none" "5/$(trace_addr "$fam" 5)/1500/reached"
	want_true '[.hops[] | select(.reply == "none") | .icmp == null] | all' "a silent hop has an icmp"
	# The target answered 1500, so 1500 passed the silent hops too.
	want_true '[.hops[] | select(.reply == "none") | .pmtu_min == 1500 and .pmtu_max == 1500] | all' \
		"the silent hops are not bounded by what hop 5 proved"
	want .elapsed_ms '<' 2000
	verdict
}

register trace_silent "trace, IPv4, the last two routers send no Time Exceeded: 2 'no reply', reached in about 1 s"
case_trace_silent() { trace_silent_case ipv4; }

register trace_silent6 "trace, IPv6, the last two routers send no Time Exceeded: 2 'no reply', reached in about 1 s"
case_trace_silent6() { trace_silent_case ipv6; }

# trace_unreachable: r2 rejects everything toward t; the walk ends there,
# with the code's name, and exits 1:
#
#   c ──1500── r1 ──1500── r2 ──1500── t        r2 forward: reject admin-prohibited
register trace_unreachable "trace, IPv4, r2 rejects with admin-prohibited: the walk ends at hop 3 naming it, exit 1"
case_trace_unreachable() {
	chain_build 1500 1500 1500
	r2 nft add table inet pmtu
	r2 nft add chain inet pmtu rejects '{ type filter hook forward priority filter; policy accept; }'
	r2 nft add rule inet pmtu rejects meta nfproto ipv4 reject with icmp type admin-prohibited

	pmtu c trace --json -n "$T4"
	want_rc 1
	want_object
	want .reached == false
	want_hops "1/$(chain_hop4 1)/1500/time_exceeded" "2/$(chain_hop4 2)/1500/time_exceeded" "3/$(chain_hop4 2)/0/unreachable"
	want_str '.hops[2].icmp.name' "communication administratively prohibited"
	want_true '.error | startswith("'"$(chain_hop4 2)"': communication administratively prohibited")' "error does not explain the reject"
	[[ $ERR == "pmtu: $(chain_hop4 2): communication administratively prohibited"* ]] ||
		PROBLEMS+=("stderr does not explain the reject: $ERR")
	verdict
}

# trace_blackhole: r2 forwards 1400 but its Frag Needed / Packet Too Big
# is dropped. Hops beyond it are measured by probes alone; the drop shows
# at hop 3 with no reporter, and larger probes vanish after hop 2.
#
#   c ──1500── r1 ──1500── r2 ──1400── r3 ──1500── t   r2 output: drop its ICMP
trace_blackhole_case() {
	local fam=$1 dst
	chain_build 1500 1500 1400 1500
	router_blackhole r2
	if [[ $fam == ipv4 ]]; then dst=$T4; else dst=$T6; fi
	sanity c "$dst" 1400

	pmtu c trace --json -n "$dst"
	check_traced 1400 4
	want_hops "1/$(trace_addr "$fam" 1)/1500/time_exceeded" "2/$(trace_addr "$fam" 2)/1500/time_exceeded" \
		"3/$(trace_addr "$fam" 3)/1400/time_exceeded/drop:-" "4/$(trace_addr "$fam" 4)/1400/reached"
	# Larger probes vanish after hop 2, r2: the router that drops its ICMP.
	want '.hops[2].black_hole_after' == 2
	verdict
}

register trace_blackhole "trace, IPv4 black hole at r2 (1400, no Frag Needed): per-hop MTU by probes alone"
case_trace_blackhole() { trace_blackhole_case ipv4; }

register trace_blackhole6 "trace, IPv6 black hole at r2 (1400, no Packet Too Big): per-hop MTU by probes alone"
case_trace_blackhole6() { trace_blackhole_case ipv6; }
