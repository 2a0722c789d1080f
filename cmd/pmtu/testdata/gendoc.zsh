#compdef pmtu
# zsh completion for pmtu(8), made by "pmtu gendoc zsh" from the flags --help prints.

_pmtu_netns() {
	local -a ns
	ns=(${(f)"$(ip netns list 2>/dev/null)"})
	compadd - ${ns%% *}
}

_pmtu_version() {
	local curcontext=$curcontext state line ret=1
	typeset -A opt_args
	_arguments -C -s -S \
		'--json[print one JSON object instead of text]' \
		'(--help -h)--help[show help]' \
		'(--help -h)-h[show help]' \
		&& ret=0
	return ret
}

_pmtu_mesh() {
	local curcontext=$curcontext state line ret=1
	typeset -A opt_args
	_arguments -C -s -S \
		'--peers=[the peers\: SPEC is dns\:NAME (every A/AAAA record, e.g. a headless Service), file\:PATH (one address a line, re-read on change) or a comma list]:SPEC: ' \
		'--listen=[serve /metrics, / and the responder on ADDR\:PORT (TCP and UDP); the peers'\'' responders are on the same port]:ADDR\:PORT: ' \
		'--interval=[measure each peer, and resolve the peers again, every D]:D: ' \
		'--key-file=[a FILE holding the mesh'\''s shared key (at least 16 bytes)\: probes and answers carry its HMAC-SHA256, and others get no answer]:FILE: ' \
		'--rate=[send at most N probes a second, all peers together]:N: ' \
		'--parallel=[run at most N searches at once]:N: ' \
		'(--help -h)--help[show help]' \
		'(--help -h)-h[show help]' \
		&& ret=0
	return ret
}

_pmtu_serve() {
	local curcontext=$curcontext state line ret=1
	typeset -A opt_args
	_arguments -C -s -S \
		'--listen=[listen on ADDR (host\:port); the default answers this host only]:ADDR: ' \
		'--allow=[probe only targets in these prefixes (CIDR,...); others get 403]:CIDR,...: ' \
		'--config=[YAML FILE of named modules (modules\: NAME\: {proto, port, family, max_size, min_size, tries, timeout, trace, check}); module=check runs pmtu check, a gauge per finding]:FILE: ' \
		'--max-concurrent=[run at most N searches at once; past it /probe answers 503]:N: ' \
		'--rate=[send at most PPS probes a second, all searches together]:PPS: ' \
		'--margin=[take D off Prometheus'\''s scrape timeout, to leave time for the answer]:D: ' \
		'(--help -h)--help[show help]' \
		'(--help -h)-h[show help]' \
		&& ret=0
	return ret
}

_pmtu_watch() {
	local curcontext=$curcontext state line ret=1
	typeset -A opt_args
	_arguments -C -s -S \
		'-4[use IPv4 only]' \
		'-6[use IPv6 only]' \
		'--max-size=[largest probe, in IP bytes]:value: ' \
		'--min-size=[smallest probe, in IP bytes]:value: ' \
		'--timeout=[how long one probe waits for an answer]:value: ' \
		'--tries=[unanswered probes before a size counts as too big]:value: ' \
		'--proto=[probe with PROTO\: icmp (Echo Requests), udp (datagrams to --port, answered by Port Unreachable), tcp (SYNs to --port answered by SYN-ACK or RST with root; without, connections whose data the peer acknowledges) or quic (QUIC packets of a reserved version to --port, answered by Version Negotiation; 1200 bytes and up)]:PROTO:(icmp udp tcp quic)' \
		'--method=[probe with METHOD only\: icmp, ping-socket, udp, udp-recverr, tcp, tcp-data, quic; it implies its --proto]:METHOD: ' \
		'--port=[destination PORT of udp, tcp and quic probes]:PORT: ' \
		'--flow=[keep every probe on flow ID (1–1024)\: source port 40000+ID for udp and tcp, Echo identifier 40000+ID for icmp, so an ECMP router sends them down the same branch on every run; the cache is not used]:ID: ' \
		'--interface=[send probes out of interface NAME only (SO_BINDTODEVICE)]:NAME:_net_interfaces' \
		'--source=[send probes from address ADDR, one of this host'\''s]:ADDR: ' \
		'--netns=[probe from the network namespace NAME (/run/netns/NAME, or a path), as ip netns exec NAME pmtu would; needs root]:NAME:_pmtu_netns' \
		'--interval=[measure every D]:D: ' \
		'--json[print JSON Lines, one object per line printed]' \
		'--exit-on-drop[exit 3 the first time a path MTU falls]' \
		'--no-reverse[send no UDP probes to tell which way an ICMP black hole lies (black_hole_direction)]' \
		'(--help -h)--help[show help]' \
		'(--help -h)-h[show help]' \
		'1:host:_hosts' && ret=0
	return ret
}

