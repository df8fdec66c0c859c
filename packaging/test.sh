#!/usr/bin/env bash
# packaging/test.sh: build the .deb and .rpm (make package) and test them on
# this machine, as root: install the .deb with dpkg, check every file, owner
# and mode, check-config, systemd-analyze verify and security (exposure at
# most 2.5), logrotate, the installed binary run as the packaged user with
# only the unit's capability receiving exec events over multicast beside a
# private auditd (and the auditd plugin config run by that auditd), a
# reinstall and an upgrade keeping an edited config, remove, purge; then the
# .rpm: its file list, modes, config files, dependencies and scripts, and an
# install, upgrade and erase with rpm itself (--nodeps: this is Debian).
#
# It changes the system: for CI and throwaway machines. What it changes is
# put back on exit: the packages are purged, the t1610d user is deleted if it
# did not exist before, the kernel's audit state (rules, enabled, backlog
# limit, failure mode, backlog wait time) and /etc/audit/audit.rules are
# restored. It holds /tmp/t1610d-audit-tests.lock (shared with the Go tests
# that drive the audit subsystem) while it owns audit state.
#
# usage: packaging/test.sh [--no-build]     (--no-build: use dist/ as it is)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

build=yes
[[ ${1:-} == --no-build ]] && build=no
(( EUID == 0 )) || { echo "packaging/test.sh: must run as root (it installs packages)" >&2; exit 2; }
for bin in dpkg dpkg-deb rpm systemd-analyze setpriv flock; do
  command -v "$bin" >/dev/null || { echo "packaging/test.sh: needs $bin (see .ci/run)" >&2; exit 2; }
done

pass=0 fail=0 skip=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
skipped() { echo "skip $*"; skip=$((skip + 1)); }
check() { # check DESCRIPTION COMMAND...
  local d=$1; shift
  if "$@"; then ok "$d"; else bad "$d"; fi
}
# has FILE PATTERN: FILE contains the fixed string PATTERN.
has() { grep -qF -- "$2" "$1"; }
# quiet COMMAND...: COMMAND with its output in $tmp/quiet.log, shown if it fails.
quiet() { "$@" >"$tmp/quiet.log" 2>&1 || { cat "$tmp/quiet.log"; return 1; }; }
# mode PATH "TYPE MODE OWNER GROUP"
mode() {
  local got
  got=$(stat -c '%F %a %U %G' "$1" 2>/dev/null || echo missing)
  if [[ $got == "$2" ]]; then ok "$1: $2"; else bad "$1: $got, want $2"; fi
}
absent() { if [[ ! -e $1 ]]; then ok "$1 removed"; else bad "$1 still there"; fi; }

tmp=$(mktemp -d /tmp/t1610d-pkgtest.XXXXXX)
chmod 755 "$tmp"
user_existed=no
getent passwd t1610d >/dev/null && user_existed=yes
audit_ok=no
orig_enabled="" orig_backlog="" orig_failure="" orig_wait="" orig_rules=""
auditd_pid="" daemon_pid=""

kernel_audit() { auditctl -s 2>/dev/null | awk -v k="$1" '$1 == k {print $2}'; }

cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  [[ -n $daemon_pid ]] && kill -TERM "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
  [[ -n $auditd_pid ]] && kill -TERM "$auditd_pid" 2>/dev/null && wait "$auditd_pid" 2>/dev/null || true
  if dpkg-query -W -f '${Status}' t1610d 2>/dev/null | grep -qv 'not-installed'; then
    dpkg -P t1610d >/dev/null 2>&1 || true
  fi
  if rpm --dbpath "$tmp/rpmdb" -q t1610d >/dev/null 2>&1; then rpm --dbpath "$tmp/rpmdb" -e --nodeps t1610d >/dev/null 2>&1 || true; fi
  [[ -f $tmp/audit.rules.orig ]] && cp -p "$tmp/audit.rules.orig" /etc/audit/audit.rules
  if [[ $audit_ok == yes ]]; then
    auditctl -D >/dev/null 2>&1 || true
    if [[ $orig_rules != "No rules" ]]; then
      while IFS= read -r rule; do
        # shellcheck disable=SC2086  # a rule is a list of auditctl words
        [[ -n $rule ]] && auditctl $rule >/dev/null 2>&1 || true
      done <<<"$orig_rules"
    fi
    auditctl -b "$orig_backlog" >/dev/null 2>&1 || true
    auditctl -f "$orig_failure" >/dev/null 2>&1 || true
    auditctl --backlog_wait_time "$orig_wait" >/dev/null 2>&1 || true
    auditctl -e "$orig_enabled" >/dev/null 2>&1 || true
    local now
    now="$(auditctl -s | awk '$1 ~ /^(enabled|backlog_limit|failure|backlog_wait_time)$/')
