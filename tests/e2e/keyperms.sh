# The keys and the ledger's directory (README, "Security"): custosd refuses,
# with one line and exit 1, a key directory or key file that anyone but its
# own user could read or replace, and a ledger directory that anyone else
# may write.  Nothing is written by a refused start, and once mended the
# same log goes on.  (--synthetic: the ledger's checks without a program
# to load.)
. "$(dirname "$0")/../lib.sh"

D=$WORK/ledger
K=$D/keys
mkdir -p "$D" "$WORK/tree"
run() {
	"$CUSTOSD" --db "$D/l.db" --watch "$WORK/tree" --synthetic 5 >"$WORK/out" 2>"$WORK/err"
}
state() { # the ledger and the key directory, byte for byte
	cat "$D"/l.db* "$K"/* 2>/dev/null | sha256sum
	ls -l --time-style=+ "$D" "$K" 2>/dev/null | sha256sum
}
# refused NAME PATTERN: exit 1, one line matching PATTERN, nothing changed.
refused() {
	before=$(state)
	run
	rc=$?
	check "$1: exit 1 with one line" "1 1" "$rc $(wc -l <"$WORK/err")"
	check "$1: the line says which and why" 1 "$(grep -c -- "$2" "$WORK/err")"
	check "$1: nothing written" "$before" "$(state)"
}

# A new log: its directory open to others, or a key directory made too
# open beforehand; neither a database nor keys are made.
chmod 777 "$D"
refused "a new ledger in a directory anyone may write" "its directory $D must be"
chmod 755 "$D"
mkdir -m 755 "$K"
refused "a new ledger with a key directory others may read" "key directory $K must be"
check "no database was made" no "$([ -e "$D/l.db" ] && echo yes || echo no)"
chmod 700 "$K"

run
check "a ledger whose directory is root's 0755 and keys 0700/0600 starts (exit 0)" 0 $?
n=$(sqlite3 -readonly "$D/l.db" "SELECT count(*) FROM record")

# Each key file, and the key directory, made readable or replaceable.
chmod 640 "$K/current.key"
refused "the epoch key readable by its group" "key $K/current.key must be"
chmod 600 "$K/current.key"
chmod 604 "$K/log.key"
refused "the log key readable by others" "key $K/log.key must be"
chmod 600 "$K/log.key"
chown 65534 "$K/log.key"
refused "the log key owned by another user" "key $K/log.key must be.*of uid 65534"
chown 0 "$K/log.key"
mv "$K/log.key" "$WORK/log.key"
ln -s "$WORK/log.key" "$K/log.key"
refused "the log key a symbolic link" "key $K/log.key must be.*no plain file"
rm "$K/log.key"
mv "$WORK/log.key" "$K/log.key"
chmod 750 "$K"
refused "the key directory open to its group" "key directory $K must be.*mode 0750"
chmod 700 "$K"
chown 65534 "$K"
refused "the key directory owned by another user" "key directory $K must be.*uid 65534"
chown 0 "$K"

# The ledger's directory: writable by others (even sticky, as /tmp), or
# another user's.
chmod 1777 "$D"
refused "the ledger's directory sticky and world-writable" "mode 1777"
chmod 775 "$D"
refused "the ledger's directory writable by its group" "mode 0775"
chmod 755 "$D"
chown 65534 "$D"
refused "the ledger's directory another user's" "it is uid 65534's"
chown 0 "$D"

# The public trust file may be anyone's to read; mended, the log goes on.
chmod 644 "$K/trust.vkeys"
run
check "mended: the same log goes on (exit 0)" 0 $?
check "the log grew" 1 "$([ "$(sqlite3 -readonly "$D/l.db" "SELECT count(*) FROM record")" -gt "$n" ] &&
	echo 1)"
"$CUSTOS" verify --db "$D/l.db" --trust "$K/trust.vkeys" >"$WORK/verify.out" 2>&1
rc=$?
check "and verifies (exit 0 or 2)" 1 "$([ $rc = 0 ] || [ $rc = 2 ] && echo 1)"
finish
