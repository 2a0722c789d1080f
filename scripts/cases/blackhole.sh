# shellcheck shell=bash
# Cases for searching without ICMP (RFC 4821, RFC 8899): routers that drop
# big packets silently, heavy loss, and a deadline. Sourced by
# scripts/netns-test.sh.

# sizedrop: r1 silently drops packets over 1300 bytes (and sends nothing):
#
#   c ──1500── r1 ──1500── t        r1 forward: meta length > 1300 drop
sizedrop_case() {
	local fam=$1 dst
	chain_build 1500 1500
	r1 nft add table inet pmtu
	r1 nft add chain inet pmtu sizes '{ type filter hook forward priority filter; policy accept; }'
	r1 nft add rule inet pmtu sizes meta length '>' 1300 drop
	if [[ $fam == ipv4 ]]; then dst=$T4; else dst=$T6; fi
	sanity c "$dst" 1300
	pmtu c --json "$dst"
	check_found "$fam" "$dst" 1300 veth1a 1500
	want_str .evidence probes
	want .black_hole == true
	want '.events | length' == 0
	verdict
}

register sizedrop4 "IPv4, r1 silently drops packets over 1300 bytes: exactly 1300, black hole"
case_sizedrop4() { sizedrop_case ipv4; }

register sizedrop6 "IPv6, r1 silently drops packets over 1300 bytes: exactly 1300, black hole"
case_sizedrop6() { sizedrop_case ipv6; }

# lossy: a black hole at 1400 where r1 also drops 30% of packets at random
# in each direction (51% of round trips are lost). Loss is not a verdict:
# the answer stays exact. Three runs, each must be exact.
#
#   c ──1500── r1 ──1400── t        r1: no ICMP; numgen random mod 10 < 3 drop both ways
lossy_case() {
	local fam=$1 dst
	chain_build 1500 1400
	router_blackhole r1
	r1 nft add chain inet pmtu loss '{ type filter hook forward priority filter; policy accept; }'
	r1 nft add rule inet pmtu loss meta l4proto '{ icmp, ipv6-icmp }' numgen random mod 10 '<' 3 drop
	if [[ $fam == ipv4 ]]; then dst=$T4; else dst=$T6; fi
	for _ in 1 2 3; do
		pmtu c --json --timeout 300ms "$dst"
		check_found "$fam" "$dst" 1400 veth1a 1500
		want_str .evidence probes
		verdict
	done
	echo "nft counters: $(r1 nft list ruleset | tr -s ' \n\t' ' ')"
}

register lossy4 "IPv4 black hole at 1400 with 30% loss each way: exact, 3 runs of 3"
case_lossy4() { lossy_case ipv4; }

register lossy6 "IPv6 black hole at 1400 with 30% loss each way: exact, 3 runs of 3"
case_lossy6() { lossy_case ipv6; }

# deadline: a black hole with a deadline too short to finish: exit 1, and
# the error says what was proved so far.
#
#   c ──1500── r1 ──1400── t        r1: no ICMP
register deadline "--deadline on a black hole: exit 1 with the bounds proved so far"
case_deadline() {
	chain_build 1500 1400
	router_blackhole r1
	# The first round waits the whole second (no round trip is known yet);
	# the common sizes then come back at once and later rounds wait about
	# 100 ms each, so the search ends near 1.3 s. 1050 ms cuts it after the
	# replies of the second round, well before its end.
	pmtu c --json --deadline 1050ms "$T4"
	want_rc 1
	want_object
	want .pmtu == 0
	want_true '.error | test("stopped before the search ended: [0-9]+ ≤ path MTU ≤ [0-9]+")' \
		"error does not give the proved bounds"
	want .proved_min '>=' 576
	want .proved_min '<=' 1400
	verdict
}

# wiresize: a probe of size S is an IP packet of exactly S bytes on the
# wire. r1 counts the Echo Requests that reach it, by length, before it
# routes them (a too-big packet is refused before the forward hook).
#
#   c ──1500── r1 ──1400── t        r1 prerouting: counters by packet length
register wiresize "probes are exact IP sizes on the wire: r1 counts 1400-byte Echo Requests, none at 1401..1499"
case_wiresize() {
	chain_build 1500 1400
	r1 nft -f - <<-'EOF'
		table inet pmtu {
			chain sizes {
				type filter hook prerouting priority filter; policy accept;
				meta l4proto icmp icmp type echo-request meta length 1400 counter
				meta l4proto icmp icmp type echo-request meta length 1401-1499 counter
				meta l4proto icmp icmp type echo-request meta length 1500 counter
			}
		}
	EOF
	pmtu c --json "$T4"
	check_found ipv4 "$T4" 1400 veth1a 1500
	verdict
	local counts
	mapfile -t counts < <(r1 nft list chain inet pmtu sizes | grep -o 'packets [0-9]*' | awk '{print $2}')
	echo "echo requests seen by r1 at 1400, 1401-1499, 1500 bytes: ${counts[*]}"
	((counts[0] >= 1)) || fail "r1 saw no 1400-byte probe"
	((counts[1] == 0)) || fail "r1 saw ${counts[1]} probes of 1401..1499 bytes; pmtu sent only 1500 and 1400"
	((counts[2] >= 1)) || fail "r1 saw no 1500-byte probe"
}

# interrupt: Ctrl-C (SIGINT) in the middle of a black-hole search: pmtu
# stops, prints the JSON with what it proved so far and exits 1.
#
#   c ──1500── r1 ──1400── t        r1: no ICMP
register interrupt "SIGINT during a black-hole search: exit 1 with the bounds proved so far"
case_interrupt() {
	chain_build 1500 1400
	router_blackhole r1
	RC=0
	# SIGINT once a reply has proved a lower bound (-v says "came back"),
	# and so before the search can end: it still owes several rounds of
	# silence above that size. Waiting for the event, not a fixed time,
	# keeps a loaded machine's slower start from turning this into a
	# race.
	ip netns exec "$NS_C" env HOME="$CASE_DIR" XDG_CACHE_HOME="$CASE_DIR/cache" \
		"$BIN_ABS" --no-cache --json -v "$T4" >"$CASE_DIR/stdout" 2>"$CASE_DIR/stderr" &
	local pid=$! i
	for ((i = 0; i < 500; i++)); do
		grep -q 'came back' "$CASE_DIR/stderr" && break
		sleep 0.01
	done
	kill -INT "$pid" 2>/dev/null || true
	wait "$pid" || RC=$?
	OUT=$(<"$CASE_DIR/stdout")
	ERR=$(tail -n 1 "$CASE_DIR/stderr")
	echo "exit $RC; stdout: $OUT; stderr (last line): $ERR"
	want_rc 1
	want_object
	want .pmtu == 0
	want_true '.error | test("stopped before the search ended: [0-9]+ ≤ path MTU ≤ [0-9]+")' \
		"error does not give the proved bounds"
	[[ $ERR == "pmtu: stopped before the search ended: "* ]] || PROBLEMS+=("stderr is not one line with the bounds: $ERR")
	verdict
}
