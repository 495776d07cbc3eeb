# Attribution: each access names the staff member behind it, even after a
# switch to root, and says how that was found.  A login is simulated by
# writing /proc/self/loginuid (as pam_loginuid does), then switching user as
# sudo and su do.  Also: a service account, an unknown uid, a "left"
# employee, a directory edit with SIGHUP, a malformed directory, pid reuse
# and lineage.
. "$(dirname "$0")/../lib.sh"

chmod 755 "$WORK"
TREE=$WORK/tree
mkdir -p "$TREE" "$WORK/out"
"$WORKLOAD" setup "$TREE" "$WORK/out" || exit 1
chmod -R a+rX "$TREE"

cat >"$WORK/staff.json" <<'JSON'
{
  "version": 1,
  "staff": [
    { "id": "e1001", "name": "Alice Martin", "logins": ["alice"], "uids": [1001],
      "team": "storage-ops", "role": "sre", "email": "alice@example.org", "status": "active" },
    { "id": "e1002", "name": "Bob Stone", "logins": ["bob"], "uids": [1002],
      "team": "data", "role": "analyst", "status": "left" }
  ],
  "services": [ { "name": "backup", "logins": ["backup"], "uids": [] } ]
}
JSON

# A process older than custosd: known from /proc, not from its events.
cp "$WORKLOAD" "$WORK/old-reader"
"$WORK/old-reader" waitcat "$WORK/go" "$TREE/sub/b" >/dev/null &
OLD=$!
start_custosd --db "$WORK/db" --watch "$TREE=customers" --staff "$WORK/staff.json" || exit 1
touch "$WORK/go"
wait $OLD || fail "the old reader"
# Alice logs in, then becomes root (sudo -i / su): still Alice.
"$WORKLOAD" as 1001 0 "$TREE/a" >/dev/null || fail "alice's read"
# Alice without a switch: the uid alone would say the same.
"$WORKLOAD" as 1001 1001 "$TREE/d" >/dev/null || fail "alice's own read"
# No login session: the uid of a person.
"$WORKLOAD" as - 1001 "$TREE/e" >/dev/null || fail "a uid-only read"
# backup (uid 34 by NSS): a service account.
"$WORKLOAD" as - 34 "$TREE/sub/b" >/dev/null || fail "backup's read"
# A uid no one owns.
"$WORKLOAD" as - 4242 "$TREE/a" >/dev/null || fail "an unknown uid's read"
# Bob has left, but his login still works.
"$WORKLOAD" as 1002 0 "$TREE/d" >/dev/null || fail "bob's read"
# Lineage: sh runs the reader.
sh -c "\"$WORKLOAD\" cat \"$TREE/e\" >/dev/null" || fail "the read under sh"

# pid reuse: make the next process get the pid of one that just ended, and
# run another program in it; its record must name its own program.
# Another process may take the pid in between on a busy machine: try a few times.
cp "$WORKLOAD" "$WORK/reused-reader"
for try in 1 2 3 4 5; do
	"$WORKLOAD" cat "$TREE/a" >"$WORK/first" || fail "the first process"
	pid_of pid "$WORK/first"
	echo $((pid - 1)) >/proc/sys/kernel/ns_last_pid
	"$WORK/reused-reader" cat "$TREE/sub/b" >"$WORK/second" || fail "the second process"
	pid_of pid2 "$WORK/second"
	[ "$pid2" = "$pid" ] && break
done

