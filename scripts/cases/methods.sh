# shellcheck shell=bash
# Cases for the probe methods (--proto icmp|udp|tcp), pmtu without root,
# --netns, --interface and --source, and the PMTU_* environment. Sourced by
# scripts/netns-test.sh.
#
# Most cases build the chain of netns-lib.sh's chain_build
#
#   c ──1500── r1 ──1492── r2 ──1400── r3 ──1280── t
#
# where r1, r2 and r3 each answer a too-big probe with their link's MTU, so
# every method must find 1280 named by r3 in 4 probes.

# want_method NAME: the JSON says the probes went by method NAME.
want_method() {
	if ! jq -e 'has("method")' <<<"$OUT" >/dev/null 2>&1; then
		PROBLEMS+=("the JSON has no \"method\" field, want \"$1\"")
		return 0
	fi
	want_str .method "$1"
}

# chain_methods FAMILY: the chain, checked.
chain_methods() {
	local fam=$1
	chain_build 1500 1492 1400 1280
	if [[ $fam == ipv4 ]]; then
		DST=$T4 HOP=$(chain_limiting_hop4)
	else
		DST=$T6 HOP=$(chain_limiting_hop6)
	fi
	sanity c "$DST" 1280
}

# check_chain FAMILY METHOD: what a run on the chain must say.
check_chain() {
	check_found "$1" "$DST" 1280 veth1a 1500
	want_method "$2"
	want_str .evidence icmp
	want_str .limiting_hop "$HOP"
	want .probes == 4
	want '[.events[].next_hop_mtu]' == '[1492,1400,1280]'
	want .ignored == 0
}

# The root methods: raw ICMP, UDP with a raw ICMP socket, TCP SYNs. r1
# counts the UDP and TCP probes from c by length before it routes them:
# each size pmtu sent (1500, 1492, 1400, 1280) is an IP packet of exactly
# that many bytes.
methods_case() {
	local fam=$1 proto size counts
	chain_methods "$fam"
	{
		echo 'table inet wire {'
		echo 'chain sizes {'
		echo 'type filter hook prerouting priority filter; policy accept;'
		for proto in udp tcp; do
			for size in 1500 1492 1400 1280; do
				echo "iifname \"veth1b\" meta l4proto $proto meta length $size counter"
			done
			echo "iifname \"veth1b\" meta l4proto $proto meta length != { 1500, 1492, 1400, 1280 } counter"
		done
		echo '}'
		echo '}'
	} | r1 nft -f -
	for proto in icmp udp tcp; do
		pmtu c --json --proto "$proto" "$DST"
		check_chain "$fam" "$proto"
		verdict
	done
	mapfile -t counts < <(r1 nft list chain inet wire sizes | grep -o 'packets [0-9]*' | awk '{print $2}')
	echo "r1 saw, by length 1500 1492 1400 1280 other: udp ${counts[*]:0:5}, tcp ${counts[*]:5:5}"
	[[ ${counts[*]} == "1 1 1 1 0 1 1 1 1 0" ]] ||
		fail "r1 did not see one UDP and one TCP probe of each size 1500, 1492, 1400, 1280 and none else: ${counts[*]}"
}

register methods4 "IPv4 chain 1500 > 1492 > 1400 > 1280 with --proto icmp, udp and tcp as root: 1280 from r3 each, 4 probes of exact sizes"
case_methods4() { methods_case ipv4; }

register methods6 "IPv6 chain 1500 > 1492 > 1400 > 1280 with --proto icmp, udp and tcp as root: 1280 from r3 each, 4 probes of exact sizes"
case_methods6() { methods_case ipv6; }

# nobody_bin: a copy of pmtu that user nobody may run (the run's own
# directory is root's alone); removed when the case ends.
nobody_bin() {
	NOBODY_DIR=$(mktemp -d "${TMPDIR:-/tmp}/pmtu-nobody.XXXXXX")
	trap 'rm -rf "$NOBODY_DIR"; netns_cleanup' EXIT
	chmod 755 "$NOBODY_DIR"
	install -m 755 "$BIN_ABS" "$NOBODY_DIR/pmtu"
	mkdir -m 777 "$NOBODY_DIR/home"
}

