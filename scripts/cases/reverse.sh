# shellcheck shell=bash
# Cases for the return path: replies that come back another way than the
# probes went (issue 15). Sourced by scripts/netns-test.sh.

# asym_build FWD1 FWD2 RET: probes go c → r1 → t over links of FWD1 and
# FWD2 bytes; replies come back t → r2 → c, over a 1500 link and then one
# of RET bytes:
#
#       ┌─FWD1── r1 ──FWD2─┐
#   c ──┤                  ├── t        c → t via r1; t → c via r2
#       └──RET── r2 ──1500─┘
#
# c has 198.18.1.1 / 2001:db8:1::1 (on the r1 link) and t 198.18.2.2 /
# 2001:db8:2::2; c's r2 link only receives. r2 routes to t's address, so
# it can send t a Packet Too Big. rp_filter is off: c takes t's replies on
# another link than the one its route to t uses.
asym_build() {
	local fwd1=$1 fwd2=$2 ret=$3 n
	ns_add c && ns_add r1 router && ns_add r2 router && ns_add t || return
	for n in c r1 r2 t; do
		"$n" sysctl -q -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 >/dev/null
	done
	veth_link c veth1a r1 veth1b "$fwd1" && veth_link r1 veth2a t veth2b "$fwd2" &&
		veth_link r2 veth3a c veth3b "$ret" && veth_link t veth4a r2 veth4b 1500 || return
	c ip addr add 198.18.1.1/24 dev veth1a && r1 ip addr add 198.18.1.2/24 dev veth1b &&
		r1 ip addr add 198.18.2.1/24 dev veth2a && t ip addr add 198.18.2.2/24 dev veth2b &&
		r2 ip addr add 198.18.3.2/24 dev veth3a && c ip addr add 198.18.3.1/24 dev veth3b &&
		t ip addr add 198.18.4.2/24 dev veth4a && r2 ip addr add 198.18.4.1/24 dev veth4b || return
	c ip -6 addr add 2001:db8:1::1/64 dev veth1a nodad && r1 ip -6 addr add 2001:db8:1::2/64 dev veth1b nodad &&
		r1 ip -6 addr add 2001:db8:2::1/64 dev veth2a nodad && t ip -6 addr add 2001:db8:2::2/64 dev veth2b nodad &&
		r2 ip -6 addr add 2001:db8:3::2/64 dev veth3a nodad && c ip -6 addr add 2001:db8:3::1/64 dev veth3b nodad &&
		t ip -6 addr add 2001:db8:4::2/64 dev veth4a nodad && r2 ip -6 addr add 2001:db8:4::1/64 dev veth4b nodad || return
	# Forward: c → r1 → t. Back: t → r2 → c.
	c ip route add 198.18.2.0/24 via 198.18.1.2 && c ip -6 route add 2001:db8:2::/64 via 2001:db8:1::2 &&
		t ip route add 198.18.1.0/24 via 198.18.4.1 && t ip -6 route add 2001:db8:1::/64 via 2001:db8:4::1 &&
		r2 ip route add 198.18.1.0/24 via 198.18.3.1 && r2 ip -6 route add 2001:db8:1::/64 via 2001:db8:3::1 &&
		r2 ip route add 198.18.2.0/24 via 198.18.4.2 && r2 ip -6 route add 2001:db8:2::/64 via 2001:db8:4::2 || return
	T4=198.18.2.2 T6=2001:db8:2::2
	wait_ipv6 c r1 r2 t
}

# want_reverse_around TRUTH: the reverse bounds are from fragmented replies
# and contain TRUTH, within 8 bytes.
want_reverse_around() {
	want_str .reverse.evidence "fragmented replies"
	want .reverse.min '<=' "$1"
	want .reverse.max '>=' "$1"
	want '.reverse.max - .reverse.min' '<=' 7
}

# want_cached_reverse DST: a run that fills the cache (pmtu_cached, from
# cache.sh) and the next, answered from the cache, show the same reverse
# and black_hole_direction.
want_cached_reverse() {
	local probed
	pmtu_cached c --json "$1"
	want_rc 0
	want_str .source probe
	verdict
	probed=$(jq -c '{reverse, black_hole_direction}' <<<"$OUT")
	pmtu_cached c --json "$1"
	want_rc 0
	want_str .source cache
	want '{reverse, black_hole_direction}' == "$probed"
	verdict
}

