#!/bin/sh
# t1610d: after the files are in place (deb postinst: configure [OLD-VERSION];
# rpm %post: 1 install, 2 or more upgrade).
#   fresh install: owners of the configs and folders, load the audit rules,
#                  enable and start the service;
#   upgrade:       load the audit rules, restart the service if it runs.
# Where systemd is not running (a container, a chroot, an image build) the
# service is enabled for the next boot but not started.
set -e

case "$1" in
  configure) if [ -z "$2" ]; then action=install; else action=upgrade; fi ;;
  1) action=install ;;
  [0-9]*) action=upgrade ;;
  *) exit 0 ;; # abort-upgrade, abort-remove, abort-deconfigure
esac

# The user normally exists already (preinstall); not when the files were
# unpacked some other way.
if ! getent passwd t1610d >/dev/null; then
  nologin=/usr/sbin/nologin
  [ -x "$nologin" ] || nologin=/sbin/nologin
  getent group t1610d >/dev/null || groupadd --system t1610d
  useradd --system --gid t1610d --home-dir /var/lib/t1610d --no-create-home \
    --shell "$nologin" --comment "t1610d audit monitor" t1610d
fi
if [ "$action" = install ]; then
  for f in /etc/t1610d/t1610d.toml /etc/t1610d/plugin.toml; do
    [ -e "$f" ] && chown root:t1610d "$f" && chmod 0640 "$f"
  done
  chown root:t1610d /etc/t1610d && chmod 0750 /etc/t1610d
  for d in /var/lib/t1610d /var/log/t1610d; do
    mkdir -p "$d" && chown t1610d:t1610d "$d" && chmod 0750 "$d"
  done
fi

# The audit rules: /etc/audit/rules.d/60-t1610d.rules.
if command -v augenrules >/dev/null 2>&1; then
  if [ "$(auditctl -s 2>/dev/null | awk '$1 == "enabled" {print $2}')" = 2 ]; then
    echo "t1610d: the audit configuration is locked (enabled 2, auditctl -e 2):" \
      "the rules in /etc/audit/rules.d/60-t1610d.rules take effect at the next reboot." >&2
  elif ! augenrules --load >/dev/null 2>&1; then
    echo "t1610d: augenrules --load failed: load /etc/audit/rules.d/60-t1610d.rules" \
      "yourself (augenrules --load, or auditctl -R FILE)." >&2
  fi
else
  echo "t1610d: augenrules not found (is auditd installed?): load" \
    "/etc/audit/rules.d/60-t1610d.rules yourself (auditctl -R FILE)." >&2
fi

command -v systemctl >/dev/null 2>&1 || exit 0
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
  if [ "$action" = install ]; then
    systemctl enable --now t1610d.service ||
      echo "t1610d: the service did not start: systemctl status t1610d; journalctl -u t1610d" >&2
  elif systemctl --quiet is-enabled t1610d.service 2>/dev/null; then
    systemctl try-restart t1610d.service ||
      echo "t1610d: the service did not restart: systemctl status t1610d; journalctl -u t1610d" >&2
  else
    echo "t1610d: t1610d.service is disabled: enable it with systemctl enable --now t1610d" >&2
  fi
else
  if [ "$action" = install ]; then
    systemctl enable t1610d.service >/dev/null 2>&1 || true
  fi
  echo "t1610d: systemd is not running: t1610d.service not started (it starts at the next boot" \
    "if enabled); run it by hand with t1610d run --config /etc/t1610d/t1610d.toml." >&2
fi
exit 0