$(auditctl -l)"
    if [[ $now != "$orig_state" ]]; then
      echo "FAIL audit state not restored: before:"$'\n'"$orig_state"$'\n'"after:"$'\n'"$now"
      rc=1
    fi
  fi
  if [[ $user_existed == no ]] && getent passwd t1610d >/dev/null; then
    userdel t1610d >/dev/null 2>&1 || true
    getent group t1610d >/dev/null && groupdel t1610d >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "FAIL packaging/test.sh line $LINENO: $BASH_COMMAND"' ERR
trap 'exit 130' INT TERM HUP

if dpkg-query -W -f '${Status}' t1610d 2>/dev/null | grep -q 'install ok'; then
  echo "packaging/test.sh: t1610d is installed on this machine; purge it first (dpkg -P t1610d)" >&2
  exit 2
fi

# ---- build
if [[ $build == yes ]]; then
  make package >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; bad "make package"; exit 1; }
fi
arch=$(dpkg --print-architecture)
debs=(dist/t1610d_*_amd64.deb dist/t1610d_*_arm64.deb)
rpms=(dist/t1610d-*.x86_64.rpm dist/t1610d-*.aarch64.rpm)
for f in "${debs[@]}" "${rpms[@]}"; do
  check "built $f" test -s "$f"
done
deb=$(ls dist/t1610d_*_"$arch".deb)
version=$(dpkg-deb -f "$deb" Version)
check "package version $version from git describe ($(packaging/version.sh))" test "$version" = "$(packaging/version.sh)-1"
# e_machine of each binary: 62 x86-64, 183 aarch64
elf_machine() { dpkg-deb --fsys-tarfile "$1" 2>/dev/null | tar -xO ./usr/bin/t1610d 2>/dev/null | od -An -j18 -N2 -tu2 | tr -d ' '; }
check "amd64 .deb holds an x86-64 binary" test "$(elf_machine dist/t1610d_*_amd64.deb)" = 62
check "arm64 .deb holds an aarch64 binary" test "$(elf_machine dist/t1610d_*_arm64.deb)" = 183
for a in amd64 arm64; do
  dpkg-deb --fsys-tarfile dist/t1610d_*_$a.deb | tar -xO ./usr/bin/t1610d >"$tmp/t1610d.$a"
  check "$a binary built with CGO_ENABLED=0, -trimpath, GOARCH=$a" \
    bash -c "go version -m '$tmp/t1610d.$a' | tr '\t' ' ' | grep -q 'build CGO_ENABLED=0' && go version -m '$tmp/t1610d.$a' | grep -q 'trimpath=true' && go version -m '$tmp/t1610d.$a' | tr '\t' ' ' | grep -q 'build GOARCH=$a\$'"
done
check ".deb depends on auditd" bash -c "dpkg-deb -f '$deb' Depends | grep -qw auditd"

# ---- from here on this script owns the audit state
exec 8>/tmp/t1610d-audit-tests.lock
flock 8
export T1610_AUDIT_LOCK_HELD=1
cp -p /etc/audit/audit.rules "$tmp/audit.rules.orig" 2>/dev/null || true
if auditctl -s >/dev/null 2>&1; then
  audit_ok=yes
  orig_enabled=$(kernel_audit enabled) orig_backlog=$(kernel_audit backlog_limit)
  orig_failure=$(kernel_audit failure) orig_wait=$(kernel_audit backlog_wait_time)
  orig_rules=$(auditctl -l)
  orig_state="$(auditctl -s | awk '$1 ~ /^(enabled|backlog_limit|failure|backlog_wait_time)$/')
$orig_rules"
fi

# ---- install the .deb
export DEBIAN_FRONTEND=noninteractive
if dpkg -i "$deb" >"$tmp/install.log" 2>&1; then ok "dpkg -i $deb"; else cat "$tmp/install.log"; bad "dpkg -i"; exit 1; fi
sed 's/^/     | /' "$tmp/install.log"
if [[ ! -d /run/systemd/system ]]; then
  check "postinst says systemd is not running" has "$tmp/install.log" "systemd is not running"
  check "postinst enabled the unit for the next boot" test -L /etc/systemd/system/multi-user.target.wants/t1610d.service