# pmtu_nobody SHORT ARGS...: pmtu as user nobody, without capabilities,
# in namespace SHORT; sets OUT, ERR and RC as pmtu does.
pmtu_nobody() {
	local ns
	ns=$(ns_full "$1") || return
	shift
	local cmd=(setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all
		env HOME="$NOBODY_DIR/home" XDG_CACHE_HOME="$NOBODY_DIR/home/cache"
		"$NOBODY_DIR/pmtu" "${PMTU_ISOLATE[@]}" "$@")
	echo "+ ip netns exec $ns ${cmd[*]}"
	RC=0
	OUT=$(timeout -k 5 60 ip netns exec "$ns" "${cmd[@]}" 2>"$CASE_DIR/stderr") || RC=$?
	ERR=$(<"$CASE_DIR/stderr")
	echo "exit $RC"
	[[ -z $OUT ]] || printf 'stdout: %s\n' "$OUT"
	[[ -z $ERR ]] || printf 'stderr: %s\n' "$ERR"
	((RC != 124 && RC != 137)) || fail "pmtu $* did not finish in 60 s"
}

# unpriv: user nobody, no capabilities. ICMP datagram sockets are closed
# (the namespace's ping_group_range is the kernel's "1 0"), so icmp falls
# back to UDP with IP_RECVERR; once they are opened to every group, icmp
# uses them. --method tcp needs raw sockets: exit 2, saying what would fix
# it; --proto tcp connects instead (tcp-data), and t, where nothing
# listens, refuses.
unpriv_case() {
	local fam=$1
	chain_methods "$fam"
	nobody_bin
	[[ $(c sysctl -n net.ipv4.ping_group_range) == $'1\t0' ]] ||
		fail "ping_group_range in the new namespace is $(c sysctl -n net.ipv4.ping_group_range), want 1 0"

	pmtu_nobody c --json -v "$DST"
	check_chain "$fam" udp-recverr
	[[ $ERR == *"with method udp-recverr"* ]] || PROBLEMS+=("-v does not say the method: $ERR")
	verdict

	pmtu_nobody c --json --proto udp "$DST"
	check_chain "$fam" udp-recverr
	verdict

	c sysctl -q -w net.ipv4.ping_group_range="0 2147483647"
	pmtu_nobody c --json "$DST"
	check_chain "$fam" ping-socket
	verdict

	pmtu_nobody c --json --method tcp "$DST"
	want_rc 2
	[[ $ERR == *"setcap cap_net_raw+ep"* && $ERR == *"--method tcp-data"* ]] ||
		PROBLEMS+=("stderr does not say how to fix it: $ERR")
	OUT='' verdict

	# --proto tcp without raw sockets connects (tcp-data): nothing
	# listens on t, whose RST ends the search at once.
	pmtu_nobody c --json --proto tcp "$DST"
	want_rc 1
	want_method tcp-data
	want_true '.error | test("connection refused")' "the error does not say the connection was refused"
	verdict
}

register unpriv4 "IPv4 chain as user nobody: udp-recverr, then ping-socket once ping_group_range allows, 1280 each; --method tcp exits 2, --proto tcp is refused by t"
case_unpriv4() { unpriv_case ipv4; }

register unpriv6 "IPv6 chain as user nobody: udp-recverr, then ping-socket once ping_group_range allows, 1280 each; --method tcp exits 2, --proto tcp is refused by t"
case_unpriv6() { unpriv_case ipv6; }

