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

# count_probes SHORT [HOOK IFACE]: count, in namespace SHORT, every Echo
# Request from the client (C4/C6) as it arrives (nft table inet pmtucount,
# prerouting); with HOOK output and IFACE, every Echo Request leaving on
# IFACE instead (the client's own loopback). probes_counted SHORT prints
# the count so far. A router's count is pmtu's probe count, checked
# against what pmtu reports.
count_probes() {
	if [[ ${2:-} == output ]]; then
		"$1" nft -f - <<-EOF
			table inet pmtucount {
				chain probes {
					type filter hook output priority -300; policy accept;
					oifname "$3" icmp type echo-request counter
					oifname "$3" icmpv6 type echo-request counter
				}
			}
		EOF
		return
	fi
	"$1" nft -f - <<-EOF
		table inet pmtucount {
			chain probes {
				type filter hook prerouting priority -300; policy accept;
				ip saddr $C4 icmp type echo-request counter
				ip6 saddr $C6 icmpv6 type echo-request counter
			}
		}
	EOF
}
probes_counted() {
	"$1" nft -j list table inet pmtucount |
		jq '[.nftables[] | .rule? // empty | .expr[] | .counter? // empty | .packets] | add // 0'
}

# want_probes SHORT MAX: pmtu's own count (.probes) is what router SHORT
# counted, and at most MAX.
want_probes() {
	local n
	n=$(probes_counted "$1")
	echo "$1 counted $n probes"
	want .probes == "$n"
	((n <= $2)) || PROBLEMS+=("$1 counted $n probes, want at most $2")
}

# trace_chain: each drop shows at the right hop, named by the router before
# it:
#
#   c ──1500── r1 ──1492── r2 ──1400── r3 ──1280── t
#   hop 1 r1: 1500, hop 2 r2: 1492 (r1 said), hop 3 r3: 1400 (r2 said),
#   hop 4 t: 1280 (r3 said), reached; k = 3 drops take k+1 = 4 rounds,
#   and at most 16 probes, as r1's nft counter sees them.
trace_chain_case() {
	local fam=$1 dst a1 a2 a3 a4
	chain_build 1500 1492 1400 1280
	if [[ $fam == ipv4 ]]; then dst=$T4; else dst=$T6; fi
	a1=$(trace_addr "$fam" 1) a2=$(trace_addr "$fam" 2) a3=$(trace_addr "$fam" 3) a4=$(trace_addr "$fam" 4)
	sanity c "$dst" 1280
	count_probes r1

	pmtu c trace --json -n "$dst"
	check_traced 1280 4
	want_str .address "$dst"
	want_hops "1/$a1/1500/time_exceeded" "2/$a2/1492/time_exceeded/drop:$a1" \
		"3/$a3/1400/time_exceeded/drop:$a2" "4/$a4/1280/reached/drop:$a3"
	want .rounds '<=' 4
	want .elapsed_ms '<' 500
	# Issue 16: at most twice tracepath's 8 probes, none beyond the target.
	want_probes r1 16
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

	count_probes r1
	pmtu c trace --json -n "$dst"
	check_traced 1400 4
	want_hops "1/$(trace_addr "$fam" 1)/1500/time_exceeded" "2/$(trace_addr "$fam" 2)/1500/time_exceeded" \
		"3/$(trace_addr "$fam" 3)/1400/time_exceeded/drop:-" "4/$(trace_addr "$fam" 4)/1400/reached"
	# Larger probes vanish after hop 2, r2: the router that drops its ICMP.
	want '.hops[2].black_hole_after' == 2
	# Issue 16: at most 70 probes (scamper's 23, times 3).
	want_probes r1 70
	verdict
}

register trace_blackhole "trace, IPv4 black hole at r2 (1400, no Frag Needed): per-hop MTU by probes alone"
case_trace_blackhole() { trace_blackhole_case ipv4; }

register trace_blackhole6 "trace, IPv6 black hole at r2 (1400, no Packet Too Big): per-hop MTU by probes alone"
case_trace_blackhole6() { trace_blackhole_case ipv6; }