# ret1300: the way back has a 1300 link, the way out 1500 all along. IPv4:
# r2 cuts the Echo Replies, which Linux sends without DF; IPv6: t cuts them
# itself, after r2's Packet Too Big. The forward answer stays 1500, the
# return path is reported 1300 give or take the 8-byte fragment boundary.
ret1300_case() {
	local fam=$1 dst
	asym_build 1500 1500 1300
	if [[ $fam == ipv4 ]]; then dst=$T4; else dst=$T6; fi
	sanity c "$dst" 1500
	# The sanity ping taught t the 1300 (IPv6): forget it, so that pmtu's
	# first large reply is the one that draws r2's Packet Too Big.
	flush_pmtu t
	pmtu c --json "$dst"
	check_found "$fam" "$dst" 1500 veth1a 1500
	want .black_hole == false
	want_reverse_around 1300
	if [[ $fam == ipv4 ]]; then
		want .reverse.min == 1300
		want .reverse.max == 1307
	fi
	verdict
	pmtu c "$dst"
	want_rc 0
	[[ $OUT == *"return path: MTU "*" (fragmented replies)"* ]] || PROBLEMS+=("no return path line in the text")
	verdict
	# An answer from the cache says what the run that filled it said.
	want_cached_reverse "$dst"
	want_reverse_around 1300
	verdict
	# pmtu trace says the same at the target.
	pmtu c trace --json -n "$dst"
	want_rc 0
	want .reached == true
	want .pmtu == 1500
	want_reverse_around 1300
	verdict
	pmtu c trace -n "$dst"
	[[ $OUT == *"return path from the target: MTU "*" (fragmented replies)"* ]] || PROBLEMS+=("no return path line in the trace text")
	verdict
}

register ret1300v4 "IPv4, return link 1300 (r2 fragments the replies): forward 1500, reverse 1300..1307"
case_ret1300v4() { ret1300_case ipv4; }

register ret1300v6 "IPv6, return link 1300 (t fragments after its PTB): forward 1500, reverse contains 1300"
case_ret1300v6() { ret1300_case ipv6; }

# retptb6: as ret1300v6, but r2 drops the Packet Too Big it owes t, so the
# large Echo Replies vanish on the way back. Echo alone says "1300, black
# hole" (--no-reverse shows it); the UDP cross-check sees 1301-byte probes
# reach t, so the hole is on the return path and the forward path is 1500.
case_retptb6() {
	asym_build 1500 1500 1300
	router_blackhole r2
	# The topology: 1300-byte Echo Requests come back, 1400-byte ones
	# never do (their replies are lost).
	c ping -6 -c1 -W1 -M "do" -s 1252 "$T6" >/dev/null || fail "topology broken: a 1300-byte ping to $T6 got no answer"
	! c ping -6 -c2 -i 0.3 -W1 -M "do" -s 1352 "$T6" >/dev/null || fail "topology broken: a 1400-byte ping to $T6 got an answer"
	pmtu c --json --no-reverse "$T6"
	check_found ipv6 "$T6" 1300 veth1a 1500
	want .black_hole == true
	want '.black_hole_direction // ""' == '""'
	verdict
	pmtu c --json "$T6"
	check_found ipv6 "$T6" 1500 veth1a 1500
	want .black_hole == true
	want_str .black_hole_direction return
	want_str .forward_method udp
	want_str .reverse.evidence "lost replies"
	want .reverse.max == 1300
	verdict
	pmtu c "$T6"
	want_rc 0
	[[ $OUT == *"the black hole is on the way back"* ]] || PROBLEMS+=("the text does not say the hole is on the way back")
	verdict
	want_cached_reverse "$T6"
	want_str .black_hole_direction return
	want_str .reverse.evidence "lost replies"
	verdict
}
register retptb6 "IPv6, r2 drops the PTB t is owed: black_hole_direction return, forward 1500"

# fwdhole6: a forward black hole: r1 → t is 1400 and r1 sends no Packet Too
# Big; the way back is 1500. The UDP cross-check at 1401 is lost too.
case_fwdhole6() {
	asym_build 1500 1400 1500
	router_blackhole r1
	pmtu c --json "$T6"
	check_found ipv6 "$T6" 1400 veth1a 1500
	want .black_hole == true
	want_str .black_hole_direction forward
	want '(.forward_method // "")' == '""'
	verdict
}
register fwdhole6 "IPv6 forward black hole (r1 → t 1400, no PTB): black_hole_direction forward, 1400"

# fwdhole6udp: as fwdhole6, with t dropping UDP: the cross-check gets no
# answer even at the size that passed, so the direction is not told (and
# one round of 2 probes, one wait, is all it costs).
case_fwdhole6udp() {
	asym_build 1500 1400 1500
	router_blackhole r1
	t nft add table inet pmtu
	t nft add chain inet pmtu in '{ type filter hook input priority filter; policy accept; }'
	t nft add rule inet pmtu in meta l4proto udp counter drop
	pmtu c --json "$T6"
	check_found ipv6 "$T6" 1400 veth1a 1500
	want .black_hole == true
	want '(.black_hole_direction // "")' == '""'
	verdict
	local dropped
	dropped=$(t nft list ruleset | grep -o 'packets [0-9]*' | head -1)
	echo "UDP dropped at t: $dropped"
	# One round: the 1400-byte control reaches t and is dropped there; the
	# 1401-byte probe vanishes at r1.
	[[ $dropped == "packets 1" ]] || fail "t dropped '$dropped' UDP datagrams, want 1 (one round)"
}
register fwdhole6udp "IPv6 forward black hole, t drops UDP: direction untold, one round of 2 UDP probes"
