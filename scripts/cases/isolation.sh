# shellcheck shell=bash
# Cases for isolation by construction (issue 23): the unit suite sends
# nothing off the host. Sourced by scripts/netns-test.sh.

# isolation: the whole unit suite (go test ./...) runs, as root, in a
# namespace "suite" whose only way out is a default route, IPv4 and IPv6,
# into a namespace "sink". The sink owns the gateways, forwards nothing,
# and counts at the ingress of its link every IP packet that comes from
# the suite. It must count none.
#
#   suite                                sink (forwarding off)
#   veth1a ─────────1500───────── veth1b   ingress: nft counters, tcpdump
#   198.18.1.1/24                          198.18.1.2/24      (gateway)
#   2001:db8:1::1/64                       2001:db8:1::2/64   (gateway)
#   default via 198.18.1.2                 lo: 198.18.200.53, 2001:db8:200::53
#   default via 2001:db8:1::2              (the suite's name servers: a query
#   resolv.conf: 198.18.200.53,             is counted, then refused at once
#     2001:db8:200::53                      with a port unreachable)
#
# Not counted: ARP and IPv6 neighbour discovery, router solicitation and
# MLDv2 reports (ICMPv6 133-137 and 143), which the kernel sends by itself
# when a link comes up; the suite sends no router solicitations and adds
# its addresses without DAD, so the link is quiet. Before the suite runs,
# one UDP datagram to 198.18.200.1 and one to 2001:db8:200::1 (port 9)
# must be counted: a sink that counts nothing cannot pass.
#
# On failure the case says which packages sent what (each package run
# again alone) and lists the sink's capture; ISOLATION_BY_TEST=1 also
# runs each test of a package that sent something alone, to name it.

# isolation_build: the topology above.
isolation_build() {
	ns_add suite && ns_add sink || return
	suite sysctl -q -w net.ipv6.conf.all.router_solicitations=0 \
		net.ipv6.conf.default.router_solicitations=0 >/dev/null || return
	# No ICMP rate limit: each query is refused at once, so a leaking
	# test does not wait out its resolver's timeout.
	sink sysctl -q -w net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0 \
		net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 >/dev/null || return
	# The suite's resolver is out there, past the default route, as on
	# a real host: ns_add's loopback resolver would hide the queries.
	printf 'nameserver 198.18.200.53\nnameserver 2001:db8:200::53\n' >"/etc/netns/$NS_SUITE/resolv.conf"
	veth_link suite veth1a sink veth1b 1500 || return
	sink_arm || return
	suite ip addr add 198.18.1.1/24 dev veth1a &&
		sink ip addr add 198.18.1.2/24 dev veth1b &&
		suite ip -6 addr add 2001:db8:1::1/64 dev veth1a nodad &&
		sink ip -6 addr add 2001:db8:1::2/64 dev veth1b nodad &&
		sink ip addr add 198.18.200.53/32 dev lo &&
		sink ip -6 addr add 2001:db8:200::53/128 dev lo nodad &&
		suite ip route add default via 198.18.1.2 &&
		suite ip -6 route add default via 2001:db8:1::2 || return
	wait_ipv6 suite sink
}