# webonly: r1 forwards only what is not ICMP Echo and not UDP, as a
# firewall that lets web traffic through (ICMP errors still pass):
#
#   c ──1500── r1 ──1492── r2 ──1400── r3 ──1280── t     r1 forward: drop echo requests and UDP
#
# TCP finds the path MTU; ICMP and UDP get no answer (exit 1), and report
# the bound r1's Frag Needed proved (1492, unconfirmed). PMTU_PROTO chooses
# TCP as --proto does. With no protocol chosen, ICMP Echo goes unanswered
# and the fallback to TCP 443 finds 1280 (issue 19).
webonly_case() {
	local fam=$1
	chain_methods "$fam"
	r1 nft -f - <<-'EOF'
		table inet pmtu {
			chain webonly {
				type filter hook forward priority filter; policy accept;
				icmp type echo-request counter drop
				icmpv6 type echo-request counter drop
				meta l4proto udp counter drop
			}
		}
	EOF
	ping_df c "$DST" 100 1 && fail "topology broken: $DST answers a ping through r1's filter"

	pmtu c --json --proto tcp "$DST"
	check_chain "$fam" tcp
	verdict

	PMTU_PROTO=tcp pmtu c --json "$DST"
	check_chain "$fam" tcp
	verdict

	pmtu c --json --timeout 200ms "$DST"
	check_chain "$fam" tcp
	want '[.methods_tried[] | "\(.way)/\(.answered)"]' == '["ICMP Echo/false","TCP to port 443/true"]'
	verdict

	local proto a1
	if [[ $fam == ipv4 ]]; then a1=$(chain_hop4 1); else a1=$(chain_hop6 1); fi
	for proto in icmp udp; do
		pmtu c --json --timeout 200ms --proto "$proto" "$DST"
		want_rc 1
		want_object
		want .pmtu == 1492
		want .confirmed == false
		want .reached == false
		want_str .limiting_hop "$a1"
		want '.methods_tried // "none"' == '"none"'
		verdict
	done
	echo "r1 dropped: $(r1 nft list chain inet pmtu webonly | grep -o 'packets [0-9]*' | tr '\n' ' ')"
}

register webonly4 "IPv4, r1 drops ICMP echo and UDP: --proto tcp (and PMTU_PROTO=tcp) finds 1280; icmp and udp exit 1"
case_webonly4() { webonly_case ipv4; }

register webonly6 "IPv6, r1 drops ICMP echo and UDP: --proto tcp (and PMTU_PROTO=tcp) finds 1280; icmp and udp exit 1"
case_webonly6() { webonly_case ipv6; }

# netnsflag: pmtu --netns c, run from outside c, says what ip netns exec c
# pmtu says, for every method. Outside is a namespace of its own with no
# link but lo (unshare -n), not the root one: if pmtu ever stayed where it
# started, its probes would find no route there, and never the machine's
# network.
netnsflag_case() {
	local fam=$1 proto fields inside
	chain_methods "$fam"
	fields='{family,address,pmtu,interface,interface_mtu,mss,evidence,limiting_hop,method,probes,events:[.events[]|[.from,.next_hop_mtu]]}'
	for proto in icmp udp tcp; do
		pmtu c --json --proto "$proto" "$DST"
		check_chain "$fam" "$proto"
		verdict
		inside=$(jq -cS "$fields" <<<"$OUT")

		echo "+ unshare -n $BIN_ABS --netns $NS_C ${PMTU_ISOLATE[*]} --json --proto $proto $DST"
		RC=0
		OUT=$(timeout -k 5 60 unshare -n env HOME="$CASE_DIR" XDG_CACHE_HOME="$CASE_DIR/cache" \
			"$BIN_ABS" --netns "$NS_C" "${PMTU_ISOLATE[@]}" --json --proto "$proto" "$DST" 2>"$CASE_DIR/stderr") || RC=$?
		ERR=$(<"$CASE_DIR/stderr")
		echo "exit $RC"
		printf 'stdout: %s\n' "$OUT"
		[[ -z $ERR ]] || printf 'stderr: %s\n' "$ERR"
		check_chain "$fam" "$proto"
		[[ $(jq -cS "$fields" <<<"$OUT") == "$inside" ]] ||
			PROBLEMS+=("--netns says $(jq -cS "$fields" <<<"$OUT"), ip netns exec says $inside")
		verdict
	done

	RC=0
	OUT=$(timeout -k 5 60 unshare -n "$BIN_ABS" --netns "pmtu-$$-no-such-ns" --json "$DST" 2>"$CASE_DIR/stderr") || RC=$?
	ERR=$(<"$CASE_DIR/stderr")
	want_rc 2
	[[ $ERR == *"no such network namespace"* ]] || PROBLEMS+=("missing namespace: stderr $ERR")
	OUT='' verdict
}

register netns4 "IPv4 chain: pmtu --netns c from outside equals ip netns exec c pmtu, for icmp, udp and tcp"
case_netns4() { netnsflag_case ipv4; }

register netns6 "IPv6 chain: pmtu --netns c from outside equals ip netns exec c pmtu, for icmp, udp and tcp"
case_netns6() { netnsflag_case ipv6; }

