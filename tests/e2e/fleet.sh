# The fleet's central store on a real PostgreSQL 15: a throwaway cluster in
# this suite's directory, run by the postgres user as the server insists.
# custos fleet init makes the store and custos fleet enrol pins a host; the
# host's role hands its log in through ingest only.  The whole log arrives
# chained; a resend byte for byte is a no-op, a changed one is refused as
# equivocation, a batch past the head as a gap; checkpoints likewise; every
# direct read or write of the tables by the host's role is refused.
. "$(dirname "$0")/../lib.sh"

PGBIN=/usr/lib/postgresql/15/bin
TOOL=$BUILD/tests/ledgertool
[ -x "$PGBIN/initdb" ] || { fail "PostgreSQL 15 is installed ($PGBIN)"; finish; }

# A log of a few hundred records, with its trust file and checkpoints.
"$TOOL" gen "$WORK/log.db" "$WORK/keys" -300 2>/dev/null || fail "ledgertool gen"
"$TOOL" dump "$WORK/log.db" >"$WORK/log.hex" || fail "ledgertool dump"
N=$(wc -l <"$WORK/log.hex")

# The server: its socket in its own directory, no TCP.
chmod 755 "$WORK"
PG=$WORK/pg
mkdir -p "$PG"
chown postgres "$PG"
as_pg() { runuser -u postgres -- "$@"; }
as_pg "$PGBIN/initdb" -D "$PG/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
	>"$WORK/initdb.log" 2>&1 || fail "initdb"
as_pg "$PGBIN/pg_ctl" -D "$PG/data" -l "$PG/log" -w \
	-o "-c listen_addresses= -k $PG -c fsync=on" start >/dev/null || fail "the server starts"
pg_stop() { as_pg "$PGBIN/pg_ctl" -D "$PG/data" -m immediate stop >/dev/null 2>&1; }
trap 'pg_stop; cleanup' EXIT
URL="host=$PG dbname=postgres user=postgres"
# sql ROLE SQL: one statement's rows, or its error with the SQLSTATE.
sql() {
	psql -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=verbose "host=$PG dbname=postgres user=$1" \
		-c "\\set VERBOSITY verbose" -c "$2" 2>&1
}

"$CUSTOS" fleet init --db "$URL" >"$WORK/init.out" 2>&1
check "custos fleet init makes the store (exit 0)" 0 $?
"$CUSTOS" fleet init --db "$URL" >"$WORK/init2.out" 2>&1
check "a second init leaves it alone (exit 2)" 2 $?
check "and says why, in one line" 1 "$(grep -c 'has one already' "$WORK/init2.out")"
"$CUSTOS" fleet init --db "host=$WORK/nowhere dbname=postgres user=postgres" \
	>"$WORK/init3.out" 2>&1
check "no server: exit 3" 3 $?

"$CUSTOS" fleet enrol --db "$URL" --host host-a --trust "$WORK/keys/trust.vkeys" \
	>"$WORK/enrol.out" 2>&1
check "custos fleet enrol pins the host (exit 0)" 0 $?
check "its origin and trust file are pinned" \
	"test.example/custos $(wc -c <"$WORK/keys/trust.vkeys")" \
	"$(sql postgres "SELECT origin || ' ' || length(trust) FROM custos.host WHERE role = 'host-a'")"
"$CUSTOS" fleet enrol --db "$URL" --host host-b --trust "$WORK/keys/trust.vkeys" \
	>"$WORK/enrol2.out" 2>&1
check "the same log under a second role is refused (exit 2)" 2 $?
"$CUSTOS" fleet enrol --db "$URL" --host 'Bad Name' --trust "$WORK/keys/trust.vkeys" \
	>/dev/null 2>&1
check "a role name custos does not make is refused (exit 2)" 2 $?
"$CUSTOS" fleet enrol --db "$URL" --host host-c --trust "$WORK/nope" >/dev/null 2>&1
check "a missing trust file is refused (exit 2)" 2 $?
check "and nothing of those was enrolled" "host-a" \
	"$(sql postgres "SELECT string_agg(role, ',') FROM custos.host")$(sql postgres \
		"SELECT string_agg(rolname, ',') FROM pg_roles WHERE rolname LIKE 'host-%' \
		AND rolname <> 'host-a'")"

# The host hands its log in, 100 records a batch, as a shipper would.
check "the host's next seq starts at 0" 0 "$(sql host-a "SELECT custos.next_seq()")"
batch() { # batch FIRST COUNT [FILE]: ingest(FIRST, lines FIRST+1.. of FILE)
	sed -n "$(($1 + 1)),$(($1 + $2))p" "${3:-$WORK/log.hex}" |
		awk -v f="$1" 'BEGIN { printf "SELECT custos.ingest(%d, ARRAY[", f }
			{ printf "%s'\''\\x%s'\''", (NR > 1 ? "," : ""), $0 }
			END { print "]::bytea[])" }' >"$WORK/batch.sql"
	sql host-a "$(cat "$WORK/batch.sql")"
}
last=
i=0
while [ $i -lt "$N" ]; do
	last=$(batch $i 100)
	i=$((i + 100))
done
check "ingest returns the next seq after the last batch" "$N" "$last"
check "the store holds every record, contiguous" "$N $((N - 1)) $N" \
	"$(sql postgres "SELECT count(*) || ' ' || max(seq) || ' ' || count(DISTINCT seq)
		FROM custos.record")"