_pmtu_check() {
	local curcontext=$curcontext state line ret=1
	typeset -A opt_args
	_arguments -C -s -S \
		'-4[use IPv4 only]' \
		'-6[use IPv6 only]' \
		'--max-size=[largest probe, in IP bytes]:value: ' \
		'--min-size=[smallest probe, in IP bytes]:value: ' \
		'--timeout=[how long one probe waits for an answer]:value: ' \
		'--tries=[unanswered probes before a size counts as too big]:value: ' \
		'--proto=[probe with PROTO\: icmp (Echo Requests), udp (datagrams to --port, answered by Port Unreachable), tcp (SYNs to --port answered by SYN-ACK or RST with root; without, connections whose data the peer acknowledges) or quic (QUIC packets of a reserved version to --port, answered by Version Negotiation; 1200 bytes and up)]:PROTO:(icmp udp tcp quic)' \
		'--method=[probe with METHOD only\: icmp, ping-socket, udp, udp-recverr, tcp, tcp-data, quic; it implies its --proto]:METHOD: ' \
		'--port=[destination PORT of udp, tcp and quic probes]:PORT: ' \
		'--flow=[keep every probe on flow ID (1–1024)\: source port 40000+ID for udp and tcp, Echo identifier 40000+ID for icmp, so an ECMP router sends them down the same branch on every run; the cache is not used]:ID: ' \
		'--interface=[send probes out of interface NAME only (SO_BINDTODEVICE)]:NAME:_net_interfaces' \
		'--source=[send probes from address ADDR, one of this host'\''s]:ADDR: ' \
		'--netns=[probe from the network namespace NAME (/run/netns/NAME, or a path), as ip netns exec NAME pmtu would; needs root]:NAME:_pmtu_netns' \
		'--json[print one JSON object instead of text]' \
		'--max-hops=[the largest hop limit of the SYNs (1–255)]:value: ' \
		'--syn-port=[destination PORT of the SYNs; something must listen there for the target'\''s SYN-ACK MSS]:PORT: ' \
		'(--verbose -v)--verbose[print every packet the checks sent and what came back]' \
		'(--verbose -v)-v[print every packet the checks sent and what came back]' \
		'--responder=[ask the pmtu mesh responder at ADDR\:PORT to send IPv6 extension headers back (default\: the target, port 10151); this host must be one of its peers]:ADDR\:PORT: ' \
		'--key-file=[a FILE holding the responder'\''s mesh key (pmtu mesh --key-file), if it is keyed]:FILE: ' \
		'(--help -h)--help[show help]' \
		'(--help -h)-h[show help]' \
		'1:host:_hosts' && ret=0
	return ret
}

_pmtu_profile() {
	local curcontext=$curcontext state line ret=1
	typeset -A opt_args
	_arguments -C -s -S \
		'-4[use IPv4 only]' \
		'-6[use IPv6 only]' \
		'--max-size=[largest probe, in IP bytes]:value: ' \
		'--min-size=[smallest probe, in IP bytes]:value: ' \
		'--timeout=[how long one probe waits for an answer]:value: ' \
		'--tries=[unanswered probes before a size counts as too big]:value: ' \
		'--proto=[probe with PROTO\: icmp (Echo Requests), udp (datagrams to --port, answered by Port Unreachable), tcp (SYNs to --port answered by SYN-ACK or RST with root; without, connections whose data the peer acknowledges) or quic (QUIC packets of a reserved version to --port, answered by Version Negotiation; 1200 bytes and up)]:PROTO:(icmp udp tcp quic)' \
		'--method=[probe with METHOD only\: icmp, ping-socket, udp, udp-recverr, tcp, tcp-data, quic; it implies its --proto]:METHOD: ' \
		'--port=[destination PORT of udp, tcp and quic probes]:PORT: ' \
		'--flow=[keep every probe on flow ID (1–1024)\: source port 40000+ID for udp and tcp, Echo identifier 40000+ID for icmp, so an ECMP router sends them down the same branch on every run; the cache is not used]:ID: ' \
		'--interface=[send probes out of interface NAME only (SO_BINDTODEVICE)]:NAME:_net_interfaces' \
		'--source=[send probes from address ADDR, one of this host'\''s]:ADDR: ' \
		'--netns=[probe from the network namespace NAME (/run/netns/NAME, or a path), as ip netns exec NAME pmtu would; needs root]:NAME:_pmtu_netns' \
		'--json[print one JSON object instead of text]' \
		'(--verbose -v)--verbose[print every size probed, and every probe answer]' \
		'(--verbose -v)-v[print every size probed, and every probe answer]' \
		'--rate=[send at most PPS probes a second]:PPS: ' \
		'--duration=[profile for at most D (the search before it not counted)]:D: ' \
		'--plot=[write the loss-by-size chart to FILE.svg]:FILE: ' \
		'--flows=[profile N flows at once (1–1024) and show which ECMP branch loses which sizes; needs --proto udp or tcp]:N: ' \
		'(--help -h)--help[show help]' \
		'(--help -h)-h[show help]' \
		'1:host:_hosts' && ret=0
	return ret
}

