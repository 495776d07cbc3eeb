#!/bin/sh
# Install the Debian packages custos needs to build and test, if missing.
# Idempotent: does nothing when all are present; runs `apt-get update` only
# when a missing package has no install candidate in the current lists.
set -eu

PKGS="make gcc clang bpftool pkg-config libbpf-dev libelf-dev zlib1g-dev
      libsqlite3-dev libssl-dev libjansson-dev libyaml-dev sqlite3 jq clang-format liburing-dev
      libpq-dev"
# The tests also run a real rsyslog and PostgreSQL (with TLS certificates from openssl,
# hosts in network namespaces: iproute2), render the HTML report in chromium,
# build 32-bit test programs (gcc-multilib) and boot a second kernel in qemu
# (scripts/vmtest.sh); make bench compares with auditd and ships into PostgreSQL.
VM="qemu-system-x86 busybox-static cpio kmod xz-utils util-linux"
case "${1:-}" in
test) PKGS="$PKGS rsyslog chromium gcc-multilib postgresql-15 openssl iproute2 $VM" ;;
vm) PKGS="$PKGS gcc-multilib $VM" ;;
bench) PKGS="$PKGS auditd postgresql-15 openssl time" ;;
esac

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing (run as root to install them)" >&2
	exit 1
fi

need_update=0
for p in $missing; do
	cand=$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ {print $2}')
	if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then
		need_update=1
	fi
done
if [ "$need_update" = 1 ]; then
	echo "deps: apt-get update"
	apt-get update -qq
fi
echo "deps: installing$missing"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