# trace_silentfn: r2 and r3 send no Time Exceeded, but still refuse big
# packets with Frag Needed / Packet Too Big. Each refusal quotes the probe
# that reached it, and the smallest hop limit at which it appears places
# it: hop 2 is r2 at exactly 1492, hop 3 is r3 at exactly 1400, both "from
# its Frag Needed", where tracepath prints the same figures unproved:
#
#   c ──1500── r1 ──1492── r2 ──1400── r3 ──1280── t
#                          r2, r3 output: drop time-exceeded
trace_silentfn_case() {
	local fam=$1 dst a1 a2 a3 a4 from
	chain_build 1500 1492 1400 1280
	router_silent r2
	router_silent r3
	if [[ $fam == ipv4 ]]; then dst=$T4 from=frag_needed; else dst=$T6 from=packet_too_big; fi
	a1=$(trace_addr "$fam" 1) a2=$(trace_addr "$fam" 2) a3=$(trace_addr "$fam" 3) a4=$(trace_addr "$fam" 4)
	sanity c "$dst" 1280
	count_probes r1

	pmtu c trace --json -n "$dst"
	want_rc 0
	want_object
	want .reached == true
	want .pmtu == 1280
	want_hops "1/$a1/1500/time_exceeded" "2/$a2/1492/none/drop:$a1" "3/$a3/1400/none/drop:$a2" "4/$a4/1280/reached/drop:$a3"
	want_str '.hops[1].pmtu_from' "$from"
	want_str '.hops[2].pmtu_from' "$from"
	want_true '[.hops[1,2] | .icmp == null and (has("pmtu_min") | not)] | all' "a hop measured by its Frag Needed carries an icmp or bounds"
	# tracepath sends 12 probes here: at most twice that.
	want_probes r1 24
	want .elapsed_ms '<' 2000
	verdict

	pmtu c trace -n "$dst"
	want_rc 0
	[[ $OUT == *" 2  $a2 "*"no reply  pmtu 1492 from its "*"MTU drops here: $a1 said 1492"* ]] ||
		PROBLEMS+=("text does not show hop 2 at 1492 from its own ICMP: $OUT")
	OUT='' verdict
}

register trace_silentfn "trace, IPv4, r2 and r3 send no Time Exceeded: exact 1492 and 1400 from their Frag Needed"
case_trace_silentfn() { trace_silentfn_case ipv4; }

register trace_silentfn6 "trace, IPv6, r2 and r3 send no Time Exceeded: exact 1492 and 1400 from their Packet Too Big"
case_trace_silentfn6() { trace_silentfn_case ipv6; }

# trace_localhost: a target one hop away costs at most 3 probes, counted on
# the client's loopback.
trace_localhost_case() {
	local dst=$1
	ns_add c
	count_probes c output lo

	pmtu c trace --json -n "$dst"
	want_rc 0
	want_object
	want .reached == true
	want '.hops | length' == 1
	want '.hops[0].reply' == '"reached"'
	# The loopback's MTU is 65536: the largest IP packet, 65535, passes.
	want .pmtu == 65535
	want '.hops[0].pmtu' == 65535
	want_probes c 3
	verdict
}

register trace_localhost "trace 127.0.0.1: one hop, at most 3 probes"
case_trace_localhost() { trace_localhost_case 127.0.0.1; }

register trace_localhost6 "trace ::1: one hop, at most 3 probes"
case_trace_localhost6() { trace_localhost_case ::1; }

