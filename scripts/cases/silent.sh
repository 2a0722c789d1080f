# shellcheck shell=bash
# Cases for a target that never answers ICMP Echo (issue 19): pmtu reports
# the bound the routers proved, and without --proto finds a probe the
# target does answer (TCP to 443, then 80, then UDP). Sourced by
# scripts/netns-test.sh. Every case uses the chain
#
#   c ──2000── r1 ──1500── t
#
# where r1 refuses anything above 1500 with a Frag Needed naming 1500.

# silent_count: count at r1, as they arrive from c, the probes of each way
# of asking t: Echo Requests, SYNs to 443 and to 80, QUIC datagrams to
# 443, other UDP datagrams (nft table inet pmtucount, counters n_echo,
# n_tcp443, n_tcp80, n_quic, n_udp).
# silent_counted NAME prints one counter.
silent_count() {
	r1 nft -f - <<-EOF
		table inet pmtucount {
			counter n_echo {}
			counter n_tcp443 {}
			counter n_tcp80 {}
			counter n_udp {}
			counter n_quic {}
			chain probes {
				type filter hook prerouting priority -300; policy accept;
				ip saddr $C4 ip daddr $T4 icmp type echo-request counter name n_echo
				ip saddr $C4 ip daddr $T4 tcp dport 443 tcp flags & (syn | ack) == syn counter name n_tcp443
				ip saddr $C4 ip daddr $T4 tcp dport 80 tcp flags & (syn | ack) == syn counter name n_tcp80
				ip saddr $C4 ip daddr $T4 udp dport 443 counter name n_quic
				ip saddr $C4 ip daddr $T4 udp dport != 443 counter name n_udp
			}
		}
	EOF
}
silent_counted() {
	r1 nft -j list counter inet pmtucount "n_$1" | jq '[.nftables[] | .counter? // empty | .packets] | add // 0'
}

# silent_drop WHAT: t drops, in nft table inet pmtu, its own Echo Replies
# (WHAT = replies, on output) or every Echo Request that reaches it
# (WHAT = requests, on input).
silent_drop() {
	t nft add table inet pmtu
	if [[ $1 == replies ]]; then
		t nft add chain inet pmtu out '{ type filter hook output priority filter; policy accept; }'
		t nft add rule inet pmtu out icmp type echo-reply drop
	else
		t nft add chain inet pmtu in '{ type filter hook input priority filter; policy accept; }'
		t nft add rule inet pmtu in icmp type echo-request drop
	fi
	ping_df c "$T4" 100 1 && fail "topology broken: $T4 answers a ping through the drop rule"
	flush_pmtu c
	return 0
}

# want_bound: what a run that t never answered says of r1's proof: pmtu
# 1500, unconfirmed, unreached, nothing proved to pass, 1501 refused, by
# r1, exit 1, and the error in the issue's words.
want_bound() {
	local a1
	a1=$(chain_hop4 1)
	want_rc 1
	want_object
	want .pmtu == 1500
	want .confirmed == false
	want .reached == false
	want .exact == false
	want .proved_min == 0
	want .refused_size == 1501
	want .mss == 0
	want_str .evidence icmp
	want_str .limiting_hop "$a1"
	want_true "[.events[] | select(.from == \"$a1\" and .next_hop_mtu == 1500)] | length == 1" "no Frag Needed from r1 naming 1500 in events"
	want_str .error "path MTU ≤ 1500: $a1 said so; $T4 never answered, so nothing beyond $a1 is confirmed"
}

# silent_echo: t drops its Echo Replies. --proto icmp: the bound r1
# proved, exit 1; the text says it; --at-least is judged on the bound:
# 1400 not proved (exit 1), 1600 ruled out (exit 3).
register silent_echo "target drops its Echo Replies behind a 1500 link, --proto icmp: pmtu 1500 unconfirmed, exit 1"
case_silent_echo() {
	local a1
	chain_build 2000 1500
	a1=$(chain_hop4 1)
	silent_drop replies

	pmtu c --json --proto icmp --timeout 300ms "$T4"
	want_bound
	want_str .method icmp
	want '.methods_tried // "none"' == '"none"'
	verdict

	pmtu c --proto icmp --timeout 300ms "$T4"
	want_rc 1
	[[ $OUT == "path MTU to $T4: at most 1500, not confirmed"*"path MTU ≤ 1500: $a1 said so; $T4 never answered, so nothing beyond $a1 is confirmed"* ]] ||
		PROBLEMS+=("text does not give r1's bound: $OUT")
	[[ $ERR == "pmtu: path MTU ≤ 1500: $a1 said so; $T4 never answered, so nothing beyond $a1 is confirmed" ]] ||
		PROBLEMS+=("stderr is not the one line of the bound: $ERR")

	pmtu c --proto icmp --timeout 300ms --at-least 1400 "$T4"
	want_rc 1
	[[ $ERR == "pmtu: assertion not proved: path MTU ≥ 1400: path MTU ≤ 1500: $a1 said so;"* ]] ||
		PROBLEMS+=("--at-least 1400 is not reported as not proved: $ERR")

	pmtu c --proto icmp --timeout 300ms --at-least 1600 "$T4"
	want_rc 3
	[[ $ERR == "pmtu: assertion failed: path MTU ≤ 1500 ($a1 said so) is below 1600" ]] ||
		PROBLEMS+=("--at-least 1600 is not reported as ruled out: $ERR")
	OUT='' verdict
}