fi

mode /usr/bin/t1610d "regular file 755 root root"
mode /etc/t1610d "directory 750 root t1610d"
mode /etc/t1610d/t1610d.toml "regular file 640 root t1610d"
mode /etc/t1610d/plugin.toml "regular file 640 root t1610d"
mode /usr/lib/systemd/system/t1610d.service "regular file 644 root root"
mode /etc/audit/rules.d/60-t1610d.rules "regular file 640 root root"
mode /etc/audit/plugins.d/t1610d.conf "regular file 640 root root"
mode /etc/logrotate.d/t1610d "regular file 644 root root"
mode /var/lib/t1610d "directory 750 t1610d t1610d"
mode /var/log/t1610d "directory 750 t1610d t1610d"
mode /usr/share/doc/t1610d/README.md "regular file 644 root root"
mode /usr/share/doc/t1610d/examples/allow-examples.toml "regular file 644 root root"
mode /etc/audit "directory 750 root root"            # auditd's, left as it was
mode /etc/audit/rules.d "directory 750 root root"
mode /etc/audit/plugins.d "directory 750 root root"

want_files="/etc/audit/plugins.d/t1610d.conf
/etc/audit/rules.d/60-t1610d.rules
/etc/logrotate.d/t1610d
/etc/t1610d/plugin.toml
/etc/t1610d/t1610d.toml
/usr/bin/t1610d
/usr/lib/systemd/system/t1610d.service
/usr/share/doc/t1610d/README.md
/usr/share/doc/t1610d/examples/allow-examples.toml"
got_files=$(dpkg -L t1610d | while read -r f; do if [[ -f $f ]]; then echo "$f"; fi; done | sort)
check "dpkg -L: exactly the packaged files" test "$got_files" = "$want_files"
want_conf="/etc/audit/plugins.d/t1610d.conf
/etc/logrotate.d/t1610d
/etc/t1610d/plugin.toml
/etc/t1610d/t1610d.toml"
got_conf=$(dpkg-query -W -f '${Conffiles}\n' t1610d | awk 'NF {print $1}' | sort)
check "conffiles: the configs, not the unit or the rules" test "$got_conf" = "$want_conf"

check "installed t1610d.toml is packaging/t1610d.toml" cmp -s /etc/t1610d/t1610d.toml packaging/t1610d.toml
check "installed unit is packaging/t1610d.service" cmp -s /usr/lib/systemd/system/t1610d.service packaging/t1610d.service
/usr/bin/t1610d rules >"$tmp/rules"
check "installed rules file is what \`t1610d rules\` prints" cmp -s /etc/audit/rules.d/60-t1610d.rules "$tmp/rules"
check "plugin conf: active = no" has /etc/audit/plugins.d/t1610d.conf "active = no"
check "/usr/bin/t1610d version runs" bash -c "/usr/bin/t1610d version | grep -q '^t1610d '"

IFS=: read -r _ _ uid gid _ home shell <<<"$(getent passwd t1610d)"
check "user t1610d is a system user (uid $uid)" test "$uid" -lt 1000
check "user t1610d's group is t1610d" test "$(getent group t1610d | cut -d: -f3)" = "$gid"
check "user t1610d: home /var/lib/t1610d, shell $shell" bash -c "[[ $home == /var/lib/t1610d && $shell == *nologin ]]"

if [[ $audit_ok == yes && $orig_enabled != 2 ]]; then
  check "postinst loaded the rules (augenrules --load)" bash -c "auditctl -l | grep -q 'key=t1610d'"
else
  skipped "rules loaded by augenrules: no audit subsystem here, or it is locked"
fi

# ---- config, unit
check "check-config on the installed t1610d.toml" quiet /usr/bin/t1610d check-config --config /etc/t1610d/t1610d.toml
check "check-config on the installed plugin.toml" quiet /usr/bin/t1610d check-config --config /etc/t1610d/plugin.toml
check "check-config as the t1610d user (the unit's ExecStartPre)" \
  quiet setpriv --reuid=t1610d --regid=t1610d --init-groups /usr/bin/t1610d check-config --config /etc/t1610d/t1610d.toml