# pinned: c has a second way out, veth9a (MTU 1400) to r1, used only by
# sockets bound to it (a policy rule: oif veth9a uses table 100); the main
# table sends everything the 1500 way. --interface veth9a
# (SO_BINDTODEVICE) sends the probes the other way: that interface's MTU
# bounds them, and every method finds 1280 in 2 probes; --source picks
# the source address.
#
#   c veth1a ──1500── r1 ──1492── r2 ──1400── r3 ──1280── t
#   c veth9a ──1400── r1      (198.18.9.0/24, 2001:db8:9::/64)
pinned_case() {
	local fam=$1 proto src node k
	chain_methods "$fam"
	veth_link c veth9a r1 veth9b 1400
	c ip addr add 198.18.9.1/24 dev veth9a
	r1 ip addr add 198.18.9.2/24 dev veth9b
	c ip -6 addr add 2001:db8:9::1/64 dev veth9a nodad
	r1 ip -6 addr add 2001:db8:9::2/64 dev veth9b nodad
	wait_ipv6 c r1
	c ip rule add oif veth9a table 100
	c ip route add default via 198.18.9.2 dev veth9a table 100
	c ip -6 rule add oif veth9a table 100
	c ip -6 route add default via 2001:db8:9::2 dev veth9a table 100
	# The way back to 198.18.9.0/24: node k (r2, r3, t) through its left
	# neighbor.
	for k in 2 3 4; do
		node=$(chain_node "$k")
		"$node" ip route add 198.18.9.0/24 via "198.18.$k.1"
		"$node" ip -6 route add 2001:db8:9::/64 via "2001:db8:$k::1"
	done
	if [[ $fam == ipv4 ]]; then src=198.18.9.1; else src=2001:db8:9::1; fi
	for proto in icmp udp tcp; do
		pmtu c --json --proto "$proto" --interface veth9a --source "$src" "$DST"
		check_found "$fam" "$DST" 1280 veth9a 1400
		want_method "$proto"
		want .probes == 2
		want '[.events[].next_hop_mtu]' == '[1280]'
		verdict
	done
	# --interface alone: the source is the kernel's choice there.
	pmtu c --json --proto udp --interface veth9a "$DST"
	check_found "$fam" "$DST" 1280 veth9a 1400
	verdict
	# --source alone, on the usual way out.
	if [[ $fam == ipv4 ]]; then src=$C4; else src=$C6; fi
	pmtu c --json --proto tcp --source "$src" "$DST"
	check_chain "$fam" tcp
	verdict
}

register pinned4 "IPv4: --interface to a second 1400 link and --source: 1280 in 2 probes for icmp, udp and tcp"
case_pinned4() { pinned_case ipv4; }

register pinned6 "IPv6: --interface to a second 1400 link and --source: 1280 in 2 probes for icmp, udp and tcp"
case_pinned6() { pinned_case ipv6; }

# mtu0: a pre-RFC-1191 router (Next-Hop MTU 0) at 1300: the search goes
# on by probes alone, and finds 1300, for TCP and for UDP (root and
# unprivileged). UDP's proof is the target's Port Unreachable, which Linux
# rate-limits (6 at once, then 1 a second): the search must pace its
# rounds (probe.ReplyLimiter), or sizes that pass look too big.
#
#   c ──1500── r1 ──1500── t        r1: ip length > 1300 reject with icmp type frag-needed
# (mtu0_build is netns-test.sh's, shared with its mtu0 case.)

# check_mtu0 METHOD: what a run behind the MTU-0 router must say.
check_mtu0() {
	check_found ipv4 "$T4" 1300 veth1a 1500
	want_method "$1"
	want_true '[.events[] | select(.next_hop_mtu == 0)] | length >= 1' "no Frag Needed with MTU 0 among the events"
	verdict
}

register mtu0_tcp "Frag Needed with MTU 0 at 1300, --proto tcp: 1300"
case_mtu0_tcp() {
	mtu0_build
	pmtu c --json --proto tcp "$T4"
	check_mtu0 tcp
}

register mtu0_udp "Frag Needed with MTU 0 at 1300, --proto udp as root and as nobody: 1300 despite the target's ICMP rate limit"
case_mtu0_udp() {
	mtu0_build
	pmtu c --json --proto udp "$T4"
	check_mtu0 udp
	nobody_bin
	pmtu_nobody c --json --proto udp "$T4"
	check_mtu0 udp-recverr
}
