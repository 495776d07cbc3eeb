# Rules through a crash: a rule on gaps fires on the GAP that opening the
# ledger writes after a kill -9, before custosd had its ledger in hand (it
# once made every such restart a segfault, exit 139).  Killed and started
# again twice with `action: [loss, gap]`, and with the README's own example
# rules file: every start comes up, and the GAP alert is in the ledger.
. "$(dirname "$0")/../lib.sh"

TREE=$WORK/tree
mkdir -p "$TREE"
echo secret >"$TREE/a"
printf 'rules:\n  - id: lost-events\n    severity: critical\n    match:\n      action: [loss, gap]\n' \
	>"$WORK/gap.yaml"
# The README's example, exactly as documented (the first yaml block under "Alert rules").
README=$(dirname "$0")/../../README.md
sed -n '/^## Alert rules/,/^## /p' "$README" | sed -n '/^```yaml$/,/^```$/p' | sed '1d;$d' \
	>"$WORK/readme.yaml"
if grep -q "action: \[loss, gap\]" "$WORK/readme.yaml"; then
	pass "the README's example rules file is extracted"
else
	fail "the README's example rules file is extracted"
fi

# crash_twice NAME RULES: start, kill -9, start again (twice); each start must come up.
crash_twice() {
	name=$1
	db=$WORK/$name.db
	rm -rf "$db" "$db-wal" "$db-shm" "$WORK/keys" /sys/fs/bpf/custos
	start_custosd --db "$db" --watch "$TREE" --rules "$2" ||
		{ fail "$name: custosd starts"; return; }
	for round in 1 2; do
		cat "$TREE/a" >/dev/null
		sleep 0.3
		kill -9 "$DAEMON_PID"
		wait "$DAEMON_PID" 2>/dev/null
		if start_custosd --db "$db" --watch "$TREE" --rules "$2"; then
			pass "$name: custosd starts again after kill -9 number $round"
		else
			fail "$name: custosd starts again after kill -9 number $round"
			return
		fi
	done
	cat "$TREE/a" >/dev/null
	stop_custosd
	check "$name: a clean stop after the crashes" 0 $?
	n=$("$CUSTOS" query --db "$db" --action alert --format json |
		jq -s '[.[] | select(.rule == "lost-events")] | length')
	if [ "${n:-0}" -ge 2 ]; then pass "$name: the GAP of each restart fired lost-events ($n)"; else
		fail "$name: the GAP of each restart fired lost-events (${n:-none})"; fi
	"$CUSTOS" verify --db "$db" --trust "$WORK/keys/trust.vkeys" >"$WORK/report" 2>&1
	rc=$?
	if [ $rc = 0 ] || [ $rc = 2 ]; then pass "$name: the ledger verifies (exit $rc)"; else
		fail "$name: the ledger verifies (exit $rc)"
		cat "$WORK/report"
	fi
	rm -rf /sys/fs/bpf/custos
}

crash_twice gap-rule "$WORK/gap.yaml"
crash_twice readme-rules "$WORK/readme.yaml"
finish
