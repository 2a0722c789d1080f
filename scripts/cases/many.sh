# shellcheck shell=bash
# Cases for many targets in one process (pmtu HOST HOST..., pmtu -f FILE):
# a fleet of targets behind one router, each with its own path MTU
# (netns-lib.sh fleet_build). Sourced by scripts/netns-test.sh.
#
#   c ──1500── r1 ──1500── t      t answers for 198.19.0.0/16 and 2001:db8:f::/48
#                 r1: one route per target, "ADDR via t mtu M"
#
# The routers keep the kernel's default ICMP rate limits throughout.

# many_pmtu SHORT ARGS...: like pmtu, but keeps stdout whole (OUT holds
# every line) and allows MANY_TIMEOUT seconds (default 120).
many_pmtu() {
	local ns
	ns=$(ns_full "$1") || return
	shift
	local cmd=("$BIN_ABS" "${PMTU_ISOLATE[@]}" "$@")
	echo "+ ip netns exec $ns ${cmd[*]}"
	RC=0
	timeout -k 5 "${MANY_TIMEOUT:-120}" ip netns exec "$ns" env HOME="$CASE_DIR" XDG_CACHE_HOME="$CASE_DIR/cache" \
		"${cmd[@]}" >"$CASE_DIR/stdout" 2>"$CASE_DIR/stderr" || RC=$?
	OUT=$(<"$CASE_DIR/stdout")
	ERR=$(<"$CASE_DIR/stderr")
	echo "exit $RC; $(wc -l <"$CASE_DIR/stdout") lines on stdout; stderr: $ERR"
	((RC != 124 && RC != 137)) || fail "pmtu $* did not finish in ${MANY_TIMEOUT:-120} s"
}

# many_truth FILE: "ADDR MTU" lines as a JSON object {ADDR: MTU}.
many_truth() {
	jq -Rn '[inputs | split(" ") | {(.[0]): (.[1] | tonumber)}] | add' "$1"
}