check "each record chains to the one before, and the head to the last" "0 true" \
	"$(sql postgres "SELECT count(*) FILTER (WHERE substring(body FROM 23 FOR 32) <> p) ||
		' ' || bool_and(true) FROM (SELECT body, coalesce(sha256('\\x00'::bytea ||
		lag(body) OVER (ORDER BY seq)), '\\x$(printf '%064d' 0)'::bytea) AS p
		FROM custos.record) x")$(sql postgres "SELECT CASE WHEN last_leaf = (SELECT
		sha256('\\x00'::bytea || body) FROM custos.record WHERE seq = $((N - 1))) THEN ''
		ELSE ' bad head' END FROM custos.head")"
check "the bodies are the log's canonical bytes" "$(sed -n '7p' "$WORK/log.hex")" \
	"$(sql postgres "SELECT encode(body, 'hex') FROM custos.record WHERE seq = 6")"

check "a resend byte for byte is a no-op" "$N $N" \
	"$(batch 0 100) $(sql postgres "SELECT count(*) FROM custos.record")"
# Seq 5 changed in its last byte.
awk 'NR == 6 { c = substr($0, length($0)); $0 = substr($0, 1, length($0) - 1) (c == "0" ? "1" : "0") }
	{ print }' "$WORK/log.hex" >"$WORK/forged.hex"
check "the forged line differs" 1 "$(cmp -s "$WORK/log.hex" "$WORK/forged.hex"; echo $?)"
out=$(batch 0 10 "$WORK/forged.hex")
check "a changed resend is equivocation (SQLSTATE CU001)" 1 \
	"$(echo "$out" | grep -c 'ERROR:  CU001: equivocation')"
out=$(batch $((N - 50)) 50 | tail -1)
check "a resend of the last batch is a no-op too" "$N" "$out"
sed -n '1p' "$WORK/log.hex" >"$WORK/one.hex"
out=$(sql host-a "SELECT custos.ingest($((N + 5)), ARRAY['\\x$(cat "$WORK/one.hex")']::bytea[])")
check "a batch past the head is a gap (SQLSTATE CU002)" 1 "$(echo "$out" | grep -c 'CU002: gap')"
out=$(sql host-a "SELECT custos.ingest($N, ARRAY['\\x$(cat "$WORK/one.hex")']::bytea[])")
check "a record that does not chain is a gap too" 1 "$(echo "$out" | grep -c 'CU002: gap')"
check "and the store is as it was" "$N $N" \
	"$(sql postgres "SELECT count(*) FROM custos.record") $(sql host-a "SELECT custos.next_seq()")"

# Checkpoints: one of the log's own, by size.
size=$(sqlite3 -readonly "$WORK/log.db" "SELECT size FROM checkpoint ORDER BY size LIMIT 1")
sqlite3 -readonly "$WORK/log.db" "SELECT note FROM checkpoint WHERE size = $size" \
	>"$WORK/note"
note=$(sed "s/'/''/g" "$WORK/note")
sql host-a "SELECT custos.checkpoint_in($size, '$note')" >/dev/null
check "a checkpoint is handed in" 1 "$(sql postgres "SELECT count(*) FROM custos.checkpoint")"
check "the same checkpoint again is a no-op" "" \
	"$(sql host-a "SELECT custos.checkpoint_in($size, '$note')")"
out=$(sql host-a "SELECT custos.checkpoint_in($size, 'another note')")
check "another note of that size is equivocation" 1 "$(echo "$out" | grep -c 'CU001')"

# The months ahead: extend_span (which custos verify --follow calls hourly)
# makes what is missing of the next two months' partitions.
last=$(sql postgres "SELECT to_char(hi - interval '1 month', 'YYYYMM') FROM custos.span")
sql postgres "DROP TABLE custos.record_$last; UPDATE custos.span SET hi = hi - interval '1 month'" \
	>/dev/null
check "a month's partitions gone" 0 \
	"$(sql postgres "SELECT count(*) FROM pg_class WHERE relkind IN ('r', 'p') AND relname LIKE 'record\_${last}%'")"
sql postgres "SELECT custos.extend_span()" >/dev/null
check "extend_span makes it again, hashed 8 ways, and moves the span" "9 $last" \
	"$(sql postgres "SELECT count(*) FROM pg_class WHERE relkind IN ('r', 'p') AND relname LIKE 'record\_${last}%'") $(sql \
		postgres "SELECT to_char(hi - interval '1 month', 'YYYYMM') FROM custos.span")"

# The host's role can do nothing else.
for stmt in "SELECT count(*) FROM custos.record" \
	"INSERT INTO custos.record VALUES (1, $N, now(), '\\x00')" \
	"UPDATE custos.head SET next_seq = 0" "DELETE FROM custos.record" \
	"SELECT * FROM custos.host" "UPDATE custos.host SET trust = '\\x00'"; do
	check "the host's role may not: ${stmt%% custos*} ${stmt#* custos.}" 1 \
		"$(sql host-a "$stmt" | grep -c 'permission denied')"
done
check "an unenrolled role has no next seq" 1 \
	"$(sql postgres "CREATE ROLE stranger LOGIN" >/dev/null; sql stranger \
		"SELECT custos.next_seq()" | grep -c 'permission denied')"
finish