# The directory changes: uid 4242 becomes Carol.  SIGHUP loads it.
cat >"$WORK/staff.json" <<'JSON'
{
  "version": 1,
  "staff": [
    { "id": "e1001", "name": "Alice Martin", "logins": ["alice"], "uids": [1001],
      "team": "storage-ops", "role": "sre", "status": "active" },
    { "id": "e1002", "name": "Bob Stone", "logins": ["bob"], "uids": [1002],
      "team": "data", "role": "analyst", "status": "left" },
    { "id": "e1003", "name": "Carol Diaz", "logins": ["carol"], "uids": [4242],
      "team": "data", "role": "engineer", "status": "active" }
  ],
  "services": [ { "name": "backup", "logins": ["backup"], "uids": [] } ]
}
JSON
kill -HUP "$DAEMON_PID"
sleep 0.5
"$WORKLOAD" as - 4242 "$TREE/d" >/dev/null || fail "carol's read"
# A malformed directory is refused; Carol stays known.
echo '{ "version": 1, "staff": [ { "id": ' >"$WORK/staff.json"
kill -HUP "$DAEMON_PID"
sleep 0.5
"$WORKLOAD" as - 4242 "$TREE/e" >/dev/null || fail "carol's read after a bad reload"
stop_custosd || fail "custosd exits 0"
grep -q 'failed to reload staff directory' "$WORK/custosd.log" &&
	pass "a malformed directory is refused with a message" ||
	fail "a malformed directory is refused with a message"

"$CUSTOS" query --db "$WORK/db" --action read --format json >"$WORK/reads.json"
who() { # who PATH-SUFFIX UID [INDEX]: "person attribution left" of that read
	jq -r --arg p "$TREE/$1" --argjson u "$2" \
		'select(.path == $p and .uid == $u) | "\(.person) \(.attribution) \(.left)"' \
		"$WORK/reads.json" | sed -n "${3:-1}p"
}
check "alice after a switch to root: loginuid" "e1001 loginuid false" "$(who a 0)"
check "alice as herself: loginuid" "e1001 loginuid false" "$(who d 1001)"
check "no session, a person's uid: uid" "e1001 uid false" "$(who e 1001)"
check "backup: a service account" "service:backup service false" "$(who sub/b 34)"
check "an unknown uid: unattributed, uid kept" "null unattributed false" "$(who a 4242)"
check "bob, who has left: flagged" "e1002 loginuid true" "$(who d 0)"
check "after SIGHUP, uid 4242 is carol" "e1003 uid false" "$(who d 4242)"
check "after a bad reload, the directory in force stays" "e1003 uid false" "$(who e 4242)"
check "team and role come with the person" "storage-ops sre" \
	"$(jq -r 'select(.person == "e1001" and .uid == 0) | "\(.team) \(.role)"' \
		"$WORK/reads.json")"
check "the directory version changed once" 2 \
	"$(jq -r 'select(.directory != null) | .directory' "$WORK/reads.json" | sort -u | wc -l)"
check "the reload is a CONFIG record" 1 \
	"$("$CUSTOS" query --db "$WORK/db" --action config --format json | grep -c staff)"
check "the lineage shows the shell" "sh→workload" \
	"$(jq -r --arg p "$TREE/e" 'select(.path == $p and .uid == 0) | .lineage' \
		"$WORK/reads.json" | head -1 | sed 's/.*\(sh→workload\)$/\1/')"
check "argv is recorded" "[\"$WORKLOAD\",\"cat\",\"$TREE/e\"]" \
	"$(jq -c --arg p "$TREE/e" 'select(.path == $p and .uid == 0) | .args' "$WORK/reads.json" | head -1)"
if [ "$pid2" = "$pid" ]; then
	check "a reused pid names its own program" "$WORK/reused-reader" \
		"$(jq -r --arg p "$TREE/sub/b" --argjson pid "$pid" \
			'select(.path == $p and .pid == $pid) | .exe' "$WORK/reads.json")"
else
	fail "pid reuse was not arranged (got $pid2 after $pid)"
fi
check "a process older than custosd: its program from /proc" "$WORK/old-reader" \
	"$(jq -r --argjson pid "$OLD" 'select(.pid == $pid) | .exe' "$WORK/reads.json")"
n=$("$CUSTOS" query --db "$WORK/db" --person e1001 --format json | jq -r .path | sort -u | wc -l)
check "custos query --person e1001: what alice read" 3 "$n"
# uid 4242 before it was carol's, and every read by root without a login:
# the old reader, the shell's, and the pid-reuse pairs.
check "custos query --unattributed" $((3 + 2 * try)) \
	"$("$CUSTOS" query --db "$WORK/db" --unattributed --action read --format json | wc -l)"
check "custos query --team data --action read" 3 \
	"$("$CUSTOS" query --db "$WORK/db" --team data --action read --format json | wc -l)"
finish
