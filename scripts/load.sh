#!/usr/bin/env bash
# scripts/load.sh: t1610d under load beside a real auditd (issue 4, "Load").
#
# A private auditd (RAW) owns the audit pid and logs every exec; `t1610d run`
# reads the same stream over netlink multicast and writes every exec
# (events = all) to a file. A generator starts RATE execs/s for DURATION
# seconds (../shared/tools/execload, `/bin/true MARKER`). Then it checks:
#   - the kernel's lost counter does not move
#   - every exec is seen: the serials of the marked EXECVE records in
#     auditd's log are exactly those of the marked execs t1610d wrote
#   - t1610d's CPU time (utime+stime) is at most half of auditd's over the
#     same window (from just before the load until just before stopping)
#   - t1610d's peak RSS (VmHWM) is at most 40 MiB
# and prints PASS/FAIL per target; exit 0 only when all pass.
#
# Run it from the repository root, as root: scripts/load.sh
# Environment: RATE (1000), DURATION (15, seconds), WORKERS (8, the
# generator's spawners), EXECLOAD_SRC (../shared/tools/execload),
# KEEP=1 keeps the temp dir (logs, config, outputs) and prints its path,
# T1610D_WRAP: a command prefix for t1610d, e.g. "env GOMAXPROCS=1" or
# "perf record -g -o /tmp/p.data --" (CPU and RSS are still t1610d's own, but
# a profiler slows it: profile with it, do not measure).
# Needs: go, auditd and auditctl (package auditd), flock (util-linux).
# Whatever it changes in the kernel's audit state (rules, enabled flag,
# backlog limit) is put back on exit, also when it fails or is interrupted.
# It takes /tmp/t1610d-audit-tests.lock (shared with the project's live
# tests and capture.sh) for the whole run, waiting for it if need be.
set -euo pipefail

die() { echo "load.sh: $*" >&2; exit 1; }
say() { echo "load.sh: $*" >&2; }

