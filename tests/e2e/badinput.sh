# Bad input: a one-line message, exit 2, and nothing written.
. "$(dirname "$0")/../lib.sh"

mkdir -p "$WORK/tree"
touch "$WORK/file"

# expect_usage_error NAME ARGS...: custosd must exit 2 with one line on
# stderr, and must not create its database.
expect_usage_error() {
	name=$1
	shift
	"$CUSTOSD" "$@" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	lines=$(wc -l <"$WORK/err")
	if [ $rc = 2 ] && [ "$lines" = 1 ] && [ ! -s "$WORK/out" ] && [ ! -e "$WORK/new.db" ]; then
		pass "$name"
	else
		fail "$name (exit $rc, $lines stderr lines)"
		cat "$WORK/err"
	fi
}

expect_usage_error "unknown option" --db "$WORK/new.db" --watch "$WORK/tree" --frobnicate
expect_usage_error "option without its value" --db "$WORK/new.db" --watch
expect_usage_error "no --watch" --db "$WORK/new.db"
expect_usage_error "--db in a missing directory" --db "$WORK/missing/new.db" --watch "$WORK/tree"
expect_usage_error "--watch of a missing directory" --db "$WORK/new.db" --watch "$WORK/nope"
expect_usage_error "--watch of a file" --db "$WORK/new.db" --watch "$WORK/file"
expect_usage_error "--duration not a number" --db "$WORK/new.db" --watch "$WORK/tree" --duration 5x
expect_usage_error "--ring-size not a power of two" --db "$WORK/new.db" --watch "$WORK/tree" \
	--ring-size 100000
expect_usage_error "--sessions too small" --db "$WORK/new.db" --watch "$WORK/tree" --sessions 10
expect_usage_error "stray argument" --db "$WORK/new.db" --watch "$WORK/tree" extra

# An unreadable --watch: a directory this user cannot search.
mkdir -p "$WORK/locked"
chmod 000 "$WORK/locked"
chmod 711 "$WORK"
setpriv --reuid=65534 --regid=65534 --clear-groups "$CUSTOSD" --db "$WORK/new.db" \
	--watch "$WORK/locked" >"$WORK/out" 2>"$WORK/err"
rc=$?
check "unreadable --watch: exit 2, one line" "2 1" "$rc $(wc -l <"$WORK/err")"

# The auditor's tool: bad input and a missing database write nothing either.
"$CUSTOS" query --db "$WORK/none.db" >/dev/null 2>"$WORK/err"
rc=$?
if [ $rc != 0 ] && [ ! -e "$WORK/none.db" ] && [ "$(wc -l <"$WORK/err")" = 1 ]; then
	pass "custos query on a missing database fails and creates nothing"
else
	fail "custos query on a missing database (exit $rc)"
fi
"$CUSTOS" query --db "$WORK/none.db" --format yaml >/dev/null 2>"$WORK/err"
check "custos query --format yaml: exit 2" 2 $?
"$CUSTOS" query --db "$WORK/none.db" --since yesterdayish >/dev/null 2>"$WORK/err"
check "custos query --since garbage: exit 2" 2 $?
"$CUSTOS" frobnicate >/dev/null 2>"$WORK/err"
check "custos unknown command: exit 2" 2 $?

# A ledger already written survives a bad restart untouched.
start_custosd --db "$WORK/kept.db" --watch "$WORK/tree" || exit 1
stop_custosd || fail "custosd exits 0"
before=$(sqlite3 "$WORK/kept.db" 'SELECT count(*), max(seq) FROM record')
[ -n "$before" ] || fail "the kept ledger can be read"
"$CUSTOSD" --db "$WORK/kept.db" --watch "$WORK/nope" 2>/dev/null
check "a start with a missing --watch: exit 2" 2 $?
after=$(sqlite3 "$WORK/kept.db" 'SELECT count(*), max(seq) FROM record')
check "a rejected start leaves the ledger as it was" "$before" "$after"

# A new ledger pointed at another log's keys (here the one beside kept.db):
# refused, and the other log's keys and trust file stay as they were.
keys_before=$(cat "$WORK/keys/log.key" "$WORK/keys/trust.vkeys" | sha256sum)
"$CUSTOSD" --db "$WORK/other.db" --keys "$WORK/keys" --watch "$WORK/tree" --duration 1 \
	2>"$WORK/err"
rc=$?
check "a new log in another log's key directory: refused, one line" "1 1" \
	"$([ $rc != 0 ] && echo 1 || echo 0) $(grep -c "holds another log's key" "$WORK/err")"
check "and no empty database is left behind" no "$([ -e "$WORK/other.db" ] && echo yes || echo no)"
check "the other log's keys are untouched" "$keys_before" \
	"$(cat "$WORK/keys/log.key" "$WORK/keys/trust.vkeys" | sha256sum)"
"$CUSTOS" verify --db "$WORK/kept.db" --trust "$WORK/keys/trust.vkeys" >/dev/null 2>&1
check "and its ledger still verifies" 0 $?

finish
