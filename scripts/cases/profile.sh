# shellcheck shell=bash
# Cases for loss by packet size (pmtu profile, issue 26): a window of
# sizes dropped, a brownout above a size, the ECMP diamond on flows, a
# clean path that must raise no alarm, and pmtu HOST's hint; and the
# kernel PMTU selftest's r2_noreturn shape for pmtu trace. Sourced by
# scripts/netns-test.sh.
#
#   c ──1500── r1 ──1500── t        r1 forward: the case's nft rule
#
# The IPv6 rules match ip6 length, the payload: 40 bytes less than the
# IP size pmtu speaks of.

# profile_rule FAM RULE4 RULE6: r1 forwards through the rule of the
# family.
profile_rule() {
	r1 nft add table inet pmtu
	r1 nft add chain inet pmtu sizes '{ type filter hook forward priority filter; policy accept; }'
	if [[ $1 == ipv4 ]]; then
		r1 nft add rule inet pmtu sizes "$2"
	else
		r1 nft add rule inet pmtu sizes "$3"
	fi
}

profile_dst() { if [[ $1 == ipv4 ]]; then echo "$T4"; else echo "$T6"; fi; }

# check_svg FILE LABEL...: the chart is an SVG document a browser shows:
# headless Chromium (in namespace c, which reaches nothing outside) loads
# it with no XML error, finds the svg root and the labels, and renders a
# screenshot next to it (FILE.png) for a person to look at: both are
# copied to $PMTU_CHART_DIR when it is set.
check_svg() {
	local svg=$1 dom profile_dir
	shift
	[[ -s $svg ]] || { PROBLEMS+=("--plot wrote no $svg"); return; }
	if ! command -v chromium >/dev/null; then
		PROBLEMS+=("chromium is missing: run scripts/deps.sh")
		return
	fi
	profile_dir=$(mktemp -d)
	local flags=(--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update
		--disable-sync --no-first-run "--user-data-dir=$profile_dir")
	dom=$(c timeout 60 chromium "${flags[@]}" --dump-dom "file://$svg" 2>/dev/null) || true
	c timeout 60 chromium "${flags[@]}" --window-size=900,440 "--screenshot=$svg.png" "file://$svg" >/dev/null 2>&1 || true
	rm -rf "$profile_dir"
	[[ $dom == *"<svg"* && $dom != *parsererror* ]] || PROBLEMS+=("Chromium did not load $svg as an SVG: ${dom:0:300}")
	for l in "$@"; do
		[[ $dom == *"$l"* ]] || PROBLEMS+=("the chart lacks \"$l\"")
	done
	[[ -s $svg.png ]] || PROBLEMS+=("Chromium rendered no screenshot of $svg")
	echo "chart: $svg, screenshot $svg.png"
	if [[ -n ${PMTU_CHART_DIR:-} ]]; then
		cp "$svg" "$svg.png" "$PMTU_CHART_DIR/" || true
	fi
}

# profile_window: sizes 1400-1420 dropped at r1, 1500 passes. The profile
# finds the window to the byte, no brownout, safe_mtu 1500; pmtu HOST
# still says 1500, never a window's edge.
profile_window_case() {
	local fam=$1 dst svg
	chain_build 1500 1500
	dst=$(profile_dst "$fam")
	profile_rule "$fam" 'ip length 1400-1420 drop' 'ip6 length 1360-1380 drop'
	svg="$CASE_DIR/window-$fam.svg"
	pmtu c profile --json --plot "$svg" "$dst"
	want_rc 0
	want_object
	want .pmtu == 1500
	want '[.windows[] | [.from, .to]]' == '[[1400,1420]]'
	want .brownout == null
	want .safe_mtu == 1500
	want '[.bands[] | select(.from <= 1410 and .to >= 1410) | .loss]' == '[1]'
	want_true '[.bands[] | select(.to < 1400 or .from > 1420) | .lost] | add == 0' "bands outside the window lost probes"
	want '.probes' '<=' 2500
	verdict
	check_svg "$svg" "window 1400–1420" "safe_mtu 1500"
	verdict

	pmtu c profile "$dst"
	want_rc 0
	[[ $OUT == *"1400–1420  ████████████████████   100%"*"← window: lost while larger sizes pass"* ]] ||
		PROBLEMS+=("the text does not mark the window: $OUT")
	OUT='' verdict

	pmtu c --json --no-cache "$dst"
	want_rc 0
	want .pmtu == 1500
	verdict
}

