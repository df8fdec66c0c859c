#!/bin/sh
# t1610d: after the files are removed (deb postrm: remove|purge|upgrade|
# failed-upgrade|abort-install|abort-upgrade|disappear; rpm %postun: 0 erase,
# 1 upgrade). On removal: reload systemd and the audit rules (ours are gone).
# On purge (deb): also remove the configs, state and logs. The t1610d user
# stays (files it owned may remain elsewhere; userdel t1610d to remove it).
set -e

case "$1" in
  remove | purge | 0) ;;
  *) exit 0 ;;
esac

if [ "$1" != purge ]; then
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    systemctl daemon-reload || true
  fi
  if command -v augenrules >/dev/null 2>&1 && [ ! -e /etc/audit/rules.d/60-t1610d.rules ]; then
    if [ "$(auditctl -s 2>/dev/null | awk '$1 == "enabled" {print $2}')" = 2 ]; then
      echo "t1610d: the audit configuration is locked (enabled 2): t1610d's exec rules" \
        "stay loaded until the next reboot." >&2
    else
      augenrules --load >/dev/null 2>&1 ||
        echo "t1610d: augenrules --load failed: the exec rules keyed t1610d may still be loaded (auditctl -l)." >&2
    fi
  fi
fi
if [ "$1" = purge ]; then
  rm -rf /etc/t1610d /var/lib/t1610d /var/log/t1610d
fi
exit 0
