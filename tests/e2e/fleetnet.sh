# The fleet over the network, as it runs: three hosts, each a network
# namespace of its own with its own custosd recording real accesses and its
# own custos ship (an unprivileged user, TLS with a client certificate from
# a CA this suite makes), on a veth pair to the central PostgreSQL in a
# namespace of its own.  Mid-stream the server is killed twice
# (pg_ctl stop -m immediate) and one host's link is cut for seconds; at the
# end every host's log is in the store whole: contiguous, chained, byte for
# byte the ledger's, no duplicate, no hole.  A forged ledger sent again is
# refused as equivocation and ship exits 1; a host's certificate does not
# open another host's role; plain TCP and a missing certificate are refused.
# Two custos verify --follow share the hosts as they arrive: each host's
# state and access rows are written once, the views show what each ledger's
# own views show, a host that stops shipping is reported silent, an auditor
# reads the views and nothing else.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../fleetlib.sh"

PGBIN=/usr/lib/postgresql/15/bin
TOOL=$BUILD/tests/ledgertool
HOSTS="1 2 3"
SHIPUSER=custos-ship
NAME=central.fleet.test
for t in "$PGBIN/initdb" /usr/sbin/ip /usr/bin/openssl; do
	[ -x "$t" ] || { fail "$t is installed"; finish; }
done
id "$SHIPUSER" >/dev/null 2>&1 || useradd -r -M -s /usr/sbin/nologin "$SHIPUSER" ||
	{ fail "the shipper's user is made"; finish; }

# Names of this run only: namespaces cfNNNs (server) and cfNNN1..3, and the
# veth pair of host i (cfNNNai in the server's, cfNNNbi in the host's).
P=cf$$
chmod 755 "$WORK"
PG=$WORK/pg
SHIP_PIDS=
D_PIDS=
F_PIDS=
teardown() {
	for p in $SHIP_PIDS $D_PIDS $F_PIDS; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns exec "${P}s" runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PG/data" -m immediate \
		stop >/dev/null 2>&1
	for n in s $HOSTS; do ip netns del "$P$n" 2>/dev/null; done
	cleanup
}
trap teardown EXIT

# The network: host i is 10.77.i.2, and reaches the server at 10.77.i.1.
ip netns add "${P}s" && ip -n "${P}s" link set lo up || fail "the server's namespace"
for i in $HOSTS; do
	ip netns add "$P$i" && ip -n "$P$i" link set lo up &&
		ip link add "${P}a$i" netns "${P}s" type veth peer name "${P}b$i" netns "$P$i" &&
		ip -n "${P}s" addr add "10.77.$i.1/30" dev "${P}a$i" &&
		ip -n "$P$i" addr add "10.77.$i.2/30" dev "${P}b$i" &&
		ip -n "${P}s" link set "${P}a$i" up && ip -n "$P$i" link set "${P}b$i" up ||
		fail "host $i's namespace and link"
done

# The certificates: a CA, the server's for its name, one per host whose CN
# is the host's role.
T=$WORK/tls
mkdir -p "$T"
fleet_tls "$T" "$NAME" || fail "the CA and the server's certificate"
for i in $HOSTS; do
	fleet_cert "$T" "h$i" "host-$i" || fail "host $i's certificate"
done
chown "$SHIPUSER" "$T"/h*.key

# The server: TLS 1.3 only, and only certificate logins over TCP; the
# administrator's socket is a directory of its own.
mkdir -p "$PG"
chown postgres "$PG"
as_pg() { ip netns exec "${P}s" runuser -u postgres -- "$@"; }
fleet_server "$PG/data" "$PG" "$T" '*' 10.77.0.0/16 || fail "initdb"
echo "local all auditor1 trust" >>"$PG/data/pg_hba.conf"
pg_start() { as_pg env $FLEET_ENV "$PGBIN/pg_ctl" -D "$PG/data" -l "$PG/log" -w start >/dev/null; }
pg_kill() { as_pg "$PGBIN/pg_ctl" -D "$PG/data" -m immediate stop >/dev/null; }
pg_start || fail "the server starts"
ADMIN="host=$PG dbname=postgres user=postgres"
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$ADMIN" -c "$1" 2>&1; }
"$CUSTOS" fleet init --db "$ADMIN" >"$WORK/init.out" 2>&1 || fail "custos fleet init"

