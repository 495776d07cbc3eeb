# Paths from the host's root wherever the access was made: in a container
# (a mount namespace with a root of its own, pivot_root), through a bind
# mount made while custosd runs, and in a chroot.  Failed opens are placed
# there too.
. "$(dirname "$0")/../lib.sh"

chmod 755 "$WORK"
TREE=$WORK/tree
CTR=$WORK/ctr
mkdir -p "$TREE" "$WORK/out" "$CTR/bin" "$CTR/data" "$CTR/old" "$CTR/ov" "$WORK/up" "$WORK/ovl-work"
"$WORKLOAD" setup "$TREE" "$WORK/out" || exit 1
# The workload is static: it runs in a root that has nothing else.
cp "$WORKLOAD" "$CTR/bin/workload"
trap 'umount "$CTR/data" 2>/dev/null; cleanup' EXIT
start_custosd --db "$WORK/db" --watch "$TREE=customers" || exit 1

# container NAME SHELL-CMD: run SHELL-CMD in a container: a new mount
# namespace whose root is $CTR, with the tree bound at /data and an overlay
# over it (mounted in the namespace only) at /ov.
container() {
	name=$1
	unshare -m --propagation private sh -c "
		mount --bind '$CTR' '$CTR' &&
		mount --bind '$TREE' '$CTR/data' &&
		mount -t overlay ovl -o lowerdir='$TREE',upperdir='$WORK/up',workdir='$WORK/ovl-work' \
			'$CTR/ov' &&
		cd '$CTR' && pivot_root . old && cd / && $2" >"$WORK/$name.out" 2>"$WORK/$name.err" ||
		fail "$name: the attempt itself failed: $(cat "$WORK/$name.err")"
	pid_of "pid_$name" "$WORK/$name.out"
}
container ctr_cat "exec /bin/workload cat /data/sub/b"
container ctr_rel "cd /data/sub && exec /bin/workload try . nope"
container ctr_abs "exec /bin/workload try . /data/sub/nope2"
container ctr_ovl "exec /bin/workload cat /ov/sub/b"

# A bind mount made on the host while custosd runs, then a chroot that sees
# the tree through it.  custosd learns of the mount from the kernel.
mount --bind "$TREE" "$CTR/data" || fail "bind mount the tree"
sleep 1
"$WORKLOAD" try . "$CTR/data/sub/nope3" >"$WORK/bind.out"
pid_of pid_bind "$WORK/bind.out"
chroot "$CTR" /bin/workload try . /data/sub/nope4 >"$WORK/chroot.out"
pid_of pid_chroot "$WORK/chroot.out"
umount "$CTR/data"
stop_custosd || fail "custosd exits 0"

"$CUSTOS" query --db "$WORK/db" --format json >"$WORK/all.json" || fail "custos query runs"
# got PID ACTION: "path bytes-or-result fs_relative" of that process's records
# (a successful open's result is "ok": the fd, or 0 where the open is seen
# before it has one, on the hook backend)
got() {
	jq -r --argjson pid "$1" --arg a "$2" 'select(.pid == $pid and .action == $a) |
		"\(.path) \(if .action == "read" then .bytes elif .result >= 0 then "ok"
			else .result end) \(.fs_relative)"' "$WORK/all.json"
}
[ -n "${DEBUG:-}" ] && jq -c --argjson pid "$pid_ctr_ovl" 'select(.pid == $pid)' "$WORK/all.json"
B=$TREE/sub/b
check "container: the open, under the host's path" "$B ok false" "$(got "$pid_ctr_cat" open)"
check "container: the read session, under the host's path" "$B 10000 false" \
	"$(got "$pid_ctr_cat" read)"
check "container: the program's path is the host's" "$CTR/bin/workload" \
	"$(jq -r --argjson pid "$pid_ctr_cat" 'select(.pid == $pid and .action == "read") | .exe' \
		"$WORK/all.json")"
check "container: a failed open relative to a directory in the tree" \
	"$TREE/sub/nope -2 false" "$(got "$pid_ctr_rel" open)"
check "container: a failed open by an absolute name through its own bind mount: not placed" \
	"" "$(got "$pid_ctr_abs" open)"
check "container: an overlay mounted only there: caught, path from its file system, flagged" \
	"/sub/b 10000 true" "$(got "$pid_ctr_ovl" read)"
check "a bind mount made while custosd runs: a failed open through it is placed" \
	"$CTR/data/sub/nope3 -2 false" "$(got "$pid_bind" open)"
check "chroot: a failed open by an absolute name, under the host's path" \
	"$CTR/data/sub/nope4 -2 false" "$(got "$pid_chroot" open)"
check "no loss" 0 "$(jq -r 'select(.action == "loss")' "$WORK/all.json" | grep -c loss)"
"$CUSTOS" verify --db "$WORK/db" --trust "$WORK/keys/trust.vkeys" >"$WORK/report" 2>&1
check "the log verifies (exit 0)" 0 $?
finish