_pmtu_trace() {
	local curcontext=$curcontext state line ret=1
	typeset -A opt_args
	_arguments -C -s -S \
		'-4[use IPv4 only]' \
		'-6[use IPv6 only]' \
		'--max-size=[largest probe, in IP bytes]:value: ' \
		'--min-size=[smallest probe, in IP bytes]:value: ' \
		'--timeout=[how long one probe waits for an answer]:value: ' \
		'--tries=[unanswered probes before a size counts as too big]:value: ' \
		'--proto=[probe with PROTO\: icmp (Echo Requests), udp (datagrams to --port, answered by Port Unreachable), tcp (SYNs to --port answered by SYN-ACK or RST with root; without, connections whose data the peer acknowledges) or quic (QUIC packets of a reserved version to --port, answered by Version Negotiation; 1200 bytes and up)]:PROTO:(icmp udp tcp quic)' \
		'--method=[probe with METHOD only\: icmp, ping-socket, udp, udp-recverr, tcp, tcp-data, quic; it implies its --proto]:METHOD: ' \
		'--port=[destination PORT of udp, tcp and quic probes]:PORT: ' \
		'--flow=[keep every probe on flow ID (1–1024)\: source port 40000+ID for udp and tcp, Echo identifier 40000+ID for icmp, so an ECMP router sends them down the same branch on every run; the cache is not used]:ID: ' \
		'--interface=[send probes out of interface NAME only (SO_BINDTODEVICE)]:NAME:_net_interfaces' \
		'--source=[send probes from address ADDR, one of this host'\''s]:ADDR: ' \
		'--netns=[probe from the network namespace NAME (/run/netns/NAME, or a path), as ip netns exec NAME pmtu would; needs root]:NAME:_pmtu_netns' \
		'--json[print one JSON object instead of text]' \
		'-n[print addresses only, without looking up their names]' \
		'--max-hops=[the largest hop limit probed (1–255)]:value: ' \
		'(--verbose -v)--verbose[print every probe answer, and what was ignored and why]' \
		'(--verbose -v)-v[print every probe answer, and what was ignored and why]' \
		'--flows=[trace on N flows at once (1–1024; flows 1..N, see --flow) and show, per hop, every address seen and the path MTU on each ECMP branch; needs --proto udp or tcp]:N: ' \
		'(--help -h)--help[show help]' \
		'(--help -h)-h[show help]' \
		'1:host:_hosts' && ret=0
	return ret
}

_pmtu_cache_flush() {
	local curcontext=$curcontext state line ret=1
	typeset -A opt_args
	_arguments -C -s -S \
		'(--help -h)--help[show help]' \
		'(--help -h)-h[show help]' \
		'1:host:_hosts' && ret=0
	return ret
}

_pmtu_cache_list() {
	local curcontext=$curcontext state line ret=1
	typeset -A opt_args
	_arguments -C -s -S \
		'--json[print a JSON array instead of a table]' \
		'(--help -h)--help[show help]' \
		'(--help -h)-h[show help]' \
		&& ret=0
	return ret
}

_pmtu_cache() {
	local curcontext=$curcontext state line ret=1
	typeset -A opt_args
	_arguments -C -s -S \
		'(--help -h)--help[show help]' \
		'(--help -h)-h[show help]' \
		'1: :->first' \
		'*:: :->args' && ret=0
	case $state in
	first) _alternative 'commands:command:((list\:"show the cached path MTUs and the kernel'\''s view of each destination" flush\:"remove the entries for HOST, or every entry"))' && ret=0 ;;
	args)
		curcontext=${curcontext%:*:*}:pmtu-cache-$line[1]:
		case $line[1] in
		list) _pmtu_cache_list && ret=0 ;;
		flush) _pmtu_cache_flush && ret=0 ;;
		esac
		;;
	esac
	return ret
}