# tls I [ROLE] [CERT]: host i's connection string, as host-I or as ROLE
tls() {
	echo "host=$NAME hostaddr=10.77.$1.1 port=5432 dbname=postgres user=${2:-host-$1}" \
		"sslmode=verify-full sslrootcert=$T/ca.crt sslcert=$T/${3:-h$1}.crt sslkey=$T/${3:-h$1}.key"
}
# (on_host I CMD...): CMD in host i's namespace, as the shipper's user, in
# place of the subshell it is called in (so that $! is CMD's pid)
on_host() {
	_i=$1
	shift
	exec ip netns exec "$P$_i" setpriv --reuid="$SHIPUSER" --regid="$SHIPUSER" --init-groups \
		--reset-env -- "$@"
}

# Each host: custosd with a mount namespace of its own (its lock, its
# pins), recording its own tree.  ip netns exec gives a fresh /sys already.
mkdir -p /run/custos
for i in $HOSTS; do
	mkdir -p "$WORK/h$i/data" "$WORK/h$i/ledger"
	for f in 1 2 3 4 5; do echo "customer $i/$f" >"$WORK/h$i/data/f$f"; done
	chmod 755 "$WORK/h$i" "$WORK/h$i/ledger"
	rm -f "$WORK/h$i/pid"
	ip netns exec "$P$i" sh -c "mount -t tmpfs none /run/custos && exec $CUSTOSD \
		--db $WORK/h$i/ledger/custos.db --watch $WORK/h$i/data=data$i \
		--origin h$i.fleet.test/custos --heartbeat 1 --epoch 60 --pidfile $WORK/h$i/pid" \
		2>"$WORK/h$i/custosd.log" &
	D_PIDS="$D_PIDS $!"
