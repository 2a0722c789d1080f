# shellcheck shell=bash
# Cases for ECMP: flow-stable probes (--flow) and the path MTU of every
# branch (--flows). Sourced by scripts/netns-test.sh.
#
# A diamond: r1 spreads the target's address over two (or three) routers
# by a hash of the 5-tuple (fib_multipath_hash_policy=1, IPv4 and IPv6),
# and each router reaches the target over a link of its own MTU:
#
#                      ┌─ veth2 ── r2a ── veth4 (1500) ─┐
#   c ── veth1 ── r1 ──┼─ veth3 ── r2b ── veth5 (1400) ─┼── t  (198.18.9.1, 2001:db8:9::1 on lo)
#                      └─ veth6 ── r2c ── veth7 (1450) ─┘     (r2c only in the three-branch case)
#
# Link i is 198.18.i.0/24 and 2001:db8:i::/64, left end .1, right end .2;
# every link but 4, 5, 7 is 1500. r2b answers a too-big probe from
# 198.18.3.2 / 2001:db8:3::2 naming 1400, r2c from .6.2 naming 1450. t
# answers over r2a whichever branch a probe came by (rp_filter off). The
# target and the routers send ICMP without a rate limit: 32 flows at once
# would otherwise wait a second per Port Unreachable past the burst, which
# the trace cases test; these test branches.

# ecmp_build MTU...: the diamond with one branch per MTU (two or three).
ecmp_build() {
	local mtus=("$@") n=$# i r l4 hops4=() hops6=()
	ns_add c || return
	ns_add r1 router || return
	ns_add t || return
	t ip addr add 198.18.9.1/32 dev lo
	t ip -6 addr add 2001:db8:9::1/128 dev lo
	for ns in r1 t; do
		"$ns" sysctl -q -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 >/dev/null
	done
	for ns in r1 t; do
		"$ns" sysctl -q -w net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 >/dev/null
	done
	veth_link c veth1a r1 veth1b 1500 || return
	c ip addr add 198.18.1.1/24 dev veth1a
	r1 ip addr add 198.18.1.2/24 dev veth1b
	c ip -6 addr add 2001:db8:1::1/64 dev veth1a nodad
	r1 ip -6 addr add 2001:db8:1::2/64 dev veth1b nodad
	c ip route add default via 198.18.1.2
	c ip -6 route add default via 2001:db8:1::2
	local up=(2 3 6) down=(4 5 7) names=(r2a r2b r2c)
	for ((i = 0; i < n; i++)); do
		r=${names[i]} l=${up[i]} l4=${down[i]}
		ns_add "$r" router || return
		"$r" sysctl -q -w net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 >/dev/null
		veth_link r1 "veth${l}a" "$r" "veth${l}b" 1500 || return
		r1 ip addr add "198.18.$l.1/24" dev "veth${l}a"
		"$r" ip addr add "198.18.$l.2/24" dev "veth${l}b"
		r1 ip -6 addr add "2001:db8:$l::1/64" dev "veth${l}a" nodad
		"$r" ip -6 addr add "2001:db8:$l::2/64" dev "veth${l}b" nodad
		veth_link "$r" "veth${l4}a" t "veth${l4}b" "${mtus[i]}" || return
		"$r" ip addr add "198.18.$l4.1/24" dev "veth${l4}a"
		t ip addr add "198.18.$l4.2/24" dev "veth${l4}b"
		"$r" ip -6 addr add "2001:db8:$l4::1/64" dev "veth${l4}a" nodad
		t ip -6 addr add "2001:db8:$l4::2/64" dev "veth${l4}b" nodad
		"$r" ip route add 198.18.9.1/32 via "198.18.$l4.2"
		"$r" ip -6 route add 2001:db8:9::1/128 via "2001:db8:$l4::2"
		"$r" ip route add default via "198.18.$l.1"
		"$r" ip -6 route add default via "2001:db8:$l::1"
		hops4+=(nexthop via "198.18.$l.2" dev "veth${l}a")
		hops6+=(nexthop via "2001:db8:$l::2" dev "veth${l}a")
		t sysctl -q -w "net.ipv4.conf.veth${l4}b.rp_filter=0" >/dev/null
	done
	r1 ip route add 198.18.9.1/32 "${hops4[@]}"
	r1 ip -6 route add 2001:db8:9::1/128 "${hops6[@]}"
	r1 sysctl -q -w net.ipv4.fib_multipath_hash_policy=1 net.ipv6.fib_multipath_hash_policy=1 >/dev/null
	# The target answers by the first branch, whichever a probe took.
	t ip route add default via 198.18.4.1
	t ip -6 route add default via 2001:db8:4::1
	wait_ipv6 c r1 t r2a r2b
}

# ecmp_dst FAMILY: the target's address.
ecmp_dst() { if [[ $1 == ipv4 ]]; then echo 198.18.9.1; else echo 2001:db8:9::1; fi; }

