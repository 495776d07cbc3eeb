# The ledger's tamper evidence (docs/ledger.md): a real log written by the
# collector's ledger code in short epochs, then each mutation a hostile root
# could make, on its own copy.  custos verify must exit 0 on the untouched
# log and 1 on every mutation.
NO_KERNEL=1 # ledgertool writes the log: any user can run this suite
. "$(dirname "$0")/../lib.sh"

TOOL=$BUILD/tests/ledgertool
mkdir -p "$WORK/witness-dir"
"$TOOL" gen "$WORK/log.db" "$WORK/keys" 1200 "$WORK/witness-dir" 2>/dev/null || exit 1
TRUST=$WORK/keys/trust.vkeys
N=$(sqlite3 "$WORK/log.db" 'SELECT count(*) FROM record')

verify() { # verify DB [ARGS...]: custos verify's exit status
	db=$1
	shift
	"$CUSTOS" verify --db "$db" --trust "$TRUST" "$@" >"$WORK/report" 2>&1
}

"$CUSTOS" verify --db "$WORK/log.db" --trust "$TRUST" >"$WORK/report" 2>&1
check "the untouched log verifies (exit 0)" 0 $?
epochs=$(sed -n 's/^SEALED .*: \([0-9]*\) closed epochs.*/\1/p' "$WORK/report")
if [ "${epochs:-0}" -ge 4 ]; then pass "the log spans $epochs sealed epochs"; else
	fail "the log spans several epochs (got ${epochs:-none})"; fi

# mutate NAME SQL: apply SQL to a fresh copy; verify must exit 1.
mutate() {
	name=$1
	cp "$WORK/log.db" "$WORK/m.db"
	sqlite3 "$WORK/m.db" "$2" || { fail "$name (the SQL failed)"; return; }
	verify "$WORK/m.db"
	rc=$?
	if [ $rc = 1 ]; then pass "tamper: $name"; else
		fail "tamper: $name (exit $rc)"
		cat "$WORK/report"
	fi
}

READ=$(sqlite3 "$WORK/log.db" "SELECT min(seq) FROM record WHERE type = 1 AND op = 2 AND seq > 100")
HB=$(sqlite3 "$WORK/log.db" "SELECT min(seq) FROM record WHERE type = 2 AND seq > 50")
CLOSE=$(sqlite3 "$WORK/log.db" "SELECT min(seq) FROM record WHERE type = 5 AND seq > 50")
LAST_CLOSE=$(sqlite3 "$WORK/log.db" "SELECT max(seq) FROM record WHERE type = 5 AND seq < $N - 1")

mutate "a changed byte count" "UPDATE record SET bytes = bytes + 1 WHERE seq = $READ"
mutate "a changed time" "UPDATE record SET t_real_ns = t_real_ns - 1 WHERE seq = $READ"
mutate "a changed session id" "UPDATE record SET session = session + 1 WHERE seq = $READ"
mutate "a target given to a read" \
	"UPDATE record SET target = CAST('/tmp/elsewhere' AS BLOB) WHERE seq = $READ"
mutate "a renamed file in the dictionary" \
	"UPDATE file SET path = CAST('/srv/data/other' AS BLOB) WHERE id = 3"
mutate "a changed uid in the dictionary" "UPDATE cred SET uid = 0"
mutate "a heartbeat body replaced" \
	"UPDATE record SET body = (SELECT body FROM record WHERE type = 2 AND seq > $HB LIMIT 1)
	 WHERE seq = $HB"
mutate "a broken chain link" "UPDATE record SET prev_leaf = zeroblob(32) WHERE seq = 10"
mutate "a deleted record" "DELETE FROM record WHERE seq = $READ"
mutate "two records swapped" "UPDATE record SET seq = -1 WHERE seq = $READ;
	UPDATE record SET seq = $READ WHERE seq = $READ + 1;
	UPDATE record SET seq = $READ + 1 WHERE seq = -1"
mutate "a record inserted" "UPDATE record SET seq = seq + 1000000 WHERE seq >= $READ;
	UPDATE record SET seq = seq - 999999 WHERE seq >= 1000000;
	INSERT INTO record SELECT $READ, type, epoch, boot, t_real_ns, t_boot_ns, prev_leaf, op,
	open_flags, result, proc, cred, file, who, mode, path_flags, bpf_cpu, bpf_seq, bytes, reads,
	event_d, first_d, last_d, read_paths, partial, min_offset, max_offset, abi, access_flags,
	session, target, target_flags, body FROM record WHERE seq = $READ - 2"
