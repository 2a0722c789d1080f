# shellcheck shell=bash
# Cases for ICMP errors: each reject a router can send is explained with
# the right code, sender and exit status, and forged ICMP never moves the
# answer. Sourced by scripts/netns-test.sh.

# reject FAMILY NFTRULE TYPE CODE NAME: a chain c ── r1 ── t whose router
# answers every probe to t with TYPE/CODE (an nft reject rule, or a route
# set up by the caller when NFTRULE is empty); pmtu exits 1 and says who
# sent what.
#
#   c ──1500── r1 ──1500── t        r1 forward: NFTRULE
reject_case() {
	local fam=$1 rule=$2 type=$3 code=$4 name=$5 dst=${6:-} hop
	if [[ -z $dst ]]; then
		chain_build 1500 1500
		if [[ $fam == ipv4 ]]; then dst=$T4; else dst=$T6; fi
	fi
	if [[ $fam == ipv4 ]]; then hop=$(chain_hop4 1); else hop=$(chain_hop6 1); fi
	if [[ -n $rule ]]; then
		r1 nft add table inet pmtu
		r1 nft add chain inet pmtu rejects '{ type filter hook forward priority filter; policy accept; }'
		# shellcheck disable=SC2086 # the rule is words for nft
		r1 nft add rule inet pmtu rejects $rule
	fi
	pmtu c --json --timeout 300ms "$dst"
	want_rc 1
	want_object
	want .pmtu == 0
	want_true "[.events[] | select(.from == \"$hop\" and .type == $type and .code == $code)] | length == 1" \
		"no event from $hop type $type code $code"
	want_true ".error | startswith(\"$hop: $name (\")" "error does not say \"$hop: $name (...\""
	[[ $ERR == *"$hop: $name ("* ]] || PROBLEMS+=("stderr does not name $hop and \"$name\": $ERR")
	want_str .diagnosis.from "$hop"
	want .diagnosis.type == "$type"
	want .diagnosis.code == "$code"
	want_str .diagnosis.name "$name"
	want_true '.diagnosis.next | length > 0' "diagnosis says nothing to check next"
	verdict
}

register reject_admin4 "IPv4 reject admin-prohibited: type 3 code 13 from r1, exit 1"
case_reject_admin4() {
	reject_case ipv4 "meta nfproto ipv4 reject with icmp type admin-prohibited" 3 13 "communication administratively prohibited"
}

register reject_net4 "IPv4 reject net-unreachable: type 3 code 0 from r1, exit 1"
case_reject_net4() {
	reject_case ipv4 "meta nfproto ipv4 reject with icmp type net-unreachable" 3 0 "net unreachable"
}

register reject_host4 "IPv4 reject host-unreachable: type 3 code 1 from r1, exit 1"
case_reject_host4() {
	reject_case ipv4 "meta nfproto ipv4 reject with icmp type host-unreachable" 3 1 "host unreachable"
}

# A prohibit route on r1 (ip_error: RTN_PROHIBIT → type 3 code 13) and an
# unreachable route (RTN_UNREACHABLE → type 3 code 1), for a prefix the
# client routes through r1.
register prohibit_route4 "IPv4 'ip route add prohibit' on r1: type 3 code 13, exit 1"
case_prohibit_route4() {
	chain_build 1500 1500
	c ip route add 198.18.99.0/24 via "$(chain_hop4 1)"
	r1 ip route add prohibit 198.18.99.0/24
	reject_case ipv4 "" 3 13 "communication administratively prohibited" 198.18.99.1
}

register unreachable_route4 "IPv4 'ip route add unreachable' on r1: type 3 code 1, exit 1"
case_unreachable_route4() {
	chain_build 1500 1500
	c ip route add 198.18.99.0/24 via "$(chain_hop4 1)"
	r1 ip route add unreachable 198.18.99.0/24
	reject_case ipv4 "" 3 1 "host unreachable" 198.18.99.1
}

register reject_admin6 "IPv6 reject adm-prohibited: type 1 code 1 from r1, exit 1"
case_reject_admin6() {
	reject_case ipv6 "meta nfproto ipv6 reject with icmpv6 type admin-prohibited" 1 1 "administratively prohibited"
}

register reject_noroute6 "IPv6 reject no-route: type 1 code 0 from r1, exit 1"
case_reject_noroute6() {
	reject_case ipv6 "meta nfproto ipv6 reject with icmpv6 type no-route" 1 0 "no route"
}

