#!/bin/sh
# t1610d: before the files are unpacked (deb preinst: install|upgrade;
# rpm %pre: 1 install, 2 upgrade). Creates the system user and group first,
# so that the packaged files get their owners (root:t1610d for the configs,
# t1610d:t1610d for /var/lib/t1610d and /var/log/t1610d).
set -e

case "$1" in
  install | upgrade | [0-9]*) ;;
  *) exit 0 ;;
esac

nologin=/usr/sbin/nologin
[ -x "$nologin" ] || nologin=/sbin/nologin
[ -x "$nologin" ] || nologin=/bin/false
if ! getent group t1610d >/dev/null; then
  groupadd --system t1610d
fi
if ! getent passwd t1610d >/dev/null; then
  useradd --system --gid t1610d --home-dir /var/lib/t1610d --no-create-home \
    --shell "$nologin" --comment "t1610d audit monitor" t1610d
fi
exit 0
