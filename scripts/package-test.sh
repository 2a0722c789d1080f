#!/usr/bin/env bash
#
# package-test.sh: build the Debian package (scripts/package.sh), check it
# with lintian (no errors allowed), install it with dpkg -i, and use it as a
# user would:
#
#   c ──1500── r1 ──1400── t
#   198.18.1.1             198.18.2.2 / 2001:db8:2::2
#
# - lintian finds no errors; the postinst succeeds where there is no setcap;
# - /usr/bin/pmtu carries cap_net_raw=ep (set by the postinst);
# - user nobody, in namespace c, finds 1400 named by r1 with raw sockets
#   (methods icmp and tcp), which only the capability allows: the new
#   namespace's ping_group_range is "1 0", and a copy of the binary without
#   the capability falls back to udp-recverr;
# - pmtu --version reports the stamped version, pmtu version says
#   CAP_NET_RAW is effective;
# - man -w pmtu finds the man page, the bash completion parses;
# then dpkg --purge and checks that none of the package's files is left.
# The package is purged on every exit, failures included. Needs root; leaves
# alone a machine where pmtu is already installed.
#
#     scripts/package-test.sh

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ((EUID != 0)); then
	echo "package-test.sh: needs root (dpkg -i, network namespaces): run it as root" >&2
	exit 2
fi
if dpkg-query -W -f='${db:Status-Status}\n' pmtu 2>/dev/null | grep -qv '^not-installed$' ||
	[[ -e /usr/bin/pmtu ]]; then
	echo "package-test.sh: skipped: pmtu is already installed here (package or /usr/bin/pmtu), and this test would remove it"
	exit 0
fi

# shellcheck source=scripts/netns-lib.sh
. scripts/netns-lib.sh

work=$(mktemp -d "${TMPDIR:-/tmp}/pmtu-pkgtest.XXXXXX")
chmod 755 "$work"
installed=0
cleanup() {
	local rc=$?
	netns_cleanup
	if ((installed)) && dpkg-query -W pmtu >/dev/null 2>&1; then
		dpkg --purge pmtu >/dev/null || rc=1
	fi
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

failed=0
passed=0
ok() {
	echo "ok $*"
	passed=$((passed + 1))
}
bad() {
	echo "FAIL $*"
	failed=$((failed + 1))
}
# expect DESC CMD...: ok DESC when CMD succeeds, else bad.
expect() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else bad "$desc"; fi
}

# 1. Build, with a version of our own to look for later.
version=0.0.0~pkgtest$$
deb=$(VERSION=$version OUT=$work/dist scripts/package.sh | tail -n1)
[[ -f $deb ]] || { echo "package.sh made no .deb"; exit 1; }
ok "built $(basename "$deb")"

# 2. lintian: errors fail; everything else is shown.
echo "+ lintian --fail-on error --info --pedantic $(basename "$deb")"
lint_rc=0
lint=$(lintian --fail-on error --info --pedantic "$deb" 2>&1) || lint_rc=$?
grep -v 'running with root privileges' <<<"$lint" || true
if ((lint_rc == 0)); then
	ok "lintian: no errors"
else
	bad "lintian: exit $lint_rc"
fi

# The postinst where there is no setcap: it must succeed, and say how pmtu
# runs without privilege. (Run before the install: there is no
# /usr/bin/pmtu to change.)
dpkg-deb -e "$deb" "$work/control"
if no_setcap=$(env -i PATH=/nonexistent /bin/sh "$work/control/postinst" configure 2>&1) &&
	[[ $no_setcap == *"without privilege"* ]]; then
	ok "postinst without setcap succeeds and says: $no_setcap"
else
	bad "postinst without setcap: $no_setcap"
fi

# 3. Install. --path-include keeps the man page and doc where a minimal
# image's dpkg.cfg.d excludes /usr/share/man and /usr/share/doc.
echo "+ dpkg -i $(basename "$deb")"
installed=1
dpkg -i --path-include='/usr/share/man/man8/pmtu.8.gz' --path-include='/usr/share/doc/pmtu/*' "$deb"
files=$(dpkg -L pmtu)
caps=$(getcap /usr/bin/pmtu)
echo "$caps"
expect "postinst set cap_net_raw=ep" test "${caps#* }" = cap_net_raw=ep

