# End to end: custosd watching a fresh tree, a real workload, then what
# `custos query --format json` returns, compared with what the workload did.
. "$(dirname "$0")/../lib.sh"

TREE=$WORK/tree
OUT=$WORK/outside
mkdir -p "$TREE" "$OUT"
"$WORKLOAD" setup "$TREE" "$OUT" || exit 1

# The database lives inside the protected tree: custosd's own I/O must not
# be recorded.
DB=$TREE/ledger.db
start_custosd --db "$DB" --watch "$TREE=customers" || exit 1
"$WORKLOAD" access "$TREE" "$OUT" >"$WORK/workload.out" || exit 1
if stop_custosd; then pass "custosd exits 0 on SIGTERM"; else fail "custosd exits 0 on SIGTERM"; fi
pid_of PID "$WORK/workload.out"
CHILD=$(sed -n 's/.* child=\([0-9]*\)$/\1/p' "$WORK/workload.out")

"$CUSTOS" query --db "$DB" --format json >"$WORK/all.json" || fail "custos query runs"
q() { jq -r "$@" "$WORK/all.json"; }

# Every access key of the contract is present on every row, null or not.
missing=$(q 'select((has("seq") and has("time") and has("host") and has("action") and
	has("result") and has("path") and has("dev") and has("ino") and has("dataset") and
	has("bytes") and has("reads") and has("pid") and has("tid") and has("ppid") and
	has("comm") and has("exe") and has("uid") and has("euid") and has("gid") and
	has("loginuid") and has("sessionid") and has("person") and has("attribution")) | not)
	| .seq' | wc -l)
check "every row has every contract key" 0 "$missing"

check "one start and one stop, stop last" "start stop" \
	"$(q 'select(.action=="start" or .action=="stop") | .action' | tr '\n' ' ' | sed 's/ $//')"
check "the stop seals the log: stop, then the epoch close" "stop epoch_close" \
	"$(q -s 'sort_by(.seq) | .[-2:] | map(.action) | join(" ")')"

# The exact set of opens, by path relative to the tree.
opens=$(q --arg t "$TREE/" 'select(.action=="open") | (.path | ltrimstr($t))' | sort | tr '\n' ' ')
# sub is the directory opened as the dirfd: a directory is data too.
check "opens: a (direct, symlink, openat2), sub/b (absolute, relative), d (plain, ../), e, sub" \
	"a a a d d e sub sub/b sub/b " "$opens"

# One read session per open, with the bytes the kernel returned.
reads=$(q --arg t "$TREE/" 'select(.action=="read") |
	"\(.path | ltrimstr($t)):\(.bytes):\(.reads)"' | sort | tr '\n' ' ')
check "read sessions: path:bytes:reads" \
	"a:1000:1 a:1000:1 a:10:1 d:5000:2 d:50:1 e:3000:1 sub/b:10000:3 sub/b:100:1 " "$reads"

check "the range read: pread64, readv, preadv cover sub/b from 0 to 10000" "0 10000" \
	"$(q --arg t "$TREE/sub/b" 'select(.action=="read" and .path==$t and .bytes==10000) |
		"\(.min_offset) \(.max_offset)"')"
check "the range read by 100 bytes from the start" "0 100" \
	"$(q --arg t "$TREE/sub/b" 'select(.action=="read" and .path==$t and .bytes==100) |
		"\(.min_offset) \(.max_offset)"')"
check "nothing outside the tree is recorded" 0 \
	"$(q --arg t "$TREE/" 'select(.path != null and (.path | startswith($t) | not))' | wc -l)"
check "the ledger's own writes are not recorded" 0 \
	"$(q 'select(.path != null and (.path | test("ledger\\.db")))' | wc -l)"
check "every access is the workload's (no other process)" 0 \
	"$(q --argjson p "$PID" --argjson c "$CHILD" \
		'select(.action=="open" or .action=="read") | select(.pid != $p and .pid != $c)' | wc -l)"
check "the forked child is the reader of e" "$CHILD" \
	"$(q --arg t "$TREE/e" 'select(.action=="read" and .path==$t) | .pid')"
check "the open of e is the parent's" "$PID" \
	"$(q --arg t "$TREE/e" 'select(.action=="open" and .path==$t) | .pid')"
check "dataset label on every access" 0 \
	"$(q 'select((.action=="open" or .action=="read") and .dataset != "customers")' | wc -l)"
check "opens succeeded with an fd" 0 "$(q 'select(.action=="open" and .result < 0)' | wc -l)"
check "uid and euid are root's" 0 \
	"$(q 'select(.action=="open" and (.uid != 0 or .euid != 0))' | wc -l)"
ino=$(stat -c %i "$TREE/sub/b")
dev=$(stat -c %d "$TREE/sub/b")
check "dev and ino match stat(1)" "$dev:$ino" \
	"$(q --arg t "$TREE/sub/b" 'select(.action=="open" and .path==$t) | "\(.dev):\(.ino)"' | sort -u)"
check "comm is the workload's" "workload" \
	"$(q 'select(.action=="open") | .comm' | sort -u)"
check "times are RFC 3339 UTC with ns" 0 \
	"$(q 'select(.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{9}Z$") | not)' | wc -l)"
check "no loss" 0 "$(q 'select(.action=="loss")' | wc -l)"

# Filters, through the CLI.
n=$("$CUSTOS" query --db "$DB" --path "$TREE/sub" --format json | jq -r .path | sort -u | tr '\n' ' ')
check "--path selects the directory and what is below it" "$TREE/sub $TREE/sub/b " "$n"
n=$("$CUSTOS" query --db "$DB" --action read --format json | wc -l)
check "--action read" 8 "$n"
n=$("$CUSTOS" query --db "$DB" --uid 4242 --format json | wc -l)
check "--uid of nobody in the log" 0 "$n"
n=$("$CUSTOS" query --db "$DB" --uid 0 --action open --format json | wc -l)
check "--uid 0 --action open" 9 "$n"
n=$("$CUSTOS" query --db "$DB" --since 1h --until now --action open --format json | wc -l)
check "--since 1h --until now" 9 "$n"
n=$("$CUSTOS" query --db "$DB" --until 2000-01-01 --format json | wc -l)
check "--until in the past" 0 "$n"
n=$("$CUSTOS" query --db "$DB" --action open --format csv | wc -l)
check "csv: header and 9 rows" 10 "$n"
if "$CUSTOS" query --db "$DB" >/dev/null; then pass "table output"; else fail "table output"; fi

finish
