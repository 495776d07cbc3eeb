# What an open learns from the opens before it (the tracepoint backend
# keeps each directory's verdict and path, README "Performance") must never
# outlive what it was learnt from: each directory here is opened first, so
# that its verdict and path are kept, then moved: into the tree (by
# rename(2), by renameat2 through mv, by io_uring alone, by moving the mount
# it is on), within it, and out of it.  The open after the move is recorded
# under the name it has now, with its bytes; the opens before the move
# outside the tree are not recorded at all.
. "$(dirname "$0")/../lib.sh"

chmod 755 "$WORK"
TREE=$WORK/tree
OUT=$WORK/out
# The mounts moved here live below a private mount: a mount cannot be moved
# from below a shared one.
BOX=$WORK/box
mkdir -p "$TREE" "$OUT" "$BOX"
mount -t tmpfs box "$BOX" || exit 1
mount --make-private "$BOX" || exit 1
# One by one: busybox's umount (the VM's) has no -R.
trap 'umount "$BOX/tree/m" "$BOX/out/m" 2>/dev/null; umount "$BOX"; cleanup' EXIT
mkdir -p "$BOX/tree" "$BOX/out/m"
mount -t tmpfs m "$BOX/out/m" || exit 1
# mkfile PATH SIZE: a file of SIZE bytes, its directories made
mkfile() {
	mkdir -p "$(dirname "$1")"
	head -c "$2" /dev/zero | tr '\0' x >"$1"
}
for d in a b c; do mkfile "$OUT/$d/sub/f" 1111; done
mkfile "$TREE/d/sub/f" 2222
mkfile "$TREE/g/sub/f" 3333
mkfile "$BOX/out/m/sub/f" 4444
chmod -R a+rX "$WORK"
start_custosd --db "$WORK/db" --watch "$TREE=customers" --watch "$BOX/tree=boxed" || exit 1

# case NAME PATH MOVE...: PATH opened twice (the second open from what the
# first left), MOVE, then the file opened again at once where it is now
# ($AFTER), before custosd could react to anything the move told it; each
# case on its own, so that nothing but its own move comes between.
case_() {
	# run() sets name: sh has no locals.
	case_name=$1
	run "before_$case_name" "$WORKLOAD" cat "$2"
	"$WORKLOAD" cat "$2" >/dev/null || fail "cat $2"
	shift 2
	"$@" >/dev/null || fail "$case_name: the move itself"
	run "after_$case_name" "$WORKLOAD" cat "$AFTER"
	sleep 0.2
}
AFTER=$BOX/tree/m/sub/f
case_ m "$BOX/out/m/sub/f" sh -c "mkdir '$BOX/tree/m' && mount --move '$BOX/out/m' '$BOX/tree/m'"
AFTER=$TREE/c/sub/f
case_ c "$OUT/c/sub/f" "$WORKLOAD" uring_rename "$OUT/c" "$TREE/c"
AFTER=$TREE/e/sub/f
case_ e "$TREE/d/sub/f" mv "$TREE/d" "$TREE/e"
AFTER=$TREE/b/sub/f
case_ b "$OUT/b/sub/f" mv "$OUT/b" "$TREE/b"
AFTER=$TREE/a/sub/f
case_ a "$OUT/a/sub/f" "$WORKLOAD" rename "$OUT/a" "$TREE/a"
# A directory moved out stays protected (README); on kernels before 6.13
# the tracepoint backend learns it from custosd, a few milliseconds late.
"$WORKLOAD" cat "$TREE/g/sub/f" >/dev/null || fail "cat $TREE/g/sub/f"
run renamedir "$WORKLOAD" rename "$TREE/g" "$OUT/g"
for _ in $(seq 200); do
	"$CUSTOS" query --db "$WORK/db" --action rename --format json 2>/dev/null |
		jq -e --arg p "$TREE/g" 'select(.path == $p)' >/dev/null && break
	sleep 0.05
done
run after_g "$WORKLOAD" cat "$OUT/g/sub/f"
stop_custosd || fail "custosd exits 0"

"$CUSTOS" query --db "$WORK/db" --format json >"$WORK/all.json" || fail "custos query runs"
# of PID: "action path bytes" of that process's records
of() {
	jq -r --argjson pid "$1" 'select(.pid == $pid) | "\(.action) \(.path) \(.bytes)"' \
		"$WORK/all.json" | tr '\n' ' ' | sed 's/ $//'
}
check "outside the tree before the moves: no record" "" \
	"$(for p in "$pid_before_a" "$pid_before_b" "$pid_before_c" "$pid_before_m"; do of "$p"; done)"
check "within the tree before the move: recorded" "open $TREE/d/sub/f null read $TREE/d/sub/f 2222" \
	"$(of "$pid_before_e")"
check "moved in by rename(2): recorded where it is now" \
	"open $TREE/a/sub/f null read $TREE/a/sub/f 1111" "$(of "$pid_after_a")"
check "moved in by mv (renameat2): recorded where it is now" \
	"open $TREE/b/sub/f null read $TREE/b/sub/f 1111" "$(of "$pid_after_b")"
check "moved in by io_uring alone: recorded where it is now" \
	"open $TREE/c/sub/f null read $TREE/c/sub/f 1111" "$(of "$pid_after_c")"
check "its mount moved into a tree: recorded where it is now" \
	"open $BOX/tree/m/sub/f null read $BOX/tree/m/sub/f 4444" "$(of "$pid_after_m")"
check "moved within the tree: the new path" \
	"open $TREE/e/sub/f null read $TREE/e/sub/f 2222" "$(of "$pid_after_e")"
check "moved out of the tree: still protected, the new path" \
	"open $OUT/g/sub/f null read $OUT/g/sub/f 3333" "$(of "$pid_after_g")"
"$CUSTOS" verify --db "$WORK/db" --trust "$WORK/keys/trust.vkeys" >"$WORK/verify.out" 2>&1
check "custos verify exits 0" 0 $?
finish
