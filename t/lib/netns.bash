# Several hosts on one machine, for the multi-host test: network
# namespaces made by the test, joined by veth pairs to a bridge in a
# switch namespace of their own.  Their addresses (10.77.0.0/16) exist only
# inside these namespaces: no namespace has a route to anything else, and
# the machine's own namespace gets no address, so no packet leaves them.
#
#   netns_probe            fails, saying why, where `ip netns` is refused
#   netns_require          skips the test then
#   netns_init             the switch and its bridge (names unique per run)
#   netns_host NAME ADDR.. a host NAME joined to the bridge, ADDRs /16
#   netns_exec NAME CMD..  runs CMD in host NAME
#   netns_start NAME LOG CMD..  CMD in the background, tracked by pid
#   netns_stop_pids FILE   stops the pids in FILE and their descendants
#   netns_sweep NAME..     stops what is left running in hosts NAME
#   netns_teardown         stops what netns_start started (by pid), then
#                          what is left in each namespace, deletes every
#                          namespace made (their veths go with them),
#                          then fcg_teardown
#
# Sourced after t/helper.bash, which gives T, fcg_track and fcg_teardown.
# Every namespace is written to $T/netns before it is made, so a setup
# that fails half way is still torn down.

# One prefix for the whole file: netns_init exports it, so each test (its
# own process) names the same namespaces.
NETNS_PREFIX="${NETNS_PREFIX:-fcg$$}"

# netns_probe: whether this process may make namespaces and veth pairs
# (root with CAP_NET_ADMIN, and a kernel that has them); when not, prints
# the reason and fails.  setup_file cannot skip (bats 1.8), so it keeps
# the reason in NETNS_SKIP and each test's setup calls netns_require.
netns_probe() {
	local probe="$NETNS_PREFIX-probe" err
	if ! command -v ip >/dev/null 2>&1; then
		echo "ip netns is not permitted here: no ip command (iproute2)"
		return 1
	fi
	if ! err="$(ip netns add "$probe" 2>&1)"; then
		echo "ip netns is not permitted here (needs root and CAP_NET_ADMIN): $err"
		return 1
	fi
	if ! err="$(ip -n "$probe" link add p0 type veth peer name p1 2>&1)"; then
		ip netns del "$probe" 2>/dev/null
		echo "veth pairs are not permitted here (needs CAP_NET_ADMIN): $err"
		return 1
	fi
	ip netns del "$probe"
}

# netns_require: skips the test when netns_probe failed in setup_file.
netns_require() {
	[ -z "${NETNS_SKIP:-}" ] || skip "$NETNS_SKIP"
}

netns_name() { echo "$NETNS_PREFIX-$1"; }

# netns_init: the switch namespace with bridge br0 (up, no address).
netns_init() {
	local sw
	export NETNS_PREFIX
	sw="$(netns_name sw)"
	echo "$sw" >>"$T/netns"
	ip netns add "$sw" || return 1
	ip -n "$sw" link set lo up &&
		ip -n "$sw" link add br0 type bridge &&
		ip -n "$sw" link set br0 up
}

# netns_host NAME ADDR...: namespace NAME with lo up and eth0, one end of
# a veth pair whose other end (named NAME) is a port of the switch's
# bridge; eth0 gets each ADDR as ADDR/16.  Both ends are made inside the
# namespaces, never in the machine's own.
netns_host() {
	local name="$1" ns sw a
	shift
	ns="$(netns_name "$name")"
	sw="$(netns_name sw)"
	echo "$ns" >>"$T/netns"
	ip netns add "$ns" || return 1
	ip -n "$ns" link set lo up || return 1
	ip -n "$sw" link add "$name" type veth peer name eth0 netns "$ns" ||
		return 1
	ip -n "$sw" link set "$name" master br0 up || return 1
	for a in "$@"; do
		ip -n "$ns" addr add "$a/16" dev eth0 nodad || return 1
	done
	ip -n "$ns" link set eth0 up
}

netns_exec() {
	local name="$1"
	shift
	ip netns exec "$(netns_name "$name")" "$@"
}

