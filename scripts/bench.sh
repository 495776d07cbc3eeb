#!/bin/sh
# make bench: what custos costs, side by side with a bare run and auditd
# (and bpftrace when it is installed), in one run on this machine.
#
# Workloads (build/tests/benchload), run as an unprivileged user (nobody) so
# that auditd's read rule can be scoped to it:
#   smallfiles  open + read 4 KiB + close over 10,000 files in 100 directories
#   bigread     sequential 4 KiB reads of a 1 GiB file in the page cache
#   syscalls    getppid() in a loop: the tax on syscalls nobody watches
#   plain       smallfiles outside every protected tree: the rest of the host
#   deep        smallfiles in a protected tree, each path 32 levels deep
#   trees64     smallfiles with 64 trees watched, not one
# custos-paused is custosd with its collector stopped (SIGSTOP) while the
# measured run fills a 64 MiB ring, and let go after it: the kernel's side
# of custos alone, without the collector's share of the machine.
# Each round runs every tool once, bare first, so slow drift of this shared
# VM hits all of them alike; the table gives medians over the rounds.  The
# floor is empty programs where custos attaches its own (floor.bpf.c): what
# any program there costs; custos' excess over it ("vs floor") is its own
# work, and robust to the machine's noise where ratios to bare are not.
# More floors (tests/bench/floor.bpf.c), on the workloads they fit:
# floor-emit (smallfiles, deep, trees64) puts one record of custos' sizes
# into the ring at each of the workload's opens and closes, and does
# nothing else (what the ring costs); floor-record (those and bigread) adds
# the least the capture contract asks: the task's identity and the file's
# name in them, a read session kept from the open to the close, added to at
# each read (what any tool that records the same must pay); floor-lookup
# (plain) makes only the look-ups an unprotected file's calls need: its
# directory at the open, the session table at each read and the close.
# auditd and bpftrace run on the first three workloads only.
# Then the collector's own throughput (custosd --synthetic), the verifier's
# (with both its threads, then on one core), the floors of both (what SQLite
# and SHA-256 alone cost per record: tests/bench/floors.c),
# and a loss test: opens at a fixed rate, recorded + LOSS = generated.
#
# Knobs: BENCH_ROUNDS (5), BENCH_PASSES (smallfiles passes, 3),
# BENCH_SYSCALLS (2,000,000), BENCH_SYNTHETIC (1,000,000 events),
# BENCH_RATE (100000 opens/s), BENCH_RATE_SECONDS (60) and BENCH_TREE_FILES
# (1,000,000: the tree whose start-up cost is measured last).
# BENCH_VARIANTS="LABEL=PATH ...": other custosd binaries (an earlier build,
# a variant) measured in the same rounds as tools custos-LABEL.
# Last, the fleet (scripts/benchfleet.sh): records/s into the central store
# on PostgreSQL, one host and eight, against the server's own floor;
# BENCH_ONLY=fleet runs that alone.
# BENCH_WORKLOADS (all six) picks workloads; BENCH_ONLY=overhead stops after
# the overhead table and leaves auditd out (a quick comparison of builds).
#
# It leaves the machine as it found it: no audit rules, auditd stopped,
# audit disabled again if it was, no BPF programs of ours.
set -u
cd "$(dirname "$0")/.." || exit 1
[ "${BENCH_ONLY:-}" = fleet ] && exec scripts/benchfleet.sh

ROUNDS=${BENCH_ROUNDS:-5}
PASSES=${BENCH_PASSES:-3}
NCALLS=${BENCH_SYSCALLS:-2000000}
NSYNTH=${BENCH_SYNTHETIC:-1000000}
RATE=${BENCH_RATE:-100000}
RATE_S=${BENCH_RATE_SECONDS:-60}
TREE_FILES=${BENCH_TREE_FILES:-1000000}
LOAD=$PWD/build/tests/benchload
FLOOR=$PWD/build/tests/floor
FLOORS=$PWD/build/tests/floors
CUSTOSD=$PWD/build/custosd
CUSTOS=$PWD/build/custos
WORK=/var/tmp/custos-bench
DATA=$WORK/data
PLAIN=$WORK/plain
# 32 components to each file: /var/tmp/custos-bench/data/deep, 25 more, NN/NN.dat.
DEEP=$DATA/deep/$(seq -s / -f 'l%02g' 25)
RUNUSER=nobody
RUNUID=$(id -u $RUNUSER)