# silent_noreturn: t has no route back to c's link, so nothing t sends
# ever arrives (its replies, SYN-ACKs, RSTs, Port Unreachables); only r1's
# Frag Needed does. With no --proto, ICMP Echo then TCP 443, TCP 80, QUIC
# 443 and UDP are tried, two probes each fallback (r1 counts them), none
# answers, and r1's bound stands; as user nobody the TCP ways connect
# (tcp-data), and none of their SYN-ACKs comes back either.
register silent_noreturn "target with no route back: every way asked, two probes each fallback, pmtu 1500 unconfirmed, exit 1"
case_silent_noreturn() {
	chain_build 2000 1500
	t ip route del 198.18.1.0/24
	ping_df c "$T4" 100 1 && fail "topology broken: $T4 answers with no route back"
	flush_pmtu c
	silent_count

	pmtu c --json --timeout 300ms "$T4"
	want_bound
	want_str .method icmp
	want '[.methods_tried[] | .way]' == '["ICMP Echo","TCP to port 443","TCP to port 80","QUIC to port 443","UDP to port 33434"]'
	want '[.methods_tried[] | .answered] | any' == false
	want '[.methods_tried[1:][] | .probes]' == '[2,2,2,2]'
	want '.methods_tried[0].probes' == "$(silent_counted echo)"
	want .probes == "$(silent_counted echo)"
	local n got
	for n in tcp443 tcp80 quic udp; do
		got=$(silent_counted $n)
		echo "r1 counted $got $n probes"
		((got == 2)) || PROBLEMS+=("r1 counted $got $n probes, want 2")
	done
	verdict

	# Without privilege (user nobody, methods.sh's pmtu_nobody; the
	# namespace's ping_group_range is closed) Echo is skipped; TCP
	# connects (tcp-data), QUIC is sent from an ordinary socket, then UDP
	# (udp-recverr); none is answered, and the UDP search's bound, r1's,
	# stands.
	nobody_bin
	pmtu_nobody c --json -v --timeout 300ms "$T4"
	want_bound
	want_str .method udp-recverr
	want '[.methods_tried[] | "\(.way)/\(.method // "skipped")/\(.answered)"]' == \
		'["ICMP Echo/skipped/false","TCP to port 443/tcp-data/false","TCP to port 80/tcp-data/false","QUIC to port 443/quic/false","UDP to port 33434/udp-recverr/false"]'
	verdict
}

# silent_tcp443: t drops every Echo Request but listens on TCP 443
# (socat): ICMP Echo goes unanswered, a SYN to 443 earns a SYN-ACK, and
# the search over TCP finds the exact path MTU 1500 and says how.
register silent_tcp443 "target drops ICMP Echo, listens on 443: found 1500 over TCP, and says so"
case_silent_tcp443() {
	chain_build 2000 1500
	silent_drop requests
	listen_tcp t 443
	t nft add chain inet pmtu out '{ type filter hook output priority filter; policy accept; }'
	t nft add rule inet pmtu out tcp sport 443 tcp flags '&' '(syn | ack)' == 'syn | ack' counter
	t nft add rule inet pmtu out tcp sport 443 tcp flags '&' rst == rst counter

	pmtu c --json --timeout 300ms "$T4"
	silent_found 443
	local synack rst
	synack=$(t nft -j list chain inet pmtu out | jq '[.nftables[] | .rule? // empty | .expr[] | .counter? // empty | .packets][0]')
	rst=$(t nft -j list chain inet pmtu out | jq '[.nftables[] | .rule? // empty | .expr[] | .counter? // empty | .packets][1]')
	echo "t sent $synack SYN-ACKs and $rst RSTs from port 443"
	((synack > 0 && rst == 0)) || PROBLEMS+=("t sent $synack SYN-ACKs and $rst RSTs from 443: the listener did not answer")
	verdict

	pmtu c --timeout 300ms "$T4"
	want_rc 0
	[[ $OUT == "path MTU to $T4: 1500"*"ICMP Echo unanswered; TCP to port 443 answered"* ]] ||
		PROBLEMS+=("the text does not say how it was found: $OUT")
	OUT='' verdict
}

# silent_found PORT: a run that found 1500 over TCP to PORT after ICMP
# Echo went unanswered.
silent_found() {
	local a1
	a1=$(chain_hop4 1)
	want_rc 0
	want_object
	want .pmtu == 1500
	want .confirmed == true
	want .reached == true
	want .exact == true
	want .proved_min == 1500
	want .refused_size == 1501
	want_str .evidence icmp
	want_str .limiting_hop "$a1"
	want_str .method tcp
	want .port == "$1"
	want '[.methods_tried[] | "\(.way)/\(.answered)"]' == "[\"ICMP Echo/false\",\"TCP to port $1/true\"]"
	want '(.error // "")' == '""'
}

# silent_rst: t drops every Echo Request and listens on no port: a SYN to
# 443 earns a RST, which proves it arrived, and TCP finds 1500. --proto
# icmp asks by ICMP alone (r1 counts no SYN) and reports r1's bound.
register silent_rst "target drops ICMP Echo, no listener: a RST from 443 finds 1500; --proto icmp stays ICMP only"
case_silent_rst() {
	chain_build 2000 1500
	silent_drop requests
	silent_count

	pmtu c --json --timeout 300ms "$T4"
	silent_found 443
	verdict

	local before
	before=$(silent_counted tcp443)
	pmtu c --json --proto icmp --timeout 300ms "$T4"
	want_bound
	want_str .method icmp
	want '.methods_tried // "none"' == '"none"'
	local got
	got=$(silent_counted tcp443)
	((got == before)) || PROBLEMS+=("--proto icmp sent $((got - before)) SYNs to 443")
	got=$(($(silent_counted tcp80) + $(silent_counted quic) + $(silent_counted udp)))
	((got == 0)) || PROBLEMS+=("--proto icmp sent $got TCP 80, QUIC or UDP probes")
	verdict
}