_pmtu() {
	local curcontext=$curcontext state line ret=1
	typeset -A opt_args
	_arguments -C -s -S \
		'-4[use IPv4 only]' \
		'-6[use IPv6 only]' \
		'--max-size=[largest probe, in IP bytes]:value: ' \
		'--min-size=[smallest probe, in IP bytes]:value: ' \
		'--timeout=[how long one probe waits for an answer]:value: ' \
		'--tries=[unanswered probes before a size counts as too big]:value: ' \
		'--proto=[probe with PROTO\: icmp (Echo Requests), udp (datagrams to --port, answered by Port Unreachable), tcp (SYNs to --port answered by SYN-ACK or RST with root; without, connections whose data the peer acknowledges) or quic (QUIC packets of a reserved version to --port, answered by Version Negotiation; 1200 bytes and up)]:PROTO:(icmp udp tcp quic)' \
		'--method=[probe with METHOD only\: icmp, ping-socket, udp, udp-recverr, tcp, tcp-data, quic; it implies its --proto]:METHOD: ' \
		'--port=[destination PORT of udp, tcp and quic probes]:PORT: ' \
		'--flow=[keep every probe on flow ID (1–1024)\: source port 40000+ID for udp and tcp, Echo identifier 40000+ID for icmp, so an ECMP router sends them down the same branch on every run; the cache is not used]:ID: ' \
		'--interface=[send probes out of interface NAME only (SO_BINDTODEVICE)]:NAME:_net_interfaces' \
		'--source=[send probes from address ADDR, one of this host'\''s]:ADDR: ' \
		'--netns=[probe from the network namespace NAME (/run/netns/NAME, or a path), as ip netns exec NAME pmtu would; needs root]:NAME:_pmtu_netns' \
		'--json[print one JSON object instead of text (with many hosts\: one per host, a line each)]' \
		'(--verbose -v)--verbose[print every probe answer, and what was ignored and why]' \
		'(--verbose -v)-v[print every probe answer, and what was ignored and why]' \
		'--expect=[exit 3 unless the path MTU is exactly N]:N: ' \
		'--at-least=[exit 3 if the path MTU is below N]:N: ' \
		'--deadline=[give up after D in all, printing what was proved]:D: ' \
		'--no-cache[probe even if the cache has a fresh answer (and update it)]' \
		'--no-reverse[send no UDP probes to tell which way an ICMP black hole lies (black_hole_direction)]' \
		'--flows=[search on N flows at once (1–1024; flows 1..N, see --flow) and report the path MTU of every ECMP branch they took; needs --proto udp or tcp (routers hash ICMP Echo by addresses only); the cache is not used]:N: ' \
		'(--file -f)--file=[read the hosts from FILE, one a line (# comments; - is stdin)]:FILE: ' \
		'(--file -f)-f[read the hosts from FILE, one a line (# comments; - is stdin)]:FILE: ' \
		'--parallel=[run N searches at once (with many hosts)]:N: ' \
		'--rate=[send at most PPS probes a second, all searches together (with many hosts)]:PPS: ' \
		'--cache-file=[the cache FILE]:FILE:_files' \
		'--version[print the version, and which probe methods work here and why (as pmtu version)]' \
		'(--help -h)--help[show help]' \
		'(--help -h)-h[show help]' \
		'1: :->first' \
		'*:: :->args' && ret=0
	case $state in
	first) _alternative 'commands:command:((cache\:"show or clear the path MTUs pmtu remembers" trace\:"show every hop to HOST with the path MTU up to it, hops probed side by side" profile\:"measure loss by packet size to HOST\: windows of lost sizes, a brownout above a size, the largest safe size" check\:"look for middleboxes that break big packets\: MSS clamping located to its hop, fragments and IPv6 extension headers each way" watch\:"measure the path MTU to each HOST every --interval and print each change" serve\:"run a Prometheus exporter\: GET /probe?target=HOST measures the path MTU to HOST afresh" mesh\:"run one agent of a mesh\: measure the path MTU to every peer, answer the peers'\'' probes, serve /metrics" version\:"print the version, and which probe methods work here and why"))' 'hosts:host:_hosts' && ret=0 ;;
	args)
		curcontext=${curcontext%:*:*}:pmtu-$line[1]:
		case $line[1] in
		cache) _pmtu_cache && ret=0 ;;
		trace) _pmtu_trace && ret=0 ;;
		profile) _pmtu_profile && ret=0 ;;
		check) _pmtu_check && ret=0 ;;
		watch) _pmtu_watch && ret=0 ;;
		serve) _pmtu_serve && ret=0 ;;
		mesh) _pmtu_mesh && ret=0 ;;
		version) _pmtu_version && ret=0 ;;
		esac
		;;
	esac
	return ret
}

_pmtu "$@"
