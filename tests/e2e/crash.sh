# Crash loop (docs/ledger.md): kill -9 custosd at random moments while a
# workload reads protected files, restart it on the same ledger, N times.
# custos verify must then report the crashes (GAP) but never tamper, and
# a clean stop at the end must leave nothing open.
. "$(dirname "$0")/../lib.sh"

N=${CRASH_N:-6}
mkdir -p "$WORK/tree" "$WORK/out"
"$WORKLOAD" setup "$WORK/tree" "$WORK/out" || exit 1
ARGS="--db $WORK/db --watch $WORK/tree --epoch 10 --heartbeat 1"

( while :; do "$WORKLOAD" burst "$WORK/tree" 200 >/dev/null || exit; sleep 0.01; done ) &
LOAD=$!
trap 'kill $LOAD 2>/dev/null; cleanup' EXIT

i=0
while [ $i -lt "$N" ]; do
	# shellcheck disable=SC2086
	start_custosd $ARGS || { fail "custosd restarts after crash $i"; finish; }
	sleep "0.$(shuf -i 1-9 -n 1)$(shuf -i 0-9 -n 1)"
	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
	i=$((i + 1))
done
# Right after a kill the last epoch is open: never reported as verified.
"$CUSTOS" verify --db "$WORK/db" --trust "$WORK/keys/trust.vkeys" >"$WORK/report" 2>&1
check "after a kill -9, verify reports warnings (exit 2)" 2 $?
grep -q '^OPEN' "$WORK/report" && pass "the unsealed tail is reported OPEN" ||
	fail "the unsealed tail is reported OPEN"
# shellcheck disable=SC2086
start_custosd $ARGS || exit 1
sleep 1.5
kill $LOAD
wait $LOAD 2>/dev/null
stop_custosd || fail "the last custosd stops cleanly"

"$CUSTOS" verify --db "$WORK/db" --trust "$WORK/keys/trust.vkeys" >"$WORK/report" 2>&1
rc=$?
grep -v "^LOSS" "$WORK/report" | tail -20
check "after $N kill -9: verified with warnings, no tamper (exit 2)" 2 $rc
check "every crash is a GAP with reason crash" "$N" "$(grep -c '^GAP .*(crash)$' "$WORK/report")"
check "nothing left open after the clean stop" 0 "$(grep -c '^OPEN' "$WORK/report")"
check "no tamper finding" 0 "$(grep -c '^TAMPER' "$WORK/report")"
n=$("$CUSTOS" query --db "$WORK/db" --action read --format json | wc -l)
if [ "$n" -gt 0 ]; then pass "accesses were recorded between crashes ($n reads)"; else
	fail "accesses were recorded between crashes"; fi
finish
