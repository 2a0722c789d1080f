#!/usr/bin/env bash
#
# deps.sh: install what the tests need on a Debian machine, as root:
# nftables, jq, iproute2, tracepath, ping, curl, socat (a TCP listener for the
# silent cases), tcpdump (what the isolation case's sink saw, when it saw
# something), shellcheck (test.sh checks the scripts) and prometheus (Debian packages;
# prometheus brings promtool, and the serve case runs a real Prometheus), and for
# the package test lintian, man-db and libcap2-bin, and zsh to check the zsh
# completion, gcc (go test -race needs cgo), dnsmasq (dnsmasq-base: the mesh
# case's DNS) and chromium (the mesh case loads its page headless, the profile
# cases its SVG chart), and staticcheck (go install, pinned). Idempotent: when everything is there it
# does nothing and touches no network; "apt-get update" runs at most once,
# and only when a package is missing.
#
#     scripts/deps.sh           install what is missing
#     scripts/deps.sh -check    only say what is missing (exit 1 if anything)

set -euo pipefail

# staticcheck 2026.2.2 (v0.8.2) is the release built for Go 1.26.
STATICCHECK_VERSION=v0.8.2

check=0
case ${1:-} in
-check | --check) check=1 ;;
"") ;;
*)
	echo "usage: scripts/deps.sh [-check]" >&2
	exit 2
	;;
esac

# command -> Debian package that provides it
declare -A pkg_of=(
	[nft]=nftables
	[jq]=jq
	[ip]=iproute2
	[tracepath]=iputils-tracepath
	[ping]=iputils-ping
	[lintian]=lintian
	[man]=man-db
	[setcap]=libcap2-bin
	[getcap]=libcap2-bin
	[dpkg-deb]=dpkg
	[zsh]=zsh
	[curl]=curl
	[socat]=socat
	[tcpdump]=tcpdump
	[shellcheck]=shellcheck
	[gcc]=gcc
	[promtool]=prometheus
	[prometheus]=prometheus
	[dnsmasq]=dnsmasq-base
	[chromium]=chromium
)

missing_pkgs=()
for cmd in nft jq ip tracepath ping lintian man setcap getcap dpkg-deb zsh curl socat tcpdump shellcheck gcc promtool prometheus dnsmasq chromium; do
	# Look in sbin too: nft and ip live there and a non-root PATH may lack it.
	if ! PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null 2>&1 &&
		[[ " ${missing_pkgs[*]} " != *" ${pkg_of[$cmd]} "* ]]; then
		missing_pkgs+=("${pkg_of[$cmd]}")
	fi
done
# ping must be iputils' (busybox's has no -M do).
if PATH="$PATH:/usr/sbin:/sbin" command -v ping >/dev/null 2>&1 &&
	! ping -V 2>&1 | grep -q iputils; then
	[[ " ${missing_pkgs[*]} " == *" iputils-ping "* ]] || missing_pkgs+=(iputils-ping)
fi

gobin=$(go env GOBIN 2>/dev/null || true)
[[ -n $gobin ]] || gobin="$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin"
need_staticcheck=0
if ! command -v staticcheck >/dev/null 2>&1 && [[ ! -x $gobin/staticcheck ]]; then
	need_staticcheck=1
fi

if ((${#missing_pkgs[@]} == 0 && need_staticcheck == 0)); then
	exit 0
fi

if ((check)); then
	((${#missing_pkgs[@]})) && echo "deps: missing packages: ${missing_pkgs[*]}"
	((need_staticcheck)) && echo "deps: missing staticcheck"
	exit 1
fi

status=0
if ((${#missing_pkgs[@]})); then
	if ((EUID != 0)); then
		echo "deps: missing ${missing_pkgs[*]}; run scripts/deps.sh as root to install them" >&2
		status=1
	else
		echo "deps: installing ${missing_pkgs[*]}"
		export DEBIAN_FRONTEND=noninteractive
		# Wait up to 10 minutes for another apt or dpkg to let go of its lock.
		apt=(apt-get -q -o DPkg::Lock::Timeout=600)
		"${apt[@]}" update
		"${apt[@]}" install -y --no-install-recommends "${missing_pkgs[@]}"
		# Debian's prometheus package enables and starts a server on
		# :9090 where systemd runs. The tests start their own, inside
		# namespaces: stop and disable the packaged one.
		if [[ " ${missing_pkgs[*]} " == *" prometheus "* ]] && [[ -d /run/systemd/system ]]; then
			systemctl disable --now prometheus.service || true
		fi
	fi
fi

if ((need_staticcheck)); then
	echo "deps: go install honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
	go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
fi
exit "$status"
