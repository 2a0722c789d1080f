# bash completion for pmtu(8), made by "pmtu gendoc bash" from the flags --help prints.

# _pmtu_flags CMD: the flags of command CMD (_pmtu, _pmtu_trace, ...).
_pmtu_flags() {
	case $1 in
	_pmtu) echo '-4 -6 --max-size --min-size --timeout --tries --proto --method --port --flow --interface --source --netns --json --verbose -v --expect --at-least --deadline --no-cache --no-reverse --flows --file -f --parallel --rate --cache-file --version --help -h' ;;
	_pmtu_cache) echo '--help -h' ;;
	_pmtu_cache_list) echo '--json --help -h' ;;
	_pmtu_cache_flush) echo '--help -h' ;;
	_pmtu_trace) echo '-4 -6 --max-size --min-size --timeout --tries --proto --method --port --flow --interface --source --netns --json -n --max-hops --verbose -v --flows --help -h' ;;
	_pmtu_profile) echo '-4 -6 --max-size --min-size --timeout --tries --proto --method --port --flow --interface --source --netns --json --verbose -v --rate --duration --plot --flows --help -h' ;;
	_pmtu_check) echo '-4 -6 --max-size --min-size --timeout --tries --proto --method --port --flow --interface --source --netns --json --max-hops --syn-port --verbose -v --responder --key-file --help -h' ;;
	_pmtu_watch) echo '-4 -6 --max-size --min-size --timeout --tries --proto --method --port --flow --interface --source --netns --interval --json --exit-on-drop --no-reverse --help -h' ;;
	_pmtu_serve) echo '--listen --allow --config --max-concurrent --rate --margin --help -h' ;;
	_pmtu_mesh) echo '--peers --listen --interval --key-file --rate --parallel --help -h' ;;
	_pmtu_version) echo '--json --help -h' ;;
	esac
}

