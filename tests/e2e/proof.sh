# Offline proofs (docs/ledger.md): custos prove writes inclusion and
# consistency proofs from a real log, and custos verify-proof checks them with
# the trust file alone.  A proof must hold untouched (exit 0) and fail when any
# part is altered: exit 1 while the file still parses, exit 3 once it does not.
NO_KERNEL=1 # ledgertool writes the log: any user can run this suite
. "$(dirname "$0")/../lib.sh"

TOOL=$BUILD/tests/ledgertool
"$TOOL" gen "$WORK/log.db" "$WORK/keys" 800 2>/dev/null || exit 1
"$TOOL" gen "$WORK/other.db" "$WORK/other-keys" 100 2>/dev/null || exit 1
TRUST=$WORK/keys/trust.vkeys
ORIGIN=$(sed -n 's/^origin //p' "$TRUST")
DASH=$(printf '\342\200\224')
NEWEST=$(sqlite3 "$WORK/log.db" 'SELECT max(size) FROM checkpoint')
OLD=$(sqlite3 "$WORK/log.db" 'SELECT size FROM checkpoint ORDER BY size LIMIT 1 OFFSET 2')
MIDCP=$(sqlite3 "$WORK/log.db" "SELECT min(size) FROM checkpoint WHERE size >= $NEWEST / 2")
MID=$(sqlite3 "$WORK/log.db" "SELECT min(seq) FROM record WHERE type = 1 AND seq >= $NEWEST / 2")

# prove NAME OUT ARGS...: custos prove must exit 0 and write a proof.
prove() {
	name=$1
	out=$2
	shift 2
	"$CUSTOS" prove "$@" >"$out" 2>"$WORK/err"
	rc=$?
	if [ $rc = 0 ] && [ -s "$out" ]; then pass "prove $name"; else
		fail "prove $name (exit $rc)"
		cat "$WORK/err"
	fi
}

# verify_proof PROOF [TRUST]: custos verify-proof's exit status, output in $WORK/report.
verify_proof() {
	"$CUSTOS" verify-proof --trust "${2:-$TRUST}" "$1" >"$WORK/report" 2>&1
}

# holds NAME PROOF LINE_RE: the proof verifies and the report has a line matching LINE_RE.
holds() {
	verify_proof "$2"
	rc=$?
	if [ $rc = 0 ] && grep -Eq "$3" "$WORK/report" && grep -q '^proof verified' "$WORK/report"
	then
		pass "$1"
	else
		fail "$1 (exit $rc)"
		cat "$WORK/report"
	fi
}

# Inclusion: the first record, an access in the middle, the last one the newest
# checkpoint covers, and one against an older checkpoint.
prove "inclusion of seq 0" "$WORK/p0" inclusion --db "$WORK/log.db" --seq 0
holds "seq 0 is in the log (GENESIS)" "$WORK/p0" '^seq 0: genesis at 2[0-9-]+T'
check "the proof is against the newest checkpoint by default" "size $NEWEST" \
	"$(sed -n 4p "$WORK/p0")"
prove "inclusion of seq $MID" "$WORK/pmid" inclusion --db "$WORK/log.db" --seq "$MID"
holds "seq $MID is in the log, with its access" "$WORK/pmid" \
	"^seq $MID: (open|read) /srv/data/file-[0-9]{3} by pid 10[0-6] uid 1000 at 2[0-9-]+T[0-9:.]+Z\$"
LAST=$((NEWEST - 1))
prove "inclusion of seq $LAST" "$WORK/plast" inclusion --db "$WORK/log.db" --seq $LAST
holds "seq $LAST, the last of the newest checkpoint, is in the log" "$WORK/plast" \
	"^seq $LAST: epoch_close at "
prove "inclusion of seq 5 in checkpoint $OLD" "$WORK/pold" inclusion --db "$WORK/log.db" \
	--seq 5 --size "$OLD"