mutate "the tail truncated" "DELETE FROM record WHERE seq > $N - 15"
mutate "an epoch's sealing checkpoint removed" "DELETE FROM checkpoint WHERE size = $CLOSE + 1"
mutate "a checkpoint's root changed" "UPDATE checkpoint SET note =
	replace(note, substr(note, instr(note, char(10)) + 1, 8), 'AAAAAAAA')
	WHERE size = $CLOSE + 1"
mutate "the first record replaced" "UPDATE record SET t_real_ns = t_real_ns + 1 WHERE seq = 0"

# The same evidence through a bundle: a tampered log exported still fails.
cp "$WORK/log.db" "$WORK/m.db"
sqlite3 "$WORK/m.db" "UPDATE record SET bytes = bytes + 1 WHERE seq = $READ"
"$CUSTOS" export --db "$WORK/m.db" --bundle "$WORK/m.bundle" >/dev/null 2>&1
"$CUSTOS" verify --bundle "$WORK/m.bundle" --trust "$TRUST" >"$WORK/report" 2>&1
check "tamper: a changed byte count, seen through an exported bundle" 1 $?

# Forgeries by a root that holds the keys of today.
forge() { # forge NAME CMD...: run the forging tool on a copy; verify must exit 1
	name=$1
	shift
	cp "$WORK/log.db" "$WORK/m.db"
	"$@" || { fail "$name (the forgery failed)"; return; }
	verify "$WORK/m.db"
	rc=$?
	if [ $rc = 1 ]; then pass "tamper: $name"; else
		fail "tamper: $name (exit $rc)"
		cat "$WORK/report"
	fi
}
forge "an old checkpoint re-signed with the current epoch key" \
	"$TOOL" resign "$WORK/m.db" "$WORK/keys" $((CLOSE + 1))
forge "a back-dated access appended to the open epoch" "$TOOL" backdate "$WORK/m.db" 3600
forge "a fake GAP reaching back over sealed epochs" "$TOOL" fakegap "$WORK/m.db" 3600

# Witnesses: a checkpoint kept outside the host defeats a truncation that
# also removes the local checkpoints.
# The witness directory got every checkpoint; the newest is the witness's view.
check "every checkpoint reached the witness directory" \
	"$(sqlite3 "$WORK/log.db" 'SELECT count(*) FROM checkpoint')" \
	"$(ls "$WORK/witness-dir" | grep -c '^checkpoint\.[0-9]*$')"
cp "$(ls -d "$WORK"/witness-dir/checkpoint.* | sort | tail -1)" "$WORK/witness"
verify "$WORK/log.db" --witness "$WORK/witness"
check "the log verifies against its witness" 0 $?
grep -q '^WITNESSED' "$WORK/report" && pass "the witnessed range is reported" ||
	fail "the witnessed range is reported"
cp "$WORK/log.db" "$WORK/m.db"
sqlite3 "$WORK/m.db" "DELETE FROM record WHERE seq > $LAST_CLOSE;
	DELETE FROM checkpoint WHERE size > $LAST_CLOSE + 1"
verify "$WORK/m.db"
check "truncated to an epoch boundary, local view alone: no evidence (exit 0)" 0 $?
verify "$WORK/m.db" --witness "$WORK/witness"
check "truncated below a witnessed size: tamper (exit 1)" 1 $?

# Keys: another log's trust file, and a GENESIS key swapped.
"$TOOL" gen "$WORK/other.db" "$WORK/other-keys" 100 2>/dev/null || exit 1
"$CUSTOS" verify --db "$WORK/log.db" --trust "$WORK/other-keys/trust.vkeys" >"$WORK/report" 2>&1
check "a log checked against another log's trust file: tamper" 1 $?
"$CUSTOS" verify --db "$WORK/other.db" --trust "$TRUST" >"$WORK/report" 2>&1
check "a fresh log with new keys passed off as the pinned one: tamper" 1 $?

# Usage and I/O errors conclude nothing.
"$CUSTOS" verify --db "$WORK/none.db" --trust "$TRUST" >/dev/null 2>&1
check "a missing database: exit 3" 3 $?
"$CUSTOS" verify --db "$WORK/log.db" --trust "$WORK/none" >/dev/null 2>&1
check "a missing trust file: exit 3" 3 $?
"$CUSTOS" verify --db "$WORK/log.db" >/dev/null 2>&1
check "no --trust: exit 3" 3 $?
finish
