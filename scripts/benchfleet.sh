#!/bin/sh
# make bench, the fleet: custos ship into the central store on PostgreSQL 15,
# server and hosts on this machine's same two cores, as the README's fleet
# set-up has it: TLS 1.3 with a client certificate per host (over loopback),
# fsync and synchronous commits on.  Each host's ledger is a real one
# (ledgertool gen: BENCH_FLEET_RECORDS records, 100,000 by default), shipped
# whole with custos ship --once.  Per round (BENCH_FLEET_ROUNDS, 3): one
# host alone, then eight at once, each into a fresh store; the medians, and
# the store's bytes per record (heap, index, TOAST) after the eight.
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 1
. tests/fleetlib.sh
BUILD=$(pwd)/build
CUSTOS=$BUILD/custos
TOOL=$BUILD/tests/ledgertool
PGBIN=/usr/lib/postgresql/15/bin
N=${BENCH_FLEET_RECORDS:-100000}
ROUNDS=${BENCH_FLEET_ROUNDS:-3}
HOSTS="1 2 3 4 5 6 7 8"
PORT=5498
WORK=/var/tmp/custos-bench-fleet
[ -x "$PGBIN/initdb" ] || { echo "fleet: PostgreSQL 15 is not installed"; exit 1; }

stop_pg() {
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg/data" -m fast stop >/dev/null 2>&1
}
trap 'stop_pg; [ -n "${BENCH_FLEET_KEEP:-}" ] || rm -rf "$WORK"' EXIT
stop_pg
rm -rf "$WORK"
mkdir -p "$WORK/tls" "$WORK/pg"
chmod 755 "$WORK"

# The logs, one origin each.
for i in $HOSTS; do
	ORIGIN=h$i.bench/custos "$TOOL" gen "$WORK/h$i.db" "$WORK/k$i" "-$N" 2>/dev/null ||
		{ echo "fleet: failed to make host $i's ledger"; exit 1; }
done
n=$(sqlite3 -readonly "$WORK/h1.db" "SELECT count(*) FROM record")
body=$("$TOOL" dump "$WORK/h1.db" | awk '{ s += length($0) / 2 } END { printf "%d", s / NR }')

# A CA, the server's certificate for localhost, one per host (CN = its role).
T=$WORK/tls
fleet_tls "$T" localhost || { echo "fleet: failed to make the certificates"; exit 1; }
for i in $HOSTS; do fleet_cert "$T" "h$i" "h$i"; done

chown postgres "$WORK/pg"
fleet_server "$WORK/pg/data" "$WORK/pg" "$T" 127.0.0.1 127.0.0.1/32 "$PORT" || exit 1
runuser -u postgres -- env $FLEET_ENV "$PGBIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/log" -w start >/dev/null ||
	{ echo "fleet: the server does not start"; exit 1; }
ADMIN="host=$WORK/pg port=$PORT dbname=postgres user=postgres"

fresh() { # a new store with the eight hosts enrolled
	psql -X -q "$ADMIN" -c "DROP SCHEMA IF EXISTS custos CASCADE" 2>/dev/null
	for i in $HOSTS; do psql -X -q "$ADMIN" -c "DROP ROLE IF EXISTS h$i" 2>/dev/null; done
	"$CUSTOS" fleet init --db "$ADMIN" >/dev/null || exit 1
	for i in $HOSTS; do
		"$CUSTOS" fleet enrol --db "$ADMIN" --host "h$i" --trust "$WORK/k$i/trust.vkeys" \
			>/dev/null || exit 1
	done
	psql -X -q "$ADMIN" -c CHECKPOINT
}
ship() { # ship I: host i's whole ledger (its peak memory in rss.I, KiB)
	/usr/bin/time -f %M -o "$WORK/rss.$1" "$CUSTOS" ship --db "$WORK/h$1.db" --once \
		--to "host=localhost hostaddr=127.0.0.1 \
		port=$PORT dbname=postgres user=h$1 sslrootcert=$T/ca.crt sslcert=$T/h$1.crt \
		sslkey=$T/h$1.key" 2>/dev/null
}
ms() { echo $((($2 - $1) / 1000000)); }
one=
eight=
r=0
while [ $r -lt "$ROUNDS" ]; do
	fresh
	t0=$(date +%s%N)
	ship 1 || { echo "fleet: ship failed"; exit 1; }
	t1=$(date +%s%N)
	one="$one $(ms "$t0" "$t1")"
	fresh
	t0=$(date +%s%N)
	for i in $HOSTS; do ship "$i" & done
	wait
	t1=$(date +%s%N)
	eight="$eight $(ms "$t0" "$t1")"
	r=$((r + 1))
done
held=$(psql -X -At "$ADMIN" -c "SELECT count(*) FROM custos.record")
sent=0
for i in $HOSTS; do
	sent=$((sent + $(sqlite3 -readonly "$WORK/h$i.db" "SELECT count(*) FROM record")))