register profile_window4 "profile, IPv4, r1 drops sizes 1400-1420: the window to the byte, safe_mtu 1500, a chart Chromium shows"
case_profile_window4() { profile_window_case ipv4; }

register profile_window6 "profile, IPv6, r1 drops sizes 1400-1420: the window to the byte, safe_mtu 1500, a chart Chromium shows"
case_profile_window6() { profile_window_case ipv6; }

# profile_brownout: 3% of packets over 1440 bytes dropped at random at
# r1, none below (both ways: about 5.9% of round trips). The default profile (250 probes a second, 10 s) sees
# the brownout, its edge within a grid step of 1440, and both losses.
profile_brownout_case() {
	local fam=$1 dst svg
	chain_build 1500 1500
	dst=$(profile_dst "$fam")
	profile_rule "$fam" 'ip length > 1440 numgen random mod 100 < 3 drop' 'ip6 length > 1400 numgen random mod 100 < 3 drop'
	svg="$CASE_DIR/brownout-$fam.svg"
	pmtu c profile --json --plot "$svg" "$dst"
	want_rc 0
	want_object
	want .pmtu == 1500
	want_true '.brownout != null' "no brownout"
	want '.brownout.above' '>=' 1424
	want '.brownout.above' '<=' 1452
	want '.brownout.loss_below' == 0
	want '.brownout.loss_above' '>' 0.01
	# Requests and replies both cross r1's rule: 1 - 0.97² ≈ 5.9%.
	want '.brownout.loss_above' '<' 0.10
	want_true '.safe_mtu == .brownout.above' "safe_mtu is not the brownout's edge"
	want .windows == '[]'
	want .elapsed_ms '<' 11000
	verdict
	check_svg "$svg" "brownout above" "safe_mtu"
	verdict

	pmtu c profile "$dst"
	want_rc 0
	[[ $OUT == *"← brownout: above "* && $OUT == *"safe_mtu "*": larger sizes lose more"* ]] ||
		PROBLEMS+=("the text does not mark the brownout: $OUT")
	OUT='' verdict
}

register profile_brownout4 "profile, IPv4, 3% loss above 1440 at r1: a brownout at about 1440 within the default 10 s"
case_profile_brownout4() { profile_brownout_case ipv4; }

register profile_brownout6 "profile, IPv6, 3% loss above 1440 at r1: a brownout at about 1440 within the default 10 s"
case_profile_brownout6() { profile_brownout_case ipv6; }

# profile_clean: a clean 1500 path, profiled 20 times: no window and no
# brownout in any run (no false alarm), safe_mtu 1500 each time.
profile_clean_case() {
	local fam=$1 dst alarms=0 probes=0
	chain_build 1500 1500
	dst=$(profile_dst "$fam")
	for _ in $(seq 1 20); do
		pmtu c profile --json --rate 1000 "$dst"
		want_rc 0
		want .pmtu == 1500
		want .safe_mtu == 1500
		want_str .ended decided
		verdict
		if ! jq -e '.windows == [] and .brownout == null' <<<"$OUT" >/dev/null; then
			alarms=$((alarms + 1))
		fi
		probes=$((probes + $(jq .probes <<<"$OUT")))
	done
	echo "20 runs: $alarms false alarms, $((probes / 20)) probes a run"
	((alarms == 0)) || fail "$alarms of 20 profiles of a clean path showed a window or a brownout"
}

register profile_clean4 "profile, IPv4, a clean 1500 path 20 times: no window, no brownout in 20 of 20"
case_profile_clean4() { profile_clean_case ipv4; }