# 4. The installed pmtu as user nobody, in a namespace of its own.
chain_build 1500 1400
mkdir -m 777 "$work/home"
# as_nobody SHORT CMD...: CMD in namespace SHORT as nobody, with no
# inherited capabilities: what it can do comes from the file's own.
as_nobody() {
	local ns
	ns=$(ns_full "$1")
	shift
	ip netns exec "$ns" setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
		env HOME="$work/home" XDG_CACHE_HOME="$work/home/cache" "$@"
}
# check_run DESC JQ-FILTER CMD...: run CMD as nobody in c; its JSON must
# satisfy JQ-FILTER.
check_run() {
	local desc=$1 filter=$2 out rc=0
	shift 2
	echo "+ (nobody in c) $*"
	out=$(as_nobody c "$@" 2>"$work/stderr") || rc=$?
	echo "exit $rc: $out" | head -c 2000
	echo
	if ((rc == 0)) && jq -e "$filter" <<<"$out" >/dev/null 2>&1; then
		ok "$desc"
	else
		bad "$desc: exit $rc, stderr $(<"$work/stderr")"
	fi
}
[[ $(c sysctl -n net.ipv4.ping_group_range) == $'1\t0' ]] || bad "ping_group_range in c is not '1 0'"
expect "topology: path MTU 1400 over IPv4" sanity_pmtu c "$T4" 1400
expect "topology: path MTU 1400 over IPv6" sanity_pmtu c "$T6" 1400
hop4=$(chain_limiting_hop4) hop6=$(chain_limiting_hop6)
check_run "nobody, icmp over IPv4: 1400 from $hop4 by raw socket" \
	".pmtu == 1400 and .method == \"icmp\" and .limiting_hop == \"$hop4\"" \
	/usr/bin/pmtu --json --no-cache "$T4"
check_run "nobody, icmp over IPv6: 1400 from $hop6 by raw socket" \
	".pmtu == 1400 and .method == \"icmp\" and .limiting_hop == \"$hop6\"" \
	/usr/bin/pmtu --json --no-cache "$T6"
check_run "nobody, tcp (raw sockets only): 1400" \
	'.pmtu == 1400 and .method == "tcp"' \
	/usr/bin/pmtu --json --no-cache --proto tcp "$T4"
check_run "nobody: pmtu version says CAP_NET_RAW is effective" \
	'.cap_net_raw == true and .ping_group_admitted == false and ([.methods[] | select(.method == "icmp")][0].usable == true)' \
	/usr/bin/pmtu version --json
# The control: the same binary without the file capability.
cp /usr/bin/pmtu "$work/pmtu-nocap"
chmod 755 "$work/pmtu-nocap"
check_run "nobody, a copy without the capability: udp-recverr, still 1400" \
	'.pmtu == 1400 and .method == "udp-recverr"' \
	"$work/pmtu-nocap" --json --no-cache "$T4"

# 5. The version, the man page, the completion.
echo "+ (nobody in c) pmtu --version"
vout=$(as_nobody c /usr/bin/pmtu --version)
echo "$vout"
v=$(head -n1 <<<"$vout")
expect "pmtu --version says 'pmtu $version' (it says '$v')" test "$v" = "pmtu $version"
man_path=$(man -w pmtu 2>&1) || true
echo "+ man -w pmtu: $man_path"
expect "man -w pmtu is /usr/share/man/man8/pmtu.8.gz" test "$man_path" = /usr/share/man/man8/pmtu.8.gz
if man -l "$man_path" 2>/dev/null | grep -q -- '--max-size'; then ok "man pmtu renders"; else bad "man pmtu does not render"; fi
expect "bash completion parses" bash -n /usr/share/bash-completion/completions/pmtu
expect "zsh completion installed" test -s /usr/share/zsh/vendor-completions/_pmtu
expect "copyright and README installed" test -s /usr/share/doc/pmtu/copyright -a -s /usr/share/doc/pmtu/README.md.gz

# 6. Purge, and nothing of it is left.
echo "+ dpkg --purge pmtu"
dpkg --purge pmtu
installed=0
left=()
while IFS= read -r f; do
	[[ -n $f && ! -d $f ]] || continue
	[[ -e $f || -L $f ]] && left+=("$f")
done <<<"$files"
for f in /usr/bin/pmtu /usr/share/man/man8/pmtu.8.gz /usr/share/bash-completion/completions/pmtu \
	/usr/share/zsh/vendor-completions/_pmtu /usr/share/doc/pmtu /usr/share/lintian/overrides/pmtu; do
	[[ -e $f ]] && left+=("$f")
done
status=$(dpkg-query -W -f='${db:Status-Status}' pmtu 2>/dev/null || echo not-installed)
if ((${#left[@]} == 0)) && [[ $status == not-installed ]] && ! man -w pmtu >/dev/null 2>&1; then
	ok "purged: none of its $(wc -l <<<"$files") paths is left, dpkg says $status"
else
	bad "after purge: status $status, left: ${left[*]}"
fi

echo "package-test: $passed passed, $failed failed"
((failed == 0))