if [ "$(id -u)" != 0 ]; then
	echo "bench: run as root (it loads BPF programs and audit rules)" >&2
	exit 2
fi
mkdir -p "$WORK" "$DATA"
chmod 755 "$WORK" "$DATA"
if [ ! -f "$DATA/big.dat" ]; then
	echo "bench: writing 10,000 small files and a 1 GiB file in $DATA"
	"$LOAD" setup "$DATA" || exit 1
	chmod -R a+rX "$DATA"
fi
if [ ! -f "$PLAIN/99/99.dat" ] || [ ! -f "$DEEP/99/99.dat" ]; then
	echo "bench: writing the small files again outside the tree, and 32 levels deep in it"
	mkdir -p "$PLAIN" "$DEEP"
	"$LOAD" setup-small "$PLAIN" && "$LOAD" setup-small "$DEEP" || exit 1
	chmod -R a+rX "$PLAIN" "$DATA/deep"
fi
# 63 more trees for trees64, empty: what their number costs an open.
for t in $(seq -w 1 63); do mkdir -p "$WORK/trees/t$t"; done
TREES64=$(for t in $(seq -w 1 63); do printf ' --watch %s=t%s' "$WORK/trees/t$t" "$t"; done)
cat "$DATA/big.dat" >/dev/null # into the page cache

# The state of audit before we touch it, to put it back.
AUDIT_WAS=$(auditctl -s 2>/dev/null | awk '/^enabled/ {print $2}')
AUDITD_PID=
restore() {
	stop_custosd
	# What custosd pinned to outlive itself (its maps, at a stop).
	rm -rf /sys/fs/bpf/custos
	stop_auditd
	if command -v auditctl >/dev/null; then
		auditctl -D >/dev/null 2>&1
		[ "${AUDIT_WAS:-0}" = 0 ] && auditctl -e 0 >/dev/null 2>&1
	fi
}
trap restore EXIT INT TERM

# Audit enabled once gives new tasks an audit context that slows every
# syscall: "never,task" keeps that off the bare and custos runs.
audit_quiet() {
	command -v auditctl >/dev/null || return 0
	auditctl -D >/dev/null 2>&1
	[ "$(auditctl -s 2>/dev/null | awk '/^enabled/ {print $2}')" = 1 ] &&
		auditctl -a never,task >/dev/null 2>&1
	return 0
}

start_auditd() { # start_auditd RULE...: auditd with these rules, its log emptied
	stop_auditd
	mkdir -p /var/log/audit
	rm -f /var/log/audit/audit.log.*
	: >/var/log/audit/audit.log
	auditd -s enable >/dev/null 2>&1 || { echo "bench: auditd did not start" >&2; return 1; }
	for _i in $(seq 50); do
		AUDITD_PID=$(cat /var/run/auditd.pid 2>/dev/null)
		[ -n "$AUDITD_PID" ] && kill -0 "$AUDITD_PID" 2>/dev/null && break
		sleep 0.1
	done
	auditctl -D >/dev/null
	auditctl -e 1 >/dev/null
	for rule in "$@"; do
		# shellcheck disable=SC2086 # a rule is several words
		auditctl $rule >/dev/null || { echo "bench: bad audit rule $rule" >&2; return 1; }
	done
}
stop_auditd() {
	if [ -n "$AUDITD_PID" ]; then
		auditctl -D >/dev/null 2>&1
		kill "$AUDITD_PID" 2>/dev/null
		while kill -0 "$AUDITD_PID" 2>/dev/null; do sleep 0.1; done
		AUDITD_PID=
	fi
}
audit_lost() {
	auditctl -s 2>/dev/null | awk '/^lost/ {print $2}'
}
audit_events() { # after stop_auditd: events with key custos-bench, and audit's lost count since $1
	# auditd rotates its log at 8 MiB: every file counts.
	echo "$(cat /var/log/audit/audit.log* 2>/dev/null | grep -c 'key="custos-bench"')" \
		"$(($(audit_lost) - $1))"
}

