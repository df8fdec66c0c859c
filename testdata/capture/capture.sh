#!/usr/bin/env bash
# capture.sh — record a labelled audit log with a real, private auditd.
#
# usage: capture.sh [options] SCENARIOS.tsv OUTDIR
#   -f ENRICHED|RAW   log_format of the private auditd            (default ENRICHED)
#   -n NAMEFMT        name_format: NONE, HOSTNAME, FQD, NUMERIC, USER (default NONE)
#   -N NAME           the node name written when -n USER
#   -r ID             make auditd rotate (SIGUSR1) just before scenario ID's marker,
#                     so OUTDIR gets audit.log.1 (older) and audit.log (newer)
#   -m MB             max_log_file in MB (rotation by size, on top of -r)  (default 64)
#   -o NAME           write the (single, unrotated) log as OUTDIR/NAME instead of OUTDIR/audit.log
#   -t SECONDS        time limit per scenario                       (default 10)
#
# SCENARIOS.tsv: id<TAB>label<TAB>flags<TAB>as<TAB>command ("#" lines skipped; as = root|deploy|alice).
# Every scenario starts with the marker exec `/bin/true t1610-scenario:<id>`, runs under
# loginuid 1003 (alice, as if she had logged in and become root) and, for as=deploy, uid 1001.
# The command runs in /tmp/t1610-<set name>, with the set's manifests/ copied there, and sees
#   T1610_SET    the absolute directory of SCENARIOS.tsv
#   T1610_TOOLS  the absolute directory of this script (noise.sh lives there)
# Runtime CLIs missing on this machine (podman nerdctl crictl ctr) are copies of /bin/true on PATH.
#
# Needs root and the auditd package. Whatever it changes in the kernel's audit state (rules,
# enabled flag, backlog limit) is put back on exit, also when it fails or is interrupted.
set -euo pipefail

fmt=ENRICHED namefmt=NONE nodename="" rotate_at="" maxmb=64 outname="" per_scen=10
while getopts 'f:n:N:r:m:o:t:' opt; do
  case $opt in
    f) fmt=$OPTARG ;;
    n) namefmt=$OPTARG ;;
    N) nodename=$OPTARG ;;
    r) rotate_at=$OPTARG ;;
    m) maxmb=$OPTARG ;;
    o) outname=$OPTARG ;;
    t) per_scen=$OPTARG ;;
    *) sed -n '2,14p' "$0" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
