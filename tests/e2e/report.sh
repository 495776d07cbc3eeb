# custos report and the SQL views on a real run: a staff member, an
# unattributed uid, a person who has left and a failed open, then the
# report's sections, its exit codes, the views through the stock sqlite3
# shell, and the HTML page rendered by a real headless browser.
. "$(dirname "$0")/../lib.sh"

chmod 755 "$WORK"
TREE=$WORK/tree
mkdir -p "$TREE" "$WORK/out"
"$WORKLOAD" setup "$TREE" "$WORK/out" || exit 1
# A name that is markup: the page must show it, not obey it.
EVIL='<b>x&y'
printf 'evil' >"$TREE/$EVIL"
chmod -R a+rX "$TREE"

cat >"$WORK/staff.json" <<'JSON'
{
  "version": 1,
  "staff": [
    { "id": "e1001", "name": "Alice Martin", "logins": ["alice"], "uids": [1001],
      "team": "storage-ops", "role": "sre", "status": "active" },
    { "id": "e1002", "name": "Bob Stone", "logins": ["bob"], "uids": [1002],
      "team": "data", "role": "analyst", "status": "left" }
  ]
}
JSON

start_custosd --db "$WORK/db" --watch "$TREE=customers" --staff "$WORK/staff.json" || exit 1
"$WORKLOAD" as 1001 0 "$TREE/a" >/dev/null || fail "alice's read"
"$WORKLOAD" as 1001 1001 "$TREE/$EVIL" >/dev/null || fail "alice's read of the markup name"
"$WORKLOAD" as - 4242 "$TREE/d" >/dev/null || fail "an unknown uid's read"
"$WORKLOAD" as 1002 0 "$TREE/e" >/dev/null || fail "bob's read"
"$WORKLOAD" try "$TREE" nope >"$WORK/try" || fail "the failed open"
grep -q 'result=-2' "$WORK/try" || fail "the failed open did not fail with ENOENT"
stop_custosd || fail "custosd exits 0"

# section TITLE FILE: the lines of one section of a terminal report.
section() {
	awk -v t="== $1 ==" '$0 == t { on = 1; next } /^== / { on = 0 } on && NF' "$2"
}

"$CUSTOS" report --db "$WORK/db" >"$WORK/report" 2>"$WORK/err"
check "custos report exits 0" 0 $?
check "custos report says nothing on stderr" "" "$(cat "$WORK/err")"
check "top readers: alice's bytes" 1 \
	"$(section "Top readers by bytes" "$WORK/report" | grep -c "^e1001 .* storage-ops .* 1004 ")"
check "unattributed: uid 4242 read d" 1 \
	"$(section "Unattributed accesses" "$WORK/report" | grep -c "^ *4242 .* 5000 .*$TREE/d\$")"
check "unattributed: no one else" 0 \
	"$(section "Unattributed accesses" "$WORK/report" | grep -c "$TREE/a\$")"
check "left: bob read e" 1 \
	"$(section "Accesses by people who have left" "$WORK/report" |
		grep -c "^e1002 .* data .* 3000 .*$TREE/e\$")"
check "failed: the ENOENT open" 1 \
	"$(section "Failed attempts" "$WORK/report" | grep -c " ENOENT .* customers .*$TREE/nope\$")"
check "gaps and losses: none in a clean run" none \
	"$(section "Gaps and losses" "$WORK/report" | tail -n 1)"

# Working hours that exclude now put every access outside; hours around now, none.
h=$(date -u +%-H)
"$CUSTOS" report --db "$WORK/db" --hours "$(printf '%02d:00-%02d:00' $(((h + 2) % 24)) $(((h + 3) % 24)))" \
	--days mon-sun >"$WORK/night"
check "outside hours: every access when the hours exclude now" 1 \
	"$(section "Outside working hours" "$WORK/night" | grep -c " e1001 .* read .* 1000 .*$TREE/a\$")"
"$CUSTOS" report --db "$WORK/db" --hours "$(printf '%02d:00-%02d:00' $(((h + 23) % 24)) $(((h + 2) % 24)))" \
	--days mon-sun >"$WORK/day"