# trace_dropkept (issue 19): the target drops its own Echo Replies, so it
# never answers; r1 refuses anything above 1500 with a Frag Needed. The
# trace shows the drop at hop 2, named by r1, every hop beyond carries
# "≤ 1500", and the walk ends on what r1 proved, not on "2000 as far as it
# answered". Exit 1: the target did not answer.
#
#   c ──2000── r1 ──1500── t        t output: drop echo-reply
register trace_dropkept "trace, IPv4, target never answers behind a 1500 link: the drop at hop 2 and ≤ 1500 beyond"
case_trace_dropkept() {
	local a1
	chain_build 2000 1500
	a1=$(chain_hop4 1)
	t nft add table inet pmtu
	t nft add chain inet pmtu out '{ type filter hook output priority filter; policy accept; }'
	t nft add rule inet pmtu out icmp type echo-reply drop

	# --proto icmp: without it the walk would fall back to TCP, whose
	# RST from t reaches it (trace_echofiltered).
	pmtu c trace --json -n --proto icmp --max-hops 8 "$T4"
	want_rc 1
	want_object
	want .reached == false
	want '.hops | length' == 8
	want_hops "1/$a1/2000/time_exceeded" "2//0/none/drop:$a1" "3//0/none" "4//0/none" "5//0/none" "6//0/none" "7//0/none" "8//0/none"
	want '.hops[1].pmtu_max' == 1500
	want_true '[.hops[1:][] | .pmtu_max == 1500] | all' "a silent hop beyond r1 lacks pmtu_max 1500"
	want .pmtu_max == 1500
	want_str .pmtu_max_by "$a1"
	verdict

	pmtu c trace -n --proto icmp --max-hops 8 "$T4"
	want_rc 1
	[[ $OUT == *" 2  no reply "*"pmtu ≤ 1500"*"MTU drops here: $a1 said 1500"* ]] ||
		PROBLEMS+=("text does not show the drop to 1500 at hop 2: $OUT")
	[[ $OUT == *" 3-8  no reply "*"pmtu ≤ 1500"* ]] || PROBLEMS+=("text does not bound hops 3-8 by 1500: $OUT")
	[[ $OUT == *"path MTU ≤ 1500: $a1 said so; 2000 confirmed up to hop 1, nothing beyond;"* && $OUT != *"path MTU 2000 as far as it answered"* ]] ||
		PROBLEMS+=("the closing line does not say what r1 proved: $OUT")
	OUT='' verdict
}

# trace_echofiltered (issue 23): the target drops every Echo Request that
# reaches it and listens on no port, so the Echo walk never reaches it;
# without --proto the walk falls back as pmtu HOST does: a SYN to 443
# earns a RST, and a TCP walk reaches t with the path MTU r1 named. The
# report says how (method tcp, methods_tried), and --proto icmp stays
# with Echo alone (exit 1, no SYN sent).
#
#   c ──2000── r1 ──1500── t        t input: drop echo-request
trace_echofiltered_case() {
	local fam=$1 dst a1 a2 syns
	chain_build 2000 1500
	if [[ $fam == ipv4 ]]; then dst=$T4; else dst=$T6; fi
	a1=$(trace_addr "$fam" 1) a2=$(trace_addr "$fam" 2)
	t nft add table inet pmtu
	t nft add chain inet pmtu in '{ type filter hook input priority filter; policy accept; }'
	t nft add rule inet pmtu in icmp type echo-request drop
	t nft add rule inet pmtu in icmpv6 type echo-request drop
	ping_df c "$dst" 1280 1 && fail "topology broken: $dst answers a ping through the drop rule"
	flush_pmtu c
	r1 nft -f - <<-EOF
		table inet pmtucount {
			chain probes {
				type filter hook prerouting priority -300; policy accept;
				tcp dport 443 tcp flags & (syn | ack) == syn counter
			}
		}
	EOF

	pmtu c trace --json -n --timeout 300ms "$dst"
	want_rc 0
	want_object
	want .reached == true
	want .pmtu == 1500
	want '(.error // "")' == '""'
	want_str .method tcp
	want .port == 443
	want_hops "1/$a1/2000/time_exceeded" "2/$a2/1500/reached/drop:$a1"
	want '[.methods_tried[] | "\(.way)/\(.answered)"]' == '["ICMP Echo/false","TCP to port 443/true"]'
	want '.methods_tried[1].probes' == 2
	verdict

	pmtu c trace -n --timeout 300ms "$dst"
	want_rc 0
	[[ $OUT == *"path MTU 1500, 2 hops, reached"*"ICMP Echo unanswered; TCP to port 443 answered"* ]] ||
		PROBLEMS+=("the text does not say how the target was reached: $OUT")
	OUT='' verdict

	syns=$(probes_counted r1)
	pmtu c trace --json -n --proto icmp --timeout 300ms --max-hops 4 "$dst"
	want_rc 1
	want .reached == false
	want_str .method icmp
	want '.methods_tried // "none"' == '"none"'
	((syns == $(probes_counted r1))) || PROBLEMS+=("--proto icmp sent SYNs to 443")
	verdict
}

register trace_echofiltered "trace, IPv4, target drops Echo, no listener: the walk falls back to TCP 443 and reaches it, 1500"
case_trace_echofiltered() { trace_echofiltered_case ipv4; }

register trace_echofiltered6 "trace, IPv6, target drops Echo, no listener: the walk falls back to TCP 443 and reaches it, 1500"
case_trace_echofiltered6() { trace_echofiltered_case ipv6; }
