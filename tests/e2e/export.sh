# Exports: committed records reach a real rsyslog over TCP (RFC 5424 with
# octet counting) and an OCSF file; lines for a sink that is down wait in
# the spool, in order, and arrive once it is up, while capture goes on.
. "$(dirname "$0")/../lib.sh"

RSYSLOGD=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)
if [ ! -x "$RSYSLOGD" ]; then
	fail "rsyslogd is not installed (scripts/deps.sh installs it)"
	finish
fi

TREE=$WORK/tree
mkdir -p "$TREE" "$WORK/out" "$WORK/rs"
"$WORKLOAD" setup "$TREE" "$WORK/out" || exit 1

# A free port: ask the kernel for one, then give it to rsyslog.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
RS_PID=

# An rsyslog of the test's own: its own config, work directory and pid file,
# only a TCP input, every message written raw to one file.
start_rsyslog() {
	cat >"$WORK/rs/rsyslog.conf" <<CONF
global(workDirectory="$WORK/rs")
module(load="imtcp")
template(name="raw" type="string" string="%rawmsg%\n")
input(type="imtcp" address="127.0.0.1" port="$PORT")
action(type="omfile" file="$WORK/rs/messages" template="raw")
CONF
	"$RSYSLOGD" -n -f "$WORK/rs/rsyslog.conf" -i "$WORK/rs/rsyslog.pid" \
		2>>"$WORK/rs/rsyslog.log" &
	RS_PID=$!
	for _i in $(seq 100); do
		# Listening?  (rsyslog needs a moment to bind.)
		python3 -c "import socket; socket.create_connection(('127.0.0.1',$PORT)).close()" \
			2>/dev/null && return 0
		sleep 0.1
	done
	echo "rsyslog did not start:"
	cat "$WORK/rs/rsyslog.log"
	return 1
}
stop_rsyslog() {
	[ -n "$RS_PID" ] && kill "$RS_PID" 2>/dev/null && wait "$RS_PID" 2>/dev/null
	RS_PID=
}
trap 'stop_rsyslog; cleanup' EXIT

# wait_for FILE PATTERN COUNT: until FILE has COUNT lines matching PATTERN.
wait_for() {
	for _i in $(seq 150); do
		[ "$(grep -c -- "$2" "$1" 2>/dev/null)" -ge "$3" ] 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# --- A bad SPEC: one line, exit 2, nothing written.
"$CUSTOSD" --db "$WORK/bad.db" --watch "$TREE" --export 'syslog:tcp:127.0.0.1:99999' \
	>"$WORK/bad.out" 2>&1
check "bad --export exits 2" 2 $?
check "bad --export is one line" 1 "$(wc -l <"$WORK/bad.out")"
grep -q "invalid --export" "$WORK/bad.out" || fail "bad --export says why: $(cat "$WORK/bad.out")"
check "bad --export writes no database" no "$([ -e "$WORK/bad.db" ] && echo yes || echo no)"
"$CUSTOSD" --db "$WORK/bad.db" --watch "$TREE" --export 'file:/tmp,format=xml' >/dev/null 2>&1
check "unknown format exits 2" 2 $?

# --- Up: rsyslog and an OCSF file receive the access.
start_rsyslog || exit 1
start_custosd --db "$WORK/db" --watch "$TREE=customers" \
	--export "syslog:tcp:127.0.0.1:$PORT,only=all" \
	--export "file:$WORK/ocsf.jsonl,format=ocsf" || exit 1
"$WORKLOAD" cat "$TREE/a" >"$WORK/read1" || fail "the read"
pid_of pid "$WORK/read1"
wait_for "$WORK/rs/messages" "\"pid\":$pid," 2 || fail "rsyslog got the access"
wait_for "$WORK/ocsf.jsonl" "\"pid\":$pid," 2 || fail "the OCSF file got the access"
stop_custosd || fail "custosd stops cleanly"

line=$(grep -- "\"pid\":$pid," "$WORK/rs/messages" | grep ' open ' | head -n 1)
echo "$line" | grep -Eq '^<(110|109)>1 [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{6}Z [^ ]+ custos [0-9]+ open - \{' ||
	fail "RFC 5424 header: $line"
msg=${line#* - }
check "syslog MSG path" "$TREE/a" "$(echo "$msg" | jq -r .path)"
check "syslog MSG pid" "$pid" "$(echo "$msg" | jq -r .pid)"
check "syslog MSG action" open "$(echo "$msg" | jq -r .action)"
# The same object custos query prints for that record.
seq=$(echo "$msg" | jq -r .seq)
check "syslog MSG equals query's JSON" \
	"$("$CUSTOS" query --db "$WORK/db" --format json | jq -c "select(.seq == $seq)")" \
	"$(echo "$msg" | jq -c .)"
grep -q ' start - ' "$WORK/rs/messages" || fail "only=all sends START"
grep -q ' stop - ' "$WORK/rs/messages" || fail "only=all sends STOP"

o=$(grep -- "\"pid\":$pid," "$WORK/ocsf.jsonl" | jq -c 'select(.activity_id == 14)' | head -n 1)
check "OCSF class_uid" 1001 "$(echo "$o" | jq -r .class_uid)"
check "OCSF type_uid" 100114 "$(echo "$o" | jq -r .type_uid)"
check "OCSF file.path" "$TREE/a" "$(echo "$o" | jq -r .file.path)"
check "OCSF actor.process.pid" "$pid" "$(echo "$o" | jq -r .actor.process.pid)"
check "OCSF device.hostname" "$(hostname)" "$(echo "$o" | jq -r .device.hostname)"
check "OCSF read is Read" 2 \
	"$(grep -- "\"pid\":$pid," "$WORK/ocsf.jsonl" | jq -r 'select(.class_uid == 1001 and .activity_id != 14) | .activity_id' | head -n 1)"
grep -q "export syslog:tcp:127.0.0.1:$PORT: [0-9]* sent, 0 delayed, 0 dropped, 0 still spooled" \
	"$WORK/custosd.log" || fail "stop log counts the export: $(grep 'export ' "$WORK/custosd.log")"

# --- Alerts: a rule fires, and the alert alone reaches rsyslog and an OCSF
# file as a Detection Finding.
chmod 600 "$TREE/a"
printf 'rules:\n  - id: denied\n    severity: critical\n    description: a refused open\n    match:\n      result: denied\n' >"$WORK/rules.yaml"
: >"$WORK/rs/messages"
start_custosd --db "$WORK/alerts.db" --keys "$WORK/alerts-keys" --watch "$TREE=customers" --rules "$WORK/rules.yaml" \
	--export "syslog:tcp:127.0.0.1:$PORT,only=alerts" \
	--export "file:$WORK/findings.jsonl,format=ocsf,only=alerts" || exit 1
"$WORKLOAD" cat "$TREE/d" >/dev/null || fail "an allowed read"
setpriv --reuid=4242 --regid=4242 --clear-groups "$WORKLOAD" try . "$TREE/a" >"$WORK/denied" ||
	fail "the refused open"
pid_of dpid "$WORK/denied"
wait_for "$WORK/rs/messages" '"rule":"denied"' 1 || fail "rsyslog got the alert"
stop_custosd || fail "custosd stops cleanly"
check "only=alerts: rsyslog got the alert and nothing else" 1 "$(grep -c . "$WORK/rs/messages")"
line=$(head -n 1 "$WORK/rs/messages")
# Facility 13 (log audit), severity 2 (critical): PRI 106.
echo "$line" | grep -Eq '^<106>1 [^ ]+ [^ ]+ custos [0-9]+ alert - \{' ||
	fail "the alert's RFC 5424 header: $line"
cause=$(echo "${line#* - }" | jq -r .cause_seq)
check "the alert names the refused open of that process" "open $dpid -13" \
	"$("$CUSTOS" query --db "$WORK/alerts.db" --format json |
		jq -r --argjson s "$cause" 'select(.seq == $s) | "\(.action) \(.pid) \(.result)"')"
