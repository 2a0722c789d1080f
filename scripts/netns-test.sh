#!/usr/bin/env bash
#
# netns-test.sh: run pmtu against real Linux routers in network namespaces.
#
#     scripts/netns-test.sh              build bin/pmtu, run every case
#     scripts/netns-test.sh -run REGEX   run the cases whose name matches
#     scripts/netns-test.sh -list        list the cases
#     scripts/netns-test.sh -v           print every case's log, not only failures'
#     scripts/netns-test.sh -no-build    use $BIN as it is
#
# BIN (default bin/pmtu) is where pmtu is built. Needs root (network
# namespaces), ip, nft, jq, ping and tracepath: scripts/deps.sh installs them.
#
# Each case builds its own topology with scripts/netns-lib.sh (drawn there
# and in each case below), first checks the topology itself with DF pings
# (a packet of the path MTU gets through, one byte more does not), so a
# broken topology is reported as such and not as a pmtu bug, then runs
# "ip netns exec $NS_C $BIN --json HOST" in the client namespace and checks
# the JSON with jq. Namespaces are per run (pmtu-PID-CASE-c ...) and deleted
# when the case ends, also when it fails. Nothing is sent outside them.
#
# Output: "ok NAME", "FAIL NAME: why" or "skip NAME: why" per case, then
# "N passed, N failed" (", N skipped" when some were). Exit status 1 when a
# case failed.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/netns-lib.sh
. scripts/netns-lib.sh

BIN=${BIN:-bin/pmtu}
RUN=
LIST=0
VERBOSE=0
BUILD=1

