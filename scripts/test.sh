#!/usr/bin/env bash
#
# test.sh: run every test. Installs what is missing (scripts/deps.sh), then
# checks formatting (gofmt), go vet, staticcheck, shellcheck on the scripts, the Prometheus examples
# (promtool check config, check rules, test rules), go test -race, each Go
# fuzz target for FUZZTIME (default 100000x: a count of inputs), and, as root, the namespace tests
# (scripts/netns-test.sh), the README's quick start (scripts/demo.sh, as
# typed there) and the Debian package (scripts/package-test.sh). Runs every
# step even after one fails; exits 1 if any failed.
#
#     scripts/test.sh
#     FUZZTIME=1000000x scripts/test.sh
#
# go test and the fuzzing run in a network namespace of their own that has
# only loopback (unshare -n; as a user, unshare -rn where user namespaces
# are allowed): nothing they send can leave the machine. The namespace is
# checked first: if it has a route out, or a link besides lo, the tests do
# not run. Where no namespace can be made those steps fail; they never run
# in the host's. The go command there has no module proxy (GOPROXY=off) and
# no toolchain download (GOTOOLCHAIN=local): the modules are downloaded
# first, here.
#
# Run as a user, it runs itself again with sudo where there is sudo; where
# there is none, it runs the steps that need no root and skips the others.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/root.sh
. scripts/root.sh
as_root scripts/test.sh "$@" ||
	echo "test.sh: not root and no sudo: skipping deps, namespace, quick-start and package steps; for all of them run it as root: su -c scripts/test.sh"

# A count, not a duration: with -fuzztime as a duration, Go 1.26's fuzz
# coordinator can report "context deadline exceeded" at the deadline with
# no failing input when the machine is loaded (golang/go#75804, fixed in
# Go 1.27). A count has no deadline to race.
FUZZTIME=${FUZZTIME:-100000x}
export FUZZTIME # for fuzz, in its namespace
passed=0
failed=0
skipped=0
failures=()

# SKIP is what a step returns when it could not run here at all: it is
# then said to be skipped, not ok.
SKIP=77

# step NAME COMMAND...: run one step, say how it went.
step() {
	local name=$1 rc=0 start=$SECONDS
	shift
	echo "== $name"
	"$@" || rc=$?
	if ((rc == 0)); then
		echo "-- ok $name ($((SECONDS - start))s)"
		passed=$((passed + 1))
	elif ((rc == SKIP)); then
		echo "-- skipped $name"
		skipped=$((skipped + 1))
	else
		echo "-- FAIL $name (exit $rc, $((SECONDS - start))s)"
		failed=$((failed + 1))
		failures+=("$name")
	fi
}

deps() {
	if ((EUID == 0)); then
		scripts/deps.sh
	else
		# Without root only staticcheck can be installed; the namespace
		# tests are skipped below anyway.
		scripts/deps.sh || echo "test.sh: carrying on without root"
	fi
}

gofmt_clean() {
	local out
	out=$(gofmt -l .)
	if [[ -n $out ]]; then
		echo "gofmt -l: these files need gofmt -w:"
		echo "$out"
		return 1
	fi
}

staticcheck_run() {
	local sc
	sc=$(command -v staticcheck || true)
	if [[ -z $sc ]]; then
		local gobin
		gobin=$(go env GOBIN)
		[[ -n $gobin ]] || gobin="$(go env GOPATH)/bin"
		sc="$gobin/staticcheck"
	fi
	[[ -x $sc ]] || { echo "staticcheck is not installed: run scripts/deps.sh"; return 1; }
	"$sc" ./...
}