done
for i in $HOSTS; do
	n=0
	while [ ! -s "$WORK/h$i/pid" ] && [ $n -lt 300 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	[ -s "$WORK/h$i/pid" ] || { fail "host $i's custosd starts"; cat "$WORK/h$i/custosd.log"; }
	"$CUSTOS" fleet enrol --db "$ADMIN" --host "host-$i" \
		--trust "$WORK/h$i/ledger/keys/trust.vkeys" >/dev/null 2>&1 || fail "enrol host $i"
done
check "three custosd run, each in its own namespace" 3 "$(ls "$WORK"/h*/pid | wc -l)"

# The auditor's trust files, taken at enrolment; two followers share them.
mkdir -p "$WORK/trust"
for i in $HOSTS; do
	cp "$WORK/h$i/ledger/keys/trust.vkeys" "$WORK/trust/host-$i.vkeys"
done
for k in 1 2; do
	"$CUSTOS" verify --db "$ADMIN" --follow --trust-dir "$WORK/trust" >"$WORK/follow$k.out" \
		2>"$WORK/follow$k.err" &
	F_PIDS="$F_PIDS $!"
done

# Real accesses on every host while it ships.
READERS=
for i in $HOSTS; do
	(while :; do cat "$WORK/h$i/data"/f* >/dev/null; sleep 0.01; done) &
	READERS="$READERS $!"
	(on_host "$i" "$CUSTOS" ship --db "$WORK/h$i/ledger/custos.db" --to "$(tls "$i")" \
		--batch 50) 2>"$WORK/h$i/ship.log" &
	SHIP_PIDS="$SHIP_PIDS $!"
done
held() { sql "SELECT coalesce(sum(next_seq), 0) FROM custos.head"; }
sleep 3
before=$(held)
check "records arrive while the hosts read their files" 1 "$([ "$before" -gt 0 ] && echo 1)"

# Two immediate server stops and a cut link, mid-stream.
pg_kill || fail "the server is killed"
sleep 2
pg_start || fail "the server comes back"
# Cut host 2 once it is connected again, mid-stream.
h2=$(sql "SELECT next_seq FROM custos.head d JOIN custos.host h ON h.id = d.host
	WHERE h.role = 'host-2'")
n=0
while [ "$(sql "SELECT next_seq FROM custos.head d JOIN custos.host h ON h.id = d.host
	WHERE h.role = 'host-2'")" = "$h2" ] && [ $n -lt 200 ]; do
	sleep 0.1
	n=$((n + 1))
done
ip -n "${P}s" link set "${P}a2" down
sleep 6
ip -n "${P}s" link set "${P}a2" up
sleep 1
pg_kill || fail "the server is killed a second time"
sleep 1
pg_start || fail "the server comes back again"
sleep 3
for p in $READERS; do kill "$p"; done
wait $READERS 2>/dev/null
for p in $D_PIDS; do kill -TERM "$p"; done
for p in $D_PIDS; do wait "$p" || fail "a custosd stops cleanly"; done
D_PIDS=

# Every host catches up with its sealed ledger.
local_n() { sqlite3 -readonly "$WORK/h$1/ledger/custos.db" "SELECT count(*) FROM record"; }
central() { # central I SQL: SQL over host i's records (r) in the store
	sql "SELECT $2 FROM custos.record r JOIN custos.host h ON h.id = r.host
		WHERE h.role = 'host-$1'"
}
n=0
for i in $HOSTS; do
	while [ "$(central "$i" "count(*)")" != "$(local_n "$i")" ] && [ $n -lt 600 ]; do
		sleep 0.1
		n=$((n + 1))
	done
done
for p in $SHIP_PIDS; do kill -TERM "$p"; done
for p in $SHIP_PIDS; do wait "$p" || fail "a shipper stops cleanly on SIGTERM"; done
SHIP_PIDS=
total=0
for i in $HOSTS; do
	ln=$(local_n "$i")
	total=$((total + ln))
	check "host $i: the store holds every record, no duplicate, no hole" "$ln $((ln - 1)) $ln" \
		"$(central "$i" "count(*) || ' ' || max(seq) || ' ' || count(DISTINCT seq)")"
	check "host $i: each record chains to the one before" 0 \
		"$(sql "SELECT count(*) FILTER (WHERE substring(body FROM 23 FOR 32) <> coalesce(p,
		'\\x$(printf '%064d' 0)'::bytea)) FROM (SELECT body, sha256('\\x00'::bytea ||
		lag(body) OVER (ORDER BY seq)) AS p FROM custos.record r JOIN custos.host h
		ON h.id = r.host WHERE h.role = 'host-$i') x")"
	"$TOOL" dump "$WORK/h$i/ledger/custos.db" | md5sum >"$WORK/h$i/local.md5"
	sql "SELECT encode(body, 'hex') FROM custos.record r JOIN custos.host h ON h.id = r.host
		WHERE h.role = 'host-$i' ORDER BY seq" | md5sum >"$WORK/h$i/central.md5"
	check "host $i: byte for byte the ledger's canonical records" "$(cat "$WORK/h$i/local.md5")" \
		"$(cat "$WORK/h$i/central.md5")"
	check "host $i: every checkpoint handed in" \
		"$(sqlite3 -readonly "$WORK/h$i/ledger/custos.db" "SELECT count(*) FROM checkpoint")" \
		"$(sql "SELECT count(*) FROM custos.checkpoint c JOIN custos.host h ON h.id = c.host
			WHERE h.role = 'host-$i'")"
done
echo "# $total records from 3 hosts; server killed twice, host 2's link cut for 6 s"
check "the shippers saw the outages and came back" 1 \
	"$([ "$(cat "$WORK"/h*/ship.log | grep -c 'retrying in')" -ge 3 ] && echo 1)"
check "host 2 resumed after its cut" 1 \
	"$([ "$(grep -c 'shipping .* from seq' "$WORK/h2/ship.log")" -ge 3 ] && echo 1)"

# The followers catch up with every host's last checkpoint.
state() { sql "SELECT string_agg(h.role || '=' || v.size || ':' || v.status, ' ' ORDER BY h.role)
	FROM custos.verify_state v JOIN custos.host h ON h.id = v.host"; }
want=$(for i in $HOSTS; do printf 'host-%s=%s:* ' "$i" "$(local_n "$i")"; done)
n=0
until state | grep -Eq "^host-1=$(local_n 1):(verified|warnings) host-2=$(local_n 2):(verified|warnings) host-3=$(local_n 3):(verified|warnings)$" ||
	[ $n -ge 300 ]; do
	sleep 0.2
	n=$((n + 1))
done
check "verify --follow: every host verified to its end" 1 \
	"$(state | grep -Ec "^host-1=$(local_n 1):(verified|warnings) host-2=$(local_n 2):(verified|warnings) host-3=$(local_n 3):(verified|warnings)$")"
[ "$(state | grep -c verified)" = 1 ] || echo "  state: $(state); want $want"
# The server was killed twice under them: lost connections are retried;
# a row written twice would be a duplicate key.
check "both followers took part, no row or state written twice" "2 0" \
	"$(grep -l 'records verified' "$WORK"/follow[12].out | wc -l) $(cat "$WORK"/follow[12].err |
		grep -c 'duplicate\|violates')"
for i in $HOSTS; do
	check "host $i: an access row per record, once" "$(local_n "$i") $(local_n "$i")" \
		"$(sql "SELECT count(*) || ' ' || count(DISTINCT seq) FROM custos.access a
			JOIN custos.host h ON h.id = a.host WHERE h.role = 'host-$i'")"
	cols="seq, time, action, result, path, dataset, bytes, partial, comm, uid, person, counted"
	sqlite3 -readonly "$WORK/h$i/ledger/custos.db" "SELECT $cols FROM accesses ORDER BY seq" \
		>"$WORK/h$i/views.local"
	sql "SELECT $cols FROM custos.accesses WHERE host = 'host-$i' ORDER BY seq" \
		>"$WORK/h$i/views.central"
	check "host $i: the central accesses view shows what the ledger's own shows" \
		"$(md5sum <"$WORK/h$i/views.local") $(wc -l <"$WORK/h$i/views.local")" \
		"$(md5sum <"$WORK/h$i/views.central") $(wc -l <"$WORK/h$i/views.central")"
done
local_bytes=0
for i in $HOSTS; do
	local_bytes=$((local_bytes + $(sqlite3 -readonly "$WORK/h$i/ledger/custos.db" \
		"SELECT coalesce(sum(bytes), 0) FROM person_dataset")))
done
check "person_dataset: the fleet's bytes are the hosts' bytes" "$local_bytes" \
	"$(sql "SELECT sum(bytes) FROM custos.person_dataset")"
# Nothing ships any more: three heartbeats (1 s) later each host is silent.
n=0
until [ "$(sql "SELECT count(*) FROM custos.verify_state WHERE silent")" = 3 ] || [ $n -ge 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
check "a host that ships nothing for three heartbeats is reported silent" "3 3" \
	"$(sql "SELECT count(*) FROM custos.verify_state WHERE silent") $(cat "$WORK"/follow[12].out |
		grep -o '^host-[123]: SILENT: nothing shipped since' | sort -u | wc -l)"

# An auditor reads the views, and nothing else.
sql "CREATE ROLE auditor1 LOGIN IN ROLE custos_auditor" >/dev/null
aud() { psql -X -q -At "host=$PG dbname=postgres user=auditor1" -c "$1" 2>&1; }
check "the auditor reads the views" \
	"$(sqlite3 -readonly "$WORK/h1/ledger/custos.db" "SELECT count(*) FROM accesses")" \
	"$(aud "SELECT count(*) FROM custos.accesses WHERE host = 'host-1'")"
for stmt in "SELECT count(*) FROM custos.record" "SELECT count(*) FROM custos.access" \
	"SELECT count(*) FROM custos.host" "SELECT custos.next_seq()" \
	"DELETE FROM custos.access"; do
	check "the auditor may not: $stmt" 1 "$(aud "$stmt" | grep -c 'permission denied')"
done

# The central copy verified as the ledger is, from each host's trust file.
for i in $HOSTS; do
	"$CUSTOS" verify --db "$ADMIN" --host "host-$i" --trust "$WORK/trust/host-$i.vkeys" \
		>"$WORK/h$i/cverify.out" 2>&1
	st=$?
	check "host $i: custos verify of the central copy: verified (exit 0 or 2)" 1 \
		"$([ $st = 0 ] || [ $st = 2 ] && echo 1)"
	"$CUSTOS" verify --db "$WORK/h$i/ledger/custos.db" --trust "$WORK/trust/host-$i.vkeys" \
		>"$WORK/h$i/lverify.out" 2>&1
	check "host $i: the same verdict as the ledger's own" "$(tail -1 "$WORK/h$i/lverify.out")" \
		"$(tail -1 "$WORK/h$i/cverify.out")"
done
"$CUSTOS" verify --db "$ADMIN" --all --trust-dir "$WORK/trust" >"$WORK/all.out" 2>&1
st=$?
check "custos verify --all: every host verified (exit 0 or 2)" 1 \
	"$([ $st = 0 ] || [ $st = 2 ] && echo 1)"
check "a line per host" 3 "$(grep -c '^host-[123] .* verified' "$WORK/all.out")"

# Auditors' queries and reports of the central store: what each host's own
# ledger gives, host by host.
: >"$WORK/local.json"
for i in $HOSTS; do
	"$CUSTOS" query --db "$WORK/h$i/ledger/custos.db" --trust "$WORK/trust/host-$i.vkeys" \
		--format json >"$WORK/h$i/query.json" 2>/dev/null
	cat "$WORK/h$i/query.json" >>"$WORK/local.json"
done
"$CUSTOS" query --db "$ADMIN" --trust-dir "$WORK/trust" --host host-2 --format json \
	>"$WORK/central2.json" 2>"$WORK/cq.err"
check "custos query --db postgresql://... --host host-2: exit 0" 0 $?
check "the same records, keys and values as host 2's own ledger" \
	"$(md5sum <"$WORK/h2/query.json") $(wc -l <"$WORK/h2/query.json")" \
	"$(md5sum <"$WORK/central2.json") $(wc -l <"$WORK/central2.json")"
"$CUSTOS" query --db "$ADMIN" --trust-dir "$WORK/trust" --format json >"$WORK/central.json" \
	2>>"$WORK/cq.err"
check "every host, one after the other: each ledger's records" \
	"$(md5sum <"$WORK/local.json")" "$(md5sum <"$WORK/central.json")"
check "a table's header once for several hosts" 1 \
	"$("$CUSTOS" query --db "$ADMIN" --trust-dir "$WORK/trust" --format csv --action open \
		--host host-1 --host host-3 | grep -c '^seq,')"
"$CUSTOS" report --db "$ADMIN" --trust-dir "$WORK/trust" --host host-3 >"$WORK/report3.out" 2>&1
check "custos report of host 3 from the store (exit 0)" "0 1" \
	"$? $(grep -c '^ledger: host host-3 of the central store' "$WORK/report3.out")"
check "its summary is host 3's own" \
	"$("$CUSTOS" report --db "$WORK/h3/ledger/custos.db" --trust "$WORK/trust/host-3.vkeys" |
		sed -n '/^== Summary ==/,/^$/p')" "$(sed -n '/^== Summary ==/,/^$/p' "$WORK/report3.out")"
"$CUSTOS" query --db "$ADMIN" --trust "$WORK/trust/host-1.vkeys" >/dev/null 2>&1
check "a central store with --trust and no --trust-dir: usage (exit 2)" 2 $?
"$CUSTOS" query --db "$WORK/h1/ledger/custos.db" --trust-dir "$WORK/trust" >/dev/null 2>&1
check "--trust-dir for a ledger file: usage (exit 2)" 2 $?

# A check from seq 0 of the true ledger: all no-ops.
(on_host 1 "$CUSTOS" ship --db "$WORK/h1/ledger/custos.db" --to "$(tls 1)" --once --from 0) \
	>/dev/null 2>"$WORK/check.log"
check "ship --once --from 0 of the true ledger: the store agrees (exit 0)" 0 $?
# Host 1's ledger with one record changed: sent again, it is equivocation.
# A copy through SQLite: the last records may still be in the -wal (a
# shipper reading when custosd closed keeps it from being folded in).
sqlite3 "$WORK/h1/ledger/custos.db" ".backup '$WORK/forged.db'"
chmod 644 "$WORK/forged.db"
sqlite3 "$WORK/forged.db" "UPDATE record SET t_boot_ns = t_boot_ns + 1 WHERE seq = 5"
(on_host 1 "$CUSTOS" ship --db "$WORK/forged.db" --to "$(tls 1)" --once --from 0) \
	>/dev/null 2>"$WORK/forged.log"
st=$?
n=$(grep -c 'refuses a .*: equivocation: seq 5 differs.*never retried' "$WORK/forged.log")
[ "$st $n" = "1 1" ] || sed "s/^/  ship: /" "$WORK/forged.log"
check "a changed record sent again is refused: ship exits 1" 1 $st
check "and says equivocation, tamper evidence, in one line" 1 "$n"

# Who may connect.
try() { # try I CONNINFO: the first line of psql's error from host i's namespace
	(on_host "$1" psql -X -At "$2" -c "SELECT custos.next_seq()") 2>&1 | head -1
}
check "host 1's certificate for host 1's role: connected" "$(local_n 1)" "$(try 1 "$(tls 1)")"
check "host 1's certificate for host 2's role: refused" 1 \
	"$(try 1 "$(tls 1 host-2 h1)" | grep -c 'certificate authentication failed for user "host-2"')"
check "no client certificate: refused" 1 \
	"$(try 1 "host=$NAME hostaddr=10.77.1.1 dbname=postgres user=host-1 sslmode=verify-full \
		sslrootcert=$T/ca.crt sslcert=/nonexistent" | grep -c 'connection requires a valid client certificate\|certificate authentication failed')"
check "plain TCP: refused" 1 \
	"$(try 1 "host=10.77.1.1 dbname=postgres user=host-1 sslmode=disable" |
		grep -c 'no pg_hba.conf entry')"
