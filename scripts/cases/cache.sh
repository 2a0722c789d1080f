# shellcheck shell=bash
# Cases for pmtu's cache (pmtucache): flushing makes pmtu probe again, and
# `pmtu cache list` shows the kernel's own cached path MTU as `ip route get`
# does in the same namespace. Sourced by scripts/netns-test.sh.

# cache_flush: probe, answer from the cache, flush, probe again.
#
#   c ──1500── r1 ──1400── t
register cache_flush "after 'pmtu cache flush HOST' the next run probes again; list shows the kernel's view"
case_cache_flush() {
	chain_build 1500 1400
	sanity c "$T4" 1400
	local file="$CASE_DIR/pmtu-cache" saved=("${PMTU_ISOLATE[@]}")
	PMTU_ISOLATE=() # keep the cache between runs
	pmtu c --json --cache-file "$file" "$T4"
	want_rc 0
	want_str .source probe
	want .probes '>=' 1
	verdict

	# The kernel learned 1400 from r1's Frag Needed too; pmtu's list
	# shows it beside pmtu's own entry, as ip route get does.
	local route kmtu kexp
	route=$(c ip route get "$T4" | tr '\n' ' ')
	echo "ip route get: $route"
	[[ $route =~ expires\ ([0-9]+)sec\ mtu\ ([0-9]+) ]] || fail "the kernel holds no PMTU exception: $route"
	kexp=${BASH_REMATCH[1]} kmtu=${BASH_REMATCH[2]}
	pmtu c --cache-file "$file" cache list --json
	want_rc 0
	want_true "length == 1" "cache list holds $(jq length <<<"$OUT") entries, want 1"
	want ".[0].pmtu" == 1400
	want ".[0].kernel.cached" == true
	want ".[0].kernel.mtu" == "$kmtu"
	want_true "(.[0].kernel.expires_in_s - $kexp) | fabs <= 2" "kernel expires_in_s is not ${kexp}s ± 2 (ip route get)"
	verdict

	pmtu c --json --cache-file "$file" "$T4"
	want_str .source cache
	want .probes == 0
	verdict

	pmtu c --cache-file "$file" cache flush "$T4"
	want_rc 0
	pmtu c --json --cache-file "$file" "$T4"
	PMTU_ISOLATE=("${saved[@]}")
	want_rc 0
	want_str .source probe
	want .probes '>=' 1
	want .pmtu == 1400
	verdict
}
