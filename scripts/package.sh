#!/usr/bin/env bash
#
# package.sh: build a release of pmtu for Linux: a static binary and a
# Debian package holding it, its man page pmtu(8), bash and zsh completion,
# the README, the example Prometheus files (examples/*.yml, when there are
# any) and a lintian override. The package's postinst gives /usr/bin/pmtu
# the file capability cap_net_raw+ep (with setcap, from libcap2-bin, which it
# recommends); without setcap the package still installs and says how to run
# pmtu without privileges.
#
#     scripts/package.sh                      dist/pmtu_VERSION_ARCH.deb and dist/pmtu
#     VERSION=1.2.0 scripts/package.sh        stamp this version
#     OUT=/some/dir GOARCH=arm64 scripts/package.sh
#
# VERSION defaults to the tag vX.Y.Z at HEAD, without its "v" (git describe),
# else 0.0.0~gitYYYYMMDD.COMMIT from HEAD; COMMIT and DATE (the commit's
# time, UTC) are stamped too, and every file in the package is dated DATE,
# so two builds of one commit with one Go are the same bytes. Prints the
# .deb's path on its last line. Needs go, git, dpkg-deb and gzip; not root.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

OUT=${OUT:-dist}
GOARCH=${GOARCH:-$(go env GOARCH)}
MAINTAINER=${MAINTAINER:-pmtu maintainers <pmtu@example.org>}
MODULE=$(go list -m)

die() {
	echo "package.sh: $*" >&2
	exit 1
}

for tool in go dpkg-deb gzip; do
	command -v "$tool" >/dev/null || die "$tool is missing (scripts/deps.sh installs what the tests need)"
done

# What is being built: version, commit, date.
COMMIT=${COMMIT:-unknown}
DATE=${DATE:-}
if git rev-parse --git-dir >/dev/null 2>&1; then
	COMMIT=$(git rev-parse HEAD)
	if [[ -n $(git status --porcelain --untracked-files=no) ]]; then
		COMMIT+=-dirty
	fi
	DATE=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ)
	if [[ -z ${VERSION:-} ]]; then
		if tag=$(git describe --tags --match 'v[0-9]*' --abbrev=0 2>/dev/null) &&
			[[ $(git rev-list -n1 "$tag") == $(git rev-parse HEAD) ]]; then
			VERSION=${tag#v}
		else
			VERSION=0.0.0~git$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d).$(git rev-parse --short=7 HEAD)
		fi
	fi
fi
[[ -n $DATE ]] || DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
VERSION=${VERSION:-0.0.0}
# Debian's rules for a native package's version: a digit first, then
# letters, digits and . + ~ only.
[[ $VERSION =~ ^[0-9][A-Za-z0-9.+~]*$ ]] || die "VERSION '$VERSION' is not a Debian version (digits first, then [A-Za-z0-9.+~])"

case $GOARCH in
amd64 | arm64 | riscv64 | ppc64le | s390x) ARCH=$GOARCH ;;
386) ARCH=i386 ;;
arm) ARCH=armhf ;;
*) die "no Debian architecture for GOARCH=$GOARCH" ;;
esac

