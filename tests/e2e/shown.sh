# What an auditor is shown is what custos verify proved.  A real log (the
# collector's ledger code, short epochs, an alert rule), then each way a
# hostile root with the stock sqlite3 shell could change what custos query,
# custos report and the SQL views say while the hashed values stay as they
# were: values stored as another type, a lying index, edited views, an
# empty value for a NULL, a log cut after an epoch close, an access appended
# without a key with a back-dated time of its own, a dictionary id that
# would make verify give up.  Each must be tamper evidence (verify exit 1,
# naming what differs) and query and report must refuse it (exit 1); a cut
# log must at least be reported as ending without a STOP.
NO_KERNEL=1 # ledgertool writes the log: any user can run this suite
. "$(dirname "$0")/../lib.sh"

TOOL=$BUILD/tests/ledgertool
cat >"$WORK/rules.yaml" <<'YAML'
rules:
  - id: many-reads
    severity: high
    match:
      action: read
    threshold:
      window: 10m
      count: 40
YAML
mkdir -p "$WORK/witness-dir"
"$TOOL" genrules "$WORK/log.db" "$WORK/keys" 1500 "$WORK/rules.yaml" "$WORK/witness-dir" \
	2>/dev/null || exit 1
GEN_AT=$(date +%s)
TRUST=$WORK/keys/trust.vkeys
DB=$WORK/m.db

verify() { # verify DB [ARGS...]
	db=$1
	shift
	"$CUSTOS" verify --db "$db" --trust "$TRUST" "$@" >"$WORK/report" 2>&1
}

verify "$WORK/log.db"
check "the untouched log verifies (exit 0)" 0 $?
"$CUSTOS" query --db "$WORK/log.db" --trust "$TRUST" >"$WORK/q" 2>&1
check "the untouched log: custos query reads it" 0 $?
"$CUSTOS" report --db "$WORK/log.db" --trust "$TRUST" >"$WORK/r" 2>&1
check "the untouched log: custos report reads it" 0 $?
grep -q "^verified: [0-9]* records replayed with $TRUST; [0-9]* sealed$" "$WORK/r" ||
	fail "the report says what verify proved: $(grep '^verified' "$WORK/r")"
"$CUSTOS" query --db "$WORK/log.db" >/dev/null 2>&1
check "without --trust, custos query checks against the log's own GENESIS" 0 $?
check "the untouched log: custos query --host test shows its rows" 1 \
	"$(n=$("$CUSTOS" query --db "$WORK/log.db" --trust "$TRUST" --host test --format csv |
		wc -l) && [ "$n" -gt 100 ] && echo 1)"
[ "$(sqlite3 "$WORK/log.db" 'SELECT count(*) FROM alert')" -gt 0 ] ||
	fail "the log has alerts to tamper with"

# shown NAME REASON: after a mutation of $DB, verify exits 1 naming REASON
# (an extended regex), and query and report refuse the ledger (exit 1).
shown() {
	verify "$DB"
	v=$?
	"$CUSTOS" query --db "$DB" --trust "$TRUST" >/dev/null 2>"$WORK/qerr"
	q=$?
	"$CUSTOS" report --db "$DB" >/dev/null 2>"$WORK/rerr"
	r=$?
	# The host filter takes its own way through custos query's options.
	"$CUSTOS" query --db "$DB" --trust "$TRUST" --host test --format csv >/dev/null 2>&1
	h=$?
	if [ "$v $q $r $h" = "1 1 1 1" ] && grep -Eq "$2" "$WORK/report" &&
		grep -q "refused to query" "$WORK/qerr"; then
		pass "$1: verify, query (with --host too) and report exit 1"
	else
		fail "$1: verify, query (with --host too) and report exit 1 (got $v $q $r $h; want a line matching '$2')"
		grep -v "^ALERT\|^CONFIG" "$WORK/report" | head -5
		head -2 "$WORK/qerr"
	fi
}

fresh() { cp "$WORK/log.db" "$DB"; }
sql() { sqlite3 "$DB" "$1" || fail "the SQL failed: $1"; }
# STRICT off and on again through writable_schema, as the attacks do.
strict() { # strict TABLE on|off
	if [ "$2" = off ]; then
		sql "PRAGMA writable_schema=ON; UPDATE sqlite_schema SET sql =
			substr(sql, 1, length(sql) - 7) WHERE name = '$1' AND sql LIKE '% STRICT';
			PRAGMA writable_schema=OFF;"
	else
		sql "PRAGMA writable_schema=ON; UPDATE sqlite_schema SET sql = sql || ' STRICT'
			WHERE name = '$1'; PRAGMA writable_schema=OFF;"
	fi
}