check "a server name the certificate does not carry: refused by the host" 1 \
	"$(try 1 "$(tls 1 | sed "s/host=$NAME/host=other.fleet.test/")" |
		grep -c 'does not match host name')"
check "the host's role over TLS reads no table" 1 \
	"$( (on_host 1 psql -X -At "$(tls 1)" -c "SELECT count(*) FROM custos.record") 2>&1 |
		grep -c 'permission denied')"

# A database administrator changing the store another way than a body's
# value: what custos verify and custos query read must still be the host's
# log, or be refused.  dba NAME MUTATE UNDO: after MUTATE, host 3's verify
# and query exit 1; after UNDO, it verifies again.
h3=$(sql "SELECT id FROM custos.host WHERE role = 'host-3'")
dba() {
	sql "$2" >"$WORK/dba.out"
	"$CUSTOS" verify --db "$ADMIN" --host host-3 --trust "$WORK/trust/host-3.vkeys" \
		>"$WORK/dba.verify" 2>&1
	v=$?
	"$CUSTOS" query --db "$ADMIN" --trust-dir "$WORK/trust" --host host-3 >/dev/null \
		2>"$WORK/dba.query"
	q=$?
	check "$1: verify and query exit 1" "1 1 1" \
		"$v $q $(grep -c 'refused to query host host-3' "$WORK/dba.query")"
	[ "$v $q" = "1 1" ] || { cat "$WORK/dba.out"; grep TAMPER "$WORK/dba.verify" | head -3; }
	sql "$3" >/dev/null
	"$CUSTOS" verify --db "$ADMIN" --host host-3 --trust "$WORK/trust/host-3.vkeys" -q \
		>/dev/null 2>&1
	st=$?
	check "$1, undone: verifies again" 1 "$([ $st = 0 ] || [ $st = 2 ] && echo 1)"
}
dba "a second row for seq 20 in the month before" \
	"INSERT INTO custos.record (host, seq, t, body) SELECT host, seq, t - interval '1 month',
		body FROM custos.record WHERE host = $h3 AND seq = 20" \
	"DELETE FROM custos.record WHERE host = $h3 AND seq = 20
		AND t < (SELECT max(t) FROM custos.record WHERE host = $h3 AND seq = 20)"
