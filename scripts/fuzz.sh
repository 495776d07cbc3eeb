#!/bin/sh
# make fuzz: run each libFuzzer target given (build/fuzz/fuzz_NAME) for
# FUZZ_SECONDS (60) from its seeds (tests/fuzz/corpus/NAME, read only: what
# the fuzzer finds goes to a scratch corpus), and say how many inputs it ran.
# A crash, a sanitizer's report or a leak fails it; the input that did it
# is kept in FUZZ_ARTIFACTS (build/fuzz/crashes).  The parsers' own
# messages about bad input are not shown (the fuzzer's and the sanitizers'
# reports are).  Closing line: N passed, N failed.
set -u
cd "$(dirname "$0")/.." || exit 1
SECONDS_EACH=${FUZZ_SECONDS:-60}
ARTIFACTS=${FUZZ_ARTIFACTS:-build/fuzz/crashes}
mkdir -p "$ARTIFACTS"
passed=0
failed=0
for bin in "$@"; do
	name=${bin##*/fuzz_}
	seeds=tests/fuzz/corpus/$name
	work=$(mktemp -d /tmp/custos-fuzz.XXXXXX)
	"$bin" -max_total_time="$SECONDS_EACH" -print_final_stats=1 -timeout=10 -close_fd_mask=3 \
		-artifact_prefix="$ARTIFACTS/$name-" "$work" "$seeds" >"$work.log" 2>&1
	rc=$?
	runs=$(awk '/stat::number_of_executed_units/ { print $NF }' "$work.log")
	if [ $rc = 0 ] && [ -n "$runs" ]; then
		echo "PASS: fuzz $name: ${runs} inputs in ${SECONDS_EACH} s, no crash"
		passed=$((passed + 1))
	else
		echo "FAIL: fuzz $name (exit $rc): see $ARTIFACTS; its report:"
		grep -A20 -m1 'ERROR\|==ABORT\|runtime error\|deadly signal' "$work.log"
		failed=$((failed + 1))
	fi
	rm -rf "$work" "$work.log"
done
echo "$passed passed, $failed failed"
[ $failed = 0 ]