if systemd-analyze verify /usr/lib/systemd/system/t1610d.service >"$tmp/verify.log" 2>&1 && ! grep -q t1610d "$tmp/verify.log"; then
  ok "systemd-analyze verify t1610d.service"
else
  cat "$tmp/verify.log"; bad "systemd-analyze verify t1610d.service"
fi
systemd-analyze security --offline=true --no-pager /usr/lib/systemd/system/t1610d.service >"$tmp/security.log" 2>&1 || true
exposure=$(sed -n 's/.*Overall exposure level for t1610d.service: \([0-9.]*\).*/\1/p' "$tmp/security.log")
if [[ -n $exposure ]] && awk -v e="$exposure" 'BEGIN {exit !(e <= 2.5)}'; then
  ok "systemd-analyze security --offline=true: exposure $exposure (at most 2.5)"
else
  grep '✗' "$tmp/security.log" || cat "$tmp/security.log"; bad "exposure ${exposure:-unknown}, want at most 2.5"
fi
for k in Type=notify WatchdogSec= "ExecStartPre=/usr/bin/t1610d check-config" "ExecReload=/bin/kill -HUP \$MAINPID" \
  Restart=on-failure User=t1610d AmbientCapabilities=CAP_AUDIT_READ CapabilityBoundingSet=CAP_AUDIT_READ; do
  check "unit has $k" has /usr/lib/systemd/system/t1610d.service "$k"
done
check "unit has no PrivateNetwork= or PrivateUsers=" bash -c "! grep -Eq '^(PrivateNetwork|PrivateUsers)=' /usr/lib/systemd/system/t1610d.service"

# ---- logrotate
if command -v logrotate >/dev/null; then
  echo '{"x":1}' >/var/log/t1610d/alerts.json
  chown t1610d:t1610d /var/log/t1610d/alerts.json
  if logrotate -f -s "$tmp/logrotate.state" /etc/logrotate.d/t1610d >"$tmp/logrotate.log" 2>&1; then
    ok "logrotate -f /etc/logrotate.d/t1610d"
  else
    cat "$tmp/logrotate.log"; bad "logrotate -f /etc/logrotate.d/t1610d"
  fi
  check "logrotate kept the rotated file" test -s /var/log/t1610d/alerts.json.1
  mode /var/log/t1610d/alerts.json "regular empty file 640 t1610d t1610d"
  rm -f /var/log/t1610d/alerts.json*
else
  skipped "logrotate not installed"
fi

