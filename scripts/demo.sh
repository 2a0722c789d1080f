#!/usr/bin/env bash
#
# demo.sh: run pmtu for real, as root, across four Linux routers in network
# namespaces made for the demo and deleted after it:
#
#   c ──1500── r1 ──1492── r2 ──1400── r3 ──1280── t
#   198.18.1.1                                     198.18.4.2 / 2001:db8:4::2
#
# Builds bin/pmtu, runs "pmtu TARGET" in the client namespace c for the
# target's IPv4 and IPv6 address, then shows "ip route get TARGET" there:
# the path MTU the kernel learned from the routers' ICMP. Extra arguments go
# to pmtu:
#
#     scripts/demo.sh
#     scripts/demo.sh -v
#
# Run as root it needs no sudo; run as a user it runs itself again with sudo,
# where there is sudo.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/root.sh
. scripts/root.sh
as_root scripts/demo.sh "$@" || {
	echo "demo.sh: needs root (it makes network namespaces) and there is no sudo: run it as root, e.g. su -c scripts/demo.sh" >&2
	exit 2
}
# shellcheck source=scripts/netns-lib.sh
. scripts/netns-lib.sh

BIN=${BIN:-bin/pmtu}
work=$(mktemp -d "${TMPDIR:-/tmp}/pmtu-demo.XXXXXX")
trap 'netns_cleanup; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

say() {
	if [[ -t 1 ]]; then
		printf '\n\033[1m$ %s\033[0m\n' "$*"
	else
		printf '\n$ %s\n' "$*"
	fi
}

say go build -o "$BIN" ./cmd/pmtu
mkdir -p "$(dirname "$BIN")"
go build -o "$BIN" ./cmd/pmtu
bin=$(realpath "$BIN")

chain_build 1500 1492 1400 1280
sed -n '5,6s/^#//p' "${BASH_SOURCE[0]}"

rc=0
for dst in "$T4" "$T6"; do
	say pmtu "$@" "$dst"
	# A cache of the demo's own: the demo's addresses stay out of yours.
	c env XDG_CACHE_HOME="$work" HOME="$work" "$bin" "$@" "$dst" || rc=$?
	say ip route get "$dst"
	c ip route get "$dst"
done
exit "$rc"