register profile_clean6 "profile, IPv6, a clean 1500 path 20 times: no window, no brownout in 20 of 20"
case_profile_clean6() { profile_clean_case ipv6; }

# profile_hint: r1 drops sizes 1400-1420 and silently anything over 1450
# (a black hole, so pmtu HOST probes sizes side by side): pmtu HOST says
# 1450, not the window's edge, and its loss_hint names the window.
profile_hint_case() {
	local fam=$1 dst
	chain_build 1500 1500
	dst=$(profile_dst "$fam")
	if [[ $fam == ipv4 ]]; then
		profile_rule "$fam" 'ip length 1400-1420 drop' ''
		r1 nft add rule inet pmtu sizes 'ip length > 1450 drop'
	else
		profile_rule "$fam" '' 'ip6 length 1360-1380 drop'
		r1 nft add rule inet pmtu sizes 'ip6 length > 1410 drop'
	fi
	pmtu c --json --no-cache --proto icmp --timeout 300ms "$dst"
	want_rc 0
	want .pmtu == 1450
	want_true '.loss_hint | test("1400–1420 bytes were lost while 1450 passed")' "loss_hint does not name the window"
	verdict
	pmtu c --no-cache --proto icmp --timeout 300ms "$dst"
	[[ $OUT == *"a window of lost sizes? pmtu profile $dst measures loss by size"* ]] || PROBLEMS+=("the text lacks the hint: $OUT")
	OUT='' verdict
}

register profile_hint4 "pmtu HOST, IPv4, window 1400-1420 below a silent 1450: 1450 and a loss_hint naming the window"
case_profile_hint4() { profile_hint_case ipv4; }

register profile_hint6 "pmtu HOST, IPv6, window 1400-1420 below a silent 1450: 1450 and a loss_hint naming the window"
case_profile_hint6() { profile_hint_case ipv6; }

# profile_ecmp: the ECMP diamond (ecmp.sh) with branches of 1500 and
# 1400, profiled on 8 TCP flows: each flow's profile up to its branch's
# path MTU, the branches as pmtu --flows sees them, no window or
# brownout on either, and the sizes every flow carries pooled.
profile_ecmp_case() {
	local fam=$1 dst svg branches
	ecmp_build 1500 1400
	dst=$(ecmp_dst "$fam")
	pmtu c --json --proto tcp --flows 8 "$dst"
	want_rc 0
	verdict
	branches=$(jq -c '[.branches[].pmtu]' <<<"$OUT")
	echo "pmtu --flows 8: branches $branches"
	svg="$CASE_DIR/ecmp-$fam.svg"
	pmtu c profile --json --proto tcp --flows 8 --rate 1000 --duration 4s --plot "$svg" "$dst"
	want_rc 0
	want_object
	want .pmtu == 1400
	want '.flows | length' == 8
	want '[.branches[].pmtu]' == "$branches"
	want '[.branches[].flows | length] | add' == 8
	want '[.branches[] | .safe_mtu == .pmtu] | all' == true
	want '[.branches[] | .windows == [] and .brownout == null] | all' == true
	want '[.flows[] | .to == .pmtu] | all' == true
	want .safe_mtu == 1400
	want .windows == '[]'
	want .brownout == null
	verdict
	check_svg "$svg" "safe_mtu 1400"
	verdict
	pmtu c profile --proto tcp --flows 8 --rate 1000 --duration 4s "$dst"
	want_rc 0
	[[ $OUT == *"branch with path MTU 1400, flows"* ]] || PROBLEMS+=("the text does not show the 1400 branch: $OUT")
	OUT='' verdict
}

register profile_ecmp4 "profile, IPv4, ECMP diamond 1500/1400 on 8 TCP flows: every branch's profile, no false alarm"
case_profile_ecmp4() { profile_ecmp_case ipv4; }

register profile_ecmp6 "profile, IPv6, ECMP diamond 1500/1400 on 8 TCP flows: every branch's profile, no false alarm"
case_profile_ecmp6() { profile_ecmp_case ipv6; }