holds "seq 5 is in the older checkpoint $OLD" "$WORK/pold" '^seq 5: '

# Consistency between stored checkpoints.
prove "consistency $OLD -> $MIDCP" "$WORK/pc" consistency --db "$WORK/log.db" --old "$OLD" \
	--new "$MIDCP"
holds "checkpoint $MIDCP extends checkpoint $OLD" "$WORK/pc" "extends its first $OLD records"
prove "consistency $OLD -> newest" "$WORK/pcn" consistency --db "$WORK/log.db" --old "$OLD"
holds "the newest checkpoint extends checkpoint $OLD" "$WORK/pcn" \
	"of $NEWEST records extends its first $OLD"
prove "consistency of a checkpoint with itself" "$WORK/pcs" consistency --db "$WORK/log.db" \
	--old "$NEWEST" --new "$NEWEST"
holds "a checkpoint extends itself (no hashes)" "$WORK/pcs" "extends its first $NEWEST records"

# flip IN OUT LINE N: copy IN with the character N places from the end of line
# LINE replaced by the next one in the base64 alphabet.
flip() {
	awk -v l="$3" -v n="$4" 'BEGIN {
		a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/A"
	}
	NR == l {
		c = length($0) - n + 1
		$0 = substr($0, 1, c - 1) substr(a, index(a, substr($0, c, 1)) + 1, 1) substr($0, c + 1)
	}
	{ print }' "$1" >"$2"
}
line_of() { # line_of FILE REGEX: number of the first line matching
	grep -n "$2" "$1" | head -1 | cut -d: -f1
}

# expect STATUS NAME PROOF [TRUST]: verify-proof must exit STATUS.
expect() {
	verify_proof "$3" "${4:-}"
	rc=$?
	if [ $rc = "$1" ]; then pass "$2 (exit $1)"; else
		fail "$2 (exit $rc, want $1)"
		cat "$WORK/report"
	fi
}

# Altered, still well-formed: the proof does not hold.
flip "$WORK/pmid" "$WORK/bad" "$(line_of "$WORK/pmid" '^hash ')" 10
expect 1 "one character of an audit-path hash changed" "$WORK/bad"
flip "$WORK/pmid" "$WORK/bad" "$(line_of "$WORK/pmid" '^record ')" 10
expect 1 "one character of the record changed" "$WORK/bad"
flip "$WORK/pmid" "$WORK/bad" "$(line_of "$WORK/pmid" "^$DASH $ORIGIN ")" 10
expect 1 "one character of the log key's signature changed" "$WORK/bad"
flip "$WORK/pmid" "$WORK/bad" "$(line_of "$WORK/pmid" "^$ORIGIN\$")" 1
expect 1 "the signed origin changed" "$WORK/bad"
sed "s/^index $MID\$/index $((MID + 1))/" "$WORK/pmid" >"$WORK/bad"
expect 1 "the record's proof relabelled as seq $((MID + 1))" "$WORK/bad"
flip "$WORK/pc" "$WORK/bad" "$(line_of "$WORK/pc" '^hash ')" 10
expect 1 "one character of a consistency hash changed" "$WORK/bad"
flip "$WORK/pc" "$WORK/bad" "$(grep -n "^$DASH $ORIGIN " "$WORK/pc" | tail -1 | cut -d: -f1)" 10
expect 1 "the new checkpoint's signature changed" "$WORK/bad"
# Only the log key is checked here (custos verify checks the epoch keys), so
# the epoch key's line may go: a witness keeps checkpoints the same way.
sed '$d' "$WORK/pc" >"$WORK/bad"
expect 0 "the epoch key's signature line removed: the log key's still holds" "$WORK/bad"
expect 1 "an inclusion proof checked with another log's trust file" "$WORK/pmid" \
	"$WORK/other-keys/trust.vkeys"
expect 1 "a consistency proof checked with another log's trust file" "$WORK/pc" \
	"$WORK/other-keys/trust.vkeys"
