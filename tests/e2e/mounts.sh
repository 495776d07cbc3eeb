# Mounts: protection follows inodes, not path strings.  A file system mounted
# below a protected directory is inside the tree; a bind mount of the tree
# elsewhere still reaches the protected directory.  Paths are the kernel's.
. "$(dirname "$0")/../lib.sh"

TREE=$WORK/tree
mkdir -p "$TREE/mnt" "$WORK/bind" "$WORK/out"
"$WORKLOAD" setup "$TREE" "$WORK/out" || exit 1
mount -t tmpfs custos-test "$TREE/mnt" || exit 1
mount --bind "$TREE" "$WORK/bind" || { umount "$TREE/mnt"; exit 1; }
printf '0123456789' >"$TREE/mnt/inner"
undo() { umount "$WORK/bind" 2>/dev/null; umount "$TREE/mnt" 2>/dev/null; cleanup; }
trap undo EXIT

start_custosd --db "$WORK/db" --watch "$TREE=t" || exit 1
"$WORKLOAD" cat "$TREE/mnt/inner" >/dev/null || exit 1
"$WORKLOAD" cat "$WORK/bind/sub/b" >/dev/null || exit 1
"$WORKLOAD" cat "$WORK/out/c" >/dev/null || exit 1
stop_custosd || fail "custosd exits 0"

"$CUSTOS" query --db "$WORK/db" --action read --format json >"$WORK/reads.json"
check "a mount below the tree is inside it" "10" \
	"$(jq -r --arg p "$TREE/mnt/inner" 'select(.path==$p) | .bytes' "$WORK/reads.json")"
check "a bind mount of the tree is still protected, under its own path" "10000" \
	"$(jq -r --arg p "$WORK/bind/sub/b" 'select(.path==$p) | .bytes' "$WORK/reads.json")"
check "nothing else" 2 "$(wc -l <"$WORK/reads.json")"
finish