dba "checkpoint notes stored as bytea" \
	"ALTER TABLE custos.checkpoint ALTER note TYPE bytea USING convert_to(note, 'UTF8')" \
	"ALTER TABLE custos.checkpoint ALTER note TYPE text USING convert_from(note, 'UTF8')"
dba "a view in place of the record table, hiding host 3's last records" \
	"ALTER TABLE custos.record RENAME TO record_real; CREATE VIEW custos.record AS
		SELECT * FROM custos.record_real WHERE NOT (host = $h3 AND seq >= (SELECT
		next_seq - 5 FROM custos.head WHERE host = $h3))" \
	"DROP VIEW custos.record; ALTER TABLE custos.record_real RENAME TO record"
# The access rows and the views are the follower's, for SQL: custos query
# never reads them, so editing them changes nothing it shows.
sql "UPDATE custos.access SET doc = jsonb_set(doc, '{person}', '\"nobody\"') WHERE host = $h3;
	DELETE FROM custos.access WHERE host = $h3 AND seq % 2 = 0;
	DROP VIEW custos.person_dataset; DROP VIEW custos.alerts;
	CREATE VIEW custos.alerts AS SELECT 1 AS seq" >/dev/null
"$CUSTOS" query --db "$ADMIN" --trust-dir "$WORK/trust" --host host-3 --format json \
	>"$WORK/central3.json" 2>/dev/null
