#!/bin/sh
# Run every test and print one closing line: "N passed, N failed[, N skipped]".
# Unit tests are build/tests/test_*; end-to-end tests are tests/e2e/*.sh and
# need root.  `run.sh --e2e NAME...` runs only those end-to-end suites (the
# second kernel's run, scripts/vmtest.sh).  Each prints "PASS: name" / "FAIL: name" lines; a script that
# exits 77 is skipped, which under CI=true counts as a failure.
set -u
cd "$(dirname "$0")/.." || exit 1

passed=0
failed=0
skipped=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

tally() { # tally NAME STATUS: count the PASS/FAIL lines of the last run
	p=$(grep -c '^PASS: ' "$log")
	f=$(grep -c '^FAIL: ' "$log")
	if [ "$2" = 77 ]; then
		if [ "${CI:-}" = true ]; then
			echo "FAIL: $1 skipped, and CI=true forbids skips"
			failed=$((failed + 1))
		else
			echo "SKIP: $1"
			skipped=$((skipped + 1))
		fi
		return
	fi
	if [ "$2" != 0 ] && [ "$f" = 0 ]; then
		echo "FAIL: $1 exited with status $2"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
}

only=
if [ "${1:-}" = --e2e ]; then
	shift
	only=$*
fi

# One binary per unit source: a missing one is a failure, not a quiet skip.
for src in tests/unit/test_*.c; do
	[ -z "$only" ] || break
	t=build/tests/$(basename "$src" .c)
	echo "== ${t#build/tests/}"
	if [ -x "$t" ]; then
		"$t" >"$log" 2>&1
		rc=$?
	else
		echo "not built: $t" >"$log"
		rc=127
	fi
	cat "$log"
	tally "$t" $rc
done

for t in tests/e2e/*.sh; do
	[ -f "$t" ] || continue
	if [ -n "$only" ]; then
		case " $only " in *" $(basename "$t" .sh) "*) ;; *) continue ;; esac
	fi
	echo "== $t"
	t0=$(date +%s)
	sh "$t" >"$log" 2>&1
	rc=$?
	cat "$log"
	echo "-- $t: $(($(date +%s) - t0)) s"
	tally "$t" $rc
done

[ -n "$only" ] && { echo "$passed passed, $failed failed"; [ "$failed" = 0 ]; exit; }

# The fuzz targets (make fuzz: every parser of outside input), built and run
# FUZZ_SECONDS each (20) beside the second kernel's runs: those keep one
# core busy (qemu emulates one CPU), these the other.
fuzzlog=$(mktemp)
trap 'rm -f "$log" "$fuzzlog"' EXIT
(make --no-print-directory fuzz-build && FUZZ_SECONDS=${FUZZ_SECONDS:-20} scripts/fuzz.sh \
	build/fuzz/fuzz_*) >"$fuzzlog" 2>&1 &
fuzz_pid=$!

# The second kernel's runs, when this machine can boot it (scripts/vmtest.sh
# says when it cannot), then the fuzzers' results and the formatting rule
# (.clang-format), which is part of the suite so that CI enforces it.
if [ "${CUSTOS_NO_VM:-}" != 1 ]; then
	echo "== vmtest"
	scripts/vmtest.sh >"$log" 2>&1
	rc=$?
	cat "$log"
	tally vmtest $rc
fi
echo "== fuzz"
wait $fuzz_pid
rc=$?
grep -v '^  ' "$fuzzlog" >"$log"
cat "$log"
tally fuzz $rc
echo "== format-check"
make --no-print-directory format-check >"$log" 2>&1
rc=$?
head -20 "$log"
if [ $rc = 0 ]; then echo "PASS: format-check"; else echo "FAIL: format-check"; fi >>"$log"
tail -1 "$log"
tally format-check $rc

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" = 0 ]