DAEMON_PID=
start_custosd() { # start_custosd [BINARY [WATCH...]]
	rm -rf "$WORK/custos.db"* "$WORK/keys" "$WORK/pid"
	bin=${1:-$CUSTOSD}
	[ $# -gt 0 ] && shift
	"$bin" --db "$WORK/custos.db" --watch "$DATA=bench" "$@" --pidfile "$WORK/pid" \
		2>>"$WORK/custosd.log" &
	DAEMON_PID=$!
	wait_pid custosd
}
wait_pid() { # wait_pid NAME: until $WORK/pid is written by $DAEMON_PID
	while [ ! -s "$WORK/pid" ]; do
		kill -0 "$DAEMON_PID" 2>/dev/null || { echo "bench: $1 did not start" >&2; return 1; }
		sleep 0.05
	done
}
start_floor() { # start_floor [--emit UID | --record UID | --lookup UID]
	rm -f "$WORK/pid"
	"$FLOOR" "$@" "$WORK/pid" 2>>"$WORK/custosd.log" &
	DAEMON_PID=$!
	wait_pid floor
}
stop_floor() {
	kill -TERM "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
}
stop_custosd() {
	[ -n "$DAEMON_PID" ] || return 0
	kill -TERM "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
	# Its programs stay attached after a stop: the bare runs must not pay.
	rm -rf /sys/fs/bpf/custos
}
custos_events() { # custos_events [ACTION]: access records stored (of ACTION), and the
	# events the ring had no room for (LOSS records of ring_full)
	sqlite3 -readonly "$WORK/custos.db" \
		"SELECT (SELECT count(*) FROM accesses WHERE '${1:-}' = '' OR action = '${1:-}'),
			(SELECT coalesce(sum(count), 0) FROM gaps_losses
			 WHERE kind = 'loss' AND reason = 'ring_full')" |
		tr '|' ' '
}

# run MODE: the workload twice, as the unprivileged user; prints the second
# run's ns/op.  The first run after a tool stopped was up to 25% slower
# (deep: 3,850 ns against 3,000 in the runs after it, no tool attached),
# and the first after the start-up test's cold caches ten times slower: the
# first run takes that, whatever tool comes before.
run() {
	run_once "$@" >/dev/null
	run_once "$@"
}
run_once() {
	case $1 in
	smallfiles | trees64) set -- smallfiles "$DATA" "$PASSES" ;;
	plain) set -- smallfiles "$PLAIN" "$PASSES" ;;
	deep) set -- smallfiles "$DEEP" "$PASSES" ;;
	bigread) set -- bigread "$DATA/big.dat" ;;
	syscalls) set -- syscalls "$NCALLS" ;;
	esac
	setpriv --reuid="$RUNUID" --regid="$RUNUID" --clear-groups "$LOAD" "$@" |
		sed -n 's/.*ns_per_op=\([0-9.]*\).*/\1/p'
}

# A pass unmeasured first: the small files into the page cache too.
audit_quiet
run smallfiles >/dev/null

TOOLS="bare floor floor-emit floor-record floor-lookup custos custos-paused"
for v in ${BENCH_VARIANTS:-}; do
	[ -x "${v#*=}" ] || { echo "bench: BENCH_VARIANTS: ${v#*=} is not a program" >&2; exit 2; }
	TOOLS="$TOOLS custos-${v%%=*}"
done
if [ "${BENCH_ONLY:-}" != overhead ]; then
	TOOLS="$TOOLS auditd-open auditd-read"
	command -v bpftrace >/dev/null && TOOLS="$TOOLS bpftrace"