# netns_start NAME LOG CMD...: CMD in host NAME in the background, output
# appended to LOG; its pid (ip netns exec execs CMD, so it is CMD's) is
# recorded in $NETNS_PIDS ($T/pids unless set) and left in NETNS_PID.
netns_start() {
	local name="$1" log="$2"
	shift 2
	ip netns exec "$(netns_name "$name")" "$@" >>"$log" 2>&1 &
	NETNS_PID=$!
	echo "$NETNS_PID" >>"${NETNS_PIDS:-$T/pids}"
}

# netns_proc PID: "PID:START" for PID and each of its descendants alive
# now, START being the process's start time (/proc/PID/stat field 22), so
# a pid that is reused later is not mistaken for it.
netns_proc() {
	local pid="$1" kid start
	start="$(awk '{ print $22 }' "/proc/$pid/stat" 2>/dev/null)" || return 0
	[ -n "$start" ] || return 0
	echo "$pid:$start"
	for kid in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
		netns_proc "$kid"
	done
}

# netns_alive PID:START: that process is still running.
netns_alive() {
	local pid="${1%%:*}" start
	start="$(awk '{ print $22 }' "/proc/$pid/stat" 2>/dev/null)" &&
		[ "$start" = "${1#*:}" ] && [ "$(awk '{ print $3 }' \
		    "/proc/$pid/stat" 2>/dev/null)" != Z ]
}

# netns_stop_pids FILE: TERM to each pid in FILE, wait (5 s at most) for
# them and their descendants, then KILL what is left of both; empties
# FILE.  The descendants matter: a gateway's workers outlive a master
# that is killed, and would hold the test's output open.
netns_stop_pids() {
	local f="$1" pid procs p alive
	[ -f "$f" ] || return 0
	procs="$(while read -r pid; do netns_proc "$pid"; done <"$f")"
	while read -r pid; do
		kill -TERM "$pid" 2>/dev/null || true
	done <"$f"
	for _ in $(seq 1 50); do
		alive=0
		for p in $procs; do
			netns_alive "$p" && alive=1 && break
		done
		[ "$alive" = 0 ] && break
		sleep 0.1
	done
	# What is left, with the children it has now (a master may have
	# started a worker meanwhile).
	procs="$(for p in $procs; do
		netns_alive "$p" && netns_proc "${p%%:*}"
	done)"
	for p in $procs; do
		kill -KILL "${p%%:*}" 2>/dev/null
	done
	: >"$f"
}

# netns_sweep NAME...: stops whatever still runs in hosts NAME (ip netns
# pids lists them; only this test starts processes there): a child whose
# parent died before netns_stop_pids saw it, such as the workers of a
# master that crashed.  Says which on stderr.
netns_sweep() {
	local name ns pids left="" pid alive
	for name in "$@"; do
		ns="$(netns_name "$name")"
		pids="$(ip netns pids "$ns" 2>/dev/null)" || continue
		[ -n "$pids" ] || continue
		echo "# left running in $name: $(echo $pids)" >&2
		left="$left $pids"
	done
	[ -n "$left" ] || return 0
	for pid in $left; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for _ in $(seq 1 30); do
		alive=0
		for pid in $left; do
			kill -0 "$pid" 2>/dev/null && alive=1
		done
		[ "$alive" = 0 ] && return 0
		sleep 0.1
	done
	for pid in $left; do
		kill -KILL "$pid" 2>/dev/null || true
	done
}

netns_teardown() {
	local ns
	[ -n "${T:-}" ] || return 0
	netns_stop_pids "$T/pids"
	if [ -f "$T/netns" ]; then
		while read -r ns; do
			netns_sweep "${ns#"$NETNS_PREFIX"-}"
			ip netns del "$ns" 2>/dev/null || true
		done <"$T/netns"
	fi
	fcg_teardown
}

# netns_wait_port NAME ADDR PORT: until a connect from host NAME to
# ADDR:PORT succeeds (5 s at most).
netns_wait_port() {
	local i
	for i in $(seq 1 50); do
		netns_exec "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null &&
			return 0
		sleep 0.1
	done
	echo "nothing listens on $2:$3 (seen from $1)" >&2
	return 1
}

# netns_wait_udp NAME ADDR PORT: until something holds UDP ADDR:PORT in
# host NAME (5 s at most).
netns_wait_udp() {
	for _ in $(seq 1 50); do
		netns_exec "$1" ss -Hlun "src $2:$3" 2>/dev/null | grep -q . &&
			return 0
		sleep 0.1
	done
	echo "nothing holds udp $2:$3 in $1" >&2
	return 1
}