check "outside hours: none when the hours cover now" none \
	"$(section "Outside working hours" "$WORK/day" | tail -n 1)"

"$CUSTOS" report --db "$WORK/db" --person e1001 >"$WORK/alice"
check "--person: what alice accessed, by dataset" 1 \
	"$(section "What e1001 accessed, by dataset" "$WORK/alice" | grep -c "^customers .* 1004 ")"
check "--person narrows the other sections" 0 \
	"$(section "Top readers by bytes" "$WORK/alice" | grep -c "e1002")"
"$CUSTOS" report --db "$WORK/db" --dataset customers >"$WORK/customers"
# Most bytes first; root's failed open, if root is no one, comes after with none.
check "--dataset: who accessed it" "uid 4242 e1002 e1001" \
	"$(section "Who accessed dataset customers" "$WORK/customers" |
		awk 'NR > 2 && NR <= 5 { printf "%s%s", sep, ($1 == "uid" ? $1 " " $2 : $1); sep = " " }')"

"$CUSTOS" report --db "$WORK/db" --hours 25:00-26:00 >/dev/null 2>"$WORK/err"
check "bad --hours: exit 2" 2 $?
check "bad --hours: one line" 1 "$(wc -l <"$WORK/err")"
"$CUSTOS" report --db "$WORK/missing.db" >/dev/null 2>"$WORK/err"
check "a missing database: exit 3" 3 $?
check "a missing database is not created" no "$([ -e "$WORK/missing.db" ] && echo yes || echo no)"

# The views, through the stock shell, opened read-only.
check "views: alice's read in accesses" "e1001|loginuid|1000|0" \
	"$(sqlite3 -readonly "$WORK/db" "SELECT person, attribution, bytes, partial FROM accesses
		WHERE action = 'read' AND path = '$TREE/a'")"
check "views: person_dataset" "e1002|customers|1|3000" \
	"$(sqlite3 -readonly "$WORK/db" "SELECT person, dataset, reads, bytes FROM person_dataset
		WHERE person = 'e1002'")"
check "views: gaps_losses is there, empty" 0 \
	"$(sqlite3 -readonly "$WORK/db" "SELECT count(*) FROM gaps_losses")"

# The page, rendered by a real browser; with hours that exclude now, every
# access is listed outside them, the markup name among them.
"$CUSTOS" report --db "$WORK/db" --html "$WORK/report.html" --days mon-sun \
	--hours "$(printf '%02d:00-%02d:00' $(((h + 2) % 24)) $(((h + 3) % 24)))"
check "--html exits 0" 0 $?
if ! command -v chromium >/dev/null; then
	fail "chromium is not installed (scripts/deps.sh installs it)"
	finish
fi
browse() {
	timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run \
		--user-data-dir="$WORK/chromium" "$@" "file://$WORK/report.html" 2>>"$WORK/chromium.log"
}
browse --dump-dom >"$WORK/dom"
for id in summary chart top-readers outside-hours unattributed left failed gaps-losses; do
	check "the rendered page has section $id" 1 "$(grep -c "<section id=\"$id\">" "$WORK/dom")"
done
check "the rendered chart is SVG with bars" yes \
	"$(grep -q '<svg' "$WORK/dom" && grep -q '<rect class="ok"' "$WORK/dom" && echo yes)"
# Its open and its read, each a row; and no <b> element anywhere.
check "the markup name is text, not markup" "2 0" \
	"$(grep -c "$TREE/&lt;b&gt;x&amp;y" "$WORK/dom") $(grep -c '<b>' "$WORK/dom")"
browse --screenshot="$WORK/report.png" --window-size=1200,2400 >/dev/null
check "a screenshot of the page" yes \
	"$([ "$(head -c 4 "$WORK/report.png" 2>/dev/null | od -An -c | tr -d ' ')" = '211PNG' ] &&
		[ "$(wc -c <"$WORK/report.png")" -gt 20000 ] && echo yes)"
finish