check "access rows and views edited: custos query still shows host 3's ledger" \
	"$(md5sum <"$WORK/h3/query.json")" "$(md5sum <"$WORK/central3.json")"

# The store is a mirror: a superuser's edit is tamper evidence, as is a
# record removed from the end with the head moved back to match... or not.
sql "UPDATE custos.record SET body = overlay(body PLACING '\\xff'::bytea FROM 100)
	WHERE seq = 7 AND host = (SELECT id FROM custos.host WHERE role = 'host-1')" >/dev/null
"$CUSTOS" verify --db "$ADMIN" --host host-1 --trust "$WORK/trust/host-1.vkeys" \
	>"$WORK/edit.out" 2>&1
check "a central row changed by a superuser: tamper evidence (exit 1)" 1 $?
check "found at the record after it, which no longer chains" 1 \
	"$(grep -c 'seq 8: does not chain to seq 7' "$WORK/edit.out")"
"$CUSTOS" query --db "$ADMIN" --trust-dir "$WORK/trust" --host host-1 >/dev/null \
	2>"$WORK/editq.err"
check "custos query refuses that host (exit 1), in one line" "1 1" \
	"$? $(grep -c 'refused to query host host-1: custos verify finds tamper evidence' \
		"$WORK/editq.err")"
"$CUSTOS" verify --db "$ADMIN" --all --trust-dir "$WORK/trust" >"$WORK/all2.out" 2>&1
check "custos verify --all: exit 1, and says which host" "1 1" \
	"$? $(grep -c '^host-1 .*TAMPER EVIDENCE' "$WORK/all2.out")"
