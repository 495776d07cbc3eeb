#!/bin/sh
# `make run`: custosd on an embedded default, a demo protected tree and a
# local ledger under build/demo, in the foreground until Ctrl-C.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
demo=$top/build/demo
data=$demo/data

if [ "$(id -u)" != 0 ]; then
	echo "make run: custosd loads BPF programs and must run as root (try: sudo make run)" >&2
	exit 1
fi

mkdir -p "$data/customers" "$data/payroll"
# A demo ledger an older custos made is refused (a ledger is evidence, never
# converted): this demo's is moved aside with its keys, and a new one begins.
if [ -e "$demo/custos.db" ] && ! "$top/build/custos" query --db "$demo/custos.db" --limit 1 \
	>/dev/null 2>&1; then
	old=$demo/old-$(date -u +%Y%m%dT%H%M%SZ)
	mkdir -p "$old"
	mv "$demo"/custos.db* "$old/"
	[ -d "$demo/keys" ] && mv "$demo/keys" "$old/"
	echo "make run: the demo ledger was made by an older custos: moved to $old"
fi
[ -e "$data/customers/alice.csv" ] || printf 'id,name,iban\n1,Alice,DE00 1234\n' >"$data/customers/alice.csv"
[ -e "$data/customers/bob.csv" ] || printf 'id,name,iban\n2,Bob,FR00 5678\n' >"$data/customers/bob.csv"
[ -e "$data/payroll/2026-11.csv" ] || printf 'staff,amount\nops-1,4200\n' >"$data/payroll/2026-11.csv"

# A demo staff directory: the user who ran sudo (or uid 1000) is a person,
# root a service account.  Edit it and send custosd SIGHUP to reload.
if [ ! -e "$demo/staff.json" ]; then
	cat >"$demo/staff.json" <<JSON
{
  "version": 1,
  "staff": [
    { "id": "demo-1", "name": "Demo Operator", "uids": [${SUDO_UID:-1000}],
      "team": "demo", "role": "operator", "status": "active" }
  ],
  "services": [ { "name": "root", "logins": ["root"] } ]
}
JSON
fi

# Demo alert rules: a refused open, and any read of the payroll.
if [ ! -e "$demo/rules.yaml" ]; then
	cat >"$demo/rules.yaml" <<YAML
rules:
  - id: denied
    severity: high
    description: an open of protected data was refused
    match:
      result: denied
  - id: payroll-read
    severity: medium
    description: payroll data was read
    match:
      action: read
      dataset: payroll
YAML
fi

cat <<MSG
custos demo: protecting $data/customers (dataset "customers")
             and $data/payroll (dataset "payroll");
             ledger $demo/custos.db, staff directory $demo/staff.json,
             alert rules $demo/rules.yaml.
             Ctrl-C stops custosd cleanly; its programs stay attached
             and keep what they see for the next run (as after a crash):
             rm -r /sys/fs/bpf/custos ends capture.

From another shell, touch the data and ask the ledger who did:
  cat $data/customers/alice.csv
  $top/build/custos query --db $demo/custos.db
  $top/build/custos query --db $demo/custos.db --action read --format json
  $top/build/custos verify --db $demo/custos.db --trust $demo/keys/trust.vkeys
  cat $data/payroll/2026-11.csv; $top/build/custos query --db $demo/custos.db --action alert
  $top/build/custos report --db $demo/custos.db --html $demo/report.html

MSG
exec "$top/build/custosd" --db "$demo/custos.db" \
	--watch "$data/customers=customers" --watch "$data/payroll=payroll" \
	--staff "$demo/staff.json" --rules "$demo/rules.yaml" -v