[[ -f go.mod && -d cmd/t1610d && -d auditd ]] || die "run me from the repository root (scripts/load.sh)"
(( EUID == 0 )) || die "must run as root (it drives the kernel's audit subsystem)"
missing=()
for bin in go auditd auditctl flock; do command -v "$bin" >/dev/null || missing+=("$bin"); done
[[ -z ${T1610D_WRAP:-} ]] || command -v pgrep >/dev/null || missing+=(pgrep)
(( ${#missing[@]} == 0 )) || die "missing: ${missing[*]} (auditd, auditctl: apt-get install auditd; flock: util-linux; go: https://go.dev/dl)"

rate=${RATE:-1000}
dur=${DURATION:-15}
workers=${WORKERS:-8}
execload_src=${EXECLOAD_SRC:-../shared/tools/execload}
[[ -f $execload_src/main.go ]] || die "no exec generator at $execload_src (set EXECLOAD_SRC)"
hz=$(getconf CLK_TCK)
max_rss_kib=$((40 * 1024))

tmp=$(mktemp -d /tmp/t1610d-load.XXXXXX)
chmod 755 "$tmp"
mkdir -p "$tmp/etc/plugins.d" "$tmp/log" "$tmp/out" "$tmp/state"
auditd_pid="" t1610d_pid="" load_pid="" have_state=0

# ---- build (before the lock: others need not wait for the compiler) ----
say "building t1610d and execload in $tmp"
go build -o "$tmp/t1610d" ./cmd/t1610d
(cd "$execload_src" && go build -o "$tmp/execload" .)

restore() {
  local rc=$?
  trap - EXIT INT TERM HUP
  [[ -n $load_pid ]] && kill -TERM "$load_pid" 2>/dev/null || true
  if [[ -n $t1610d_pid ]] && kill -0 "$t1610d_pid" 2>/dev/null; then
    kill -TERM "$t1610d_pid" 2>/dev/null || true
    wait "$t1610d_pid" 2>/dev/null || true
  fi
  if (( have_state )); then
    auditctl -D >/dev/null 2>&1 || true
    if [[ -n $auditd_pid ]] && kill -0 "$auditd_pid" 2>/dev/null; then
      kill -TERM "$auditd_pid" 2>/dev/null || true
      wait "$auditd_pid" 2>/dev/null || true
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
    for _ in $(seq 50); do [[ $(status pid) == 0 ]] && break; sleep 0.1; done
    local now
    now="enabled $(status enabled) pid $(status pid) backlog_limit $(status backlog_limit) rules $(auditctl -l | tr '\n' ';')"
    [[ $now == "$orig_summary" ]] || { echo "load.sh: audit state not restored: was [$orig_summary], is [$now]" >&2; rc=1; }
  fi
  if [[ ${KEEP:-} == 1 ]]; then echo "load.sh: kept $tmp" >&2; else rm -rf "$tmp"; fi
  exit "$rc"
}
trap restore EXIT
trap 'exit 130' INT TERM HUP

status() { auditctl -s | awk -v k="$1" '$1 == k {print $2}'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }   # utime + stime, all threads
user_sys() { awk '{print $14, $15}' "/proc/$1/stat"; }
ctxsw() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {n += $2} END {print n + 0}'; }
hwm_kib() { awk '$1 == "VmHWM:" {print $2}' "/proc/$1/status"; }
secs() { awk -v t="$1" -v hz="$hz" 'BEGIN {printf "%.2f", t / hz}'; }

# ---- the audit subsystem: ours alone for the whole run ----
exec 9>/tmp/t1610d-audit-tests.lock
say "waiting for /tmp/t1610d-audit-tests.lock"
flock 9
auditctl -s >/dev/null 2>&1 || die "auditctl -s failed: no audit subsystem here"
owner=$(status pid)
[[ $owner == 0 ]] || die "the audit pid is owned by process $owner ($(tr '\0' ' ' </proc/"$owner"/cmdline 2>/dev/null)); not touching it"
orig_enabled=$(status enabled)
[[ $orig_enabled != 2 ]] || die "the kernel's audit configuration is immutable (enabled 2)"
orig_backlog=$(status backlog_limit)
orig_rules=$(auditctl -l)
orig_summary="enabled $orig_enabled pid 0 backlog_limit $orig_backlog rules $(tr '\n' ';' <<<"$orig_rules")"
have_state=1

# ---- a private auditd, RAW, as testdata/capture/capture.sh runs it ----
cat >"$tmp/etc/auditd.conf" <<EOF
local_events = yes
write_logs = yes
log_file = $tmp/log/audit.log
log_format = RAW
log_group = root
priority_boost = 4
flush = INCREMENTAL_ASYNC
freq = 50
num_logs = 5
max_log_file = 1024
max_log_file_action = ROTATE
name_format = NONE
space_left = 75
space_left_action = SYSLOG
admin_space_left = 50
admin_space_left_action = SUSPEND
disk_full_action = SUSPEND
disk_error_action = SUSPEND
q_depth = 2000
overflow_action = SYSLOG
plugin_dir = $tmp/etc/plugins.d
end_of_event_timeout = 2
EOF
chmod 600 "$tmp/etc/auditd.conf"
auditd -n -c "$tmp/etc" >"$tmp/auditd.out" 2>&1 &
auditd_pid=$!
for _ in $(seq 50); do
  [[ $(status pid) == "$auditd_pid" ]] && break
  kill -0 "$auditd_pid" 2>/dev/null || { cat "$tmp/auditd.out" >&2; die "auditd exited"; }
  sleep 0.1
done
[[ $(status pid) == "$auditd_pid" ]] || { cat "$tmp/auditd.out" >&2; die "auditd did not take the audit pid in 5 s"; }

auditctl -D >/dev/null
auditctl -b 8192 >/dev/null
"$tmp/t1610d" rules | grep -E '^-a ' >"$tmp/rules"
(( $(wc -l <"$tmp/rules") >= 2 )) || die "t1610d rules printed no rules"
while IFS= read -r rule; do
  # shellcheck disable=SC2086
  auditctl $rule >/dev/null
done <"$tmp/rules"
auditctl -e 1 >/dev/null
lost_before=$(status lost)

# ---- t1610d beside it, netlink multicast, every exec to a file ----
port=""
for _ in $(seq 100); do
  p=$((20000 + RANDOM % 40000))
  hex=$(printf '%04X' "$p")
  if ! awk -v h=":$hex" 'NR > 1 && substr($2, length($2) - 4) == h {f = 1} END {exit !f}' /proc/net/tcp /proc/net/tcp6; then
    port=$p; break
  fi
done
[[ -n $port ]] || die "found no free TCP port"
cat >"$tmp/t1610d.toml" <<EOF
[source]
kind = "netlink"
netlink_mode = "multicast"
state_dir = "$tmp/state"

[[output]]
type = "file"
events = "all"
path = "$tmp/out/execs.jsonl"

[log]
level = "info"

[metrics]
listen = "127.0.0.1:$port"
EOF
out=$tmp/out/execs.jsonl
# shellcheck disable=SC2086  # T1610D_WRAP is a command prefix
${T1610D_WRAP:-} "$tmp/t1610d" run --config "$tmp/t1610d.toml" 2>"$tmp/t1610d.log" &
t1610d_pid=$!
marker=t1610d-load-$$-$RANDOM
probe=$marker-probe
# Receiving: the log says so, then a probe exec comes out of the file output.
for i in $(seq 100); do
  grep -q 'netlink audit source receiving' "$tmp/t1610d.log" 2>/dev/null && break
  kill -0 "$t1610d_pid" 2>/dev/null || { cat "$tmp/t1610d.log" >&2; die "t1610d exited"; }
  sleep 0.1
done
grep -q 'netlink audit source receiving' "$tmp/t1610d.log" || { cat "$tmp/t1610d.log" >&2; die "t1610d did not start receiving in 10 s"; }
for i in $(seq 100); do
  /bin/true "$probe"
  grep -qF "$probe" "$out" 2>/dev/null && break
  sleep 0.1
done
grep -qF "$probe" "$out" 2>/dev/null || { cat "$tmp/t1610d.log" >&2; die "t1610d receives but wrote no exec in 10 s"; }
# When a wrapper (perf) runs t1610d, measure t1610d itself, its child.
meas_pid=$t1610d_pid
if [[ -n ${T1610D_WRAP:-} ]]; then
  child=$(pgrep -P "$t1610d_pid" -x t1610d | head -1 || true)
  [[ -n $child ]] && meas_pid=$child   # else the wrapper exec'd t1610d (env VAR=...)
fi

metrics() {
  local body
  exec 7<>"/dev/tcp/127.0.0.1/$port" || return 1
  printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&7
  body=$(cat <&7)
  exec 7>&-
  printf '%s\n' "$body" | grep -E '^t1610d_' || true
}
metrics >/dev/null || die "no /metrics on 127.0.0.1:$port"

# ---- the load ----
t_cpu0=$(cpu_ticks "$meas_pid") t_us0=$(user_sys "$meas_pid") t_cs0=$(ctxsw "$meas_pid")
a_cpu0=$(cpu_ticks "$auditd_pid") a_us0=$(user_sys "$auditd_pid") a_cs0=$(ctxsw "$auditd_pid")
say "load: $rate execs/s for ${dur}s of /bin/true $marker (t1610d pid $meas_pid, auditd pid $auditd_pid)"
"$tmp/execload" -rate "$rate" -for "${dur}s" -workers "$workers" -- /bin/true "$marker" 2>"$tmp/execload.out" &
load_pid=$!
wait "$load_pid" || die "execload failed: $(cat "$tmp/execload.out")"
load_pid=""
cat "$tmp/execload.out" >&2
launched=$(sed -n 's/^execload: \([0-9]*\) execs.*/\1/p' "$tmp/execload.out")
[[ -n $launched ]] || die "cannot read execload's count: $(cat "$tmp/execload.out")"

# Both finish writing: the counts stop moving (and t1610d's reaches auditd's).
count_auditd() { grep -F 'type=EXECVE' "$tmp/log"/audit.log* 2>/dev/null | grep -F 'argc=' | grep -cF "a1=\"$marker\"" || true; }
count_t1610d() { grep -cF "\"ProcessCommandLine\":\"/bin/true $marker\"" "$out" || true; }
prev="" stable=0
for _ in $(seq 120); do
  a=$(count_auditd) t=$(count_t1610d)
  if [[ "$a $t" == "$prev" ]]; then stable=$((stable + 1)); else stable=0; fi
  prev="$a $t"
  (( stable >= 4 || (stable >= 2 && a == t && a >= launched) )) && break
  sleep 0.5
done
lost_after=$(status lost)
metrics >"$tmp/metrics.txt" || true

# ---- stop: read CPU and peak RSS just before stopping each ----
t_cpu1=$(cpu_ticks "$meas_pid") t_us1=$(user_sys "$meas_pid") t_cs1=$(ctxsw "$meas_pid")
t_hwm=$(hwm_kib "$meas_pid")
a_cpu1=$(cpu_ticks "$auditd_pid") a_us1=$(user_sys "$auditd_pid") a_cs1=$(ctxsw "$auditd_pid")
a_hwm=$(hwm_kib "$auditd_pid")
kill -TERM "$meas_pid"   # t1610d itself, also under a wrapper
t_rc=0
wait "$t1610d_pid" || t_rc=$?
t1610d_pid=""
auditctl -D >/dev/null
kill -TERM "$auditd_pid"
wait "$auditd_pid" || true
auditd_pid=""

# ---- report ----
grep -F 'type=EXECVE' "$tmp/log"/audit.log* | grep -F 'argc=' | grep -F "a1=\"$marker\"" |
  sed -n 's/.*msg=audit([0-9.]*:\([0-9]*\)).*/\1/p' | sort >"$tmp/serials.auditd" || true
grep -F "\"ProcessCommandLine\":\"/bin/true $marker\"" "$out" |
  sed -n 's/.*"Audit":{[^}]*"Sequence":\([0-9]*\).*/\1/p' | sort >"$tmp/serials.t1610d" || true
n_auditd=$(wc -l <"$tmp/serials.auditd")
n_t1610d=$(wc -l <"$tmp/serials.t1610d")
only_auditd=$(comm -23 <(sort -u "$tmp/serials.auditd") <(sort -u "$tmp/serials.t1610d") | wc -l)
only_t1610d=$(comm -13 <(sort -u "$tmp/serials.auditd") <(sort -u "$tmp/serials.t1610d") | wc -l)
dups=$(( n_t1610d - $(sort -u "$tmp/serials.t1610d" | wc -l) ))
t_cpu=$((t_cpu1 - t_cpu0)) a_cpu=$((a_cpu1 - a_cpu0))
mval() { awk -v k="$1" '$1 == k {print $2}' "$tmp/metrics.txt"; }

fails=0
check() { # check CONDITION TEXT
  local v=PASS
  if ! eval "$1"; then v=FAIL; fails=$((fails + 1)); fi
  echo "$v  $2"
}
echo "== t1610d load: $rate execs/s for ${dur}s beside auditd (RAW), netlink multicast, events = all"
echo "execs launched:            $launched ($(sed -n 's/.*= \([0-9]*\/s\).*/\1/p' "$tmp/execload.out"))"
echo "auditd EXECVE (marker):    $n_auditd"
echo "t1610d execs (marker):     $n_t1610d (missing vs auditd $only_auditd, extra $only_t1610d, duplicates $dups)"
echo "kernel lost:               $lost_before -> $lost_after"
echo "CPU t1610d / auditd:       $(secs $t_cpu) s / $(secs $a_cpu) s ($t_cpu / $a_cpu ticks at $hz Hz)"
split() { local a b c d; read -r a b <<<"$1"; read -r c d <<<"$2"; echo "user $(secs $((c - a))) s, sys $(secs $((d - b))) s"; }
echo "  t1610d: $(split "$t_us0" "$t_us1"), $((t_cs1 - t_cs0)) context switches; auditd: $(split "$a_us0" "$a_us1"), $((a_cs1 - a_cs0)) context switches"
echo "peak RSS t1610d / auditd:  $((t_hwm / 1024)) MiB ($t_hwm KiB) / $((a_hwm / 1024)) MiB"
echo "t1610d metrics:            records $(mval t1610d_netlink_records_total) lost_since_start $(mval t1610d_kernel_lost_since_start_total) overflows $(mval t1610d_netlink_overflows_total) sequence_gaps $(mval t1610d_sequence_gaps_total) output_dropped $(mval t1610d_output_dropped_total); exit $t_rc"
check '(( launched * 100 >= rate * dur * 90 ))' "load reached: $launched of $((rate * dur)) execs (>= 90%; else the host is too busy to measure)"
check '(( lost_after == lost_before ))' "kernel lost counter unchanged"
check '(( n_auditd == launched && only_auditd == 0 && only_t1610d == 0 && dups == 0 ))' "every exec seen (auditd logged all $launched; t1610d's serials = auditd's)"
check '(( a_cpu > 0 && 2 * t_cpu <= a_cpu ))' "t1610d CPU <= 1/2 of auditd's"
check '(( t_hwm <= max_rss_kib ))' "t1610d peak RSS <= 40 MiB"
check '(( t_rc == 0 ))' "t1610d exited 0 on SIGTERM"
(( fails == 0 ))