# ecmp_hop FAMILY LINK: the router's address on link LINK toward r1.
ecmp_hop() { if [[ $1 == ipv4 ]]; then echo "198.18.$2.2"; else echo "2001:db8:$2::2"; fi; }

# flow_watch: r1 records, in dynamic sets, every UDP and TCP source port
# and IPv6 flow label of the probes that come in from c, and counts the UDP
# ones.
flow_watch() {
	r1 nft -f - <<'NFT'
table inet flows {
	set sports { typeof udp sport; flags dynamic; }
	set labels { typeof ip6 flowlabel; flags dynamic; }
	set tsports { typeof tcp sport; flags dynamic; }
	chain pre {
		type filter hook prerouting priority filter; policy accept;
		iifname "veth1b" udp dport 33434 update @sports { udp sport } counter
		iifname "veth1b" meta nfproto ipv6 udp dport 33434 update @labels { ip6 flowlabel }
		iifname "veth1b" tcp dport 443 tcp flags syn update @tsports { tcp sport }
	}
}
NFT
}

# flow_seen SET: the elements r1's set SET holds, space-separated, sorted.
flow_seen() {
	r1 nft -j list set inet flows "$1" | jq -r '[.nftables[] | select(.set) | .set.elem // [] | .[]
		| if type == "object" then .elem.val // .elem else . end] | sort | map(tostring) | join(" ")'
}

# flow_probes: the UDP probes r1 counted.
flow_probes() { r1 nft -j list chain inet flows pre | jq '[.nftables[] | select(.rule) | .rule.expr[] | select(.counter) | .counter.packets] | first'; }

# flow_reset: empty r1's sets.
flow_reset() {
	r1 nft flush set inet flows sports
	r1 nft flush set inet flows labels
	r1 nft flush set inet flows tsports
}

