# Alert rules: each fires exactly when it should, as a ledger record named
# after the record that caused it.  A bulk read over a sliding window, an
# access after hours (the clock is moved with TZ: the rules file evaluates
# hours in custosd's local time), a denied open; a rule that must not fire;
# a malformed file on SIGHUP keeps the rules in force, a good one replaces
# them (a CONFIG record says so).
. "$(dirname "$0")/../lib.sh"

chmod 755 "$WORK"
TREE=$WORK/tree
mkdir -p "$TREE" "$WORK/out"
"$WORKLOAD" setup "$TREE" "$WORK/out" || exit 1
chmod 600 "$TREE/a"
cat >"$WORK/rules.yaml" <<'YAML'
timezone: local
rules:
  - id: bulk-read
    severity: high
    description: more than 20 KiB of customer data in a minute
    match:
      action: read
      dataset: customers
    threshold:
      window: 60s
      bytes: 20K
  - id: after-hours
    severity: medium
    match:
      action: open
      path: "*/sub/b"
      hours: "19:00-07:00"
  - id: office-hours
    severity: info
    match:
      hours: "08:00-18:00"
  - id: denied
    severity: critical
    match:
      result: denied
YAML
# Local time 22:xx, whatever the hour in UTC: POSIX TZ "X-N" is UTC+N.
east=$(((22 - $(date -u +%-H) + 24) % 24))
TZ="CUS-$east" start_custosd --db "$WORK/db" --watch "$TREE=customers" \
	--rules "$WORK/rules.yaml" || exit 1
# Three reads of 10000 bytes: the third crosses 20 KiB (20480).
for i in 1 2 3; do
	"$WORKLOAD" cat "$TREE/sub/b" >"$WORK/cat$i.out" || fail "read $i"
done
pid_of pid2 "$WORK/cat2.out"
pid_of pid3 "$WORK/cat3.out"
setpriv --reuid=4242 --regid=4242 --clear-groups "$WORKLOAD" try . "$TREE/a" >"$WORK/denied.out"
pid_of pid_denied "$WORK/denied.out"
# A broken file: refused with its line, the rules in force stay.
cp "$WORK/rules.yaml" "$WORK/good.yaml"
printf 'rules:\n  - id: x\n    sevrity: low\n' >"$WORK/rules.yaml"
kill -HUP "$DAEMON_PID"
sleep 0.5
setpriv --reuid=4242 --regid=4242 --clear-groups "$WORKLOAD" try . "$TREE/a" >"$WORK/denied2.out"
# A good file replaces them.
sed 's/severity: critical/severity: low/; s/id: denied/id: denied-v2/' "$WORK/good.yaml" \
	>"$WORK/rules.yaml"
kill -HUP "$DAEMON_PID"
sleep 0.5
setpriv --reuid=4242 --regid=4242 --clear-groups "$WORKLOAD" try . "$TREE/a" >"$WORK/denied3.out"
stop_custosd || fail "custosd exits 0"

"$CUSTOS" query --db "$WORK/db" --format json >"$WORK/all.json" || fail "custos query runs"
# The alerts, "rule severity cause-action cause-pid", in order.
alerts=$(jq -r 'select(.action == "alert") | "\(.rule) \(.severity) \(.cause_seq)"' \
	"$WORK/all.json" | while read -r rule sev cause; do
	jq -r --argjson s "$cause" --arg r "$rule" --arg v "$sev" \
		'select(.seq == $s) | "\($r) \($v) \(.action) \(.pid)"' "$WORK/all.json"
done | sort | tr '\n' ';')
check "bulk read: fires once, on the read that crossed 20 KiB" \
	"bulk-read high read $pid3" "$(echo "$alerts" | tr ';' '\n' | grep '^bulk-read')"
check "after hours (local 22:xx): each open of sub/b" 3 \
	"$(echo "$alerts" | tr ';' '\n' | grep -c '^after-hours medium open')"