"$CUSTOS" prove inclusion --db "$WORK/other.db" --seq 1 >"$WORK/pother" 2>/dev/null
expect 1 "another log's proof checked with this log's trust file" "$WORK/pother"

# Not a proof any more: nothing is concluded.
flip "$WORK/pmid" "$WORK/bad" "$(line_of "$WORK/pmid" '^hash ')" 2
expect 3 "a hash in non-canonical base64 (bits under the padding)" "$WORK/bad"
sed "$(line_of "$WORK/pmid" '^hash ')d" "$WORK/pmid" >"$WORK/bad"
expect 3 "a hash line removed" "$WORK/bad"
sed "$(line_of "$WORK/pmid" '^hash ')p" "$WORK/pmid" >"$WORK/bad"
expect 3 "a hash line repeated" "$WORK/bad"
sed '3p' "$WORK/pmid" >"$WORK/bad"
expect 3 "the index line repeated" "$WORK/bad"
sed '2a\
note hello' "$WORK/pmid" >"$WORK/bad"
expect 3 "an unknown line" "$WORK/bad"
sed '/^record /d' "$WORK/pmid" >"$WORK/bad"
expect 3 "the record line missing" "$WORK/bad"
printf 'x\n' | cat "$WORK/pmid" - >"$WORK/bad"
expect 3 "text after the checkpoint" "$WORK/bad"
dd if="$WORK/pc" of="$WORK/bad" bs=1 count=$(($(wc -c <"$WORK/pc") - 10)) 2>/dev/null
expect 3 "a proof cut short inside its last signature line" "$WORK/bad"
expect 3 "a missing proof file" "$WORK/none"
"$CUSTOS" verify-proof "$WORK/p0" >/dev/null 2>&1
check "verify-proof without --trust (exit 3)" 3 $?

# prove refuses bad arguments (exit 2) and I/O errors (exit 3), writing nothing.
# prove_fails STATUS NAME ARGS...
prove_fails() {
	want=$1
	name=$2
	shift 2
	"$CUSTOS" prove "$@" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	lines=$(wc -l <"$WORK/err")
	if [ $rc = "$want" ] && [ ! -s "$WORK/out" ] && [ "$lines" = 1 ]; then
		pass "$name (exit $want)"
	else
		fail "$name (exit $rc, want $want; $lines stderr lines)"
		cat "$WORK/err"
	fi
}
prove_fails 2 "a seq beyond the checkpoint" inclusion --db "$WORK/log.db" --seq "$NEWEST"
prove_fails 2 "a seq beyond an older checkpoint" inclusion --db "$WORK/log.db" --seq "$OLD" \
	--size "$OLD"
prove_fails 2 "a size that is no checkpoint" inclusion --db "$WORK/log.db" --seq 0 \
	--size $((OLD + 1))
prove_fails 2 "no --db" inclusion --seq 0
prove_fails 2 "no --seq" inclusion --db "$WORK/log.db"
prove_fails 2 "--old larger than --new" consistency --db "$WORK/log.db" --old "$MIDCP" \
	--new "$OLD"
prove_fails 2 "--old 0" consistency --db "$WORK/log.db" --old 0
prove_fails 2 "an old size that is no checkpoint" consistency --db "$WORK/log.db" \
	--old $((OLD + 1))
prove_fails 2 "neither inclusion nor consistency" membership --db "$WORK/log.db"
prove_fails 3 "a missing database" inclusion --db "$WORK/none.db" --seq 0

# A database that contradicts its own checkpoint yields no proof (exit 1).
cp "$WORK/log.db" "$WORK/m.db"
sqlite3 "$WORK/m.db" "UPDATE record SET t_real_ns = t_real_ns - 1 WHERE seq = $MID"
prove_fails 1 "a record altered below the checkpoint" inclusion --db "$WORK/m.db" --seq 0
finish
