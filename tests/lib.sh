# Shared by the end-to-end tests: sourced, not run.  Needs root; exits 77
# (skip) without it, which tests/run.sh turns into a failure under CI=true.
# A suite that loads nothing into the kernel (it writes its ledgers with
# ledgertool) sets NO_KERNEL=1 before sourcing this, and runs as anyone.
set -u
export LC_ALL=C

BUILD=${BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
CUSTOSD=$BUILD/custosd
CUSTOS=$BUILD/custos
WORKLOAD=$BUILD/tests/workload

if [ "${NO_KERNEL:-}" != 1 ] && [ "$(id -u)" != 0 ]; then
	echo "not root: end-to-end tests need to load BPF programs"
	exit 77
fi

WORK=$(mktemp -d /tmp/custos-e2e.XXXXXX)
DAEMON_PID=
STARTED=
# custosd pins its programs and maps (README "Crash, stop and restart"):
# a suite that ran one leaves none behind, attached or not, however it
# ended (a custosd killed, a check that failed after it).
cleanup() {
	[ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
	[ -n "$STARTED" ] && rm -rf /sys/fs/bpf/custos
	rm -rf "$WORK"
}
trap cleanup EXIT

FAILED=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1"; FAILED=1; }
# check NAME EXPECTED ACTUAL
check() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1"
		printf '  expected: %s\n  actual:   %s\n' "$2" "$3"
	fi
}

# pid_of VAR FILE: set VAR to the pid a workload printed ("pid=N ...") in
# FILE.  No such line is a failure, and VAR is then -1, which no record has:
# a check can never pass by comparing against an empty pid.
pid_of() {
	_pid=$(sed -n 's/^pid=\([0-9]*\).*/\1/p' "$2" | head -n 1)
	[ -n "$_pid" ] || fail "no pid in $2"
	eval "$1=\${_pid:--1}"
}

# run NAME CMD...: one step of a suite, its output in $WORK/NAME.out and
# .err, the pid it printed in pid_NAME; a step that fails is a failure.
run() {
	name=$1
	shift
	"$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || fail "$name: the step itself failed"
	pid_of "pid_$name" "$WORK/$name.out"
}

# start_custosd ARGS...: run custosd in the background and wait until its
# pidfile says every program is attached (up to 30 s: on some 6.18 builds
# each tp_btf program takes the kernel over a second to load).
start_custosd() {
	STARTED=1
	rm -f "$WORK/pid"
	"$CUSTOSD" --pidfile "$WORK/pid" ${CUSTOS_BACKEND:+--backend "$CUSTOS_BACKEND"} "$@" \
		2>>"$WORK/custosd.log" &
	DAEMON_PID=$!
	# sh has no locals: a name of its own, so a caller's loop counter survives.
	_start_polls=0
	while [ ! -s "$WORK/pid" ]; do
		if ! kill -0 "$DAEMON_PID" 2>/dev/null || [ $_start_polls -ge "${START_POLLS:-600}" ]; then
			echo "custosd did not start:"
			cat "$WORK/custosd.log"
			return 1
		fi
		sleep 0.05
		_start_polls=$((_start_polls + 1))
	done
}

# stop_custosd: SIGTERM and wait; returns custosd's exit status.
stop_custosd() {
	kill -TERM "$DAEMON_PID"
	wait "$DAEMON_PID"
	rc=$?
	DAEMON_PID=
	return $rc
}

finish() {
	exit $FAILED
}