check "office hours: never fires at night" 0 "$(echo "$alerts" | tr ';' '\n' | grep -c '^office')"
check "denied open: critical, on the attempt" "denied critical open $pid_denied" \
	"$(echo "$alerts" | tr ';' '\n' | grep "^denied .* $pid_denied\$")"
check "a malformed file on SIGHUP: refused with its line, old rules kept" 2 \
	"$(echo "$alerts" | tr ';' '\n' | grep -c '^denied critical open')"
grep -q "failed to reload rules: line 3: unknown key 'sevrity'" "$WORK/custosd.log"
check "the reload error names the line" 0 $?
check "a good file on SIGHUP: the new rules fire" 1 \
	"$(echo "$alerts" | tr ';' '\n' | grep -c '^denied-v2 low open')"
check "the change of rules is a CONFIG record naming their version" 1 \
	"$(jq -r 'select(.action == "config" and (.detail | test("\nrules [^ ]+ [0-9a-f]{64}$")))
		| .seq' "$WORK/all.json" | wc -l)"
check "the window's totals are in the alert" "count=3 bytes=30000" \
	"$(jq -r 'select(.action == "alert") | .detail' "$WORK/all.json" |
		sed -n 's/^rule=bulk-read .* \(count=[0-9]*\) \(bytes=[0-9]*\) .*/\1 \2/p')"
"$CUSTOS" verify --db "$WORK/db" --trust "$WORK/keys/trust.vkeys" >"$WORK/report" 2>&1
check "the log verifies (exit 0)" 0 $?
check "verify lists what fired" 7 "$(grep -c '^ALERT ' "$WORK/report")"
# The alert table (plain columns for SQL) is checked against the records.
cp "$WORK/db" "$WORK/mut.db"
sqlite3 "$WORK/mut.db" "UPDATE alert SET severity = 'low' WHERE rule = 'denied'"
"$CUSTOS" verify --db "$WORK/mut.db" --trust "$WORK/keys/trust.vkeys" >"$WORK/mut.report" 2>&1
check "an alert row altered: tamper evidence (exit 1)" 1 $?
cp "$WORK/db" "$WORK/mut.db"
sqlite3 "$WORK/mut.db" "DELETE FROM alert WHERE rule = 'bulk-read'"
"$CUSTOS" verify --db "$WORK/mut.db" --trust "$WORK/keys/trust.vkeys" >"$WORK/mut.report" 2>&1
check "an alert row removed: tamper evidence (exit 1)" 1 $?
check "the SQL table lists every alert" 7 "$(sqlite3 -readonly "$WORK/db" 'SELECT count(*) FROM alert')"
# A bad rules file at start: exit 2, one line, nothing written.
"$CUSTOSD" --db "$WORK/db2" --watch "$TREE" --rules "$WORK/nope.yaml" 2>"$WORK/bad.err"
check "a missing rules file at start: exit 2" 2 $?
check "nothing written" "" "$(ls "$WORK/db2" 2>/dev/null)"
# One command answers: who read the dataset this week, how much, through
# which program, and did anything alert?
"$CUSTOS" report --db "$WORK/db" --dataset customers --since 1w >"$WORK/report.txt"
check "custos report --dataset: exit 0" 0 $?
check "the report: who read it, how much, through which program" \
	"uid 0 - 3 3 30000 0 $WORKLOAD" \
	"$(sed -n '/^== Who accessed dataset customers ==/,/^$/p' "$WORK/report.txt" |
		awk '$1 == "uid" && $2 == "0" {print $1, $2, $3, $4, $5, $6, $7, $10}')"
check "the report: what alerted" "after-hours after-hours after-hours bulk-read denied denied denied-v2" \
	"$(sed -n '/^== Alerts ==/,/^$/p' "$WORK/report.txt" | awk 'NR > 3 && NF {print $3}' |
		tr '\n' ' ' | sed 's/ $//')"
finish
