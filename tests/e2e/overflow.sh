# The session table full (--sessions 4096: the default, 131,072, is the
# same code and only slower to fill): 4,500 descriptions of a protected file
# held open, then one more read whole.  Its open is recorded, and, with no session to count
# them in, its reads are records of their own: the exact bytes still reach
# the ledger, and the full table is a LOSS record.
. "$(dirname "$0")/../lib.sh"

HOLDERS=3 EACH=1500 # 4,500 > 4,096 sessions
chmod 755 "$WORK"
TREE=$WORK/tree
mkdir -p "$TREE" "$WORK/out"
"$WORKLOAD" setup "$TREE" "$WORK/out" || exit 1
trap 'touch "$WORK/done"; cleanup' EXIT
start_custosd --db "$WORK/db" --watch "$TREE=customers" --sessions 4096 || exit 1
HOLDING=
for i in $(seq $HOLDERS); do
	(ulimit -n $((EACH + 100)) && exec "$WORKLOAD" hold $EACH "$TREE/a" "$WORK/done") \
		>"$WORK/hold$i.out" 2>&1 &
	HOLDING="$HOLDING $!"
done
for i in $(seq $HOLDERS); do
	for _ in $(seq 1200); do grep -q ready "$WORK/hold$i.out" && break; sleep 0.05; done
	grep -q ready "$WORK/hold$i.out" || fail "holder $i: $(cat "$WORK/hold$i.out")"
done
"$WORKLOAD" cat "$TREE/sub/b" >"$WORK/cat.out" || fail "the read itself failed"
pid_of pid "$WORK/cat.out"
touch "$WORK/done"
# shellcheck disable=SC2086 # a list of pids
wait $HOLDING
stop_custosd || fail "custosd exits 0"

"$CUSTOS" query --db "$WORK/db" --format json >"$WORK/all.json" || fail "custos query"
check "the open past the table: recorded" 1 \
	"$(jq -r --argjson pid "$pid" 'select(.pid == $pid and .action == "open")' \
		"$WORK/all.json" | grep -c '"seq"')"
check "its reads: 10000 bytes, in records of their own" "10000 null" \
	"$(jq -s --argjson pid "$pid" '[.[] | select(.pid == $pid and .action == "read")] |
		"\(map(.bytes) | add) \(.[0].session)"' -r "$WORK/all.json")"
check "the full table: a LOSS record of session_full" yes \
	"$(jq -r 'select(.action == "loss") | .detail' "$WORK/all.json" |
		grep -q session_full && echo yes)"
finish