# ---- the installed binary as the packaged user, beside a private auditd
live() {
  local state
  state=$(kernel_audit pid)
  if [[ $audit_ok != yes || $orig_enabled == 2 || $state != 0 ]] || ! command -v auditd >/dev/null; then
    skipped "multicast and plugin: needs the kernel's audit subsystem, auditd, and no audit daemon running (pid ${state:-?})"
    return
  fi
  mkdir -p "$tmp/auditd/etc/plugins.d" "$tmp/auditd/log" "$tmp/bin"
  # The packaged plugin config, activated, in the private auditd's plugin_dir.
  sed 's/^active = no$/active = yes/' /etc/audit/plugins.d/t1610d.conf >"$tmp/auditd/etc/plugins.d/t1610d.conf"
  chmod 640 "$tmp/auditd/etc/plugins.d/t1610d.conf"
  cat >"$tmp/auditd/etc/auditd.conf" <<EOF
local_events = yes
write_logs = yes
log_file = $tmp/auditd/log/audit.log
log_format = RAW
log_group = root
flush = INCREMENTAL_ASYNC
freq = 20
num_logs = 2
max_log_file = 64
max_log_file_action = ROTATE
space_left = 75
space_left_action = SYSLOG
admin_space_left = 50
admin_space_left_action = SUSPEND
disk_full_action = SUSPEND
disk_error_action = SUSPEND
q_depth = 2000
overflow_action = SYSLOG
plugin_dir = $tmp/auditd/etc/plugins.d
end_of_event_timeout = 2
EOF
  chmod 600 "$tmp/auditd/etc/auditd.conf"
  rm -f /var/log/t1610d/alerts.json
  auditd -n -c "$tmp/auditd/etc" >"$tmp/auditd.out" 2>&1 &
  auditd_pid=$!
  for _ in $(seq 100); do [[ $(kernel_audit pid) == "$auditd_pid" ]] && break; sleep 0.05; done
  check "private auditd owns the audit pid" test "$(kernel_audit pid)" = "$auditd_pid"
  auditctl -D >/dev/null
  check "auditctl -R the installed rules file" quiet auditctl -R /etc/audit/rules.d/60-t1610d.rules
  auditctl -e 1 >/dev/null

  # The unit's identity and capabilities: User=t1610d, Group=t1610d,
  # SupplementaryGroups=adm, only CAP_AUDIT_READ (bounding, ambient).
  setpriv --reuid=t1610d --regid=t1610d --groups=adm --inh-caps=-all,+audit_read --ambient-caps=+audit_read \
    --bounding-set=-all,+audit_read --no-new-privs \
    /usr/bin/t1610d run --config /etc/t1610d/t1610d.toml >"$tmp/alerts.json" 2>"$tmp/daemon.log" &
  daemon_pid=$!
  local i
  for i in $(seq 100); do has "$tmp/daemon.log" "netlink audit source receiving" && break; sleep 0.1; done
  check "daemon as t1610d receives over multicast" has "$tmp/daemon.log" '"mode":"multicast"'
  check "daemon runs as uid t1610d" test "$(awk '$1 == "Uid:" {print $2}' /proc/$daemon_pid/status)" = "$uid"
  check "daemon's effective capabilities: CAP_AUDIT_READ only" \
    test "$(awk '$1 == "CapEff:" {print $2}' /proc/$daemon_pid/status)" = 0000002000000000
  cp /bin/true "$tmp/bin/docker"
  PATH="$tmp/bin:$PATH" docker run --privileged -v /:/host alpine chroot /host sh
  for i in $(seq 100); do has "$tmp/alerts.json" '"RiskScore":80' && break; sleep 0.1; done
  check "multicast: the docker run --privileged -v /:/host exec alerts" \
    bash -c "grep -F '\"ProcessCommandLine\":\"docker run --privileged -v /:/host alpine chroot /host sh\"' '$tmp/alerts.json' | grep -qF '\"SuspiciousFlags\":\"[PRIVILEGED] [HOST_MOUNT]\"'"
  for i in $(seq 100); do [[ -s /var/log/t1610d/alerts.json ]] && break; sleep 0.1; done
  check "auditd plugin (plugins.d/t1610d.conf, plugin.toml): the exec alerts in /var/log/t1610d/alerts.json" \
    bash -c "grep -qF '\"ProcessCommandLine\":\"docker run --privileged -v /:/host alpine chroot /host sh\"' /var/log/t1610d/alerts.json"
  # logrotate's postrotate sends the plugin (a child of auditd) SIGHUP: it
  # reopens the file, and the next alert lands in the new one.
  if command -v logrotate >/dev/null; then
    logrotate -f -s "$tmp/logrotate-plugin.state" /etc/logrotate.d/t1610d >"$tmp/logrotate-plugin.log" 2>&1 || cat "$tmp/logrotate-plugin.log"
    sleep 0.5
    PATH="$tmp/bin:$PATH" docker run --pid=host --net=host alpine top
    for i in $(seq 100); do has /var/log/t1610d/alerts.json "docker run --pid=host --net=host alpine top" && break; sleep 0.1; done
    check "plugin after logrotate: the next alert is in the new alerts.json" has /var/log/t1610d/alerts.json "docker run --pid=host --net=host alpine top"
    check "plugin after logrotate: the first alert is in alerts.json.1" has /var/log/t1610d/alerts.json.1 "docker run --privileged -v /:/host"
  fi
  kill -TERM "$daemon_pid"
  local rc=0
  wait "$daemon_pid" || rc=$?
  daemon_pid=""
  check "daemon exits 0 on SIGTERM" test "$rc" = 0
  if ((fail)); then echo "--- daemon log"; cat "$tmp/daemon.log"; echo "--- auditd"; cat "$tmp/auditd.out"; fi
  kill -TERM "$auditd_pid"
  wait "$auditd_pid" || true
  auditd_pid=""
  for _ in $(seq 50); do [[ $(kernel_audit pid) == 0 ]] && break; sleep 0.1; done
  rm -f /var/log/t1610d/alerts.json*
}
live

