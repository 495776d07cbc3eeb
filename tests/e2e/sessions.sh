# Read sessions that stay open: a progress report every --progress seconds
# (totals so far, partial), then the final record at the close, so that the
# log read at any moment shows what is being read now.
. "$(dirname "$0")/../lib.sh"

mkdir -p "$WORK/tree" "$WORK/out"
"$WORKLOAD" setup "$WORK/tree" "$WORK/out" || exit 1
start_custosd --db "$WORK/db" --watch "$WORK/tree" --progress 1 || exit 1
"$WORKLOAD" via slow "$WORK/tree/sub/b" >"$WORK/slow.out" || fail "the slow reader"
pid_of pid "$WORK/slow.out"
stop_custosd || fail "custosd exits 0"

"$CUSTOS" query --db "$WORK/db" --action read --format json |
	jq -c --argjson pid "$pid" 'select(.pid == $pid) | [.partial, .bytes, .reads]' \
		>"$WORK/reads"
n=$(grep -c '^\[true,' "$WORK/reads")
if [ "$n" -ge 1 ]; then pass "progress reports while the file is open ($n)"; else
	fail "progress reports while the file is open (none)"; fi
check "the final record has every byte and read" "[false,500,5]" "$(grep '^\[false,' "$WORK/reads")"
check "progress reports are running totals, never above the final" 0 \
	"$(grep '^\[true,' "$WORK/reads" | jq -s 'map(select(.[1] > 500 or .[1] % 100 != 0)) | length')"
# --fine-reads: every read call is also a record of its own.
start_custosd --db "$WORK/fine.db" --keys "$WORK/fine-keys" --watch "$WORK/tree" --fine-reads || exit 1
"$WORKLOAD" via slow "$WORK/tree/sub/b" >"$WORK/slow.out" || fail "the slow reader"
pid_of pid "$WORK/slow.out"
stop_custosd || fail "custosd exits 0"
check "--fine-reads: one read_call per read, with its range and path" \
	"100:0-100:b 100:100-200:b 100:200-300:b 100:300-400:b 100:400-500:b" \
	"$("$CUSTOS" query --db "$WORK/fine.db" --action read_call --format json |
		jq -r --argjson pid "$pid" 'select(.pid == $pid) |
			"\(.bytes):\(.min_offset)-\(.max_offset):\(.path | split("/") | last)"' |
		tr '\n' ' ' | sed 's/ $//')"
check "--fine-reads: the session record is still there" "500" \
	"$("$CUSTOS" query --db "$WORK/fine.db" --action read --format json |
		jq -r --argjson pid "$pid" 'select(.pid == $pid and .partial == false) | .bytes')"
# A read whose own reference is the last (another thread closed the
# descriptor while it waited): no close sees the end, the sweep finds it.
mkfifo "$WORK/tree/fifo"
start_custosd --db "$WORK/sweep.db" --keys "$WORK/sweep-keys" --watch "$WORK/tree" --progress 0 || exit 1
"$WORKLOAD" race "$WORK/tree/fifo" >"$WORK/race.out" || fail "the racing reader"
pid_of pid_race "$WORK/race.out"
# A reader still at it when custosd stops: its totals so far are recorded.
"$WORKLOAD" via hold "$WORK/tree/sub/b" >"$WORK/hold.out" &
hold=$!
sleep 1
stop_custosd || fail "custosd exits 0"
kill $hold 2>/dev/null
wait $hold 2>/dev/null
"$CUSTOS" query --db "$WORK/sweep.db" --action read --format json >"$WORK/sweep.json"
check "a session whose last reference went in another thread's read: recorded, whole" \
	"false 5 1 $WORK/tree/fifo" \
	"$(jq -r --argjson pid "$pid_race" 'select(.pid == $pid) |
		"\(.partial) \(.bytes) \(.reads) \(.path)"' "$WORK/sweep.json")"
check "a session still open at stop: its totals so far, partial" "true 100 1" \
	"$(jq -r --argjson pid "$hold" 'select(.pid == $pid) | "\(.partial) \(.bytes) \(.reads)"' \
		"$WORK/sweep.json")"
finish
