# kill -9 under load (docs/reliability.md): custosd is killed at
# random moments, some while it starts, as a steady workload opens and
# reads protected files, and is started again on the same ledger.  Its
# pinned programs capture on meanwhile, and each new custosd resumes at the
# first event the one before had not committed: at the end the ledger holds
# every open and every byte the workload made, each once, and the session
# of a file kept open through every kill is one record with all its bytes;
# every crash is a GAP that says the kernel kept every event, and lost none
# (or LOSS records account for each one missing).  Then the ring overflows
# while no custosd runs: the GAP says how many events were lost, and LOSS
# records account for every access not recorded.
. "$(dirname "$0")/../lib.sh"

N=${KILLNINE_N:-20}
TREE=$WORK/tree
mkdir -p "$TREE" "$WORK/out"
"$WORKLOAD" setup "$TREE" "$WORK/out" || exit 1
# A 1 MiB ring holds seconds of this load: more than a restart takes.
ARGS="--db $WORK/db --watch $TREE --heartbeat 1 --ring-size 1048576"

verify() {
	"$CUSTOS" verify --db "$WORK/db" --trust "$WORK/keys/trust.vkeys" >"$WORK/report" 2>&1
}
# losses_after SEQ [COUNTER]: what the LOSS records past SEQ count (of
# COUNTER only, when given).
losses_after() {
	"$CUSTOS" query --db "$WORK/db" --action loss --format json |
		jq -s --argjson s "$1" --arg c "${2:-[a-z_]*}" '[.[] | select(.seq > $s and
			(.detail | test("counter=" + $c + " "))) |
			.detail | capture("count=(?<n>[0-9]+)").n | tonumber] | add // 0'
}

# shellcheck disable=SC2086
start_custosd $ARGS || exit 1
"$WORKLOAD" steady "$TREE" "$WORK/done" >"$WORK/steady.out" &
LOAD=$!
trap 'touch "$WORK/done"; wait $LOAD 2>/dev/null; cleanup' EXIT

kills=0
bad=0
while [ $kills -lt "$N" ]; do
	sleep "0.$(shuf -i 1-9 -n 1)$(shuf -i 0-9 -n 1)"
	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	kills=$((kills + 1))
	# Every fourth time it is killed again while it starts: anywhere in
	# taking the pins over or resuming the ledger.
	if [ $((kills % 4)) = 0 ] && [ $kills -lt "$N" ]; then
		# shellcheck disable=SC2086
		"$CUSTOSD" $ARGS 2>>"$WORK/custosd.log" &
		DAEMON_PID=$!
		sleep "0.$(shuf -i 0-3 -n 1)$(shuf -i 0-9 -n 1)"
		kill -9 "$DAEMON_PID"
		wait "$DAEMON_PID" 2>/dev/null
		kills=$((kills + 1))
	fi
	# shellcheck disable=SC2086
	start_custosd $ARGS || { fail "custosd restarts after kill $kills"; finish; }
	verify
	rc=$?
	if [ $rc != 0 ] && [ $rc != 2 ]; then
		bad=$((bad + 1))
		grep -v '^GAP\|^LOSS\|^SEALED\|^OPEN' "$WORK/report" | head -5
	fi
done
check "after each of $kills restarts, custos verify exits 0 or 2" 0 "$bad"
touch "$WORK/done"
wait $LOAD
trap cleanup EXIT
sleep 0.5
stop_custosd || fail "the last custosd stops cleanly"
verify
rc=$?
check "at the end: verified with warnings (the crashes), exit 2" 2 $rc
check "no tamper finding" 0 "$(grep -c '^TAMPER' "$WORK/report")"
check "no event missing that no LOSS record accounts for" 0 \
	"$(grep -c 'that no LOSS record accounts for' "$WORK/report")"
gaps=$(grep -c '^GAP .*(crash)$' "$WORK/report")
if [ "$gaps" -ge $((N - N / 4)) ] && [ "$gaps" -le "$N" ]; then
	pass "the crashes are GAPs ($gaps of $kills kills; one killed while it starts may have none)"
else
	fail "the crashes are GAPs ($gaps of $kills kills)"
fi
check "every crash GAP says the kernel kept every event" "$gaps" \
	"$(grep -c '^GAP .*the kernel kept every event (recorded after this), [0-9]* lost (crash)$' \
		"$WORK/report")"

