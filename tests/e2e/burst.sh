# A burst of protected accesses: every one is stored or counted as loss,
# and the rate the collector stored them at is reported.
. "$(dirname "$0")/../lib.sh"

N=${BURST_N:-20000}

# loss_count DB: the events the LOSS records of DB say were lost.
loss_count() {
	"$CUSTOS" query --db "$1" --action loss --format json |
		jq -s '[.[].detail | select(test("counter=ring_full")) |
			capture("count=(?<n>[0-9]+)").n | tonumber] | add // 0'
}

# events DB: the access records in DB.
events() {
	sqlite3 "$1" "SELECT count(*) FROM record WHERE type = 1"
}
mkdir -p "$WORK/tree" "$WORK/out"
"$WORKLOAD" setup "$WORK/tree" "$WORK/out" || exit 1
start_custosd --db "$WORK/db" --watch "$WORK/tree" || exit 1
t0=$(date +%s%N)
"$WORKLOAD" burst "$WORK/tree" "$N" >/dev/null || exit 1
t1=$(date +%s%N)
# The rate is up to the moment the last record is committed, with custosd
# still running (its stop is mostly the kernel detaching programs).
i=0
while [ "$(events "$WORK/db")" \
	-lt $((2 * N)) ] && [ $i -lt 600 ]; do
	sleep 0.05
	i=$((i + 1))
done
t2=$(date +%s%N)
stop_custosd || fail "custosd exits 0"

opens=$(sqlite3 "$WORK/db" "SELECT count(*) FROM record WHERE type = 1 AND op = 1")
reads=$(sqlite3 "$WORK/db" "SELECT count(*) FROM record WHERE type = 1 AND op = 2")
lost=$(loss_count "$WORK/db")
# Each access makes two events (its open and its read session).
check "events stored + events counted lost = events made" "$((2 * N))" "$((opens + reads + lost))"
stored=$((opens + reads))
ms=$(((t2 - t0) / 1000000))
[ "$ms" -gt 0 ] || ms=1
echo "burst: $N accesses -> $stored records ($lost lost); workload $(((t1 - t0) / 1000000)) ms," \
	"all committed after $ms ms: $((stored * 1000 / ms)) records/s stored"

# A ring of one page cannot keep up: events are lost, and every one of them
# must be accounted for by LOSS records that add up to the kernel's counters.
start_custosd --db "$WORK/small.db" --keys "$WORK/small-keys" --watch "$WORK/tree" --ring-size 4096 || exit 1
"$WORKLOAD" burst "$WORK/tree" "$N" >/dev/null || exit 1
stop_custosd || fail "custosd with a one-page ring exits 0"
stored=$(events "$WORK/small.db")
lost=$(loss_count "$WORK/small.db")
check "one-page ring: events stored + counted lost = events made" "$((2 * N))" "$((stored + lost))"
if [ "$lost" -gt 0 ]; then pass "one-page ring: loss happened and was recorded ($lost)"; else
	fail "one-page ring: expected some loss"; fi
finish