fi
WORKLOADS=${BENCH_WORKLOADS:-smallfiles bigread syscalls plain deep trees64}
RES=$WORK/results
: >"$RES"
for round in $(seq "$ROUNDS"); do
	for mode in $WORKLOADS; do
		for tool in $TOOLS; do
			ev="- -"
			case $mode-$tool in
			plain-auditd-* | deep-auditd-* | trees64-auditd-* | plain-bpftrace | deep-bpftrace | \
				trees64-bpftrace | syscalls-floor-?* | bigread-floor-emit | bigread-floor-lookup | \
				plain-floor-emit | plain-floor-record | smallfiles-floor-lookup | deep-floor-lookup | \
				trees64-floor-lookup)
				continue
				;;
			esac
			watch=
			[ $mode = trees64 ] && watch=$TREES64
			case $tool in
			bare)
				audit_quiet
				ns=$(run $mode)
				;;
			floor | floor-*)
				audit_quiet
				if [ $tool = floor ]; then
					start_floor || exit 1
				else
					start_floor "--${tool#floor-}" "$RUNUID" || exit 1
				fi
				ns=$(run $mode)
				stop_floor
				;;
			custos-paused)
				# The kernel's side alone: the collector stopped while
				# the measured run fills a ring large enough for it, then
				# let go to store it all (nothing lost: counted below).
				audit_quiet
				# shellcheck disable=SC2086 # the watch options
				start_custosd "$CUSTOSD" --ring-size $((64 << 20)) $watch || exit 1
				run_once $mode >/dev/null
				kill -STOP "$DAEMON_PID"
				ns=$(run_once $mode)
				kill -CONT "$DAEMON_PID"
				sleep 2
				stop_custosd
				ev=$(custos_events)
				;;
			custos | custos-*)
				bin=$CUSTOSD
				for v in ${BENCH_VARIANTS:-}; do
					[ "$tool" = "custos-${v%%=*}" ] && bin=${v#*=}
				done
				audit_quiet
				# shellcheck disable=SC2086 # the watch options
				start_custosd "$bin" $watch || exit 1
				ns=$(run $mode)
				stop_custosd
				ev=$(custos_events)
				;;
			auditd-*)
				# An open rule on the data directory; or open and read
				# rules, scoped to the workload's uid (read has no path).
				if [ $tool = auditd-open ]; then
					rule="-S open,openat,openat2,creat -F dir=$DATA"
				else
					rule="-S open,openat,openat2,creat,read -F uid=$RUNUID"
				fi
				start_auditd "-a always,exit -F arch=b64 $rule -k custos-bench" || exit 1
				lost0=$(audit_lost)
				ns=$(run $mode)
				stop_auditd
				ev=$(audit_events "$lost0")
				# auditd's log still goes to disk: not in the next tool's time
				# (the next is a bare run, which it made up to 2.5x slower).
				sync
				sleep 1
				;;
			bpftrace)
				audit_quiet
				bpftrace -e "tracepoint:syscalls:sys_exit_openat,tracepoint:syscalls:sys_exit_read /uid == $RUNUID/ { printf(\"%d %s %d\\n\", pid, comm, args->ret); }" \
					>"$WORK/bpftrace.out" 2>/dev/null &
				bt=$!
				sleep 3
				ns=$(run $mode)
				kill -INT $bt 2>/dev/null
				wait $bt 2>/dev/null
				ev="$(grep -c . "$WORK/bpftrace.out") -"
				;;
			esac
			echo "$mode $tool ${ns:-nan} $ev" >>"$RES"
			echo "bench: round $round/$ROUNDS $mode $tool: ${ns:-?} ns/op, events/lost $ev"
		done
	done
done
stop_auditd
audit_quiet

echo
echo "Overhead ($(date -u +%Y-%m-%d), $(nproc) CPUs, kernel $(uname -r); medians of $ROUNDS interleaved rounds;"
echo "workload run as $RUNUSER; events recorded per run vs expected)"
awk -v passes="$PASSES" "$(cat scripts/median.awk)"'
{
	key = $1 " " $2; ns[key] = ns[key] " " $3; ev[key] = $4; lost[key] = $5
	if (!(key in seen)) { seen[key] = 1; order[++n] = key }
}
END {
	per["smallfiles"] = per["plain"] = per["deep"] = per["trees64"] = 3
	per["bigread"] = 1; per["syscalls"] = 1
	printf "%-11s %-12s %10s %8s %9s %14s %10s %8s\n", "workload", "tool", "ns/op", "ratio",
		"vs floor", "+ns/syscall", "events", "lost"
	for (i = 1; i <= n; i++) {
		split(order[i], k, " ")
		m = median(ns[order[i]]); b = median(ns[k[1] " bare"]); f = median(ns[k[1] " floor"])
		printf "%-11s %-12s %10.0f %7.2fx %8.2fx %14.0f %10s %8s\n", k[1], k[2], m, m / b,
			m / f, (m - b) / per[k[1]], ev[order[i]], lost[order[i]]
	}
}' "$RES"
echo "(vs floor: the tool's time over the floor's, both in this run; custos events: access records"
echo " stored while the workload ran twice (the first run unmeasured): expected smallfiles, deep,"
echo " trees64 $((PASSES * 40000)), bigread 4, syscalls and plain 0."
echo " auditd events: records with the rule's key; lost: the kernel's audit lost counter)"

