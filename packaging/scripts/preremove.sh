#!/bin/sh
# t1610d: before the files are removed (deb prerm: remove|upgrade|deconfigure|
# failed-upgrade; rpm %preun: 0 erase, 1 upgrade). On removal: stop and
# disable the service. On upgrade nothing: it is restarted afterwards.
set -e

case "$1" in
  remove | deconfigure | 0) ;;
  *) exit 0 ;;
esac
command -v systemctl >/dev/null 2>&1 || exit 0
if [ -d /run/systemd/system ]; then
  systemctl stop t1610d.service >/dev/null 2>&1 || true
else
  echo "t1610d: systemd is not running: nothing to stop" >&2
fi
systemctl disable t1610d.service >/dev/null 2>&1 || true
exit 0
