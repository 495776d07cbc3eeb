# custosd hands each signed checkpoint to a witness command; the witness's
# copy then verifies the log from outside, and an evidence bundle verifies
# offline like the database it came from.
. "$(dirname "$0")/../lib.sh"

mkdir -p "$WORK/tree" "$WORK/out" "$WORK/witness"
"$WORKLOAD" setup "$WORK/tree" "$WORK/out" || exit 1
# A fresh log: its key files, and the first epoch key as it is on disk now.
start_custosd --db "$WORK/db" --watch "$WORK/tree" --heartbeat 1 \
	--witness-cmd "cat > $WORK/witness/\$(date +%s%N)" || exit 1
check "the key directory is 0700" 700 "$(stat -c %a "$WORK/keys")"
check "key files are 0600" "600 600" "$(stat -c %a "$WORK/keys/log.key" "$WORK/keys/current.key" | tr '\n' ' ' | sed 's/ $//')"
first_key=$(tail -1 "$WORK/keys/current.key")
check "custosd cannot dump core (core size limit 0)" "0 0" \
	"$(awk '/^Max core file size/ {print $5, $6}' /proc/"$DAEMON_PID"/limits)"
"$WORKLOAD" access "$WORK/tree" "$WORK/out" >/dev/null || exit 1
sleep 2.5
stop_custosd || fail "custosd exits 0"
# The stop sealed epoch 0: its key must be gone from the key directory.
if grep -rqF "$first_key" "$WORK/keys"; then fail "the closed epoch's key is erased"; else
	pass "the closed epoch's key is erased"; fi
sleep 0.2 # the last witness command runs on its own

n=$(ls "$WORK/witness" | wc -l)
if [ "$n" -ge 3 ]; then pass "the witness command got every checkpoint ($n)"; else
	fail "the witness command got every checkpoint (got $n)"; fi
newest=$(ls -d "$WORK"/witness/* | sort | tail -1)
"$CUSTOS" verify --db "$WORK/db" --trust "$WORK/keys/trust.vkeys" --witness "$newest" \
	>"$WORK/report" 2>&1
check "the log verifies against the witness's checkpoint (exit 0)" 0 $?
grep -q '^WITNESSED' "$WORK/report" && pass "the report names the witnessed range" ||
	fail "the report names the witnessed range"

"$CUSTOS" export --db "$WORK/db" --bundle "$WORK/evidence.bundle" >/dev/null 2>&1
check "custos export writes a bundle" 0 $?
"$CUSTOS" verify --bundle "$WORK/evidence.bundle" --trust "$WORK/keys/trust.vkeys" \
	>"$WORK/report" 2>&1
check "the bundle verifies offline (exit 0)" 0 $?
records=$(sqlite3 "$WORK/db" 'SELECT count(*) FROM record')
[ "${records:-0}" -gt 0 ] || fail "the log has records"
check "the bundle holds every record" "$records" \
	"$(sed -n 's/^verified: \([0-9]*\) records.*/\1/p' "$WORK/report")"
# A damaged bundle: one byte of the compressed stream changed.
cp "$WORK/evidence.bundle" "$WORK/bad.bundle"
size=$(stat -c %s "$WORK/bad.bundle")
# Complement the byte, so that it surely changes.
byte=$(od -An -tu1 -j $((size / 2)) -N1 "$WORK/bad.bundle" | tr -d ' ')
printf "\\$(printf %o $((255 - byte)))" |
	dd of="$WORK/bad.bundle" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
cmp -s "$WORK/evidence.bundle" "$WORK/bad.bundle" && fail "the bundle was not damaged"
"$CUSTOS" verify --bundle "$WORK/bad.bundle" --trust "$WORK/keys/trust.vkeys" >/dev/null 2>&1
rc=$?
if [ $rc = 1 ] || [ $rc = 3 ]; then pass "a damaged bundle does not verify (exit $rc)"; else
	fail "a damaged bundle does not verify (exit $rc)"; fi
"$CUSTOS" export --db "$WORK/db" --bundle "$WORK/evidence.bundle" >/dev/null 2>&1
check "custos export refuses to overwrite a bundle (exit 3)" 3 $?
# A restart with another watch list: the change itself is a CONFIG record.
mkdir -p "$WORK/more"
start_custosd --db "$WORK/db" --watch "$WORK/tree" --watch "$WORK/more=more" || exit 1
stop_custosd || fail "custosd exits 0 after the restart"
check "a changed watch list is recorded (one config record)" 1 \
	"$("$CUSTOS" query --db "$WORK/db" --action config --format json | wc -l)"
"$CUSTOS" query --db "$WORK/db" --action config --format json | grep -q 'more=more' &&
	pass "the config record names the new tree" || fail "the config record names the new tree"
finish