# What the workload made against what the ledger holds.
pid_of steady "$WORK/steady.out"
made() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" "$WORK/steady.out"; }
"$CUSTOS" query --db "$WORK/db" --format json |
	jq -c --argjson p "$steady" 'select(.pid == $p)' >"$WORK/steady.json"
short='(.path | endswith("/sub/b") | not)'
opens=$(jq -s "[.[] | select(.action == \"open\" and $short)] | length" "$WORK/steady.json")
short="select(.action == \"read\" and .partial == false and $short)"
sessions=$(jq -s "[.[] | $short] | length" "$WORK/steady.json")
bytes=$(jq -s "[.[] | $short | .bytes] | add // 0" "$WORK/steady.json")
held=$(jq -r 'select(.action == "read" and .partial == false and (.path | endswith("/sub/b"))) |
	"\(.bytes) \(.reads)"' "$WORK/steady.json")
check "the file held open through every kill was opened once" 1 \
	"$(jq -s '[.[] | select(.action == "open" and (.path | endswith("/sub/b")))] | length' \
		"$WORK/steady.json")"
lost=$(losses_after 0 ring_full)
missing=$(($(made opens) - opens + $(made opens) - sessions + $([ -n "$held" ] && echo 0 || echo 1)))
echo "workload: $(made opens) opens, $(made bytes) bytes, held $(made held_bytes) bytes;" \
	"ledger: $opens opens, $sessions sessions, $bytes bytes, held ${held:-none}; ring_full $lost"
if [ "$(made opens)" -gt 0 ] && [ "$opens" -le "$(made opens)" ] &&
	[ "$sessions" -le "$(made opens)" ]; then
	pass "no access recorded twice ($opens opens of $(made opens))"
else
	fail "no access recorded twice ($opens opens, $sessions sessions of $(made opens))"
fi
check "every access is in the ledger, or a LOSS record counts it" "$lost" "$missing"
if [ "$lost" = 0 ]; then
	check "every byte read is in the ledger" "$(made bytes)" "$bytes"
	check "the session open through every kill: one record, all its bytes and reads" \
		"$(made held_bytes) $(made held_reads)" "$held"
fi

# The ring overflows while no custosd runs: 20,000 opens and as many
# sessions do not fit in 1 MiB.
# shellcheck disable=SC2086
start_custosd $ARGS || exit 1
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
last=$(sqlite3 "$WORK/db" 'SELECT max(seq) FROM record')
"$WORKLOAD" burst "$TREE" 20000 >"$WORK/burst.out"
pid_of burst "$WORK/burst.out"
# shellcheck disable=SC2086
start_custosd $ARGS || exit 1
sleep 0.5
stop_custosd || fail "custosd stops cleanly after the overflow"
verify
check "after the overflow: verified with warnings, no tamper (exit 2)" 2 $?
recorded=$("$CUSTOS" query --db "$WORK/db" --format json |
	jq -s --argjson p "$burst" '[.[] | select(.pid == $p and .partial != true)] | length')
lost=$(losses_after "$last" ring_full)
gap_lost=$("$CUSTOS" query --db "$WORK/db" --action gap --format json |
	jq -r --argjson s "$last" 'select(.seq > $s) | .detail | capture("lost=(?<n>[0-9]+)").n')
echo "overflow: 40000 accesses, $recorded recorded, ring_full $lost, the GAP says $gap_lost lost"
# The LOSS records of the GAP's snapshot are those right after its START
# (the ring is still full then: more may follow, in later rounds).
all=$("$CUSTOS" query --db "$WORK/db" --format json | jq -s --argjson s "$last" '
	[.[] | select(.seq > $s)] | .[(map(.action) | index("start")) + 1:] |
	.[:(map(.action != "loss") | index(true))] |
	map(.detail | capture("count=(?<n>[0-9]+)").n | tonumber) | add // 0')
if [ "$lost" -gt 0 ]; then pass "the ring overflowed ($lost lost)"; else
	fail "the ring overflowed"; fi
check "every access of the overflow is in the ledger or counted lost" 40000 \
	"$((recorded + lost))"
check "the crash GAP says how many the kernel lost: what its LOSS records count" "$all" \
	"$gap_lost"
finish