# sink_arm: (re)make the sink's counters, all at zero. Each counted rule
# has a comment naming what it counts: "IPv4" and "IPv6" count every IP
# packet, the rules after them break those down (a packet may count in
# more than one).
sink_arm() {
	sink nft delete table netdev pmtu_sink 2>/dev/null || true
	sink nft -f - <<-'EOF'
		table netdev pmtu_sink {
			chain in {
				type filter hook ingress device "veth1b" priority filter; policy accept;
				ether type arp return
				meta protocol ip6 meta l4proto ipv6-icmp icmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, nd-redirect, mld2-listener-report } return
				meta protocol ip counter comment "IPv4"
				meta protocol ip6 counter comment "IPv6"
				meta protocol != { ip, ip6 } counter comment "neither IP nor ARP"
				meta protocol ip meta l4proto udp udp dport 53 counter comment "IPv4 UDP to port 53 (DNS)"
				meta protocol ip meta l4proto tcp tcp dport 53 counter comment "IPv4 TCP to port 53 (DNS)"
				meta protocol ip6 meta l4proto udp udp dport 53 counter comment "IPv6 UDP to port 53 (DNS)"
				meta protocol ip6 meta l4proto tcp tcp dport 53 counter comment "IPv6 TCP to port 53 (DNS)"
				meta protocol ip meta l4proto udp counter comment "IPv4 UDP"
				meta protocol ip meta l4proto tcp counter comment "IPv4 TCP"
				meta protocol ip meta l4proto icmp counter comment "IPv4 ICMP"
				meta protocol ip meta l4proto igmp counter comment "IPv4 IGMP"
				meta protocol ip6 meta l4proto udp counter comment "IPv6 UDP"
				meta protocol ip6 meta l4proto tcp counter comment "IPv6 TCP"
				meta protocol ip6 meta l4proto ipv6-icmp counter comment "IPv6 ICMPv6"
				meta protocol ip ip daddr 224.0.0.0/4 counter comment "IPv4 to multicast"
				meta protocol ip6 ip6 daddr ff00::/8 counter comment "IPv6 to multicast"
			}
		}
	EOF
}

# sink_counts: "COUNT<tab>WHAT" for each counter of the sink.
sink_counts() {
	sink nft -j list table netdev pmtu_sink |
		jq -r '.nftables[] | .rule? // empty | [(.expr[] | .counter? // empty | .packets), .comment] | @tsv'
}

# sink_count WHAT: one counter's packets.
sink_count() {
	sink_counts | awk -F '\t' -v what="$1" '$2 == what { print $1 }'
}

# sink_report: the counters that are not zero, one a line.
sink_report() {
	sink_counts | awk -F '\t' '$1 > 0 { printf "  %6d  %s\n", $1, $2 }'
}

# sink_total: the IP packets counted (IPv4 + IPv6).
sink_total() {
	echo $(($(sink_count IPv4) + $(sink_count IPv6)))
}

# suite_go ARGS...: the go command in the suite, with this host's module
# and build caches and no way to fetch a module or a toolchain.
suite_go() {
	suite env GOPROXY=off GOFLAGS="$SUITE_GOFLAGS" GOTOOLCHAIN=local \
		GOMODCACHE="$SUITE_GOMODCACHE" GOCACHE="$SUITE_GOCACHE" go "$@"
}

# isolation_attribute: run each package alone, and with ISOLATION_BY_TEST=1
# each test of a package that sent something, and say what each sent.
isolation_attribute() {
	local pkg name n tests
	echo "what each package sent, run alone:"
	for pkg in $(go list ./...); do
		sink_arm
		suite_go test -count=1 "$pkg" >"$CASE_DIR/attr.log" 2>&1 || true
		n=$(sink_total)
		((n > 0)) || continue
		echo "$pkg: $n packets"
		sink_report
		[[ ${ISOLATION_BY_TEST:-0} == 1 ]] || continue
		tests=$(suite_go test -list '.*' "$pkg" 2>/dev/null | grep -E '^(Test|Example|Fuzz)') || continue
		for name in $tests; do
			sink_arm
			timeout -k 5 120 ip netns exec "$NS_SUITE" env GOPROXY=off GOFLAGS="$SUITE_GOFLAGS" GOTOOLCHAIN=local \
				GOMODCACHE="$SUITE_GOMODCACHE" GOCACHE="$SUITE_GOCACHE" \
				go test -count=1 -run "^$name\$" "$pkg" >"$CASE_DIR/attr.log" 2>&1 || true
			n=$(sink_total)
			((n > 0)) || continue
			echo "  $name: $n packets"
			sink_report | sed 's/^/  /'
		done
	done
}