[ "${BENCH_ONLY:-}" = overhead ] && exit 0

# The collector alone: synthetic events through decode, identity, ledger and
# SQLite; then the verifier over the same ledger.
echo
rm -rf "$WORK/synth.db"* "$WORK/synth-keys"
"$CUSTOSD" --db "$WORK/synth.db" --keys "$WORK/synth-keys" --watch "$DATA=bench" \
	--synthetic "$NSYNTH" 2>&1 | sed -n 's/^custosd: synthetic: /collector: /p'
t0=$(date +%s%N)
"$CUSTOS" verify --db "$WORK/synth.db" --trust "$WORK/synth-keys/trust.vkeys" >/dev/null 2>&1
rc=$?
t1=$(date +%s%N)
n=$(sqlite3 -readonly "$WORK/synth.db" 'SELECT count(*) FROM record')
echo "collector: $(($(stat -c %s "$WORK/synth.db") / n)) bytes/record on disk ($n records)"
echo "verifier: $n records in $(((t1 - t0) / 1000000)) ms: $((n * 1000000000 / (t1 - t0 + 1))) records/s (exit $rc)"
# The same on one core: its reader thread and its hashing share it.
t0=$(date +%s%N)
taskset -c 0 "$CUSTOS" verify --db "$WORK/synth.db" --trust "$WORK/synth-keys/trust.vkeys" >/dev/null 2>&1
rc=$?
t1=$(date +%s%N)
echo "verifier on one core: $((n * 1000000000 / (t1 - t0 + 1))) records/s, $(((t1 - t0) / n)) ns/record (exit $rc)"
# What SQLite and SHA-256 alone cost per record of this ledger (floors.c).
taskset -c 0 "$FLOORS" "$WORK/synth.db" | awk '{ print } /^floors:/ {
	r = $(NF - 4) + 0; h = $(NF - 2) + 0; i = $NF + 0
	printf "floors: collector (insert + hash) %d ns/record; verifier on one core (read + hash)" \
		" %d ns/record, %d records/s\n", i + h, r + h, 1e9 / (r + h)
}'

# Loss under load: opens of protected files at a fixed rate.
echo
audit_quiet
start_custosd || exit 1
gen=$(setpriv --reuid="$RUNUID" --regid="$RUNUID" --clear-groups "$LOAD" rate "$DATA" "$RATE" "$RATE_S")
stop_custosd
made=$(echo "$gen" | sed -n 's/^ops=\([0-9]*\).*/\1/p')
# shellcheck disable=SC2046 # two numbers
set -- $(custos_events open)
echo "loss test: $gen"
echo "loss test: $made opens made, $1 recorded, $2 counted lost: $(($1 + $2 - made)) unaccounted"

# Start-up: what a large protected tree costs before capture begins (the
# scan for files with more than one name is the only walk of it).
BIG=$WORK/tree-$TREE_FILES
if [ ! -f "$WORK/tree-$TREE_FILES.done" ]; then
	echo "bench: writing a tree of $TREE_FILES empty files in $BIG"
	mkdir -p "$BIG" && "$LOAD" setup-tree "$BIG" "$TREE_FILES" || exit 1
	touch "$WORK/tree-$TREE_FILES.done"
fi
startup() { # startup [WATCH...]: ms from custosd's start to its pidfile
	sync
	echo 3 >/proc/sys/vm/drop_caches
	t0=$(date +%s%N)
	start_custosd "$CUSTOSD" "$@" || exit 1
	t1=$(date +%s%N)
	stop_custosd
	echo $(((t1 - t0) / 1000000))
}
: >"$WORK/custosd.log"
small=$(startup)
large=$(startup --watch "$BIG=big")
scan=$(sed -n 's/.*: \([0-9]*\) files in the trees, .*(\([0-9.]*\) s)$/\1 files scanned in \2 s/p' \
	"$WORK/custosd.log" | tail -n 1)
echo "start-up (caches dropped): the bench tree (20,000 files) $small ms; with a tree of $TREE_FILES files"
echo "more $large ms ($scan)"

echo
scripts/benchfleet.sh
