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
start_custosd --db "$WORK/fine.db" --watch "$WORK/tree" --fine-reads || exit 1
"$WORKLOAD" via slow "$WORK/tree/sub/b" >"$WORK/slow.out" || fail "the slow reader"
pid_of pid "$WORK/slow.out"
stop_custosd || fail "custosd exits 0"
check "--fine-reads: one read_call per read, with its range" \
	"100:0-100 100:100-200 100:200-300 100:300-400 100:400-500" \
	"$("$CUSTOS" query --db "$WORK/fine.db" --action read_call --format json |
		jq -r --argjson pid "$pid" 'select(.pid == $pid) |
			"\(.bytes):\(.min_offset)-\(.max_offset)"' | tr '\n' ' ' | sed 's/ $//')"
check "--fine-reads: the session record is still there" "500" \
	"$("$CUSTOS" query --db "$WORK/fine.db" --action read --format json |
		jq -r --argjson pid "$pid" 'select(.pid == $pid and .partial == false) | .bytes')"
finish
