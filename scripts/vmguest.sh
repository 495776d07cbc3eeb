#!/bin/sh
# Runs inside scripts/vmtest.sh's guest as its command: the guest's root is
# the initramfs (rootfs), where pivot_root(2) is refused, and the
# namespaces suite makes containers with it.  So a tmpfs copy of the root is
# moved over / (as switch_root does) and the suites run there, with the
# host's tools first in PATH and its users and groups.
set -e
mkdir /newroot
mount -t tmpfs -o size=75% tmpfs /newroot
for d in bin sbin usr lib lib64 etc guest root boot; do
	if [ -e "/$d" ]; then cp -a "/$d" /newroot/; fi
done
cp /guest/etc/* /newroot/etc/
mkdir -p /newroot/proc /newroot/sys /newroot/dev /newroot/tmp /newroot/run
mount --rbind /sys /newroot/sys
mount --rbind /dev /newroot/dev
mount -t proc proc /newroot/proc
mount -t tmpfs tmpfs /newroot/tmp
mount -t tmpfs tmpfs /newroot/run
cd /newroot
mount --move . /
exec chroot . /bin/sh -c 'cd /guest && export PATH=/guest/hostbin:$PATH && exec "$@"' sh "$@"