# many_check_exact TRUTHFILE: every line of $CASE_DIR/stdout is one JSON
# object, one per target of TRUTHFILE, each found at its route's MTU.
many_check_exact() {
	local truth n want bad
	truth=$(many_truth "$1")
	want=$(wc -l <"$1")
	n=0
	while IFS= read -r line; do
		n=$((n + 1))
		jq -e 'type == "object"' <<<"$line" >/dev/null 2>&1 || { PROBLEMS+=("stdout line $n is not a JSON object: $line"); break; }
	done <"$CASE_DIR/stdout"
	((n == want)) || PROBLEMS+=("$n JSON lines, want $want")
	bad=$(jq -c --argjson t "$truth" 'select(.pmtu != $t[.address] or .confirmed != true or .evidence != "icmp")
		| {address, pmtu, want: $t[.address], evidence, error}' "$CASE_DIR/stdout" | head -n 5)
	[[ -z $bad ]] || PROBLEMS+=("not exact: $bad")
	local distinct
	distinct=$(jq -s 'map(.address) | unique | length' "$CASE_DIR/stdout")
	((distinct == want)) || PROBLEMS+=("$distinct distinct addresses answered, want $want")
}

# many_icmp_defaults SHORT: print the namespace's ICMP rate limits, the
# kernel's defaults, and check that none is turned off.
many_icmp_defaults() {
	local got
	got=$("$1" sysctl -n net.ipv4.icmp_ratelimit net.ipv4.icmp_ratemask net.ipv4.icmp_msgs_per_sec net.ipv4.icmp_msgs_burst net.ipv6.icmp.ratelimit | tr '\n' ' ')
	echo "$1 ICMP limits: icmp_ratelimit icmp_ratemask icmp_msgs_per_sec icmp_msgs_burst icmp6 ratelimit = $got"
	# The namespace is new and nothing here sets them: these are the
	# kernel's defaults (net.ipv6.icmp.ratelimit is 100 ms on some
	# kernels, 1000 on others); a 0 would mean no limit at all.
	[[ $got =~ ^[1-9][0-9]*\ [1-9][0-9]*\ [1-9][0-9]*\ [1-9][0-9]*\ [1-9][0-9]*\ $ ]] || fail "$1 has an ICMP rate limit turned off: $got"
}

# many: 300 targets, 150 IPv4 (MTU 1100..1249) and 150 IPv6 (1281..1430),
# interleaved in the file, every path MTU distinct; JSON Lines read back
# one line at a time with jq; then the text summary.
register many "300 targets behind one router, IPv4 and IPv6 mixed, 300 distinct MTUs: all exact, JSON Lines"
case_many() {
	need_flag --parallel
	fleet_build
	many_icmp_defaults r1
	local i truth="$CASE_DIR/truth" hosts="$CASE_DIR/hosts"
	: >"$truth"
	for ((i = 0; i < 150; i++)); do
		echo "$(fleet_addr4 "$i") $((1100 + i))" >>"$truth"
		echo "$(fleet_addr6 "$i") $((1281 + i))" >>"$truth"
	done
	fleet_routes "$truth"
	sanity c "$(fleet_addr4 7)" 1107
	sanity c "$(fleet_addr6 7)" 1288
	awk '{print $1}' "$truth" >"$hosts"

	many_pmtu c --json -f "$hosts"
	want_rc 0
	[[ -z $ERR ]] || PROBLEMS+=("stderr is not empty: $ERR")
	many_check_exact "$truth"
	OUT='' verdict

	many_pmtu c -f "$hosts"
	want_rc 0
	local summary
	summary=$(grep -E '^300 targets in [0-9.]+m?s: 300 found$' "$CASE_DIR/stdout") || PROBLEMS+=("no summary line '300 targets in ...: 300 found'")
	echo "summary: $summary"
	grep -q "^$hosts:2: $(fleet_addr6 0): 1281, icmp from 2001:db8:1::2$" "$CASE_DIR/stdout" ||
		PROBLEMS+=("no line '$hosts:2: $(fleet_addr6 0): 1281, icmp from 2001:db8:1::2'")
	grep -q '  path MTU: 1430 ×1, 1429 ×1,' "$CASE_DIR/stdout" || PROBLEMS+=("no path MTU tally in the summary")
	OUT='' verdict
}

# manybad: a host file with comments, an empty line, a name that does not
# resolve, garbage and a name that does (from the namespace's hosts file):
# each bad line is named by its number, the rest answered; exit 2.
register manybad "a host file with bad lines: each named by line number, the rest answered exactly, exit 2"
case_manybad() {
	need_flag --parallel
	fleet_build
	local truth="$CASE_DIR/truth" hosts="$CASE_DIR/hosts.txt"
	printf '%s 1400\n%s 1300\n%s 1450\n' "$(fleet_addr4 0)" "$(fleet_addr6 1)" "$(fleet_addr4 2)" >"$truth"
	fleet_routes "$truth"
	# "ip netns exec" bind-mounts /etc/netns/NS/hosts over /etc/hosts.
	printf '127.0.0.1 localhost\n%s db1.fleet.test\n' "$(fleet_addr4 2)" >"/etc/netns/$NS_C/hosts"
	cat >"$hosts" <<-EOF
		# the fleet
		$(fleet_addr4 0)

		no-such-host.invalid
		!!garbage!!
		$(fleet_addr6 1)   # v6
		two hosts.example
		db1.fleet.test
	EOF
	many_pmtu c --parallel 2 -f "$hosts"
	cat "$CASE_DIR/stdout"
	want_rc 2
	local line
	for line in \
		"$hosts:2: $(fleet_addr4 0): 1400, icmp from 198.18.1.2" \
		"$hosts:5: \"!!garbage!!\": not a host name" \
		"$hosts:6: $(fleet_addr6 1): 1300, icmp from 2001:db8:1::2" \
		"$hosts:7: \"two hosts.example\": one host per line" \
		"$hosts:8: db1.fleet.test ($(fleet_addr4 2)): 1450, icmp from 198.18.1.2"; do
		grep -qxF "$line" "$CASE_DIR/stdout" || PROBLEMS+=("no line: $line")
	done
	# Why it does not resolve is the resolver's: here its server is not
	# there (connection refused).
	grep -q "^$hosts:4: cannot resolve \"no-such-host.invalid\": ." "$CASE_DIR/stdout" ||
		PROBLEMS+=("no line: $hosts:4: cannot resolve \"no-such-host.invalid\": ...")
	grep -qE '^6 targets in [0-9.]+m?s: 3 found, 3 bad input$' "$CASE_DIR/stdout" || PROBLEMS+=("no summary '6 targets in ...: 3 found, 3 bad input'")
	grep -q ':3:' "$CASE_DIR/stdout" && PROBLEMS+=("the empty line 3 was reported")
	OUT='' verdict

	many_pmtu c --json -f "$hosts"
	want_rc 2
	[[ $(jq -s 'length' "$CASE_DIR/stdout") == 6 ]] || PROBLEMS+=("$(jq -s length "$CASE_DIR/stdout") JSON objects, want 6")
	[[ $(jq -s '[.[] | select(.error != null)] | map(.line) | sort' -c "$CASE_DIR/stdout") == "[4,5,7]" ]] ||
		PROBLEMS+=("lines with errors: $(jq -s -c '[.[] | select(.error != null)] | map(.line) | sort' "$CASE_DIR/stdout"), want [4,5,7]")
	OUT='' verdict
}

# manyint: Ctrl-C in the middle. 20 targets answer at once; 10 more sit
# behind r1's ICMP black hole (it drops its own Frag Needed quoting them),
# so their searches are still running when SIGINT comes: what finished is
# printed, the 10 in flight give their proved bounds, exit 1.
#
#   r1 output: drop Frag Needed quoting a destination in 198.19.200.0/24
register manyint "SIGINT during a fleet run: finished lines, bounds of those in flight, exit 1"
case_manyint() {
	need_flag --parallel
	fleet_build
	local truth="$CASE_DIR/truth" hosts="$CASE_DIR/hosts" i
	: >"$truth"
	for ((i = 0; i < 20; i++)); do echo "$(fleet_addr4 "$i") $((1300 + i))" >>"$truth"; done
	for ((i = 1; i <= 10; i++)); do echo "198.19.200.$i 1400" >>"$truth"; done
	fleet_routes "$truth"
	# The quoted IPv4 header starts 8 bytes into the ICMP; its
	# destination 16 bytes further: 198.19.200 is 0xc613c8.
	r1 nft -f - <<-'EOF'
		table ip pmtu {
			chain blackhole {
				type filter hook output priority filter; policy accept;
				icmp type destination-unreachable icmp code frag-needed @th,192,24 0xc613c8 drop
			}
		}
	EOF
	# Black-hole targets first in the file, so they are in flight. With
	# --timeout 400ms their first round waits 400 ms, the next proves a
	# lower bound at once, and the search would end near 1 s: a SIGINT at
	# 0.7 s cuts them with bounds, after the 20 others have answered.
	{ grep '^198.19.200' "$truth"; grep -v '^198.19.200' "$truth"; } | awk '{print $1}' >"$hosts"
	RC=0
	timeout --preserve-status -s INT 0.7 ip netns exec "$NS_C" env HOME="$CASE_DIR" XDG_CACHE_HOME="$CASE_DIR/cache" \
		"$BIN_ABS" --no-cache --timeout 400ms --parallel 32 -f "$hosts" >"$CASE_DIR/stdout" 2>"$CASE_DIR/stderr" || RC=$?
	OUT=$(<"$CASE_DIR/stdout")
	ERR=$(<"$CASE_DIR/stderr")
	echo "exit $RC"
	echo "$OUT"
	want_rc 1
	local found stopped
	found=$(grep -cE ': 13[01][0-9], icmp from 198.18.1.2$' <<<"$OUT") || true
	stopped=$(grep -cE '^.*198\.19\.200\.[0-9]+: stopped before the search ended: ([0-9]+ ≤ path MTU ≤ [0-9]+|path MTU ≥ [0-9]+|no probe came back yet)$' <<<"$OUT") || true
	((found == 20)) || PROBLEMS+=("$found targets found before the SIGINT, want 20")
	((stopped == 10)) || PROBLEMS+=("$stopped black-hole targets with their bounds, want 10")
	grep -qE '^30 targets in [0-9.]+m?s: 20 found, 10 cut short$' <<<"$OUT" || PROBLEMS+=("no summary '30 targets in ...: 20 found, 10 cut short'")
	OUT='' verdict
}

# manylimits: routers at the kernel's default ICMP rate limits. 40 of the
# targets are dead: r1 has no route to them and answers Net Unreachable,
# which Linux rate-limits (a burst of 6 toward us, then 1 a second). The
# dead ones end with no answer (or the few Net Unreachables that got
# through); the 60 live ones stay exact; exit 1.
#
#   c routes 198.18.200.0/24 to r1, which has no route for it
register manylimits "routers at default ICMP rate limits: 40 dead targets drain r1's Net Unreachables, 60 live stay exact, exit 1"
case_manylimits() {
	need_flag --parallel
	fleet_build
	many_icmp_defaults r1
	c ip route add 198.18.200.0/24 via 198.18.1.2
	local truth="$CASE_DIR/truth" hosts="$CASE_DIR/hosts" i
	: >"$truth"
	for ((i = 0; i < 60; i++)); do echo "$(fleet_addr4 "$i") $((1280 + i))" >>"$truth"; done
	fleet_routes "$truth"
	{
		for ((i = 0; i < 60; i++)); do
			fleet_addr4 "$i"
			((i % 3 != 0)) || echo "198.18.200.$((i / 3 + 1))"
			((i % 3 != 1)) || echo "198.18.200.$((i / 3 + 21))"
		done
	} >"$hosts"
	[[ $(wc -l <"$hosts") == 100 ]] || fail "the host file has $(wc -l <"$hosts") lines, want 100"
	many_pmtu c --json --timeout 300ms --parallel 16 -f "$hosts"
	want_rc 1
	local all="$CASE_DIR/all" dead unreach
	cp "$CASE_DIR/stdout" "$all"
	grep -v '"address":"198.18.200' "$all" >"$CASE_DIR/stdout" || true
	many_check_exact "$truth"
	dead=$(jq -s '[.[] | select(.address | startswith("198.18.200.")) | select(.pmtu == 0 and .error != null)] | length' "$all")
	unreach=$(jq -s '[.[] | select(.diagnosis.from == "198.18.1.2")] | length' "$all")
	echo "dead targets with an error: $dead of 40; answered by r1's Net Unreachable: $unreach (its rate limit held back the rest)"
	((dead == 40)) || PROBLEMS+=("$dead dead targets reported with an error, want 40")
	((unreach < 40)) || PROBLEMS+=("all 40 dead targets got a Net Unreachable: r1 does not look rate-limited")
	OUT='' verdict
}

# raw_sockets_watch SHORT FILE: in the background, keep in FILE the most
# raw sockets (IPv4 and IPv6, any protocol) seen open at once in namespace
# SHORT, until raw_sockets_stop; the watcher also stops when this script
# ends, so a case that fails midway leaves nothing running.
raw_sockets_watch() {
	local ns=$1 file=$2
	echo 0 >"$file"
	(
		m=0
		while kill -0 "$$" 2>/dev/null && sleep 0.05; do
			n=$("$ns" cat /proc/net/raw /proc/net/raw6 2>/dev/null | grep -vc '^ *sl') || true
			((n > m)) && m=$n && echo "$m" >"$file"
		done
	) &
	RAW_WATCH=$!
}

# raw_sockets_stop: stop the watcher raw_sockets_watch started.
raw_sockets_stop() {
	kill "$RAW_WATCH" 2>/dev/null || true
	wait "$RAW_WATCH" 2>/dev/null || true
}

# manyudp: --proto udp against 16 addresses of one host (t), at the
# kernel's default ICMP rate limits. Every search's proof is a Port
# Unreachable from t, and Linux limits those per destination for the whole
# host: a burst of 6 toward c, then one a second, shared by all 16
# addresses, which pmtu cannot tell apart. The searches that find t's
# answers used up must not read that silence as "too big": every target
# ends exact, and some rounds were voided (not counted) on the way.
register manyudp "--proto udp against 16 addresses of one host at default rate limits: its shared Port Unreachable budget runs out, no silence read as too big, all exact"
case_manyudp() {
	need_flag --parallel
	fleet_build
	many_icmp_defaults t
	local i truth="$CASE_DIR/truth" hosts="$CASE_DIR/hosts"
	: >"$truth"
	for ((i = 0; i < 10; i++)); do echo "$(fleet_addr4 "$i") $((1300 + 10 * i))" >>"$truth"; done
	for ((i = 0; i < 6; i++)); do echo "$(fleet_addr6 "$i") $((1300 + 10 * i))" >>"$truth"; done
	fleet_routes "$truth"
	# Linux answers from the probed address only when it is assigned: an
	# address inside fleet_build's "local 2001:db8:f::/48" route gets
	# its Port Unreachable from t's link address, which pmtu rightly
	# does not take for the target's. Assign the six.
	for ((i = 0; i < 6; i++)); do t ip -6 addr add "$(fleet_addr6 "$i")/128" dev lo nodad || fail "cannot add $(fleet_addr6 "$i") to t"; done
	awk '{print $1}' "$truth" >"$hosts"
	# The searches read their ICMP errors from the Engine's one raw
	# socket per family, not from one each: count c's raw sockets while
	# they run (/proc/net/raw and raw6, a header line each).
	local most="$CASE_DIR/raw-sockets" start=$SECONDS
	raw_sockets_watch c "$most"
	many_pmtu c --json --proto udp --parallel 16 -f "$hosts"
	raw_sockets_stop
	echo "16 UDP searches of one host took $((SECONDS - start)) s; at most $(<"$most") raw sockets open in c at once"
	(($(<"$most") >= 1 && $(<"$most") <= 2)) || PROBLEMS+=("$(<"$most") raw sockets open at once in c, want 1 or 2: one shared per family")
	want_rc 0
	many_check_exact_proto udp "$truth"
	local voided
	voided=$(jq -s 'map(.voided_rounds // 0) | add' "$CASE_DIR/stdout")
	echo "rounds voided, all searches: $voided; per target: $(jq -r '"\(.address)=\(.voided_rounds // 0)"' "$CASE_DIR/stdout" | tr '\n' ' ')"
	((voided > 0)) || PROBLEMS+=("no round was voided: t's Port Unreachables did not run out, the case tests nothing")
	OUT='' verdict
}

# many_check_exact_proto PROTO TRUTHFILE: as many_check_exact, for
# searches over PROTO (udp, tcp): each target found at its route's MTU,
# by a method of PROTO.
many_check_exact_proto() {
	local proto=$1 truth want n bad
	truth=$(many_truth "$2")
	want=$(wc -l <"$2")
	n=$(jq -s 'length' "$CASE_DIR/stdout") || { PROBLEMS+=("stdout is not JSON Lines"); return; }
	((n == want)) || PROBLEMS+=("$n JSON lines, want $want")
	bad=$(jq -c --arg p "$proto" --argjson t "$truth" 'select(.pmtu != $t[.address] or .confirmed != true or (.method | startswith($p) | not))
		| {address, pmtu, want: $t[.address], method, proved_min, refused_size, voided_rounds, error}' "$CASE_DIR/stdout" | head -n 5)
	[[ -z $bad ]] || PROBLEMS+=("not exact: $bad")
}

# manyudphole: --proto udp against 4 addresses of one host behind a PMTUD
# black hole (r1 sends no Frag Needed), at the kernel's default ICMP rate
# limits. Only t's Port Unreachables prove anything, a burst of 6 then one
# a second for all four addresses together, so most probes go unanswered
# for want of t's tokens, not for size. Before rounds carried a control
# probe (commit 829d3e1 and earlier), one of the four was reported at 576
# (truth 1337), exit 0. Every target must end exact.
register manyudphole "--proto udp, 4 addresses of one host behind a black hole, default rate limits: no rate-limited silence read as too big, all exact"
case_manyudphole() {
	need_flag --parallel
	fleet_build
	router_blackhole r1
	many_icmp_defaults t
	local i truth="$CASE_DIR/truth" hosts="$CASE_DIR/hosts"
	: >"$truth"
	for ((i = 0; i < 4; i++)); do echo "$(fleet_addr4 "$i") $((1300 + 37 * i))" >>"$truth"; done
	fleet_routes "$truth"
	awk '{print $1}' "$truth" >"$hosts"
	local start=$SECONDS
	# About 1 answer a second for all four, a few dozen each: allow 240 s.
	MANY_TIMEOUT=240 many_pmtu c --json --proto udp -f "$hosts"
	echo "4 UDP searches of one host behind a black hole took $((SECONDS - start)) s"
	jq -c '{address, pmtu, black_hole, probes, rounds, voided_rounds}' "$CASE_DIR/stdout"
	want_rc 0
	many_check_exact_proto udp "$truth"
	OUT='' verdict
}

# manytcp: --proto tcp against 16 targets, IPv4 and IPv6: every search's
# SYNs go out through the Engine's one raw TCP socket per family and its
# answers (t's RSTs: nothing listens on 443) and errors (r1's Frag Needed
# and Packet Too Big) come back through it and the one raw ICMP socket,
# not through two raw sockets per search. All exact.
register manytcp "--proto tcp against 16 targets, IPv4 and IPv6: one raw TCP and one raw ICMP socket per family for all, all exact"
case_manytcp() {
	need_flag --parallel
	fleet_build
	local i truth="$CASE_DIR/truth" hosts="$CASE_DIR/hosts"
	: >"$truth"
	for ((i = 0; i < 8; i++)); do
		echo "$(fleet_addr4 "$i") $((1300 + 10 * i))" >>"$truth"
		echo "$(fleet_addr6 "$i") $((1300 + 10 * i))" >>"$truth"
	done
	fleet_routes "$truth"
	awk '{print $1}' "$truth" >"$hosts"
	local most="$CASE_DIR/raw-sockets"
	raw_sockets_watch c "$most"
	# --rate 10 keeps the searches in flight long enough to be counted.
	many_pmtu c --json --proto tcp --parallel 16 --rate 10 -f "$hosts"
	raw_sockets_stop
	echo "at most $(<"$most") raw sockets open in c at once"
	want_rc 0
	many_check_exact_proto tcp "$truth"
	(($(<"$most") >= 2 && $(<"$most") <= 4)) || PROBLEMS+=("$(<"$most") raw sockets open at once in c, want 2 to 4: one TCP and one ICMP per family")
	OUT='' verdict
}
