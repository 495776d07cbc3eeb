# Failed attempts on protected paths: what an auditor asks first.  There is
# no file to place in a tree, so the path is the start directory's kernel
# path joined with the caller's name, "." and ".." folded, flagged
# unresolved; the result is -errno.
. "$(dirname "$0")/../lib.sh"

chmod 755 "$WORK"
TREE=$WORK/tree
mkdir -p "$TREE" "$WORK/out"
"$WORKLOAD" setup "$TREE" "$WORK/out" || exit 1
chmod 600 "$TREE/a"
start_custosd --db "$WORK/db" --watch "$TREE=customers" || exit 1
attempt() { # attempt NAME [as UID] DIR PATH
	name=$1
	shift
	if [ "$1" = as ]; then
		setpriv --reuid="$2" --regid="$2" --clear-groups "$WORKLOAD" try "$3" "$4" \
			>"$WORK/$name.out"
	else
		"$WORKLOAD" try "$1" "$2" >"$WORK/$name.out"
	fi
	pid_of "pid_$name" "$WORK/$name.out"
}
attempt denied as 4242 . "$TREE/a"
attempt missing . "$TREE/sub/nope"
(cd "$TREE/sub" && attempt relative . "nope2")
pid_of pid_relative "$WORK/relative.out"
attempt dirfd "$TREE/sub" "../nope3"
attempt dotdot . "$TREE/sub/../nope4"
attempt outside . "$WORK/out/nope5"
stop_custosd || fail "custosd exits 0"

"$CUSTOS" query --db "$WORK/db" --action open --format json >"$WORK/opens.json"
got() { # got PID: "result path unresolved" of that process's open
	jq -r --argjson pid "$1" 'select(.pid == $pid and .result < 0) |
		"\(.result) \(.path) \(.unresolved)"' \
		"$WORK/opens.json"
}
check "permission denied (EACCES) on a protected file" "-13 $TREE/a true" "$(got "$pid_denied")"
check "a missing file in the tree (ENOENT)" "-2 $TREE/sub/nope true" "$(got "$pid_missing")"
check "a relative name from a directory in the tree" "-2 $TREE/sub/nope2 true" \
	"$(got "$pid_relative")"
check "dirfd-relative with ..: folded" "-2 $TREE/nope3 true" "$(got "$pid_dirfd")"
check "an absolute name with ..: folded" "-2 $TREE/nope4 true" "$(got "$pid_dotdot")"
check "a failure outside the tree: not recorded" "" "$(got "$pid_outside")"
check "the denied attempt names uid 4242" 4242 \
	"$(jq -r --argjson pid "$pid_denied" 'select(.pid == $pid) | .uid' "$WORK/opens.json")"
"$CUSTOS" verify --db "$WORK/db" --trust "$WORK/keys/trust.vkeys" >"$WORK/report" 2>&1
check "the log verifies with no unaccounted event (exit 0)" 0 $?
finish
