#!/usr/bin/env bash
#
# test.sh: run every test. Installs what is missing (scripts/deps.sh), then
# checks formatting (gofmt), go vet, staticcheck, go test -race, each Go
# fuzz target for FUZZTIME (default 10s), and, as root, the namespace tests
# (scripts/netns-test.sh). Runs every step even after one fails; exits 1 if
# any failed.
#
#     scripts/test.sh
#     FUZZTIME=1m scripts/test.sh

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

FUZZTIME=${FUZZTIME:-10s}
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

netns() {
	if ((EUID != 0)); then
		echo "not root: namespace tests skipped (run scripts/netns-test.sh as root)"
		return "$SKIP"
	fi
	scripts/netns-test.sh
}

step deps deps
step gofmt gofmt_clean
step vet go vet ./...
step staticcheck staticcheck_run
step "go test" go test -race -timeout 10m ./...
step fuzz fuzz
step netns netns

echo
if ((failed)); then
	echo "test.sh: failed: ${failures[*]}"
fi
echo "steps: $passed passed, $failed failed, $skipped skipped"
((failed == 0))