# _pmtu_valued CMD FLAG: whether FLAG of command CMD takes a value.
_pmtu_valued() {
	case $1:$2 in
	_pmtu:--max-size) return 0 ;;
	_pmtu:--min-size) return 0 ;;
	_pmtu:--timeout) return 0 ;;
	_pmtu:--tries) return 0 ;;
	_pmtu:--proto) return 0 ;;
	_pmtu:--method) return 0 ;;
	_pmtu:--port) return 0 ;;
	_pmtu:--flow) return 0 ;;
	_pmtu:--interface) return 0 ;;
	_pmtu:--source) return 0 ;;
	_pmtu:--netns) return 0 ;;
	_pmtu:--expect) return 0 ;;
	_pmtu:--at-least) return 0 ;;
	_pmtu:--deadline) return 0 ;;
	_pmtu:--flows) return 0 ;;
	_pmtu:--file) return 0 ;;
	_pmtu:-f) return 0 ;;
	_pmtu:--parallel) return 0 ;;
	_pmtu:--rate) return 0 ;;
	_pmtu:--cache-file) return 0 ;;
	_pmtu_trace:--max-size) return 0 ;;
	_pmtu_trace:--min-size) return 0 ;;
	_pmtu_trace:--timeout) return 0 ;;
	_pmtu_trace:--tries) return 0 ;;
	_pmtu_trace:--proto) return 0 ;;
	_pmtu_trace:--method) return 0 ;;
	_pmtu_trace:--port) return 0 ;;
	_pmtu_trace:--flow) return 0 ;;
	_pmtu_trace:--interface) return 0 ;;
	_pmtu_trace:--source) return 0 ;;
	_pmtu_trace:--netns) return 0 ;;
	_pmtu_trace:--max-hops) return 0 ;;
	_pmtu_trace:--flows) return 0 ;;
	_pmtu_profile:--max-size) return 0 ;;
	_pmtu_profile:--min-size) return 0 ;;
	_pmtu_profile:--timeout) return 0 ;;
	_pmtu_profile:--tries) return 0 ;;
	_pmtu_profile:--proto) return 0 ;;
	_pmtu_profile:--method) return 0 ;;
	_pmtu_profile:--port) return 0 ;;
	_pmtu_profile:--flow) return 0 ;;
	_pmtu_profile:--interface) return 0 ;;
	_pmtu_profile:--source) return 0 ;;
	_pmtu_profile:--netns) return 0 ;;
	_pmtu_profile:--rate) return 0 ;;
	_pmtu_profile:--duration) return 0 ;;
	_pmtu_profile:--plot) return 0 ;;
	_pmtu_profile:--flows) return 0 ;;
	_pmtu_check:--max-size) return 0 ;;
	_pmtu_check:--min-size) return 0 ;;
	_pmtu_check:--timeout) return 0 ;;
	_pmtu_check:--tries) return 0 ;;
	_pmtu_check:--proto) return 0 ;;
	_pmtu_check:--method) return 0 ;;
	_pmtu_check:--port) return 0 ;;
	_pmtu_check:--flow) return 0 ;;
	_pmtu_check:--interface) return 0 ;;
	_pmtu_check:--source) return 0 ;;
	_pmtu_check:--netns) return 0 ;;
	_pmtu_check:--max-hops) return 0 ;;
	_pmtu_check:--syn-port) return 0 ;;
	_pmtu_check:--responder) return 0 ;;
	_pmtu_check:--key-file) return 0 ;;
	_pmtu_watch:--max-size) return 0 ;;
	_pmtu_watch:--min-size) return 0 ;;
	_pmtu_watch:--timeout) return 0 ;;
	_pmtu_watch:--tries) return 0 ;;
	_pmtu_watch:--proto) return 0 ;;
	_pmtu_watch:--method) return 0 ;;
	_pmtu_watch:--port) return 0 ;;
	_pmtu_watch:--flow) return 0 ;;
	_pmtu_watch:--interface) return 0 ;;
	_pmtu_watch:--source) return 0 ;;
	_pmtu_watch:--netns) return 0 ;;
	_pmtu_watch:--interval) return 0 ;;
	_pmtu_serve:--listen) return 0 ;;
	_pmtu_serve:--allow) return 0 ;;
	_pmtu_serve:--config) return 0 ;;
	_pmtu_serve:--max-concurrent) return 0 ;;
	_pmtu_serve:--rate) return 0 ;;
	_pmtu_serve:--margin) return 0 ;;
	_pmtu_mesh:--peers) return 0 ;;
	_pmtu_mesh:--listen) return 0 ;;
	_pmtu_mesh:--interval) return 0 ;;
	_pmtu_mesh:--key-file) return 0 ;;
	_pmtu_mesh:--rate) return 0 ;;
	_pmtu_mesh:--parallel) return 0 ;;
	esac
	return 1
}

# _pmtu_subs CMD: the subcommands of CMD.
_pmtu_subs() {
	case $1 in
	_pmtu) echo 'cache trace profile check watch serve mesh version' ;;
	_pmtu_cache) echo 'list flush' ;;
	esac
}

_pmtu() {
	local cur prev words cword split
	_init_completion -s || return
	local cmd=_pmtu i word
	for ((i = 1; i < cword; i++)); do
		word=${words[i]}
		case $word in
		-*=*) ;;
		-*) _pmtu_valued "$cmd" "$word" && ((i++)) ;;
		*)
			if [[ " $(_pmtu_subs "$cmd") " == *" $word "* ]]; then
				cmd=${cmd}_$word
			else
				break
			fi
			;;
		esac
	done

	if _pmtu_valued "$cmd" "$prev"; then
		case $prev in
		--cache-file) _filedir ;;
		--interface) _available_interfaces ;;
		--netns) mapfile -t COMPREPLY < <(compgen -W "$(ip netns list 2>/dev/null | awk '{print $1}')" -- "$cur") ;;
		--proto) mapfile -t COMPREPLY < <(compgen -W 'icmp udp tcp quic' -- "$cur") ;;
		--source) _ip_addresses ;;
		esac
		return
	fi
	$split && return

	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_pmtu_flags "$cmd")" -- "$cur")
		return
	fi
	mapfile -t COMPREPLY < <(compgen -W "$(_pmtu_subs "$cmd")" -- "$cur")
	case $cmd in
	_pmtu | _pmtu_cache_flush | _pmtu_trace | _pmtu_profile | _pmtu_check | _pmtu_watch) _known_hosts_real -a -- "$cur" ;;
	esac
} &&
	complete -F _pmtu pmtu