# 1. Every integer column stored as TEXT and as BLOB of the same number
# (verify's decoder reads '-13x' as -13: the hash holds, SQL sees text).
retyped=0
for t in record boot proc cred file who alert checkpoint; do
	for c in $(sqlite3 "$WORK/log.db" "SELECT name FROM pragma_table_info('$t')
			WHERE type = 'INTEGER' AND pk = 0"); do
		for as in text blob; do
			fresh
			strict "$t" off
			if [ $as = text ]; then value="CAST($c AS TEXT) || 'x'"; else
				value="CAST(CAST($c AS TEXT) AS BLOB)"; fi
			sql "UPDATE $t SET $c = $value WHERE rowid =
				(SELECT min(rowid) FROM $t WHERE $c IS NOT NULL)"
			strict "$t" on
			shown "$t.$c stored as $as" "non-INTEGER value in $t.$c"
			retyped=$((retyped + 1))
		done
	done
done
# And text columns as blobs: an alert's person, rule, severity.
for c in person rule severity; do
	fresh
	strict alert off
	sql "UPDATE alert SET $c = CAST($c AS BLOB)"
	strict alert on
	shown "alert.$c stored as a blob" "non-TEXT value in alert.$c"
done
echo "  ($retyped integer columns retyped)"

# 2. A partial index whose schema text claims it is whole: the planner
# reads the rows it holds; every value is unchanged.
for ix in "record(type) WHERE who IS NOT 2" "record(op) WHERE who IS NOT 2" \
	"record(result) WHERE op IS NOT 1" "record(t_real_ns) WHERE type IS NOT 3" \
	"record(who) WHERE op IS NOT 2" "record(file) WHERE op IS NOT 2" \
	"file(path) WHERE path NOT GLOB '*file-001*'" "file(dataset) WHERE id > 3" \
	"who(person) WHERE person IS NOT NULL" "proc(exe) WHERE pid > 101" \
	"proc(comm) WHERE pid > 101" "cred(uid) WHERE id > 1" "cred(loginuid) WHERE id > 1" \
	"alert(person) WHERE seq > 100"; do
	fresh
	whole=$(echo "$ix" | sed 's/ WHERE .*//')
	sql "CREATE INDEX lie ON $ix; PRAGMA writable_schema=ON;
		UPDATE sqlite_schema SET sql = 'CREATE INDEX lie ON $whole' WHERE name = 'lie';
		PRAGMA writable_schema=OFF;"
	shown "a partial index on $whole posing as a whole one" \
		"schema: an index lie that custos does not make"
done

# 3. Each view replaced by one that hides a row.
for v in accesses alerts gaps_losses person_dataset; do
	fresh
	body=$(sqlite3 "$WORK/log.db" "SELECT substr(sql, instr(sql, ' AS ') + 4) FROM sqlite_schema
		WHERE name = '$v'")
	sql "DROP VIEW $v; CREATE VIEW $v AS SELECT * FROM ($body) LIMIT -1 OFFSET 1"
	shown "the view $v replaced" "schema: the view $v is not defined as custos defines it"
done
fresh
sql "CREATE VIEW extra AS SELECT 1; CREATE TRIGGER t AFTER INSERT ON state BEGIN SELECT 1; END"
shown "a view and a trigger of someone else's" "schema: a (view extra|trigger t) that custos"
# The checkpoints, which verify reads before the records: hidden by a view in
# place of their table (the container is checked before anything is read from
# it), or by a partial index.
fresh
sql "CREATE TABLE cp AS SELECT * FROM checkpoint; DROP TABLE checkpoint;
	CREATE VIEW checkpoint AS SELECT * FROM cp WHERE size < (SELECT max(size) FROM cp)"
shown "the checkpoint table replaced by a view hiding the last" \
	"schema: a view checkpoint that custos does not make"
fresh
sql "CREATE INDEX lie ON checkpoint(size) WHERE size < 100; PRAGMA writable_schema=ON;
	UPDATE sqlite_schema SET sql = 'CREATE INDEX lie ON checkpoint(size)' WHERE name = 'lie';
	PRAGMA writable_schema=OFF;"
shown "a partial index on the checkpoints posing as a whole one" \
	"schema: an index lie that custos does not make"
# custos report without --trust takes the keys from GENESIS, read before the
# records too.
fresh
sql "CREATE TABLE r2 AS SELECT * FROM record; DROP TABLE record;
	CREATE VIEW record AS SELECT * FROM r2"
shown "the record table replaced by a view" "schema: a view record that custos does not make"

# 4. An empty value where the writer stores NULL: the same bytes, another person.
fresh
sql "UPDATE who SET person = x'' WHERE person IS NULL"
shown "who.person x'' for NULL" "dictionary row is malformed"
fresh
sql "INSERT INTO who (person, attribution, team, role, directory, staff_flags)
	SELECT x'', attribution, team, role, directory, staff_flags FROM who WHERE person IS NULL;
	UPDATE record SET who = last_insert_rowid() WHERE seq = (SELECT min(seq) FROM record
	WHERE who = (SELECT id FROM who WHERE person IS NULL))"
shown "one record pointed at a copy of its who row with x''" "dictionary row is malformed"
fresh
sql "UPDATE record SET target = x'' WHERE seq = (SELECT min(seq) FROM record WHERE type = 1)"
shown "an access's target x'' for NULL" "not a well-formed record"

# 7. Ids and sizes that would make verify allocate without bound.
for t in boot proc cred file who; do
	fresh
	if [ $t = boot ]; then
		sql "INSERT INTO boot VALUES (4294967295, randomblob(16))"
	else
		sql "INSERT INTO $t (id) VALUES (4294967295)"
	fi
	shown "an unreferenced $t row with id 2^32-1" "dictionary row is malformed"
done
# The same bytes in a UTF-16 file: the views' CAST(... AS TEXT) reads them as UTF-16.
rm -f "$DB"
sqlite3 "$DB" "PRAGMA encoding = 'UTF-16le'; CREATE TABLE x (a); DROP TABLE x;"
sqlite3 "$WORK/log.db" ".dump" | sqlite3 "$DB" >/dev/null 2>&1
sqlite3 "$DB" "PRAGMA user_version = $(sqlite3 "$WORK/log.db" 'PRAGMA user_version')"
shown "the ledger copied into a UTF-16 file" "text encoding is UTF-16le"
fresh
sql "PRAGMA user_version = 77"
shown "the format number changed" "not a custos ledger of format"
head -c 4096 /dev/urandom >"$DB"
shown "a file that is no SQLite database" "not a sound SQLite database"

# 6. Keyless appends after the final seal, the access's own time back-dated.
fresh
"$TOOL" accessdate "$DB" 2592000 || fail "accessdate"
shown "an access dated 30 days back, appended after the seal" "outside any run"
fresh
"$TOOL" accessdate "$DB" 3 || fail "accessdate"
shown "an access dated 3 s back, appended after the seal" "outside any run"
fresh
"$TOOL" accessdate "$DB" 3 run || fail "accessdate"
shown "an access dated 3 s back, in a forged run of its own" "outside its run"
fresh
"$TOOL" accessdate "$DB" -60 run || fail "accessdate"
shown "an access dated a minute after its own record" "outside its run"

# 5. A log cut after an epoch close, with the checkpoints after it: told
# once no custosd could be writing it (a heartbeat and the margin).
LAST_CLOSE=$(sqlite3 "$WORK/log.db" "SELECT max(seq) FROM record WHERE type = 5 AND seq <
	(SELECT max(seq) FROM record WHERE type = 8)")
fresh
sql "DELETE FROM record WHERE seq > $LAST_CLOSE; DELETE FROM alert WHERE seq > $LAST_CLOSE;
	DELETE FROM checkpoint WHERE size > $LAST_CLOSE + 1"
wait_s=$((GEN_AT + 32 - $(date +%s)))
[ $wait_s -gt 0 ] && sleep $wait_s
verify "$DB"
check "cut after an epoch close: verify exits 2" 2 $?
grep -q "^ENDS     seq $LAST_CLOSE: the log ends without a STOP" "$WORK/report" ||
	fail "cut after an epoch close: reported as ending without a STOP"
"$CUSTOS" report --db "$DB" --trust "$TRUST" 2>/dev/null | grep -q "custos verify has warnings" ||
	fail "cut after an epoch close: the report says verify has warnings"
WITNESS=$(ls "$WORK/witness-dir"/checkpoint.* | tail -n 1)
verify "$DB" --witness "$WITNESS"
check "cut after an epoch close, with a newer witness: verify exits 1" 1 $?
verify "$WORK/log.db"
check "the untouched log, as old: still exit 0 (it ends with its STOP)" 0 $?
finish