done
bytes=$(psql -X -At "$ADMIN" -c "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c
	JOIN pg_namespace s ON s.oid = c.relnamespace
	WHERE s.nspname = 'custos' AND c.relname LIKE 'record\_%' AND c.relkind = 'r'")
chained=$(psql -X -At "$ADMIN" -c "SELECT count(*) FROM (SELECT body, lag(body) OVER (PARTITION BY
	host ORDER BY seq) AS p FROM custos.record) x WHERE p IS NOT NULL
	AND substring(body FROM 23 FOR 32) <> sha256('\\x00'::bytea || p)")
# custos verify --follow over the eight: replayed, access rows and state
# written, to each host's last checkpoint.
mkdir -p "$WORK/trust"
for i in $HOSTS; do cp "$WORK/k$i/trust.vkeys" "$WORK/trust/h$i.vkeys"; done
want=$(psql -X -At "$ADMIN" -c "SELECT sum(c.size) FROM (SELECT host, max(size) AS size
	FROM custos.checkpoint GROUP BY host) c")
t0=$(date +%s%N)
"$CUSTOS" verify --db "$ADMIN" --follow --trust-dir "$WORK/trust" >/dev/null 2>&1 &
fpid=$!
until [ "$(psql -X -At "$ADMIN" -c "SELECT sum(size) FROM custos.verify_state")" = "$want" ]; do
	kill -0 $fpid 2>/dev/null || break
	sleep 0.1
done
t1=$(date +%s%N)
kill $fpid
wait $fpid
follow=$(ms "$t0" "$t1")
rows=$(psql -X -At "$ADMIN" -c "SELECT count(*) FROM custos.access")
abytes=$(psql -X -At "$ADMIN" -c "SELECT pg_total_relation_size('custos.access')")
# The server's floor: host 1's records in the same batches of 1,000,
# inserted by the server itself, a transaction each (no client, no TLS, no
# check): what the table, its index and the commits alone cost here.  The
# batches are read from a table of arrays; that reading, timed alone in the
# same round, is taken off.
psql -X -q "$ADMIN" <<'EOF'
CREATE TABLE floor_batch (k int, b bytea[]);
ALTER TABLE floor_batch ALTER b SET STORAGE EXTERNAL;
INSERT INTO floor_batch SELECT seq / 1000, array_agg(body ORDER BY seq) FROM custos.record
WHERE host = 1 GROUP BY 1;
CREATE PROCEDURE floor(h int) LANGUAGE plpgsql AS $$
DECLARE
	f record;
BEGIN
	FOR f IN SELECT k, b FROM floor_batch ORDER BY k LOOP
		IF h > 0 THEN
			INSERT INTO custos.record (host, seq, t, body)
			SELECT h, f.k * 1000 + i - 1, now(), x FROM unnest(f.b) WITH ORDINALITY u(x, i);
		END IF;
		COMMIT;
	END LOOP;
END $$;
EOF
floor=
r=0
while [ $r -lt "$ROUNDS" ]; do
	t0=$(date +%s%N)
	psql -X -q "$ADMIN" -c "CALL floor(0)"
	t1=$(date +%s%N)
	psql -X -q "$ADMIN" -c "CALL floor($((1000 + r)))"
	t2=$(date +%s%N)
	floor="$floor $(($(ms "$t1" "$t2") - $(ms "$t0" "$t1")))"
	r=$((r + 1))
done
echo "$one" | awk -v n="$n" -v eight="$eight" -v held="$held" -v bytes="$bytes" \
	-v body="$body" -v chained="$chained" -v sent="$sent" -v floor="$floor" \
	-v follow="$follow" -v rows="$rows" -v want="$want" -v abytes="$abytes" \
	-v rss="$(cat "$WORK/rss.1")" -v ledger="$(stat -c %s "$WORK/h1.db")" \
	"$(cat scripts/median.awk)"'
{
	o = median($0); e = median(eight); f = median(floor)
	printf "fleet: one host, %d records: median %d ms, %d records/s (runs:%s ms); custos ship" \
		" peak RSS %d KiB for a %d MiB ledger\n", n, o, n * 1000 / o, $0, rss,
		ledger / 1048576
	printf "fleet: eight hosts at once, %d records: median %d ms, %d records/s (runs:%s ms)\n",
		sent, e, sent * 1000 / e, eight
	printf "fleet: server floor (the same batches inserted by the server, no client, no check):" \
		" median %d ms, %d records/s (runs:%s ms); one host ships at %.2fx its time\n", f,
		n * 1000 / f, floor, o / f
	printf "fleet: the store holds %d of the %d records sent, %d not chained; %d bytes/record" \
		" on disk for a %d-byte record\n", held, sent, chained, bytes / held, body
	printf "fleet: verify --follow: %d records of eight hosts verified, %d access rows written" \
		" in %d ms: %d records/s; %d bytes/row\n", want, rows, follow,
		want * 1000 / (follow + 1), abytes / (rows + 1)
}'