# check_scripts: shellcheck on the scripts, with the files they source.
check_scripts() {
	command -v shellcheck >/dev/null || { echo "shellcheck is not installed: run scripts/deps.sh"; return 1; }
	shellcheck -x scripts/*.sh scripts/cases/*.sh
}

# promtool_examples: the shipped scrape config and alerts are valid, and
# every alert passes its unit tests (examples/alerts_test.yml).
promtool_examples() {
	command -v promtool >/dev/null || { echo "promtool is not installed: run scripts/deps.sh"; return 1; }
	promtool check config examples/prometheus.yml &&
		promtool check rules examples/alerts.yml &&
		promtool test rules examples/alerts_test.yml &&
		promtool check rules deploy/kubernetes/alerts.yml &&
		promtool test rules deploy/kubernetes/alerts_test.yml &&
		promtool_check_k8s_config
}

# promtool_check_k8s_config: pmtu mesh's kubernetes_sd scrape config.
# Debian's prometheus is built without Kubernetes discovery, and its
# promtool rejects the field; that, and only that, is a skip.
promtool_check_k8s_config() {
	local out
	if out=$(promtool check config deploy/kubernetes/prometheus.yml 2>&1); then
		echo "$out"
	elif [[ $out == *"field kubernetes_sd_configs not found"* ]]; then
		echo "deploy/kubernetes/prometheus.yml: this promtool has no kubernetes_sd (Debian builds it without); not checked"
	else
		echo "$out"
		return 1
	fi
}

# isolated COMMAND...: run COMMAND (a program or an exported function) in
# a fresh network namespace with only loopback, up, once no_way_out agrees,
# with a go command that fetches nothing. Fails, and runs nothing, when no
# namespace can be made.
isolated() {
	local unshare=(unshare -n)
	((EUID == 0)) || unshare=(unshare -rn)
	if ! command -v unshare >/dev/null || ! "${unshare[@]}" true 2>/dev/null; then
		echo "cannot make a network namespace (${unshare[*]}: $("${unshare[@]}" true 2>&1 | head -n 1)):"
		echo "not running the tests, which would run in the host's namespace; run as root, or allow user namespaces"
		return 1
	fi
	# The modules, from the module proxy, here: inside there is none.
	go mod download || return
	local goflags
	goflags="$(go env GOFLAGS) -mod=readonly"
	"${unshare[@]}" -- env PATH="$PATH:/usr/sbin:/sbin" GOPROXY=off GOFLAGS="${goflags# }" GOTOOLCHAIN=local \
		bash -c 'no_way_out && "$@"' isolated "$@"
}

# no_way_out: in the namespace isolated made, bring lo up and check that
# it is the only link and that no route leads off the host: every IPv4 and
# IPv6 route in every table goes over lo, or nowhere (unreachable,
# prohibit, blackhole, throw). Says what it found and fails otherwise.
no_way_out() {
	local links routes bad
	ip link set lo up || { echo "no_way_out: cannot bring lo up"; return 1; }
	links=$(ip -o link show | awk -F': ' '{ print $2 }')
	if [[ $links != lo ]]; then
		echo "no_way_out: the namespace has links besides lo: ${links//$'\n'/ }; not running the tests"
		return 1
	fi
	routes=$(ip -4 route show table all && ip -6 route show table all) || {
		echo "no_way_out: cannot list the routes; not running the tests"
		return 1
	}
	bad=$(awk '$1 ~ /^(unreachable|prohibit|blackhole|throw)$/ { next }
		/ dev lo( |$)/ && !/ via / && !/nexthop/ { next }
		{ print }' <<<"$routes")
	if [[ -n $bad ]]; then
		echo "no_way_out: the namespace has a route out; not running the tests:"
		echo "$bad"
		return 1
	fi
	echo "network namespace: only lo, $(wc -l <<<"$routes") routes, all local"
}
export -f no_way_out

# fuzz: run each fuzz target ("go test -list '^Fuzz'" names them per
# package) for FUZZTIME.
fuzz() {
	local list line pkg n names=() targets=() t rc=0
	# A package that does not build is go test's failure; fuzz the rest.
	list=$(go test -list '^Fuzz' ./... 2>&1) || {
		echo "go test -list failed; fuzzing the packages that built"
		rc=1
	}
	while IFS= read -r line; do
		case $line in
		Fuzz*) names+=("$line") ;;
		ok*)
			pkg=$(awk '{print $2}' <<<"$line")
			for n in "${names[@]}"; do targets+=("$pkg $n"); done
			names=()
			;;
		*) names=() ;;
		esac
	done <<<"$list"
	if ((${#targets[@]} == 0)); then
		echo "no fuzz targets found: skipped"
		return "$rc"
	fi
	for t in "${targets[@]}"; do
		pkg=${t% *} n=${t#* }
		echo "go test -run '^\$' -fuzz '^$n\$' -fuzztime $FUZZTIME $pkg"
		go test -run '^$' -fuzz "^$n\$" -fuzztime "$FUZZTIME" "$pkg" || rc=1
	done
	return "$rc"
}
export -f fuzz

netns() {
	if ((EUID != 0)); then
		echo "not root: namespace tests skipped (run scripts/netns-test.sh as root)"
		return "$SKIP"
	fi
	scripts/netns-test.sh
}

# quickstart: the commands of the README's "Quick start", as typed there.
# test.sh itself is the one running; the others run here.
quickstart() {
	local cmds line n=0
	local fence='```'
	cmds=$(sed -n '/^## Quick start/,/^## /p' README.md | sed -n "/^$fence\$/,/^$fence\$/p" | grep -v "^$fence\$" | sed 's/ *#.*$//')
	if [[ $cmds != $'scripts/demo.sh\nscripts/test.sh' ]]; then
		echo "README's quick start is not 'scripts/demo.sh' then 'scripts/test.sh' but:"
		echo "$cmds"
		return 1
	fi
	if ((EUID != 0)); then
		echo "not root: quick start skipped (the README's commands were checked)"
		return "$SKIP"
	fi
	while IFS= read -r line; do
		[[ $line == scripts/test.sh ]] && continue
		echo "+ $line"
		# shellcheck disable=SC2086 # the command as typed, split as a shell would
		$line </dev/null || return
		n=$((n + 1))
	done <<<"$cmds"
	((n > 0))
}

package() {
	if ((EUID != 0)); then
		echo "not root: package test skipped (run scripts/package-test.sh as root)"
		return "$SKIP"
	fi
	scripts/package-test.sh
}

step deps deps
step gofmt gofmt_clean
step vet go vet ./...
step staticcheck staticcheck_run
step shellcheck check_scripts
step promtool promtool_examples
step "go test" isolated go test -race -timeout 10m ./...
step fuzz isolated fuzz
step netns netns
step "quick start" quickstart
step package package

echo
if ((failed)); then
	echo "test.sh: failed: ${failures[*]}"
fi
echo "steps: $passed passed, $failed failed, $skipped skipped"
((failed == 0))
