# shellcheck shell=bash
#
# root.sh: for scripts that need root. Source it from the repository's
# root directory:
#
#     . scripts/root.sh
#     as_root scripts/demo.sh "$@" || { echo "demo.sh: needs root: run it as root (su -c scripts/demo.sh)" >&2; exit 2; }
#
# as_root SCRIPT ARGS...: return at once when already root. Otherwise, when
# sudo exists, run SCRIPT again through sudo in place of this process,
# keeping PATH (sudo's secure_path would lose go) and the variables the
# scripts read; root's own Go caches are used, so the user's are never
# written as root. Without sudo, return 1: the caller says what to run.
as_root() {
	((EUID == 0)) && return 0
	command -v sudo >/dev/null 2>&1 || return 1
	local script=$1 v
	shift
	local keep=("PATH=$PATH")
	for v in BIN FUZZTIME TMPDIR VERSION OUT GOFLAGS GOPROXY GOSUMDB GONOSUMDB GOPRIVATE GOTOOLCHAIN; do
		[[ -v $v ]] && keep+=("$v=${!v}")
	done
	echo "${script##*/}: needs root; running it with sudo" >&2
	exec sudo -- env "${keep[@]}" "$PWD/$script" "$@"
}