usage() {
	sed -n '3,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

while (($#)); do
	case $1 in
	-run | --run)
		(($# >= 2)) || { usage >&2; exit 2; }
		RUN=$2
		shift
		;;
	-list | --list) LIST=1 ;;
	-v | --v) VERBOSE=1 ;;
	-no-build | --no-build) BUILD=0 ;;
	-h | -help | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done

# ---------------------------------------------------------------------------
# Helpers for cases. A case runs in a subshell with set -e: any failing
# command fails it (the ERR trap records which), "fail WHY" fails it with a
# reason, "skip WHY" skips it.

CASES=()
# register NAME DESCRIPTION: add case_NAME to the list.
declare -gA CASE_DOC=()
register() {
	CASES+=("$1")
	CASE_DOC[$1]=$2
}

fail() {
	echo "$*" >>"$REASON_FILE"
	echo "FAIL: $*"
	exit 1
}

skip() {
	echo "$*" >>"$REASON_FILE"
	echo "SKIP: $*"
	exit 77
}

# need_flag FLAG: skip the case when pmtu has no such flag yet.
need_flag() {
	has_flag "$1" || skip "pmtu has no $1 flag yet"
}

has_flag() {
	[[ $PMTU_HELP == *"$1"[\ ,=]* || $PMTU_HELP == *"$1" ]]
}

# pmtu SHORT ARGS...: run pmtu in namespace SHORT with a cache of the
# case's own (so runs never answer from another case's or the user's cache),
# at most 60 s. Sets OUT (stdout), ERR (stderr) and RC (exit status).
pmtu() {
	local ns
	ns=$(ns_full "$1") || return
	shift
	local cmd=("$BIN_ABS" "${PMTU_ISOLATE[@]}" "$@")
	echo "+ ip netns exec $ns ${cmd[*]}"
	RC=0
	OUT=$(timeout -k 5 60 ip netns exec "$ns" env HOME="$CASE_DIR" XDG_CACHE_HOME="$CASE_DIR/cache" \
		"${cmd[@]}" 2>"$CASE_DIR/stderr") || RC=$?
	ERR=$(<"$CASE_DIR/stderr")
	echo "exit $RC"
	[[ -z $OUT ]] || printf 'stdout: %s\n' "$OUT"
	[[ -z $ERR ]] || printf 'stderr: %s\n' "$ERR"
	if ((RC == 124 || RC == 137)); then
		fail "pmtu $* did not finish in 60 s"
	fi
	return 0
}

# The checks below collect problems in PROBLEMS; verdict fails the case
# with all of them and the JSON.
PROBLEMS=()

# want_rc CODE: pmtu exited CODE.
want_rc() {
	((RC == $1)) || PROBLEMS+=("exit status $RC, want $1${ERR:+ (stderr: $ERR)}")
}

# want_object: OUT is one line holding one JSON object.
want_object() {
	if [[ $(printf '%s\n' "$OUT" | wc -l) -ne 1 ]] || ! jq -e 'type == "object"' <<<"$OUT" >/dev/null 2>&1; then
		PROBLEMS+=("stdout is not one line with one JSON object")
		verdict
	fi
}

# want PATH OP JSONVALUE: jq's "PATH OP VALUE" holds, e.g. want .probes '<=' 4
want() {
	local path=$1 op=$2 value=$3 got
	got=$(jq -c "$path" <<<"$OUT" 2>/dev/null) || got='(none)'
	jq -e --argjson v "$value" "$path $op \$v" <<<"$OUT" >/dev/null 2>&1 ||
		PROBLEMS+=("$path is $got, want $op $value")
}

# want_str PATH STRING: PATH is that string.
want_str() {
	want "$1" == "$(jq -cn --arg s "$2" '$s')"
}

# want_true JQEXPR WHAT: the jq expression holds.
want_true() {
	jq -e "$1" <<<"$OUT" >/dev/null 2>&1 || PROBLEMS+=("$2")
}

verdict() {
	((${#PROBLEMS[@]} == 0)) && return 0
	local msg
	msg=$(printf '%s; ' "${PROBLEMS[@]}")
	fail "${msg%; }${OUT:+ -- json: $OUT}"
}

# sanity SHORT DST PMTU: the topology check (netns-lib.sh sanity_pmtu), as
# a reason to fail.
sanity() {
	local why
	why=$(sanity_pmtu "$@" 2>&1) || fail "${why:-topology check failed}"
	echo "sanity: DF ping of $3 bytes from $1 to $2 passes, $(($3 + 1)) does not"
}

# wait_ready LOG WHAT: wait (at most 5 s) until LOG says "ready", as
# internal/icmpforge does once it listens; fail saying WHAT did not start.
wait_ready() {
	local i
	for ((i = 0; i < 50; i++)); do
		grep -q ready "$1" && return 0
		sleep 0.1
	done
	fail "$2 did not start: $(cat "$1")"
}

# listen_tcp SHORT PORT: a TCP listener (socat, dual stack) on PORT in
# SHORT, whose SYN-ACKs answer SYNs; skip the case without socat.
listen_tcp() {
	command -v socat >/dev/null || skip "socat is not installed (scripts/deps.sh)"
	"$1" socat "TCP6-LISTEN:$2,fork,reuseaddr" OPEN:/dev/null &
	local i
	for ((i = 0; i < 50; i++)); do
		"$1" ss -Hltn "sport = :$2" | grep -q . && return 0
		sleep 0.1
	done
	fail "topology broken: no listener on $1's TCP $2"
}

# sanity_tracepath SHORT DST PMTU: tracepath agrees on the path MTU.
sanity_tracepath() {
	local out
	out=$("$1" tracepath -n -m 10 "$2" 2>&1) || true
	echo "$out"
	[[ $out == *"Resume: pmtu $3 "* ]] || fail "topology broken: tracepath to $2 does not find pmtu $3: $(tail -n 1 <<<"$out")"
	flush_pmtu "$1"
}

# mss FAMILY PMTU: the TCP MSS that goes with a path MTU.
mss() {
	if [[ $1 == ipv6 ]]; then echo $(($2 - 60)); else echo $(($2 - 40)); fi
}

# check_found FAMILY ADDR PMTU IFACE IFMTU: what every successful probe run
# must say.
check_found() {
	want_rc 0
	want_object
	want_str .family "$1"
	want_str .address "$2"
	want_str .source probe
	want .pmtu == "$3"
	want .confirmed == true
	want_str .interface "$4"
	want .interface_mtu == "$5"
	want .mss == "$(mss "$1" "$3")"
	# "error" may be left out when empty.
	want '(.error // "")' == '""'
}

# ---------------------------------------------------------------------------
# The cases.

# chain: client c, routers r1 r2 r3, target t (see chain_build):
#
#   c ──1500── r1 ──1492── r2 ──1400── r3 ──1280── t
#
# r1 answers 1500-byte probes with 1492, r2 with 1400 and r3 with 1280, from
# its address toward the client. pmtu needs k+1 = 4 probes for k = 3 drops.
chain_case() {
	local fam=$1 dst hop type code
	chain_build 1500 1492 1400 1280
	if [[ $fam == ipv4 ]]; then
		dst=$T4 hop=$(chain_limiting_hop4) type=3 code=4
	else
		dst=$T6 hop=$(chain_limiting_hop6) type=2 code=0
	fi
	[[ $hop == 198.18.3.2 || $hop == 2001:db8:3::2 ]] || fail "netns-lib: limiting hop is $hop, want r3"
	sanity c "$dst" 1280
	sanity_tracepath c "$dst" 1280

	pmtu c --json "$dst"
	check_found "$fam" "$dst" 1280 veth1a 1500
	want_str .evidence icmp
	want_str .limiting_hop "$hop"
	want .probes '<=' 4
	want .probes '>=' 1
	want_true "[.events[]? | select(.from == \"$hop\" and .type == $type and .code == $code and .next_hop_mtu == 1280)] | length >= 1" \
		"no event from $hop type $type code $code next_hop_mtu 1280"
	verdict
}

register chain4 "IPv4 chain 1500 > 1492 > 1400 > 1280: 1280 from r3's Frag Needed, <= 4 probes"
case_chain4() { chain_case ipv4; }

register chain6 "IPv6 chain 1500 > 1492 > 1400 > 1280: 1280 from r3's Packet Too Big, <= 4 probes"
case_chain6() { chain_case ipv6; }

# jumbo: every link 9000; the first probe, the size of the interface, passes.
#
#   c ──9000── r1 ──9000── t
jumbo_case() {
	local fam=$1 dst
	chain_build 9000 9000
	if [[ $fam == ipv4 ]]; then dst=$T4; else dst=$T6; fi
	sanity c "$dst" 9000

	pmtu c --json "$dst"
	check_found "$fam" "$dst" 9000 veth1a 9000
	want .probes == 1
	want_str .evidence probes
	want_str .limiting_hop ""
	verdict
}

register jumbo "IPv4, all links 9000: 9000 with 1 probe"
case_jumbo() { jumbo_case ipv4; }

register jumbo6 "IPv6, all links 9000: 9000 with 1 probe"
case_jumbo6() { jumbo_case ipv6; }

# mtu0: a pre-RFC-1191 router. r1 forwards at 1500 but rejects IPv4
# packets over 1300 bytes with a Frag Needed whose Next-Hop MTU is 0:
#
#   c ──1500── r1 ──1500── t        r1: ip length > 1300 reject with icmp type frag-needed
#
# The kernel locks such a path at 552; pmtu must find the real 1300 by
# searching (RFC 1191 section 5 plateaus, then probes).
# mtu0_build: the topology above, checked; the methods cases use it too.
mtu0_build() {
	chain_build 1500 1500
	r1 nft -f - <<-'EOF'
		table ip pmtu {
			chain mtu0 {
				type filter hook forward priority filter; policy accept;
				ip length > 1300 reject with icmp type frag-needed
			}
		}
	EOF
	sanity c "$T4" 1300
}

register mtu0 "Frag Needed with Next-Hop MTU 0 (old router) at 1300: 1300, not the kernel's 552"
case_mtu0() {
	mtu0_build

	pmtu c --json "$T4"
	check_found ipv4 "$T4" 1300 veth1a 1500
	verdict
}

# vxlan: an overlay; the tunnel costs 50 bytes of the 1500 underlay:
#
#   c ──1500── r1 ──1500── t
#   vx0 ════ VXLAN 42 ════ vx0   (MTU 1450, 198.18.100.0/24, 2001:db8:100::/64)
vxlan_case() {
	local fam=$1 dst
	vxlan_build 1500
	if [[ $fam == ipv4 ]]; then dst=$VX_T4; else dst=$VX_T6; fi
	sanity c "$dst" 1450

	pmtu c --json "$dst"
	check_found "$fam" "$dst" 1450 vx0 1450
	want .probes == 1
	verdict
}

register vxlan "IPv4 over a VXLAN tunnel on a 1500 underlay: 1450"
case_vxlan() { vxlan_case ipv4; }

register vxlan6 "IPv6 over a VXLAN tunnel on a 1500 underlay: 1450"
case_vxlan6() { vxlan_case ipv6; }

# exitcodes: the contract's exit statuses, on the chain
#
#   c ──1500── r1 ──1492── r2 ──1400── r3 ──1280── t
register exitcodes "exit 2 on an unknown host, 0 or 3 for --expect and --at-least"
case_exitcodes() {
	chain_build 1500 1492 1400 1280
	sanity c "$T4" 1280

	# The name fails inside the namespace: no route out, and its
	# resolv.conf names its own loopback.
	pmtu c --json no-such-host.invalid
	want_rc 2
	if [[ -z $ERR ]]; then
		PROBLEMS+=("unknown host: nothing on stderr")
	elif [[ $(printf '%s\n' "$ERR" | wc -l) -ne 1 ]]; then
		PROBLEMS+=("unknown host: stderr has $(printf '%s\n' "$ERR" | wc -l) lines, want 1")
	fi
	if grep -qiE 'goroutine|panic' <<<"$OUT$ERR"; then
		PROBLEMS+=("unknown host: output shows a panic")
	fi
	verdict

	local args want_code
	for args in "--expect 1280:0" "--expect 1400:3" "--at-least 1300:3" "--at-least 1280:0"; do
		want_code=${args##*:}
		# shellcheck disable=SC2086 # flag and value
		pmtu c ${args%:*} "$T4"
		((RC == want_code)) || PROBLEMS+=("pmtu ${args%:*} $T4: exit $RC, want $want_code${ERR:+ (stderr: $ERR)}")
		if grep -qiE 'goroutine|panic' <<<"$OUT$ERR"; then
			PROBLEMS+=("pmtu ${args%:*} $T4: output shows a panic")
		fi
	done
	OUT='' verdict
}

# usage: command-line mistakes are usage errors, exit 2. So are targets
# that have no path MTU (unspecified, broadcast, multicast, a link-local
# address without its interface, a zone on a global address): one line
# saying why, for pmtu HOST and pmtu trace HOST, and no probe leaves c.
# An IPv4-mapped address is probed as its IPv4 address.
#
#   c ──1500── t        c: 198.18.1.1/24, 2001:db8:1::1/64
#                       c's output hook counts what could be a probe
register usage "exit 2 for no host, a bad flag, and targets without a path MTU, with no probe sent"
case_usage() {
	chain_build 1500
	local args
	for args in "" "--no-such-flag $T4" "--expect lots $T4"; do
		# shellcheck disable=SC2086 # split on purpose
		pmtu c $args
		((RC == 2)) || PROBLEMS+=("pmtu $args: exit $RC, want 2")
		if grep -qiE 'goroutine|panic' <<<"$OUT$ERR"; then
			PROBLEMS+=("pmtu $args: output shows a panic")
		fi
	done

	# Every packet c sends counts, but for the neighbor discovery and
	# listener reports its kernel makes by itself.
	c nft -f - <<-'EOF'
		table inet pmtucount {
			chain out {
				type filter hook output priority filter; policy accept;
				icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-report, mld2-listener-report } accept
				counter
			}
		}
	EOF
	sent() { c nft list chain inet pmtucount out | grep -oE 'packets [0-9]+' | tail -n1 | cut -d' ' -f2; }

	local -A refused=(
		[0.0.0.0]="0.0.0.0 is the unspecified address: it names no host"
		[::]=":: is the unspecified address: it names no host"
		[198.18.1.255]="198.18.1.255 is the broadcast address of 198.18.1.0/24: it reaches every host on that subnet"
		[255.255.255.255]="255.255.255.255 is the limited broadcast address"
		[224.0.0.1]="224.0.0.1 is a multicast group: it has no single path MTU"
		[ff02::1]="ff02::1 is a multicast group: it has no single path MTU"
		[fe80::1]="fe80::1 is link-local: name the interface, e.g. fe80::1%eth0"
		[$T6%lo]="$T6%lo has a zone (%lo), but only link-local addresses take one: give $T6"
	)
	local host cmd before after
	for host in "${!refused[@]}"; do
		for cmd in "" trace; do
			before=$(sent)
			# shellcheck disable=SC2086 # no word for pmtu HOST
			pmtu c $cmd --timeout 300ms "$host"
			after=$(sent)
			((RC == 2)) || PROBLEMS+=("pmtu $cmd $host: exit $RC, want 2")
			[[ -z $OUT ]] || PROBLEMS+=("pmtu $cmd $host: stdout $OUT, want nothing")
			[[ $ERR == "pmtu: ${refused[$host]}"* && $ERR != *$'\n'* ]] ||
				PROBLEMS+=("pmtu $cmd $host: stderr '$ERR', want one line 'pmtu: ${refused[$host]}...'")
			if grep -qE 'dial |:9\b|connect:|socket|route get' <<<"$ERR"; then
				PROBLEMS+=("pmtu $cmd $host: stderr names the implementation: $ERR")
			fi
			((after == before)) || PROBLEMS+=("pmtu $cmd $host: $((after - before)) packets left c, want none")
		done
	done

	# The mapped address works, and its probes do show in the counter.
	before=$(sent)
	pmtu c --json "::ffff:$T4"
	after=$(sent)
	want_rc 0
	want_str .address "$T4"
	want .pmtu == 1500
	[[ $ERR == "pmtu: note: ::ffff:$T4 is an IPv4-mapped IPv6 address: probing the IPv4 address $T4" ]] ||
		PROBLEMS+=("pmtu ::ffff:$T4: stderr '$ERR', want the note that it probes $T4")
	echo "c sent $((after - before)) packets for ::ffff:$T4"
	((after > before)) || PROBLEMS+=("pmtu ::ffff:$T4: the counter saw no probe, so it proves nothing")

	# c's own address works too, and says the path stays on the host.
	pmtu c --json "$C4"
	want_rc 0
	[[ $ERR == "pmtu: note: $C4 is an address of this host: the path never leaves the host" ]] ||
		PROBLEMS+=("pmtu $C4: stderr '$ERR', want the note that the path never leaves the host")
	verdict
}

# noanswer: r1 drops everything for the target, silently:
#
#   c ──1500── r1 ──1500── t        r1: ip daddr t drop
#
# pmtu gives up after its tries: exit 1, "error" set and pmtu 0.
register noanswer "a target that never answers: exit 1, error set, pmtu 0"
case_noanswer() {
	chain_build 1500 1500
	r1 nft add table ip pmtu
	r1 nft add chain ip pmtu silence '{ type filter hook forward priority filter; policy accept; }'
	r1 nft add rule ip pmtu silence ip daddr "$T4" drop
	ping_df c "$T4" 100 1 && fail "topology broken: $T4 answers a ping through the drop rule"

	local fast=()
	has_flag --timeout && fast+=(--timeout 300ms)
	pmtu c --json "${fast[@]}" "$T4"
	want_rc 1
	want_object
	want .pmtu == 0
	want .error '!=' '""'
	verdict
}

# blackhole: r1 sends no Frag Needed (an ICMP black hole, RFC 2923):
#
#   c ──1500── r1 ──1400── t        r1 output: drop its own Frag Needed
#
# Only probes that get through can tell the size: RFC 4821 / RFC 8899
# search, evidence "probes".
blackhole_case() {
	local fam=$1 dst
	chain_build 1500 1400
	router_blackhole r1
	if [[ $fam == ipv4 ]]; then dst=$T4; else dst=$T6; fi
	sanity c "$dst" 1400
	# The router must really be silent: a too-big ping left no PMTU
	# exception behind.
	ping_df c "$dst" 1500 1 || true
	if c ip route get "$dst" | grep -q 'mtu'; then
		fail "topology broken: r1 still sends its ICMP: $(c ip route get "$dst" | tr '\n' ' ')"
	fi
	flush_pmtu c

	local fast=()
	has_flag --timeout && fast+=(--timeout 300ms)
	pmtu c --json "${fast[@]}" "$dst"
	check_found "$fam" "$dst" 1400 veth1a 1500
	want_str .evidence probes
	want_str .limiting_hop ""
	verdict
}

register blackhole "IPv4 ICMP black hole at 1400: found by probes alone"
case_blackhole() { blackhole_case ipv4; }

register blackhole6 "IPv6 ICMP black hole at 1400: found by probes alone"
case_blackhole6() { blackhole_case ipv6; }

# cache: a second run answers from pmtu's own cache, without probing.
#
#   c ──1500── r1 ──1492── r2 ──1400── t
register cache "a second run answers from the cache file: source cache, 0 probes"
case_cache() {
	need_flag --cache-file
	chain_build 1500 1492 1400
	sanity c "$T4" 1400
	local file="$CASE_DIR/pmtu-cache"
	local saved=("${PMTU_ISOLATE[@]}")
	PMTU_ISOLATE=()
	pmtu c --json --cache-file "$file" "$T4"
	want_rc 0
	want_str .source probe
	want .pmtu == 1400
	verdict
	pmtu c --json --cache-file "$file" "$T4"
	PMTU_ISOLATE=("${saved[@]}")
	want_rc 0
	want_object
	want_str .source cache
	want .pmtu == 1400
	want .probes == 0
	want .expires_in_s '>' 0
	verdict
}

# ---------------------------------------------------------------------------
# The cases of each feature, one file each: scripts/cases/NAME.sh, using the
# helpers above and netns-lib.sh.
for f in "$(dirname "${BASH_SOURCE[0]}")"/cases/*.sh; do
	[[ -e $f ]] || continue
	# shellcheck source=/dev/null
	source "$f"
done

# ---------------------------------------------------------------------------
# Running them.

if ((LIST)); then
	for name in "${CASES[@]}"; do
		printf '%-12s %s\n' "$name" "${CASE_DOC[$name]}"
	done
	exit 0
fi

selected=()
for name in "${CASES[@]}"; do
	if [[ -z $RUN || $name =~ $RUN ]]; then
		selected+=("$name")
	fi
done
if ((${#selected[@]} == 0)); then
	echo "netns-test: no case matches -run '$RUN'" >&2
	exit 2
fi

if ((EUID != 0)); then
	for name in "${selected[@]}"; do
		echo "skip $name: needs root for network namespaces"
	done
	echo "0 passed, 0 failed, ${#selected[@]} skipped"
	exit 0
fi

missing=()
for tool in ip nft jq ping tracepath timeout unshare; do
	command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
	echo "netns-test: missing ${missing[*]}: run scripts/deps.sh" >&2
	exit 2
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pmtu-netns.XXXXXX")
# Each case cleans up after itself; the sweep catches a case killed first.
trap 'netns_sweep "pmtu-$$"; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

if ((BUILD)); then
	mkdir -p "$(dirname "$BIN")"
	if ! go build -o "$BIN" ./cmd/pmtu >"$WORK/build.log" 2>&1; then
		echo "FAIL build: go build -o $BIN ./cmd/pmtu:"
		sed 's/^/    /' "$WORK/build.log"
		echo "0 passed, 1 failed"
		exit 1
	fi
fi
[[ -x $BIN ]] || { echo "netns-test: no binary at $BIN" >&2; exit 2; }
BIN_ABS=$(realpath "$BIN")
# Even --help runs where nothing could leave.
PMTU_HELP=$(unshare -n "$BIN_ABS" --help 2>&1) || true
# Every run gets no cache, if pmtu can be told so; HOME and XDG_CACHE_HOME
# point into the case's directory in any case.
PMTU_ISOLATE=()
if has_flag --no-cache; then PMTU_ISOLATE=(--no-cache); fi

passed=0 failed=0 skipped=0 i=0
for name in "${selected[@]}"; do
	i=$((i + 1))
	CASE_DIR="$WORK/$name"
	mkdir -p "$CASE_DIR"
	REASON_FILE="$CASE_DIR/reason"
	: >"$REASON_FILE"
	log="$CASE_DIR/log"
	rc=0
	set +e
	(
		set -eEuo pipefail
		NETNS_PREFIX="pmtu-$$-$i"
		trap 'netns_cleanup' EXIT
		trap 'exit 130' INT TERM
		trap 'rc=$?; echo "line $LINENO: \"$BASH_COMMAND\" exited $rc" >>"$REASON_FILE"' ERR
		exec >"$log" 2>&1
		echo "== $name: ${CASE_DOC[$name]}"
		"case_$name"
	)
	rc=$?
	set -e
	why=$(head -n 1 "$REASON_FILE")
	case $rc in
	0)
		echo "ok $name"
		passed=$((passed + 1))
		((VERBOSE)) && sed 's/^/    /' "$log"
		;;
	77)
		echo "skip $name: $why"
		skipped=$((skipped + 1))
		((VERBOSE)) && sed 's/^/    /' "$log"
		;;
	*)
		echo "FAIL $name: ${why:-exit status $rc}"
		failed=$((failed + 1))
		sed 's/^/    /' "$log"
		;;
	esac
done

summary="$passed passed, $failed failed"
((skipped)) && summary+=", $skipped skipped"
echo "$summary"
((failed == 0))
