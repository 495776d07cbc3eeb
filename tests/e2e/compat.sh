# 32-bit system calls: a static i386 program, int $0x80 from a 64-bit one,
# and a static x32 program read a protected file each way they can; the
# ledger must hold each open and the exact bytes, with the ABI that made
# the call.  (The per-syscall trace events never fire for these calls.)
. "$(dirname "$0")/../lib.sh"

COMPAT32=$BUILD/tests/compat32
COMPATX32=$BUILD/tests/compatx32
chmod 755 "$WORK"
TREE=$WORK/tree
mkdir -p "$TREE" "$WORK/out"
"$WORKLOAD" setup "$TREE" "$WORK/out" || exit 1
B=$TREE/sub/b

# Whether this kernel runs programs of an ABI at all (IA32 emulation, x32
# support): said, and that ABI's cases left out here only.
runs() { # runs PROGRAM: 0 when the kernel executes it
	"$1" read "$WORK/out/c" >/dev/null 2>"$WORK/probe.err" && return 0
	grep -q . "$WORK/probe.err" && cat "$WORK/probe.err"
	return 1
}
I386=1 X32=1
# int $0x80 from a 64-bit program is the same IA32 emulation: it goes with i386.
runs "$COMPAT32" || { I386=0; echo "NOTE: this kernel does not run i386 programs (nor int \$0x80): their cases are skipped here"; }
runs "$COMPATX32" || { X32=0; echo "NOTE: this kernel does not run x32 programs: their cases are skipped here"; }

start_custosd --db "$WORK/db" --watch "$TREE=customers" || exit 1

OPENS="open openat openat2"
READS="pread readv preadv preadv2 sendfile sendfile64 splice copy aio"
# run ABI HOW PROGRAM...: one attempt; its pid in pid_ABI_HOW
run() {
	abi=$1 how=$2
	shift 2
	"$@" >"$WORK/$abi-$how.out" 2>"$WORK/$abi-$how.err" || fail "$abi $how: the attempt itself failed"
	pid_of "pid_${abi}_$how" "$WORK/$abi-$how.out"
}
if [ $I386 = 1 ]; then
	for how in $OPENS $READS mmap oldmmap; do run i386 "$how" "$COMPAT32" "$how" "$B"; done
fi
if [ $X32 = 1 ]; then
	for how in $OPENS $READS mmap; do run x32 "$how" "$COMPATX32" "$how" "$B"; done
fi
[ $I386 = 1 ] && run int80 cat "$WORKLOAD" int80 "$B"
run native cat "$WORKLOAD" cat "$B"
stop_custosd || fail "custosd exits 0"

"$CUSTOS" query --db "$WORK/db" --format json >"$WORK/all.json" || fail "custos query runs"
# of PID ACTION: "abi bytes read_paths path" of that process's records
of() {
	jq -r --argjson pid "$1" --arg action "$2" 'select(.pid == $pid and .action == $action) |
		"\(.abi) \(.bytes) \((.read_paths // []) | join(",")) \(.path)"' "$WORK/all.json" |
		tr '\n' ' ' | sed 's/ $//'
}
pid() { eval "echo \${pid_$1_$2:--1}"; }
name() { # the read path a HOW shows as
	case $1 in
	pread) echo pread64 ;;
	copy) echo copy_file_range ;;
	sendfile64) echo sendfile ;;
	*) echo "$1" ;;
	esac
}
for abi in i386 x32; do
	[ "$abi" = i386 ] && [ $I386 = 0 ] && continue
	[ "$abi" = x32 ] && [ $X32 = 0 ] && continue
	for how in $OPENS; do
		check "$abi $how: the open" "$abi null  $B" "$(of "$(pid $abi "$how")" open)"
		check "$abi $how: 10000 bytes read" "$abi 10000 read $B" "$(of "$(pid $abi "$how")" read)"
	done
	for how in $READS; do
		check "$abi $how: 10000 bytes, by $(name "$how")" "$abi 10000 $(name "$how") $B" \
			"$(of "$(pid $abi "$how")" read)"
	done
	mmaps="mmap"
	[ "$abi" = i386 ] && mmaps="mmap oldmmap"
	for how in $mmaps; do
		check "$abi $how: the mapping recorded" "$abi null  $B" "$(of "$(pid $abi "$how")" mmap)"
	done
done
if [ $I386 = 1 ]; then
	check "int 0x80 from a 64-bit program: the open" "i386 null  $B" \
		"$(of "$(pid int80 cat)" open)"
	check "int 0x80 from a 64-bit program: 10000 bytes read" "i386 10000 read $B" \
		"$(of "$(pid int80 cat)" read)"
fi
check "a native read: x86_64" "x86_64 10000 read $B" "$(of "$(pid native cat)" read)"
"$CUSTOS" verify --db "$WORK/db" --trust "$WORK/keys/trust.vkeys" >"$WORK/verify.out" 2>&1
check "custos verify exits 0" 0 $?
finish