# trace_r2_noreturn: the kernel PMTU selftest's shape (r2_noreturn): a
# router says 1500, the target never answers (it drops its Echo
# Replies). pmtu trace reads 1500, as tracepath does, unconfirmed, with
# the last hop marked so, and keeps what hop 1 proved (2000).
#
#   c ──2000── r1 ──1500── t        t output: drop echo-reply
trace_r2_noreturn_case() {
	local fam=$1 dst a1
	chain_build 2000 1500
	if [[ $fam == ipv4 ]]; then dst=$T4 a1=$(chain_hop4 1); else dst=$T6 a1=$(chain_hop6 1); fi
	t nft add table inet pmtu
	t nft add chain inet pmtu out '{ type filter hook output priority filter; policy accept; }'
	t nft add rule inet pmtu out icmp type echo-reply drop
	t nft add rule inet pmtu out icmpv6 type echo-reply drop
	pmtu c trace --json -n --proto icmp --max-hops 6 "$dst"
	want_rc 1
	want_object
	want .reached == false
	want .pmtu == 1500
	want .confirmed == false
	want .proved_pmtu == 2000
	want .proved_ttl == 1
	want .pmtu_max == 1500
	want_str .pmtu_max_by "$a1"
	want '.hops[-1].unconfirmed' == true
	want '[.hops[:-1][] | .unconfirmed // false] | any' == false
	verdict
	if command -v tracepath >/dev/null; then
		echo "tracepath says: $(c tracepath -n -m 6 "$dst" 2>&1 | tail -1)"
	fi
}

register trace_r2_noreturn4 "trace, IPv4, kernel selftest r2_noreturn: a router says 1500, the target never answers: pmtu 1500, unconfirmed"
case_trace_r2_noreturn4() { trace_r2_noreturn_case ipv4; }

register trace_r2_noreturn6 "trace, IPv6, kernel selftest r2_noreturn: a router says 1500, the target never answers: pmtu 1500, unconfirmed"
case_trace_r2_noreturn6() { trace_r2_noreturn_case ipv6; }

# profile_methods: the window of profile_window, profiled by every way:
# TCP SYNs (raw, root), Echo over an ICMP datagram socket and UDP with
# the error queue (user nobody, no capabilities). TCP and the ping
# socket find the window to the byte; UDP's answers are Port
# Unreachables the target sends one a second, so its profile is spaced
# to that limit and ends at --duration with a handful of probes.
profile_methods_case() {
	local fam=$1 dst
	chain_build 1500 1500
	dst=$(profile_dst "$fam")
	profile_rule "$fam" 'ip length 1400-1420 drop' 'ip6 length 1360-1380 drop'
	nobody_bin
	c sysctl -q -w net.ipv4.ping_group_range="0 2147483647"

	pmtu c profile --json --proto tcp --rate 1000 "$dst"
	want_rc 0
	want_str .method tcp
	want '[.windows[] | [.from, .to]]' == '[[1400,1420]]'
	want .safe_mtu == 1500
	verdict

	pmtu_nobody c profile --json --proto icmp --rate 1000 "$dst"
	want_rc 0
	want_str .method ping-socket
	want '[.windows[] | [.from, .to]]' == '[[1400,1420]]'
	want .safe_mtu == 1500
	verdict

	pmtu_nobody c profile --json --proto udp --duration 3s "$dst"
	want_rc 0
	want_str .method udp-recverr
	want .pmtu == 1500
	want .probes '>' 0
	want .probes '<=' 10
	want_str .ended duration
	want .windows == '[]'
	want .brownout == null
	want .elapsed_ms '<' 4000
	verdict
}

register profile_methods4 "profile, IPv4, window 1400-1420 by tcp, ping-socket (nobody) and udp-recverr (nobody, rate-limited answers)"
case_profile_methods4() { profile_methods_case ipv4; }

register profile_methods6 "profile, IPv6, window 1400-1420 by tcp, ping-socket (nobody) and udp-recverr (nobody, rate-limited answers)"
case_profile_methods6() { profile_methods_case ipv6; }