stage=$(mktemp -d "${TMPDIR:-/tmp}/pmtu-package.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root=$stage/root
doc=$root/usr/share/doc/pmtu
mkdir -p "$root/DEBIAN" "$root/usr/bin" "$root/usr/share/man/man8" \
	"$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
	"$root/usr/share/lintian/overrides" "$doc"

# The binary: static (no cgo: Go's own resolver), no file paths of this
# machine, no symbols (lintian's unstripped-binary-or-object), stamped.
# urfave_cli_no_docs leaves out urfave/cli's markdown renderer, which pmtu
# does not use.
x="$MODULE/internal/buildinfo"
echo "package.sh: pmtu $VERSION ($COMMIT, $DATE) for linux/$GOARCH"
CGO_ENABLED=0 GOOS=linux GOARCH=$GOARCH go build -trimpath -buildvcs=false -tags urfave_cli_no_docs \
	-ldflags "-s -w -X $x.version=$VERSION -X $x.commit=$COMMIT -X $x.date=$DATE" \
	-o "$stage/pmtu" ./cmd/pmtu
install -m 755 "$stage/pmtu" "$root/usr/bin/pmtu"

# Man page and completions come from the flag definitions, printed by a
# build for this machine (the packaged binary may be for another).
CGO_ENABLED=0 go build -trimpath -buildvcs=false \
	-ldflags "-X $x.version=$VERSION -X $x.commit=$COMMIT -X $x.date=$DATE" \
	-o "$stage/pmtu-host" ./cmd/pmtu
"$stage/pmtu-host" gendoc man | gzip -9n >"$root/usr/share/man/man8/pmtu.8.gz"
"$stage/pmtu-host" gendoc bash >"$root/usr/share/bash-completion/completions/pmtu"
"$stage/pmtu-host" gendoc zsh >"$root/usr/share/zsh/vendor-completions/_pmtu"

# Documentation. Debian policy 12.3: compress what is over 4 kB.
gzip -9n <README.md >"$doc/README.md.gz"
shopt -s nullglob
examples=(examples/*.yml)
shopt -u nullglob
if ((${#examples[@]})); then
	mkdir -p "$doc/examples"
	install -m 644 "${examples[@]}" "$doc/examples/"
fi

changelog_date=$(date -u -R -d "$DATE")
gzip -9n >"$doc/changelog.gz" <<-EOT
	pmtu ($VERSION) unstable; urgency=medium

	  * Built from commit $COMMIT.

	 -- $MAINTAINER  $changelog_date
EOT

# copyright: pmtu's own terms, then those of every module linked into the
# binary (as "go version -m" lists them), with their license texts.
{
	echo "pmtu, built from $MODULE at commit $COMMIT."
	echo
	if [[ -f LICENSE ]]; then
		cat LICENSE
	else
		echo "The pmtu sources carry no license file yet."
	fi
	echo
	echo "The binary /usr/bin/pmtu is statically linked with Go's standard library"
	echo "($(go env GOVERSION)) and these modules, whose licenses follow:"
	echo
	deps=$(go version -m "$stage/pmtu" | awk '$1 == "dep" {print $2 "@" $3}')
	echo "std@$(go env GOVERSION)"
	echo "$deps"
	echo
	echo "-- Go standard library --"
	cat "$(go env GOROOT)/LICENSE"
	for d in $deps; do
		dir=$(go list -m -f '{{.Dir}}' "$d")
		lic=$(find "$dir" -maxdepth 1 -iname 'LICENSE*' -o -maxdepth 1 -iname 'COPYING*' | head -n1)
		[[ -n $lic ]] || die "no license file in module $d"
		echo
		echo "-- $d --"
		if grep -q 'Apache License' "$lic" && grep -q 'Version 2.0' "$lic" && grep -q 'TERMS AND CONDITIONS' "$lic"; then
			# Debian policy 12.5: refer to the common copy of a license
			# Debian ships rather than repeat its full text.
			echo "Licensed under the Apache License, Version 2.0. On Debian systems"
			echo "the full text is in /usr/share/common-licenses/Apache-2.0."
		else
			cat "$lic"
		fi
	done
} >"$doc/copyright"

# lintian reports every static binary; pmtu is static on purpose.
cat >"$root/usr/share/lintian/overrides/pmtu" <<-'EOT'
	# pmtu is a Go program built with CGO_ENABLED=0 so that it runs on any
	# Linux without the C library's resolver or loader; static on purpose.
	pmtu: statically-linked-binary [usr/bin/pmtu]
EOT

install -m 755 /dev/stdin "$root/DEBIAN/postinst" <<-'EOT'
	#!/bin/sh
	# Give pmtu raw sockets (CAP_NET_RAW) for every user, as iputils-ping
	# does for ping. Without setcap pmtu still works unprivileged.
	set -e
	if [ "$1" = configure ]; then
		if command -v setcap >/dev/null 2>&1 && setcap cap_net_raw+ep /usr/bin/pmtu; then
			:
		else
			echo "pmtu: could not give /usr/bin/pmtu CAP_NET_RAW (install libcap2-bin, then run: setcap cap_net_raw+ep /usr/bin/pmtu)." >&2
			echo "pmtu: until then it works without privilege (UDP with IP_RECVERR, or ICMP datagram sockets where net.ipv4.ping_group_range allows); 'pmtu version' says which methods work." >&2
		fi
	fi
	exit 0
EOT

installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<-EOT
	Package: pmtu
	Version: $VERSION
	Architecture: $ARCH
	Maintainer: $MAINTAINER
	Installed-Size: $installed_size
	Recommends: libcap2-bin
	Section: net
	Priority: optional
	Description: find the path MTU to a host and the hop that limits it
	 pmtu sends probes that may not be fragmented, sized by a search between
	 the protocol's floor and the egress interface MTU, and believes only the
	 ICMP errors that quote a probe it sent. It prints the path MTU, the router
	 that limits it and the TCP MSS to use; pmtu trace shows every hop.
	 .
	 It finds the exact MTU through routers that drop their ICMP (black
	 holes), routers that answer with MTU 0, forged ICMP and packet loss.
	 The package gives /usr/bin/pmtu the CAP_NET_RAW file capability; without
	 it pmtu falls back to methods that need no privilege.
EOT
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"

# Every file dated at DATE, so that the same commit makes the same bytes.
SOURCE_DATE_EPOCH=$(date -u -d "$DATE" +%s)
export SOURCE_DATE_EPOCH
find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
mkdir -p "$OUT"
deb=$OUT/pmtu_${VERSION}_${ARCH}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
cp "$stage/pmtu" "$OUT/pmtu"
echo "$deb"
