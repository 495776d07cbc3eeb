# A burst of protected accesses: every one is stored or counted as loss,
# and the rate the collector stored them at is reported.
. "$(dirname "$0")/../lib.sh"

N=${BURST_N:-20000}
mkdir -p "$WORK/tree" "$WORK/out"
"$WORKLOAD" setup "$WORK/tree" "$WORK/out" || exit 1
start_custosd --db "$WORK/db" --watch "$WORK/tree" || exit 1
t0=$(date +%s%N)
"$WORKLOAD" burst "$WORK/tree" "$N" >/dev/null || exit 1
t1=$(date +%s%N)
stop_custosd || fail "custosd exits 0"
t2=$(date +%s%N)

opens=$(sqlite3 "$WORK/db" "SELECT count(*) FROM entry WHERE action='open'")
reads=$(sqlite3 "$WORK/db" "SELECT count(*) FROM entry WHERE action='read'")
lost=$(sqlite3 "$WORK/db" "SELECT coalesce(sum(CAST(substr(detail, instr(detail, 'count=') + 6) AS INTEGER)), 0)
	FROM entry WHERE action='loss'")
# Each access makes two events (its open and its read session).
check "events stored + events counted lost = events made" "$((2 * N))" "$((opens + reads + lost))"
stored=$((opens + reads))
ms=$(((t1 - t0) / 1000000))
[ "$ms" -gt 0 ] || ms=1
echo "burst: $N opens -> $stored records ($lost lost) during a $ms ms workload:" \
	"$((stored * 1000 / ms)) records/s; stop and final drain took $(((t2 - t1) / 1000000)) ms"
finish