(( $# == 2 )) || { sed -n '2,14p' "$0" >&2; exit 2; }
[[ $fmt == ENRICHED || $fmt == RAW ]] || { echo "capture.sh: -f must be ENRICHED or RAW" >&2; exit 2; }
[[ $namefmt != USER || -n $nodename ]] || { echo "capture.sh: -n USER needs -N NAME" >&2; exit 2; }
(( EUID == 0 )) || { echo "capture.sh: must run as root" >&2; exit 2; }
command -v auditd >/dev/null && command -v auditctl >/dev/null ||
  { echo "capture.sh: needs auditd (apt-get install -y auditd)" >&2; exit 2; }

scen=$(realpath "$1")
setdir=$(dirname "$scen")
tools=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)

# Only one process may own the audit netlink socket: one capture at a time, and none while
# another auditd runs.
exec 9>/tmp/t1610-capture.lock
flock -n 9 || { echo "capture.sh: another capture is running" >&2; exit 1; }
# The project's tests that drive the audit subsystem share one lock (see
# requireAudit in auditd/long_test.go); wait for it unless the caller holds it.
if [[ -z ${T1610_AUDIT_LOCK_HELD:-} ]]; then
  exec 8>/tmp/t1610d-audit-tests.lock
  flock 8
fi
owner=$(auditctl -s | awk '$1 == "pid" {print $2}')
[[ $owner == 0 ]] || { echo "capture.sh: audit socket already owned by pid $owner" >&2; exit 1; }

# The users the scenarios run as.
getent group 1001 >/dev/null || groupadd -g 1001 deploy
getent passwd deploy >/dev/null || useradd -u 1001 -g 1001 -M -s /bin/bash deploy
getent group 1003 >/dev/null || groupadd -g 1003 alice
getent passwd alice >/dev/null || useradd -u 1003 -g 1003 -M -s /bin/bash alice

# Remember the kernel's audit state so it can be put back exactly.
orig_enabled=$(auditctl -s | awk '$1 == "enabled" {print $2}')
orig_backlog=$(auditctl -s | awk '$1 == "backlog_limit" {print $2}')
orig_rules=$(auditctl -l)

tmp=$(mktemp -d /tmp/t1610-capture.XXXXXX)
mkdir -p "$tmp/etc/plugins.d" "$tmp/log" "$tmp/bin"
daemon="" runner=""

restore() {
  local rc=$?
  trap - EXIT INT TERM HUP
  # no further scenario starts; one already running ends at its time limit, unaudited
  [[ -n $runner ]] && kill -TERM "$runner" 2>/dev/null || true
  auditctl -D >/dev/null 2>&1 || true
  if [[ -n $daemon ]] && kill -0 "$daemon" 2>/dev/null; then
    kill -TERM "$daemon" 2>/dev/null || true
    wait "$daemon" 2>/dev/null || true
  fi
  auditctl -D >/dev/null 2>&1 || true
  if [[ $orig_rules != "No rules" ]]; then
    while IFS= read -r rule; do
      # shellcheck disable=SC2086  # a rule is a list of auditctl words
      [[ -n $rule ]] && auditctl $rule >/dev/null 2>&1 || true
    done <<<"$orig_rules"
  fi
  auditctl -b "${orig_backlog:-64}" >/dev/null 2>&1 || true
  auditctl -e "${orig_enabled:-0}" >/dev/null 2>&1 || true
  rm -rf "$tmp"
  exit "$rc"
}
trap restore EXIT
trap 'exit 130' INT TERM HUP

{
  echo "local_events = yes"
  echo "write_logs = yes"
  echo "log_file = $tmp/log/audit.log"
  echo "log_format = $fmt"
  echo "log_group = root"
  echo "priority_boost = 4"
  echo "flush = INCREMENTAL_ASYNC"
  echo "freq = 50"
  echo "num_logs = 5"
  echo "max_log_file = $maxmb"
  echo "max_log_file_action = ROTATE"
  echo "name_format = $namefmt"
  [[ -n $nodename ]] && echo "name = $nodename"
  echo "space_left = 75"
  echo "space_left_action = SYSLOG"
  echo "admin_space_left = 50"
  echo "admin_space_left_action = SUSPEND"
  echo "disk_full_action = SUSPEND"
  echo "disk_error_action = SUSPEND"
  echo "q_depth = 2000"
  echo "overflow_action = SYSLOG"
  echo "plugin_dir = $tmp/etc/plugins.d"
  echo "end_of_event_timeout = 2"
} >"$tmp/etc/auditd.conf"
chmod 600 "$tmp/etc/auditd.conf"

auditd -n -c "$tmp/etc" >"$tmp/auditd.out" 2>&1 &
daemon=$!
for _ in $(seq 50); do
  [[ $(auditctl -s | awk '$1 == "pid" {print $2}') == "$daemon" ]] && break
  kill -0 "$daemon" 2>/dev/null || { cat "$tmp/auditd.out" >&2; exit 1; }
  sleep 0.1
done
[[ $(auditctl -s | awk '$1 == "pid" {print $2}') == "$daemon" ]] ||
  { echo "capture.sh: auditd did not take the audit socket" >&2; cat "$tmp/auditd.out" >&2; exit 1; }

auditctl -D >/dev/null
auditctl -b 8192 >/dev/null
auditctl -a always,exit -F arch=b64 -S execve,execveat -k t1610_exec >/dev/null
auditctl -a always,exit -F arch=b32 -S execve,execveat -k t1610_exec >/dev/null
auditctl -e 1 >/dev/null

# Where the commands run: fixed per set, so a replay can find the manifests again.
work=/tmp/t1610-$(basename "$setdir")
rm -rf "$work"
mkdir -p "$work"
[[ -d $setdir/manifests ]] && cp -r "$setdir/manifests/." "$work/"
chmod -R a+rX "$work"

for cli in podman nerdctl crictl ctr; do
  command -v "$cli" >/dev/null || cp /bin/true "$tmp/bin/$cli"
done
chmod 755 "$tmp" "$tmp/bin"

run_scenarios() {
  echo 1003 >/proc/self/loginuid   # from here on auid = alice
  cd "$work"
  # a plain host PATH; the stand-ins come last, where a search for a real CLI ends
  export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$tmp/bin"
  export T1610_SET="$setdir" T1610_TOOLS="$tools" LANG=C.UTF-8
  local id label flags as cmd
  while IFS=$'\t' read -r id label flags as cmd; do
    [[ -z $id || $id == \#* ]] && continue
    if [[ $id == "$rotate_at" ]]; then
      sleep 1                        # let auditd write everything before the cut
      kill -USR1 "$daemon"
      for _ in $(seq 50); do [[ -e $tmp/log/audit.log.1 ]] && break; sleep 0.1; done
      [[ -e $tmp/log/audit.log.1 ]] || { echo "capture.sh: auditd did not rotate" >&2; return 1; }
    fi
    /bin/true "t1610-scenario:$id"
    case $as in
      deploy) timeout "$per_scen" setpriv --reuid=1001 --regid=1001 --init-groups bash -c "$cmd" ;;
      alice)  timeout "$per_scen" setpriv --reuid=1003 --regid=1003 --init-groups bash -c "$cmd" ;;
      *)      timeout "$per_scen" bash -c "$cmd" ;;
    esac </dev/null >/dev/null 2>&1 || true
    uname -n >/dev/null; whoami >/dev/null     # a little ordinary activity after each
  done <"$scen"
}
run_scenarios &         # in the background, so that a signal reaches the trap at once
runner=$!
wait "$runner"
runner=""

sleep 2.5                # auditd writes what the kernel still holds
auditctl -D >/dev/null
auditctl -e "${orig_enabled:-0}" >/dev/null
kill -TERM "$daemon"
wait "$daemon" || true
daemon=""

if [[ -n $outname ]]; then
  [[ -e $tmp/log/audit.log.1 ]] && { echo "capture.sh: -o wants one file, but auditd rotated" >&2; exit 1; }
  cp "$tmp/log/audit.log" "$out/$outname"
  chmod 644 "$out/$outname"      # auditd writes 0600/0400; tests need not run as root
  ls -l "$out/$outname"
else
  rm -f "$out"/audit.log "$out"/audit.log.[0-9]*
  cp "$tmp/log"/audit.log* "$out/"
  chmod 644 "$out"/audit.log*
  ls -l "$out"/audit.log*
fi
