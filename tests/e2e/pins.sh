# The pins in /sys/fs/bpf/custos and the one custosd of a host
# (docs/reliability.md).  A second custosd, on any ledger, is
# refused with one line and touches nothing of the first one's; nor does a
# mistyped command.  A clean stop leaves everything attached and pinned, as
# a crash does: capture goes on, and the next custosd of the ledger takes
# the set over and records what happened meanwhile; a session open across
# the stop is counted once, in full.  A custosd of
# another ledger, or with another ring size, replaces the pinned set and
# says so; after a crash the ledger says for how long no program was
# attached.  A process that moves the pinned ring's read position is
# found out: a LOSS record counts what it made custosd pass over.
. "$(dirname "$0")/../lib.sh"

PINS=/sys/fs/bpf/custos
TREE=$WORK/tree
mkdir -p "$TREE" "$WORK/out"
"$WORKLOAD" setup "$TREE" "$WORK/out" || exit 1
# Every pin with its inode: a pin removed and made again is another one.
pins() {
	ls -iR "$PINS" 2>/dev/null
}
# records DB JQ-FILTER: how many records of DB match.
records() {
	"$CUSTOS" query --db "$1" --format json | jq -s "[.[] | select($2)] | length"
}
verify() {
	"$CUSTOS" verify --db "$1" --trust "$2/trust.vkeys" >"$WORK/report" 2>&1
}
exists() {
	for p in "$@"; do [ -e "$p" ] && echo yes || echo "no $p"; done | sort -u
}

start_custosd --db "$WORK/db" --watch "$TREE" || exit 1
check "every map of the object is pinned, .bss included, and the set's id" yes \
	"$(exists "$PINS/maps/events" "$PINS/maps/sessions" "$PINS/maps/stats" \
		"$PINS/maps/protected" "$PINS/maps/custos_b_bss" "$PINS/id")"
links=$(ls "$PINS/links" | wc -l)
if [ "$links" -gt 0 ]; then pass "every attached program's link is pinned ($links)"; else
	fail "every attached program's link is pinned"; fi

before=$(pins)
"$CUSTOSD" --db "$WORK/other.db" --keys "$WORK/other-keys" --watch "$TREE" >"$WORK/out2" \
	2>"$WORK/err"
check "a second custosd on another ledger: exit 1, one line, nothing on stdout" "1 1 1" \
	"$? $(wc -l <"$WORK/err") $(grep -c 'another custosd runs on this host' "$WORK/err")"
check "and it made no database and no keys" "no no" \
	"$([ -e "$WORK/other.db" ] && echo yes || echo no) $([ -e "$WORK/other-keys" ] && echo yes || echo no)"
"$CUSTOSD" --db "$WORK/db" --watch "$TREE" 2>"$WORK/err"
check "a second custosd on the same ledger: exit 1, one line" "1 1" "$? $(wc -l <"$WORK/err")"
"$CUSTOSD" --db "$WORK/db" --watch "$WORK/nope" 2>"$WORK/err"
check "a mistyped command: exit 2, one line" "2 1" "$? $(wc -l <"$WORK/err")"
check "the first custosd's pins are untouched" "$before" "$(pins)"
"$WORKLOAD" cat "$TREE/a" >"$WORK/cat.out"
pid_of cat_pid "$WORK/cat.out"

# A clean stop, with a file open: its reads so far are a partial record.
"$WORKLOAD" via hold "$TREE/sub/b" >"$WORK/hold.out" &
HOLD=$!
trap 'kill $HOLD 2>/dev/null; cleanup' EXIT
n=0
while ! grep -q pid= "$WORK/hold.out" 2>/dev/null && [ $n -lt 100 ]; do
	sleep 0.05
	n=$((n + 1))
done
pid_of hold_pid "$WORK/hold.out"
stop_custosd || fail "custosd exits 0"
check "the first custosd recorded all along: the open after the refused ones" 1 \
	"$(records "$WORK/db" ".pid == $cat_pid and .action == \"open\"")"
check "a clean stop keeps every program attached and pinned" "$links" "$(ls "$PINS/links" | wc -l)"
check "and the maps and the id" yes \
	"$(exists "$PINS/maps/events" "$PINS/maps/sessions" "$PINS/id")"
"$WORKLOAD" cat "$TREE/d" >"$WORK/stopped.out"
pid_of stopped_pid "$WORK/stopped.out"
start_custosd --db "$WORK/db" --watch "$TREE" || exit 1
check "the next custosd of the ledger takes it all over" 1 \
	"$(grep -c "took over the maps pinned in $PINS, and $links of $links programs" \
		"$WORK/custosd.log")"