register isolation "go test ./... in a namespace whose default routes lead to a counting sink: the sink counts 0 packets"
case_isolation() {
	command -v go >/dev/null || skip "no go command"
	SUITE_GOMODCACHE=$(go env GOMODCACHE)
	SUITE_GOCACHE=$(go env GOCACHE)
	SUITE_GOFLAGS="$(go env GOFLAGS) -mod=readonly"
	SUITE_GOFLAGS=${SUITE_GOFLAGS# }
	# Only the module proxy is asked, and from here: the suite has none.
	go mod download

	isolation_build

	# The detector works: a datagram each way out is counted.
	suite bash -c 'echo pmtu >/dev/udp/198.18.200.1/9; echo pmtu >/dev/udp/2001:db8:200::1/9'
	local i v4=0 v6=0
	for ((i = 0; i < 50; i++)); do
		v4=$(sink_count "IPv4 UDP") v6=$(sink_count "IPv6 UDP")
		((v4 >= 1 && v6 >= 1)) && break
		sleep 0.1
	done
	echo "self-check: the sink counted $v4 IPv4 and $v6 IPv6 UDP datagrams of the 1 each sent"
	((v4 >= 1)) || fail "sink broken: it did not count a UDP datagram sent to 198.18.200.1 through the suite's default route"
	((v6 >= 1)) || fail "sink broken: it did not count a UDP datagram sent to 2001:db8:200::1 through the suite's default route"
	sink_arm

	# What the sink saw, to list it when it saw something.
	local cap="$CASE_DIR/sink.pcap" have_tcpdump=0
	if command -v tcpdump >/dev/null; then
		have_tcpdump=1
		sink tcpdump -i veth1b -n -U -s 128 -w "$cap" >"$CASE_DIR/tcpdump.log" 2>&1 &
		for ((i = 0; i < 50; i++)); do
			grep -q 'listening on' "$CASE_DIR/tcpdump.log" && break
			sleep 0.1
		done
	fi

	local rc=0 start=$SECONDS
	echo "+ ip netns exec $NS_SUITE go test -count=1 ./... (GOPROXY=off GOFLAGS=$SUITE_GOFLAGS GOTOOLCHAIN=local)"
	timeout -k 10 900 ip netns exec "$NS_SUITE" env GOPROXY=off GOFLAGS="$SUITE_GOFLAGS" GOTOOLCHAIN=local \
		GOMODCACHE="$SUITE_GOMODCACHE" GOCACHE="$SUITE_GOCACHE" \
		go test -count=1 ./... >"$CASE_DIR/gotest.log" 2>&1 || rc=$?
	echo "go test: exit $rc after $((SECONDS - start)) s"
	# Late packets (a last retry, a FIN) are still counted.
	sleep 1
	local total
	total=$(sink_total)
	echo "the sink counted $total IP packets from the suite"
	if ((total == 0 && rc == 0)); then
		return 0
	fi

	if ((rc != 0)); then
		echo "go test failed in the suite (a failing test may have stopped before it sent):"
		grep -vE '^(ok|\?) ' "$CASE_DIR/gotest.log" | head -n 80
	fi
	if ((total > 0)); then
		local seen
		seen=$(sink_report)
		echo "the sink's counters (ARP, ND and MLD not counted):"
		echo "$seen"
		if ((have_tcpdump)); then
			echo "the sink's capture (first 60 packets but ARP, ND and MLD):"
			sink tcpdump -n -r "$cap" 2>/dev/null |
				grep -vE 'ARP,|neighbor (solicitation|advertisement)|router (solicitation|advertisement)|multicast listener report v2' |
				head -n 60 || true
		fi
		isolation_attribute
		fail "the unit suite sent $total packets out of its namespace: $(awk '{ $1 = $1; printf "%s%s", sep, $0; sep = "; " }' <<<"$seen")"
	fi
	fail "go test ./... failed in the suite namespace (exit $rc)"
}