register prohibit_route6 "IPv6 'ip -6 route add prohibit' on r1: type 1 code 1, exit 1"
case_prohibit_route6() {
	chain_build 1500 1500
	c ip -6 route add 2001:db8:99::/64 via "$(chain_hop6 1)"
	r1 ip -6 route add prohibit 2001:db8:99::/64
	reject_case ipv6 "" 1 1 "administratively prohibited" 2001:db8:99::1
}

# forged: an on-path attacker in r1 (internal/icmpforge) answers every
# probe with three forged Frag Needed / Packet Too Big from r1's address:
# one quoting a probe never sent, one naming an MTU above the probe's size,
# one naming an MTU below the floor. r1 itself sends no ICMP (a black
# hole), so the search runs long enough to read many forgeries. pmtu must
# still find 1400 by probes, count what it ignored, and believe none, while
# the kernel of the same client is fooled by the one below the floor.
#
#   c ──1500── r1 ──1400── t        r1: drops its own ICMP; icmpforge on veth1b
forged_case() {
	local fam=$1 dst hop kernel_mtu
	chain_build 1500 1400
	router_blackhole r1
	if [[ $fam == ipv4 ]]; then
		dst=$T4 hop=$(chain_hop4 1) kernel_mtu=552
	else
		dst=$T6 hop=$(chain_hop6 1) kernel_mtu=1280
	fi
	sanity c "$dst" 1400
	flush_pmtu c

	local forge="$CASE_DIR/icmpforge" log="$CASE_DIR/icmpforge.log"
	go build -o "$forge" ./internal/icmpforge
	# The blackhole chain drops the ICMP r1's kernel makes, which has no
	# owning socket; icmpforge's come from its raw socket, owned by root.
	r1 nft insert rule inet pmtu blackhole meta skuid 0 accept
	r1 "$forge" -i veth1b -from4 "$(chain_hop4 1)" -from6 "$(chain_hop6 1)" -for 40s >"$log" 2>&1 &
	wait_ready "$log" icmpforge

	pmtu c --json --timeout 300ms "$dst"
	echo "kernel: $(c ip route get "$dst" | tr '\n' ' ')"
	check_found "$fam" "$dst" 1400 veth1a 1500
	want_str .evidence probes
	want .ignored '>=' 3
	want_true "[.events[] | select(.from == \"$hop\")] | length == 0" "an event from $hop was believed"
	verdict
	# The forgeries did arrive: the client's kernel believed the one
	# below the floor and now applies its own floor toward the target.
	c ip route get "$dst" | grep -q "mtu lock $kernel_mtu\|mtu $kernel_mtu" ||
		fail "the kernel shows no forged PMTU ($(c ip route get "$dst" | tr '\n' ' ')): did icmpforge send anything? $(cat "$log")"
}

register forged4 "forged Frag Needed (never-sent quote, MTU above probe, MTU < 68): ignored, 1400 by probes"
case_forged4() { forged_case ipv4; }

register forged6 "forged Packet Too Big (never-sent quote, MTU above probe, MTU < 1280): ignored, 1400 by probes"
case_forged6() { forged_case ipv6; }

# udp_closed_port: UDP probes to a port where nothing listens: the target's
# Port Unreachable (type 3 code 3, ICMPv6 type 1 code 4) means the probe
# got there, so pmtu finds the path MTU and exits 0; trace shows that
# answer, from the target, at the last hop.
#
#   c ──1500── r1 ──1400── t        nothing listens on t's UDP port 33434
udp_closed_port_case() {
	local fam=$1 dst type code
	chain_build 1500 1400
	if [[ $fam == ipv4 ]]; then dst=$T4 type=3 code=3; else dst=$T6 type=1 code=4; fi
	pmtu c --json --proto udp "$dst"
	check_found "$fam" "$dst" 1400 veth1a 1500
	want_str .method udp
	verdict
	pmtu c trace --json -n --proto udp "$dst"
	want_rc 0
	want_object
	want .reached == true
	want_true "(.hops | last) as \$h | \$h.address == \"$dst\" and \$h.reply == \"reached\" and \$h.icmp.type == $type and \$h.icmp.code == $code" \
		"the last hop is not a Port Unreachable (type $type code $code) from $dst"
	verdict
}

register udp_closed_port4 "UDP probes to a closed port: Port Unreachable from the target means reached, exit 0"
case_udp_closed_port4() { udp_closed_port_case ipv4; }

register udp_closed_port6 "UDP probes to a closed port over IPv6: Port Unreachable (1/4) from the target, exit 0"
case_udp_closed_port6() { udp_closed_port_case ipv6; }