ecmp_case() {
	local fam=$1 dst hop b runs id seen ports labels probes flows_json want_pmtu via
	ecmp_build 1500 1400
	dst=$(ecmp_dst "$fam") hop=$(ecmp_hop "$fam" 3)
	flow_watch

	# One flow, pinned, again and again: always the same branch.
	for id in 1 2 3 4 5 6; do
		runs=()
		for _ in 1 2 3; do
			pmtu c --json --proto udp --flow "$id" "$dst"
			want_rc 0
			want .flow.src_port == $((40000 + id))
			runs+=("$(jq -r .pmtu <<<"$OUT")")
		done
		echo "flow $id: ${runs[*]}"
		[[ ${runs[0]} == "${runs[1]}" && ${runs[1]} == "${runs[2]}" ]] ||
			PROBLEMS+=("flow $id answered ${runs[*]} on three runs: it is not kept on one branch")
		seen+=" ${runs[0]}"
	done
	verdict

	# On the wire: every probe of one search carried one source port (and,
	# for IPv6, one flow label).
	flow_reset
	probes=$(flow_probes)
	pmtu c --json --proto udp --flow 7 "$dst"
	want_rc 0
	verdict
	ports=$(flow_seen sports) probes=$(($(flow_probes) - probes))
	echo "r1 saw $probes UDP probes from source ports: $ports"
	[[ $ports == 40007 ]] || fail "the probes of one search came from source ports '$ports', want 40007 only"
	[[ $probes == "$(jq .probes <<<"$OUT")" ]] || fail "r1 counted $probes probes, pmtu says it sent $(jq .probes <<<"$OUT")"
	if [[ $fam == ipv6 ]]; then
		labels=$(flow_seen labels)
		echo "r1 saw flow labels: $labels"
		[[ -n $labels && $labels != *" "* ]] || fail "the probes of one search carried flow labels '$labels', want one"
	fi

	# A trace sends many sizes at many hop limits: still one port.
	flow_reset
	probes=$(flow_probes)
	pmtu c trace -n --json --proto udp --flow 7 "$dst"
	want_rc 0
	want .flow.src_port == 40007
	verdict
	ports=$(flow_seen sports) probes=$(($(flow_probes) - probes))
	echo "r1 saw $probes UDP probes of a trace from source ports: $ports"
	[[ $ports == 40007 ]] || fail "the probes of one trace came from source ports '$ports', want 40007 only"
	[[ $probes == "$(jq .probes <<<"$OUT")" ]] || fail "r1 counted $probes probes, pmtu trace says it sent $(jq .probes <<<"$OUT")"
	if [[ $fam == ipv6 ]]; then
		labels=$(flow_seen labels)
		echo "r1 saw the trace's flow labels: $labels"
		[[ -n $labels && $labels != *" "* ]] || fail "the probes of one trace carried flow labels '$labels', want one"
	fi
	flow_reset
	pmtu c trace -n --json --proto tcp --flow 9 "$dst"
	want_rc 0
	verdict
	ports=$(flow_seen tsports)
	echo "r1 saw the $(jq .probes <<<"$OUT") SYNs of a trace from source ports: $ports"
	[[ $ports == 40009 ]] || fail "the SYNs of one trace came from source ports '$ports', want 40009 only"

	# Many flows: both branches, and the smaller answer.
	for proto in udp tcp; do
		flow_reset
		pmtu c --json --proto "$proto" --flows 16 "$dst"
		want_rc 0
		want .pmtu == 1400
		want '[.branches[].pmtu]' == '[1400,1500]'
		want '.branches[0].limiting_hops' == "[\"$hop\"]"
		want '.branches[1].limiting_hops' == '[]'
		want '.flows | length' == 16
		want '[.flows[] | .src_port - .id] | unique' == '[40000]'
		want '[.branches[].flows | length] | add' == 16
		want .confidence.k == 5
		verdict
		if [[ $proto == udp ]]; then
			ports=$(flow_seen sports)
			echo "r1 saw source ports: $ports"
			[[ $ports == "$(seq -s ' ' 40001 40016)" ]] || fail "16 flows came from source ports '$ports', want 40001 to 40016"
			if [[ $fam == ipv6 ]]; then
				labels=$(flow_seen labels)
				echo "r1 saw $(wc -w <<<"$labels") flow labels"
				(($(wc -w <<<"$labels") == 16)) || fail "16 flows carried flow labels '$labels', want 16 distinct"
			fi
			# A trace on one flow of each branch walks that branch.
			flows_json=$OUT
			for b in 0 1; do
				id=$(jq ".branches[$b].flows[0]" <<<"$flows_json")
				want_pmtu=$(jq ".branches[$b].pmtu" <<<"$flows_json")
				via=$(ecmp_hop "$fam" $((b == 0 ? 3 : 2)))
				pmtu c trace -n --json --proto udp --flow "$id" "$dst"
				want_rc 0
				want .pmtu == "$want_pmtu"
				want .flow.src_port == $((40000 + id))
				want_str '.hops[1].address' "$via"
				verdict
			done
		fi
		pmtu c --proto "$proto" --flows 16 "$dst"
		want_rc 0
		verdict
		b=$(grep -c ' on [0-9]* of 16 flows' <<<"$OUT") || true
		[[ $b == 2 && $OUT == *"(${hop} said 1400)"* ]] || fail "the text does not name both branches and $hop: $OUT"
	done

	# A trace on many flows: r1 for all, then each branch's router, then the
	# target with each branch's path MTU.
	pmtu c trace -n --json --proto udp --flows 16 "$dst"
	want_rc 0
	want .pmtu == 1400
	want '.hops | length' == 3
	want '[.hops[0].seen[] | .address]' == "[\"$(ecmp_hop "$fam" 1)\"]"
	want '[.hops[1].seen[] | .address] | sort' == "$(jq -cn --arg a "$(ecmp_hop "$fam" 2)" --arg b "$(ecmp_hop "$fam" 3)" '[$a, $b] | sort')"
	want '[.hops[2].seen[] | .pmtu] | sort' == '[1400,1500]'
	want '[.hops[1].seen[].flows | length] | add' == 16
	verdict
	pmtu c trace -n --proto udp --flows 16 "$dst"
	want_rc 0
	verdict

	# ICMP Echo cannot spread: refused, with the reason.
	pmtu c --proto icmp --flows 4 "$dst"
	want_rc 2
	verdict
	[[ $ERR == *"addresses only"* ]] || fail "--flows with icmp: stderr does not say why: $ERR"
}

register ecmp4 "IPv4 diamond, r1 hashing on L4 over a 1500 and a 1400 branch: --flow stays on one branch (one source port on the wire), --flows 16 reports both and answers 1400, udp and tcp"
case_ecmp4() { ecmp_case ipv4; }

register ecmp6 "IPv6 diamond, r1 hashing on L4 over a 1500 and a 1400 branch: --flow stays on one branch (one port, one flow label on the wire), --flows 16 reports both and answers 1400"
case_ecmp6() { ecmp_case ipv6; }

ecmp3_case() {
	local fam=$1 dst
	ecmp_build 1500 1400 1450
	dst=$(ecmp_dst "$fam")
	pmtu c --json --proto udp --flows 32 "$dst"
	want_rc 0
	want .pmtu == 1400
	want '[.branches[].pmtu]' == '[1400,1450,1500]'
	want '.branches[0].limiting_hops' == "[\"$(ecmp_hop "$fam" 3)\"]"
	want '.branches[1].limiting_hops' == "[\"$(ecmp_hop "$fam" 6)\"]"
	want '.flows | length' == 32
	verdict
}

register ecmp3v4 "IPv4 diamond with three branches (1500, 1450, 1400): --flows 32 finds all three"
case_ecmp3v4() { ecmp3_case ipv4; }

register ecmp3v6 "IPv6 diamond with three branches (1500, 1450, 1400): --flows 32 finds all three"
case_ecmp3v6() { ecmp3_case ipv6; }
