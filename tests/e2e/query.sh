# custos query on a ledger custosd wrote: each filter, --sort and --limit
# select what they say on real records, and a bad value is one line and
# exit 2.  Two trees (datasets alpha and beta), reads of known sizes, a
# program of its own, a login uid, a refused and a missing open.
. "$(dirname "$0")/../lib.sh"

chmod 755 "$WORK"
mkdir -p "$WORK/one/sub" "$WORK/two" "$WORK/bin"
head -c 1000 /dev/zero >"$WORK/one/a.csv"
head -c 5000 /dev/zero >"$WORK/one/sub/b.txt"
head -c 300 /dev/zero >"$WORK/two/c.csv"
head -c 10 /dev/zero >"$WORK/two/secret"
chmod 600 "$WORK/two/secret"
chmod -R a+rX "$WORK/one" "$WORK/two/c.csv"
cp "$WORKLOAD" "$WORK/bin/reader"

start_custosd --db "$WORK/db" --watch "$WORK/one=alpha" --watch "$WORK/two=beta" || exit 1
"$WORKLOAD" cat "$WORK/one/a.csv" >/dev/null || fail "read a.csv"
"$WORKLOAD" cat "$WORK/one/sub/b.txt" >/dev/null || fail "read b.txt"
"$WORK/bin/reader" cat "$WORK/two/c.csv" >/dev/null || fail "read c.csv with reader"
"$WORKLOAD" as 4321 4321 "$WORK/one/a.csv" >/dev/null || fail "read a.csv as login uid 4321"
setpriv --reuid=4242 --regid=4242 --clear-groups "$WORKLOAD" try . "$WORK/two/secret" \
	>"$WORK/denied.out"
check "the refused open failed" "-13" "$(sed -n 's/.*result=//p' "$WORK/denied.out")"
"$WORKLOAD" try . "$WORK/two/nope" >/dev/null
stop_custosd || fail "custosd exits 0"

q() { "$CUSTOS" query --db "$WORK/db" --format json "$@"; }
# paths ARGS...: the sorted, distinct paths (below $WORK) of the records the query selects
paths() { q "$@" | jq -r '.path' | sed "s|^$WORK/||" | sort -u | tr '\n' ' '; }

check "--dataset alpha" "one/a.csv one/sub/b.txt " "$(paths --dataset alpha --action read)"
check "--dataset beta" "two/c.csv two/nope two/secret " "$(paths --dataset beta)"
check "--glob: * crosses /" "one/a.csv two/c.csv " "$(paths --glob "$WORK/*.csv" --action read)"
check "--glob with --path" "two/c.csv " "$(paths --glob '*.csv' --path "$WORK/two")"
check "--glob [!...]" "two/c.csv " "$(paths --glob "$WORK/*/[!ab].csv")"
check "--exe, a directory" "two/c.csv " "$(paths --exe "$WORK/bin/")"
check "--exe, exact" "two/c.csv " "$(paths --exe "$WORK/bin/reader" --action open)"
check "--comm" "two/c.csv " "$(paths --comm reader)"
check "--loginuid" "one/a.csv " "$(paths --loginuid 4321 --action read)"
check "--result denied" "-13 two/secret" \
	"$(q --result denied | jq -r '"\(.result) \(.path)"' | sed "s| $WORK/| |")"
check "--result -2" "two/nope " "$(paths --result -2)"
check "--result failed" "two/nope two/secret " "$(paths --result failed)"
check "--result ok: no failed open" 0 "$(q --result ok | jq 'select(.result < 0)' | wc -l)"
n_open=$(q --action open | wc -l)
n_read=$(q --action read | wc -l)
check "--action open,read is both" $((n_open + n_read)) "$(q --action open,read | wc -l)"
check "--host of this ledger: every record" "$(q | wc -l)" "$(q --host "$(hostname)" | wc -l)"
check "--host of another: none" 0 "$(q --host "not-$(hostname)" | wc -l)"
check "--sort -bytes --limit 1: the largest read" "5000 one/sub/b.txt" \
	"$(q --action read --sort -bytes --limit 1 | jq -r '"\(.bytes) \(.path)"' |
		sed "s| $WORK/| |")"
check "--sort bytes --limit 2: the smallest reads" "300 1000" \
	"$(q --action read --sort bytes --limit 2 | jq -r .bytes | tr '\n' ' ' | sed 's/ $//')"
check "--sort -time: the newest first" "$(q | jq .seq | sort -n -r | tr '\n' ' ')" \
	"$(q --sort -time | jq .seq | tr '\n' ' ')"
check "--limit 3 of the table: a header and 3 rows" 4 \
	"$("$CUSTOS" query --db "$WORK/db" --limit 3 | wc -l)"
check "--until a date long gone: nothing" 0 "$(q --until 2000-01-01 | wc -l)"
check "--since 1h --until now+1d: everything" "$(q | wc -l)" \
	"$(q --since 1h --until "@$(($(date +%s) + 86400))" | wc -l)"

# bad NAME ARGS...: exit 2, one line on stderr, nothing on stdout.
bad() {
	name=$1
	shift
	"$CUSTOS" query --db "$WORK/db" "$@" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	if [ $rc = 2 ] && [ "$(wc -l <"$WORK/err")" = 1 ] && [ ! -s "$WORK/out" ]; then
		pass "$name"
	else
		fail "$name (exit $rc)"
		cat "$WORK/err"
	fi
}
bad "--limit 0" --limit 0
bad "--limit without a value" --limit
bad "--result maybe" --result maybe
bad "--sort size" --sort size
bad "--sort -" --sort -
bad "--action with an empty item" --action open,,read
bad "--action unknown" --action opened
bad "--glob with an open class" --glob '/srv/[ab'
bad "--dataset empty" --dataset ''
bad "--exe relative" --exe bin/cat
bad "--comm longer than the kernel keeps" --comm sixteen-bytes-xy
bad "--loginuid negative" --loginuid -1
bad "--host empty" --host ''
bad "--until a month 13" --until 2026-13-01
finish
