# Protected data with a name outside its tree: a hard link made before
# custosd started (the dentry cache dropped, so that only the start walk
# can know it), one made while it runs and read at once, a file and a
# directory renamed out and then read.  Each read is recorded under the
# outside name; each link and rename out of a tree is a record of its own,
# naming both names and who made it; renames within a tree are not.
. "$(dirname "$0")/../lib.sh"

chmod 755 "$WORK"
TREE=$WORK/tree
OUT=$WORK/out
mkdir -p "$TREE/dir" "$OUT"
"$WORKLOAD" setup "$TREE" "$OUT" || exit 1
for f in f1 f2 f3 f4 f6 f7 dir/f5; do
	head -c 2345 /dev/zero | tr '\0' x >"$TREE/$f"
done
chmod -R a+rX "$TREE"
ln "$TREE/f1" "$OUT/f1-link"
# No name of f1 is cached any more: its inode is known only if custosd's
# walk of the tree at start found it.
drop_caches() { sync; echo 2 >/proc/sys/vm/drop_caches; }
drop_caches
start_custosd --db "$WORK/db" --watch "$TREE=customers" || exit 1
drop_caches

# committed ACTION PATH: wait until the ledger holds that record (custosd
# has handled the event): on the tracepoint backend custosd is what
# remembers a moved file, a few milliseconds after the rename.
committed() {
	for _ in $(seq 200); do
		"$CUSTOS" query --db "$WORK/db" --action "$1" --format json 2>/dev/null |
			jq -e --arg p "$2" 'select(.path == $p)' >/dev/null && return 0
		sleep 0.05
	done
	fail "no $1 record of $2 in the ledger"
}
run read1 "$WORKLOAD" cat "$OUT/f1-link"
run link2 "$WORKLOAD" link "$TREE/f2" "$OUT/f2-link"
# At once: before custosd has handled the link's event.
run read2 "$WORKLOAD" cat "$OUT/f2-link"
# Whether the kernel remembers a moved file itself, before the rename
# returns: the hooks do; the tracepoints do where the kernel has 6.13's
# timestamp tracepoints (the moved inode's ctime is set while its name is
# still in the tree); otherwise custosd does, a few milliseconds later.
backend=$("$CUSTOS" query --db "$WORK/db" --action start --format json | jq -r .detail |
	sed -n 's/.*backend=\([a-z]*\).*/\1/p')
exact=no
if [ "$backend" = hooks ] || grep -q 'btf_trace_ctime_ns_xchg' /sys/kernel/btf/vmlinux; then
	exact=yes
fi
run rename3 "$WORKLOAD" rename "$TREE/f3" "$OUT/f3-moved"
[ $exact = yes ] || committed rename "$TREE/f3"
drop_caches
run read3 "$WORKLOAD" cat "$OUT/f3-moved"
# Renamed out through a symlink to the tree: the name does not tell.
ln -s "$TREE" "$OUT/via"
run rename7 "$WORKLOAD" rename "$OUT/via/f7" "$OUT/f7-moved"
run read7 "$WORKLOAD" cat "$OUT/f7-moved"
# Renamed twice at once: only the kernel can follow that.
run rename6 "$WORKLOAD" rename "$TREE/f6" "$OUT/f6-a"
"$WORKLOAD" rename "$OUT/f6-a" "$OUT/f6-b" >/dev/null || fail "the second rename"
run read6 "$WORKLOAD" cat "$OUT/f6-b"
run renamedir "$WORKLOAD" rename "$TREE/dir" "$OUT/dir-moved"
committed rename "$TREE/dir"
run read5 "$WORKLOAD" cat "$OUT/dir-moved/f5"
# Within the tree, by a plain name and by absolute names: no record.
(cd "$TREE" && "$WORKLOAD" rename f4 f4b >/dev/null) || fail "rename within the tree"
run within "$WORKLOAD" rename "$TREE/f4b" "$TREE/sub/f4c"
stop_custosd || fail "custosd exits 0"

"$CUSTOS" query --db "$WORK/db" --format json >"$WORK/all.json" || fail "custos query runs"
# of PID ACTION: "path target bytes" of that process's records
of() {
	jq -r --argjson pid "$1" --arg action "$2" 'select(.pid == $pid and .action == $action) |
		"\(.path) \(.target) \(.bytes)"' "$WORK/all.json" | tr '\n' ' ' | sed 's/ $//'
}
check "a link made before custosd, no name cached: read through it" \
	"$OUT/f1-link null 2345" "$(of "$pid_read1" read)"
check "a link made while custosd runs: the link record" "$TREE/f2 $OUT/f2-link null" \
	"$(of "$pid_link2" link)"
check "a link made while custosd runs: read through it at once" "$OUT/f2-link null 2345" \
	"$(of "$pid_read2" read)"
check "a rename out of the tree: the rename record" "$TREE/f3 $OUT/f3-moved null" \
	"$(of "$pid_rename3" rename)"
check "a rename out of the tree: a read of the moved file" "$OUT/f3-moved null 2345" \
	"$(of "$pid_read3" read)"
if [ $exact = yes ]; then
	check "renamed twice at once: read through the last name" "$OUT/f6-b null 2345" \
		"$(of "$pid_read6" read)"
else
	# Followed only if custosd looked the first name up before the second
	# rename: a race, asserted neither way (README: not seen there).
	echo "NOTE: renamed twice at once, this kernel's tracepoints: read recorded:" \
		"$([ -n "$(of "$pid_read6" read)" ] && echo yes || echo no)"
fi
if [ $exact = yes ]; then
	# The hooks resolve the name; the ctime tracepoint saw the file's own.
	want7="$TREE/f7"
	[ "$backend" = hooks ] || want7="$OUT/via/f7"
	check "renamed out through a symlink: the rename record" "$want7 $OUT/f7-moved null" \
		"$(of "$pid_rename7" rename)"
	check "renamed out through a symlink: read where it went" "$OUT/f7-moved null 2345" \
		"$(of "$pid_read7" read)"
else
	check "renamed out through a symlink: not placed by this kernel's tracepoints (as documented)" \
		"" "$(of "$pid_rename7" rename)"
fi
check "renamed twice at once: the first rename's record" "$TREE/f6 $OUT/f6-a null" \
	"$(of "$pid_rename6" rename)"
check "a directory renamed out: the rename record" "$TREE/dir $OUT/dir-moved null" \
	"$(of "$pid_renamedir" rename)"
check "a directory renamed out: a read of a file in it" "$OUT/dir-moved/f5 null 2345" \
	"$(of "$pid_read5" read)"
check "renames within the tree: no record" 0 \
	"$(jq -r 'select(.action == "rename")' "$WORK/all.json" | grep -c '"f4')"
check "the link and the renames: the program that made them" "workload workload workload" \
	"$(for p in "$pid_link2" "$pid_rename3" "$pid_renamedir"; do
		jq -r --argjson pid "$p" 'select(.pid == $pid and (.action == "link" or
			.action == "rename")) | .comm' "$WORK/all.json"
	done | tr '\n' ' ' | sed 's/ $//')"
"$CUSTOS" verify --db "$WORK/db" --trust "$WORK/keys/trust.vkeys" >"$WORK/verify.out" 2>&1
check "custos verify exits 0" 0 $?
finish