f=$(head -n 1 "$WORK/findings.jsonl")
check "OCSF: a Detection Finding" "2004 2 5" \
	"$(echo "$f" | jq -r '"\(.class_uid) \(.category_uid) \(.severity_id)"')"
check "OCSF: the finding's title is the rule's" "a refused open" \
	"$(echo "$f" | jq -r .finding_info.title)"
chmod 644 "$TREE/a"

# --- Down: start with rsyslog stopped; accesses are spooled, then arrive in order.
stop_rsyslog
: >"$WORK/rs/messages"
: >"$WORK/custosd.log"
start_custosd --db "$WORK/db" --watch "$TREE=customers" \
	--export "syslog:tcp:127.0.0.1:$PORT,only=all" || exit 1
t0=$(date +%s%N)
pids=
for f in a d e sub/b a; do
	"$WORKLOAD" cat "$TREE/$f" >"$WORK/r" || fail "read $f while the sink is down"
	pid_of p "$WORK/r"
	pids="$pids $p"
done
t1=$(date +%s%N)
# Capture is never blocked: five reads in well under the time of one connect timeout.
[ $(((t1 - t0) / 1000000)) -lt 5000 ] || fail "reads took $(((t1 - t0) / 1000000)) ms"
sleep 0.5
# The ledger has them already, while nothing could be sent.
for p in $pids; do
	"$CUSTOS" query --db "$WORK/db" --format json | grep -q "\"pid\":$p," ||
		fail "the ledger has pid $p while the sink is down"
done
[ -n "$(find "$WORK/db.spool" -name 'syslog_tcp_*.spool' -size +0)" ] ||
	fail "the spool holds the lines: $(ls -l "$WORK/db.spool")"
start_rsyslog || exit 1
last=$(echo $pids | awk '{print $NF}')
wait_for "$WORK/rs/messages" "\"pid\":$last," 2 || fail "spooled lines arrive"
"$WORKLOAD" cat "$TREE/d" >"$WORK/r" || fail "a read after the reconnect"
pid_of after "$WORK/r"
wait_for "$WORK/rs/messages" "\"pid\":$after," 2 || fail "a new line after the spool"
stop_custosd || fail "custosd stops cleanly"
# In order: seq only grows through the messages, start before the reads.
seqs=$(sed 's/^[^{]*//' "$WORK/rs/messages" | jq -r .seq)
check "spooled lines keep their order" "$(echo "$seqs" | sort -n)" "$seqs"
check "no line twice" "$(echo "$seqs" | sort -n | uniq)" "$seqs"
for p in $pids; do
	grep -q "\"pid\":$p," "$WORK/rs/messages" || fail "pid $p arrived"
done
delayed=$(sed -n "s/.*export syslog:tcp:127.0.0.1:$PORT: [0-9]* sent, \([0-9]*\) delayed, 0 dropped, 0 still spooled.*/\1/p" "$WORK/custosd.log")
[ -n "$delayed" ] && [ "$delayed" -ge 10 ] ||
	fail "the stop log reports the spooled lines as delayed: $(grep 'export ' "$WORK/custosd.log")"
grep -q "failed to connect" "$WORK/custosd.log" || fail "the outage is logged"

finish