kill $HOLD
wait $HOLD 2>/dev/null
sleep 1
stop_custosd || fail "custosd exits 0"
check "capture goes on while stopped: the read then, its open and its bytes" "open read 5000" \
	"$("$CUSTOS" query --db "$WORK/db" --format json | jq -r --argjson p "$stopped_pid" \
		'select(.pid == $p) | "\(.action)\(if .bytes then " \(.bytes)" else "" end)"' |
		tr '\n' ' ' | sed 's/ $//')"
check "a session open across the stop: its progress at the stop, then its end, in full" \
	"true 100
false 100" \
	"$("$CUSTOS" query --db "$WORK/db" --action read --format json |
		jq -r --argjson p "$hold_pid" 'select(.pid == $p) | "\(.partial) \(.bytes)"')"
check "that session's bytes count once in the totals (the accesses view's counted rows)" 100 \
	"$(sqlite3 -readonly "$WORK/db" \
		"SELECT sum(bytes) FROM accesses WHERE counted AND pid = $hold_pid")"
verify "$WORK/db" "$WORK/keys"
check "the ledger verifies, the stop a GAP that says the kernel kept every event (exit 2)" \
	"2 1" "$? $(grep -c '^GAP .*the kernel kept every event .*, 0 lost (stop)$' "$WORK/report")"

# Another ledger: the set is replaced, and the log says why.
: >"$WORK/custosd.log"
start_custosd --db "$WORK/b.db" --keys "$WORK/b-keys" --watch "$TREE" || exit 1
check "a custosd of another ledger replaces the pinned set, and says so" 1 \
	"$(grep -c "pinned in $PINS are of another ledger: replacing them" "$WORK/custosd.log")"
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
# After a crash, another ring size: the programs still attached are
# replaced once the new ones are loaded, and the GAP says for how long
# none was.
start_custosd --db "$WORK/b.db" --keys "$WORK/b-keys" --watch "$TREE" --ring-size 65536 ||
	exit 1
check "another ring size: replaced, and said" 1 \
	"$(grep -c "pinned in $PINS are of another ring size: replacing them" "$WORK/custosd.log")"
stop_custosd || fail "custosd exits 0"
verify "$WORK/b.db" "$WORK/b-keys"
check "its GAP: no capture recorded, and when no program was attached" "2 1" \
	"$? $(grep -c '^GAP .*: no capture from .*; no program attached from .* (crash)$' \
		"$WORK/report")"

# A host busy with processes, none reading a protected file: their events
# make no record, and their ring space comes back all the same (the
# cursor is committed alone): none is lost in a small ring.
start_custosd --db "$WORK/p.db" --keys "$WORK/p-keys" --watch "$TREE" --ring-size 65536 ||
	exit 1
i=0
while [ $i -lt 1000 ]; do
	/bin/true
	i=$((i + 1))
done
sleep 0.5
stop_custosd || fail "custosd exits 0"
check "1000 processes and no protected file: no process event lost in a 64 KiB ring" 0 \
	"$(records "$WORK/p.db" '.action == "loss"')"

# A thief: custosd stopped, accesses made, the ring's position moved past
# them.  custosd finds it moved, and counts what it passed over.
start_custosd --db "$WORK/c.db" --keys "$WORK/c-keys" --watch "$TREE" || exit 1
kill -STOP "$DAEMON_PID"
"$WORKLOAD" burst "$TREE" 10 >"$WORK/burst.out"
pid_of burst_pid "$WORK/burst.out"
"$WORKLOAD" steal "$PINS/maps/events" >"$WORK/steal.out"
kill -CONT "$DAEMON_PID"
sleep 1
stop_custosd || fail "custosd exits 0"
check "the accesses the thief passed over are not in the ledger" 0 \
	"$(records "$WORK/c.db" ".pid == $burst_pid")"
moved=$("$CUSTOS" query --db "$WORK/c.db" --action loss --format json |
	jq -s '[.[].detail | select(test("counter=ring_moved ")) |
		capture("count=(?<n>[0-9]+)").n | tonumber] | add // 0')
if [ "$moved" -ge 20 ]; then
	pass "a LOSS record (ring_moved) counts the records passed over ($moved)"
else
	fail "a LOSS record (ring_moved) counts the records passed over ($moved)"
fi
check "custosd says the ring was moved" 1 \
	"$(grep -c "read position was moved by another process" "$WORK/custosd.log")"
verify "$WORK/c.db" "$WORK/c-keys"
check "the ledger verifies, the loss a warning (exit 2)" 2 $?
finish