# ---- reinstall and upgrade, keeping an edited config
sed -i 's/^threshold = 20 /threshold = 30 /' /etc/t1610d/t1610d.toml
echo "# edited by packaging/test.sh" >>/etc/t1610d/t1610d.toml
cp /etc/t1610d/t1610d.toml "$tmp/edited.toml"
check "edited config still checks" quiet /usr/bin/t1610d check-config --config /etc/t1610d/t1610d.toml
if dpkg --force-confold -i "$deb" >"$tmp/reinstall.log" 2>&1; then ok "dpkg -i the same .deb again"; else cat "$tmp/reinstall.log"; bad "reinstall"; fi
check "reinstall kept the edited config" cmp -s /etc/t1610d/t1610d.toml "$tmp/edited.toml"
# A newer version of the same package.
mkdir -p "$tmp/next"
GOARCH=$arch PKG_VERSION="${version%-1}.1" dist/tools/nfpm package --config packaging/nfpm.yaml --packager deb --target "$tmp/next/" >/dev/null
if dpkg --force-confold -i "$tmp"/next/*.deb >"$tmp/upgrade.log" 2>&1; then ok "dpkg -i a newer version (upgrade)"; else cat "$tmp/upgrade.log"; bad "upgrade"; fi
check "upgraded to ${version%-1}.1-1" test "$(dpkg-query -W -f '${Version}' t1610d)" = "${version%-1}.1-1"
check "upgrade kept the edited config" cmp -s /etc/t1610d/t1610d.toml "$tmp/edited.toml"
check "upgrade kept the config's owner and mode" test "$(stat -c '%a %U %G' /etc/t1610d/t1610d.toml)" = "640 root t1610d"
check "upgrade did not enable a second time or fail" bash -c "! grep -q 'did not' '$tmp/upgrade.log'"

# ---- remove, purge
mkdir -p /var/lib/t1610d && echo state >/var/lib/t1610d/tail.checkpoint
if dpkg -r t1610d >"$tmp/remove.log" 2>&1; then ok "dpkg -r t1610d"; else cat "$tmp/remove.log"; bad "dpkg -r"; fi
for f in /usr/bin/t1610d /usr/lib/systemd/system/t1610d.service /etc/audit/rules.d/60-t1610d.rules \
  /etc/systemd/system/multi-user.target.wants/t1610d.service; do
  absent "$f"
done
check "remove keeps the configs" cmp -s /etc/t1610d/t1610d.toml "$tmp/edited.toml"
check "remove keeps the state" test -s /var/lib/t1610d/tail.checkpoint
if [[ $audit_ok == yes && $orig_enabled != 2 ]]; then
  check "remove unloaded the rules (augenrules --load)" bash -c "! auditctl -l | grep -q 'key=t1610d'"
fi
if dpkg -P t1610d >"$tmp/purge.log" 2>&1; then ok "dpkg -P t1610d"; else cat "$tmp/purge.log"; bad "dpkg -P"; fi
for f in /etc/t1610d /var/lib/t1610d /var/log/t1610d /etc/audit/plugins.d/t1610d.conf /etc/logrotate.d/t1610d; do
  absent "$f"
done
check "purged: dpkg knows no t1610d" bash -c "! dpkg-query -W t1610d >/dev/null 2>&1"
check "purge keeps the user (postrm says so)" quiet getent passwd t1610d
if [[ $user_existed == no ]]; then
  userdel t1610d && { getent group t1610d >/dev/null && groupdel t1610d || true; }
fi

# ---- the .rpm
rpm_=$(ls dist/t1610d-*."$(rpm --eval '%{_arch}')".rpm 2>/dev/null || ls dist/t1610d-*.x86_64.rpm)
for r in "${rpms[@]}"; do
  rpm -qp --qf '[%{FILEMODES:perms} %{FILEUSERNAME} %{FILEGROUPNAME} %{FILENAMES}\n]' "$r" 2>/dev/null | sort -k4 >"$tmp/rpm.list"
  check "$r: rpm -qlp lists the files, modes and owners" diff -u - "$tmp/rpm.list" <<'EOF'
-rw-r----- root root /etc/audit/plugins.d/t1610d.conf
-rw-r----- root root /etc/audit/rules.d/60-t1610d.rules
-rw-r--r-- root root /etc/logrotate.d/t1610d
drwxr-x--- root t1610d /etc/t1610d
-rw-r----- root t1610d /etc/t1610d/plugin.toml
-rw-r----- root t1610d /etc/t1610d/t1610d.toml
-rwxr-xr-x root root /usr/bin/t1610d
-rw-r--r-- root root /usr/lib/systemd/system/t1610d.service
-rw-r--r-- root root /usr/share/doc/t1610d/README.md
-rw-r--r-- root root /usr/share/doc/t1610d/examples/allow-examples.toml
drwxr-x--- t1610d t1610d /var/lib/t1610d
drwxr-x--- t1610d t1610d /var/log/t1610d
EOF
done
check "rpm config files (noreplace)" test "$(rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$rpm_" 2>/dev/null | awk '$1 ~ /c/ && $1 ~ /n/ {print $2}' | sort | tr '\n' ' ')" = \
  "/etc/audit/plugins.d/t1610d.conf /etc/logrotate.d/t1610d /etc/t1610d/plugin.toml /etc/t1610d/t1610d.toml "
check "rpm requires audit" bash -c "rpm -qpR '$rpm_' 2>/dev/null | grep -qx audit"
check "rpm arch x86_64 and aarch64" test "$(for r in "${rpms[@]}"; do rpm -qp --qf '%{ARCH} ' "$r" 2>/dev/null; done)" = "x86_64 aarch64 "
rpm -qp --scripts "$rpm_" >"$tmp/rpm.scripts" 2>/dev/null
for s in "preinstall scriptlet" "postinstall scriptlet" "preuninstall scriptlet" "postuninstall scriptlet"; do
  check "rpm has a $s" has "$tmp/rpm.scripts" "$s (using /bin/sh)"
done
check "rpm scripts are packaging/scripts/*.sh" bash -c "for f in preinstall postinstall preremove postremove; do grep -qF \"\$(sed -n 2p packaging/scripts/\$f.sh)\" '$tmp/rpm.scripts' || exit 1; done"
check "rpm %post: rpm's 1 is a fresh install" has "$tmp/rpm.scripts" "  1) action=install ;;"

# Install, upgrade and erase with rpm: the scriptlets get rpm's arguments.
rpmdb=$tmp/rpmdb
mkdir -p "$rpmdb"
rpmq() { rpm --dbpath "$rpmdb" "$@"; }
if rpmq -i --nodeps "$rpm_" >"$tmp/rpm-install.log" 2>&1; then ok "rpm -i $rpm_"; else cat "$tmp/rpm-install.log"; bad "rpm -i"; fi
check "rpm %pre created the user" quiet getent passwd t1610d
mode /etc/t1610d/t1610d.toml "regular file 640 root t1610d"
mode /var/lib/t1610d "directory 750 t1610d t1610d"
if [[ ! -d /run/systemd/system ]]; then
  check "rpm %post (1): a fresh install, enabled for the next boot" test -L /etc/systemd/system/multi-user.target.wants/t1610d.service
fi
echo "# edited" >>/etc/t1610d/t1610d.toml
cp /etc/t1610d/t1610d.toml "$tmp/edited.toml"
GOARCH=$arch PKG_VERSION="${version%-1}.1" dist/tools/nfpm package --config packaging/nfpm.yaml --packager rpm --target "$tmp/next/" >/dev/null
if rpmq -U --nodeps "$tmp"/next/*.rpm >"$tmp/rpm-upgrade.log" 2>&1; then ok "rpm -U a newer version"; else cat "$tmp/rpm-upgrade.log"; bad "rpm -U"; fi
check "rpm -U kept the edited config" cmp -s /etc/t1610d/t1610d.toml "$tmp/edited.toml"
check "rpm -U: old %preun/%postun (1) left the unit enabled" test -L /etc/systemd/system/multi-user.target.wants/t1610d.service
check "rpm -U: binary still there" test -x /usr/bin/t1610d
if rpmq -e --nodeps t1610d >"$tmp/rpm-erase.log" 2>&1; then ok "rpm -e t1610d"; else cat "$tmp/rpm-erase.log"; bad "rpm -e"; fi
for f in /usr/bin/t1610d /usr/lib/systemd/system/t1610d.service /etc/audit/rules.d/60-t1610d.rules \
  /etc/systemd/system/multi-user.target.wants/t1610d.service; do
  absent "$f"
done
check "rpm -e kept the edited config as .rpmsave" test -f /etc/t1610d/t1610d.toml.rpmsave
rm -rf /etc/t1610d /var/lib/t1610d /var/log/t1610d

echo "packaging: $pass passed, $fail failed, $skip skipped"
((fail == 0))