last=$(sql "SELECT max(seq) FROM custos.record WHERE host = (SELECT id FROM custos.host
	WHERE role = 'host-3')")
sql "DELETE FROM custos.record WHERE seq = $last AND host = (SELECT id FROM custos.host
	WHERE role = 'host-3')" >/dev/null
"$CUSTOS" verify --db "$ADMIN" --host host-3 --trust "$WORK/trust/host-3.vkeys" \
	>"$WORK/cut.out" 2>&1
check "the last record of a host deleted: tamper evidence (exit 1)" 1 $?
check "the store's head says more than it holds" 1 \
	"$(grep -c "head says $((last + 1)) records of this host, $last are there" "$WORK/cut.out")"

# A follower that meets an edited row: host 2 verified again from seq 0.
h2=$(sql "SELECT id FROM custos.host WHERE role = 'host-2'")
sql "BEGIN; DELETE FROM custos.access WHERE host = $h2;
	UPDATE custos.verify_state SET size = 0, status = 'unverified' WHERE host = $h2;
	UPDATE custos.record SET body = overlay(body PLACING '\\xff'::bytea FROM 100)
		WHERE seq = 10 AND host = $h2; COMMIT" >/dev/null
n=0
until [ "$(sql "SELECT status FROM custos.verify_state WHERE host = $h2")" = tamper ] ||
	[ $n -ge 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
check "verify --follow: host 2 is tamper, with no access row shown" "tamper 0 0" \
	"$(sql "SELECT status || ' ' || size FROM custos.verify_state WHERE host = $h2") $(sql \
		"SELECT count(*) FROM custos.accesses WHERE host = 'host-2'")"
check "and says where" 1 \
	"$(cat "$WORK"/follow[12].out | grep -c '^host-2: TAMPER   seq 11: does not chain to seq 10')"
for p in $F_PIDS; do kill -TERM "$p"; done
st=0
for p in $F_PIDS; do wait "$p" || st=$?; done
F_PIDS=
check "the followers stop on SIGTERM (exit 0)" 0 "$st"
finish
