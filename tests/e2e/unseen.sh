# Descriptors that reach a process without an open it made, or without an
# open custos saw: a file opened before custosd started and read after, a
# descriptor taken from such a process with pidfd_getfd, and a fanotify
# listener reading every file someone opens through the descriptors the
# kernel opens for it.  Each read is recorded with its exact bytes,
# attributed to the reader, after an open flagged "discovered" where the
# open itself was not seen.
. "$(dirname "$0")/../lib.sh"

chmod 755 "$WORK"
TREE=$WORK/tree
mkdir -p "$TREE" "$WORK/out"
"$WORKLOAD" setup "$TREE" "$WORK/out" || exit 1

# Opened before custosd runs: one reads it itself later, the other only
# holds it for a third process to take.
"$WORKLOAD" openhold "$WORK/go" "$TREE/a" >"$WORK/hold.out" 2>&1 &
HOLD=$!
"$WORKLOAD" openhold "$WORK/never" "$TREE/d" >"$WORK/lend.out" 2>&1 &
LEND=$!
trap 'kill $HOLD $LEND $FAN 2>/dev/null; cleanup' EXIT
for _ in $(seq 100); do
	grep -q fd= "$WORK/hold.out" && grep -q fd= "$WORK/lend.out" && break
	sleep 0.05
done
LEND_FD=$(sed -n 's/^fd=//p' "$WORK/lend.out")

start_custosd --db "$WORK/db" --watch "$TREE=customers" || exit 1

# fanotify: the listener reads sub/b through the descriptor it is given
# when cat opens it.
"$WORKLOAD" fanotify "$TREE/sub" 1 >"$WORK/fan.out" 2>&1 &
FAN=$!
for _ in $(seq 100); do grep -q ready "$WORK/fan.out" && break; sleep 0.05; done
"$WORKLOAD" cat "$TREE/sub/b" >"$WORK/cat.out" || fail "cat sub/b"
wait $FAN || fail "the fanotify listener"
pid_of pid_fan "$WORK/fan.out"
pid_of pid_cat "$WORK/cat.out"

# The older description, read now; then one taken from another process.
touch "$WORK/go"
wait $HOLD || fail "the reader older than custosd"
pid_of pid_hold "$WORK/hold.out"
"$WORKLOAD" getfd "$LEND" "$LEND_FD" >"$WORK/getfd.out" || fail "pidfd_getfd reader"
pid_of pid_getfd "$WORK/getfd.out"
# Its end closes the shared description: waited for, so that the session's
# one record is made before custosd stops (a stop first would report it
# open, partial, and the close after it again, final).
kill $LEND
wait $LEND 2>/dev/null
stop_custosd || fail "custosd exits 0"

"$CUSTOS" query --db "$WORK/db" --format json >"$WORK/all.json" || fail "custos query runs"
# of PID ACTION: "path bytes discovered" of that process's records
of() {
	jq -r --argjson pid "$1" --arg action "$2" 'select(.pid == $pid and .action == $action) |
		"\(.path) \(.bytes) \(.discovered)"' "$WORK/all.json" | tr '\n' ' ' | sed 's/ $//'
}
check "fanotify: the file's bytes read by the listener" "$TREE/sub/b 10000 null" \
	"$(of "$pid_fan" read)"
check "fanotify: the opener's own open" "$TREE/sub/b null false" "$(of "$pid_cat" open)"
# The listener's descriptor is opened by the kernel inside its read of the
# fanotify queue: the hooks see that open, the syscall tracepoints cannot.
case $(jq -r 'select(.action == "start") | .detail' "$WORK/all.json") in
*backend=hooks*) want=false ;;
*) want=true ;;
esac
check "fanotify: the listener's open (discovered: $want)" "$TREE/sub/b null $want" \
	"$(of "$pid_fan" open)"
check "opened before custosd: the reads" "$TREE/a 1000 null" "$(of "$pid_hold" read)"
check "opened before custosd: an open found at the first read" "$TREE/a null true" \
	"$(of "$pid_hold" open)"
check "pidfd_getfd: the bytes read by the taker" "$TREE/d 5000 null" "$(of "$pid_getfd" read)"
check "pidfd_getfd: an open found at its first read" "$TREE/d null true" \
	"$(of "$pid_getfd" open)"
check "pidfd_getfd: the lender read nothing" "" "$(of "$LEND" read)"
"$CUSTOS" verify --db "$WORK/db" --trust "$WORK/keys/trust.vkeys" >"$WORK/verify.out" 2>&1
check "custos verify exits 0" 0 $?
finish
