#!/usr/bin/env bash
# make.sh — build bad/audit.log, a damaged log made of real records from ../sample/, and
# bad/README.md, which says on which lines each kind of damage sits and which events must
# still alert. Deterministic: the same sample gives the same bytes. Rerun after recapturing
# the sample (the serials and line numbers in README.md are computed here, not typed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sample=$here/../sample
out=$here/audit.log
readme=$here/README.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C
shopt -s lastpipe   # `... | add` must run add in this shell, so that it can note the lines

cat "$sample/audit.log.1" "$sample/audit.log" >"$tmp/all"

# Tag every line with the scenario whose marker event (`/bin/true t1610-scenario:ID`) came last.
awk '
  function serial(l) { return match(l, /msg=audit\([0-9.]+:[0-9]+\)/) ? substr(l, RSTART + 10, RLENGTH - 11) : "" }
  FNR == NR { if (match($0, /a1="t1610-scenario:[^"]+"/)) {
                id = substr($0, RSTART + 19, RLENGTH - 20); s = serial($0); sub(/.*:/, "", s); mark[s] = id }
              next }
  { s = serial($0); sub(/.*:/, "", s); if (s in mark) cur = mark[s]; print cur "\t" $0 }
' "$tmp/all" "$tmp/all" >"$tmp/tagged"

span() { awk -v id="$1" 'index($0, id "\t") == 1 { print substr($0, length(id) + 2) }' "$tmp/tagged"; }
idof() { sed -nE 's/.*msg=audit\(([0-9.]+:[0-9]+)\).*/\1/p; T; q'; }
# exec_id SCENARIO PROGRAM: the msg id (TS:SERIAL) of the scenario's exec of PROGRAM (argv[0])
exec_id() { span "$1" | grep -a "^type=EXECVE .* a0=\"$2\"" | idof; }
event() { grep -aF "msg=audit($1)" "$tmp/all"; }

: >"$out"
lines() { wc -l <"$out" | tr -d ' '; }
# add DESCRIPTION < records: append, remember the line range under DESCRIPTION
declare -a notes=()
add() {
  local from=$(($(lines) + 1))
  cat >>"$out"
  local to; to=$(lines)
  if ((from == to)); then notes+=("$1|$from"); else notes+=("$1|$from-$to"); fi
}
where() { local n; for n in "${notes[@]}"; do [[ ${n%%|*} == "$1" ]] && { echo "${n#*|}"; return; }; done; }
serial() { echo "${1#*:}"; }

# deterministic bytes 0..255 except newline (so the line count stays what the README says)
garbage() {
  local n=$1 state=$2 fmt="" i b hex
  for ((i = 0; i < n; i++)); do
    state=$(((state * 1103515245 + 12345) % 2147483648))
    b=$(((state >> 16) % 256))
    ((b == 10)) && b=0
    printf -v hex '\\x%02x' "$b"
    fmt+=$hex
  done
  printf "$fmt"
}

A=$(exec_id s03 docker)   # docker run --privileged -v /:/host alpine chroot /host sh
B1=$(exec_id s06 sudo)    # sudo docker run --net host --pid=host alpine:3.19 ps aux
B2=$(exec_id s06 docker)  # ... and the docker exec sudo made
T=$(exec_id s07 docker)   # docker run --rm alpine echo --privileged   (benign)
C=$(exec_id s12 nerdctl)  # nerdctl run -e AWS_SECRET_ACCESS_KEY=... --ipc=host -d alpine:3.19
D=$(exec_id s14 docker)   # docker run -itv /:/host alpine sh
M=$(exec_id s16 docker)   # docker run --cap-add=SYS_ADMIN --device=/dev/sda ...  (SYSCALL dropped)
E=$(exec_id s17 docker)   # docker run --rm --security-opt seccomp=unconfined --userns=host ...
P=$(exec_id s09 podman)   # podman run --privileged -d ...  (re-emitted under D's msg id)
F=$(exec_id s20 ctr)      # ctr run --privileged -t docker.io/library/alpine:3.19 dbg sh

span s02 | add "ordinary"
span s03 | add "attack-A"

# lines cut short mid-record (the line ends, the record does not)
span s05 | awk -v base="$(lines)" -v cut="$tmp/cut" '
  NR % 6 == 2 { print substr($0, 1, int(length($0) * 0.55)); print base + NR >>cut; next } { print }' |
  add "truncated"

span s06 | add "attack-B"

{
  garbage 37 1; echo
  garbage 300 2; echo
  printf 'type=SYSCALL msg=audit('; garbage 120 3; echo
  garbage 1200 4; echo
  printf '\0\0\0\0\0\0\0\0'; echo
} | add "binary"

span s07 | add "trap"

# one line of exactly 1 MiB (without its newline): an EXECVE whose a2 never ends
{
  head=$(printf 'type=EXECVE msg=audit(%s.999:%d): argc=3 a0="docker" a1="run" a2=' "${T%%.*}" 999001)
  printf '%s' "$head"
  head -c $((1048576 - ${#head})) < <(yes 2D2D70726976696C65676564 | tr -d '\n')
  echo
} | add "huge"

span s12 | add "attack-C"

# the first 30 events of a noise block, with three unquoted (hex) a-values spoiled
span s11 >"$tmp/s11"
awk -v want=30 'match($0, /msg=audit\([0-9.]+:[0-9]+\)/) { s = substr($0, RSTART, RLENGTH); if (!(s in seen)) { seen[s]; n++ } }
  n > want { exit } { print }' "$tmp/s11" |
  awk -v base="$(lines)" -v bad="$tmp/hex" '
    /^type=EXECVE / && k < 3 && match($0, / a[0-9]+=[0-9A-F]+( |$)/) {
      k++
      pre = substr($0, 1, RSTART - 1); m = substr($0, RSTART, RLENGTH); post = substr($0, RSTART + RLENGTH)
      tail = (m ~ / $/) ? " " : ""; sub(/ $/, "", m)
      eq = index(m, "="); name = substr(m, 1, eq); v = substr(m, eq + 1)
      if (k == 1) v = substr(v, 1, length(v) - 1)                        # odd length
      if (k == 2) v = substr(v, 1, 2) "ZQ" substr(v, 5)                  # non-hex, even length
      if (k == 3) v = substr(v, 1, 1) "G" substr(v, 3, length(v) - 3)    # both
      $0 = pre name v tail post
      print base + NR " " substr(name, 2, length(name) - 2) "=" v >>bad
    }
    { print }' | add "badhex"

span s13 | add "context"
span s14 | add "attack-D"

# an exec whose SYSCALL record is missing
span s16 | grep -avF "type=SYSCALL msg=audit($M)" | add "nosyscall"

span s17 | add "attack-E"

# a different exec re-using attack D's msg id (same timestamp and serial) later in the file
event "$P" | sed "s/msg=audit($P)/msg=audit($D)/" | add "dupserial"

span s20 | add "attack-F"

# the file ends inside a record: no newline after the last line
event "$(exec_id s21 docker)" >"$tmp/last"
IFS= read -r last <"$tmp/last"
printf '%s' "${last:0:90}" >>"$out"
lastline=$(($(lines) + 1))

size=$(wc -c <"$out" | tr -d ' ')
range() { where "$1"; }
# evl ID BLOCK: the lines of event ID inside BLOCK (an event's records are consecutive)
evl() {
  local r; r=$(where "$2")
  awk -v id="msg=audit($1)" -v from="${r%-*}" -v to="${r#*-}" '
    NR >= from && NR <= to && index($0, id) { if (!a) a = NR; b = NR } END { print a "-" b }' "$out"
}
{
  cat <<EOF
# testdata/bad/audit.log — a damaged audit log

Built by \`make.sh\` (rerun it after recapturing \`../sample/\`; it rewrites this file too) from the
real ENRICHED records in \`../sample/audit.log.1\` + \`../sample/audit.log\`, so every intact event
here is byte-for-byte what auditd wrote. $(lines) newline-terminated lines + 1 unterminated, $size bytes.
Line numbers are 1-based. Event ids are \`msg=audit(TIMESTAMP:SERIAL)\`.

A reader must get through all of it (count the bad lines as malformed, never stop or crash)
and still deliver every intact event around the damage.

## Damage

| kind | lines | what |
|---|---|---|
| truncated lines | $(tr '\n' ' ' <"$tmp/cut" | sed 's/ $//; s/ /, /g') | records cut at 55 % of their length, mid-value (inside block $(range truncated), a \`go build\` by deploy) |
| binary garbage | $(range binary) | 5 lines of deterministic random bytes with NULs and bytes >= 0x80 (one starts with \`type=SYSCALL msg=audit(\`, one is 8 NULs) |
| 1 MiB line | $(range huge) | exactly 1,048,576 bytes before its newline: \`type=EXECVE msg=audit(${T%%.*}.999:999001): argc=3 a0="docker" a1="run" a2=2D2D7072…\`, never closed, no SYSCALL |
| invalid hex | $(awk '{print $1}' "$tmp/hex" | tr '\n' ' ' | sed 's/ $//; s/ /, /g') | unquoted a-values spoiled: $(awk '{printf "%s%s", sep, $2; sep="; "}' "$tmp/hex") (odd length; non-hex chars; both) — in block $(range badhex), benign noise (env, sh -c, awk …) |
| EXECVE without SYSCALL | $(evl "$M" nosyscall) | event \`$M\` (\`docker run --cap-add=SYS_ADMIN --device=/dev/sda alpine:3.19 sh\`) has EXECVE, CWD, PATH, PROCTITLE but no SYSCALL: no pid, ppid, uid or auid. Alerting on it is a choice; it must not be merged into a neighbour |
| repeated serial | $(range dupserial) | event id \`$D\` appears again: the records of a different exec (\`podman run --privileged -d registry.example.com/tools/netdebug:2.1\`, uid 1001, originally \`$P\`) carry attack D's id. It is a new event, not more records of D: D's argv must stay \`docker run -itv /:/host alpine sh\` (expected: a second, PRIVILEGED alert for the podman exec) |
| unterminated last line | $lastline | the first 90 bytes of a SYSCALL record, no newline, at end of file |

## Intact attack events that must still alert

| event | serial | event lines | command | categories |
|---|---|---|---|---|
| A | $(serial "$A") | $(evl "$A" attack-A) (block $(range attack-A)) | \`docker run --privileged -v /:/host alpine chroot /host sh\` | PRIVILEGED HOST_MOUNT |
| B | $(serial "$B2") (sudo: $(serial "$B1")) | $(evl "$B2" attack-B), sudo $(evl "$B1" attack-B) (block $(range attack-B)) | \`sudo docker run --net host --pid=host alpine:3.19 ps aux\` | HOST_NET HOST_PID |
| C | $(serial "$C") | $(evl "$C" attack-C) (block $(range attack-C)) | \`nerdctl run -e AWS_SECRET_ACCESS_KEY=… --ipc=host -d alpine:3.19 sleep 600\` | HOST_IPC ENV_SECRET |
| D | $(serial "$D") | $(evl "$D" attack-D) (block $(range attack-D)) | \`docker run -itv /:/host alpine sh\` | HOST_MOUNT |
| E | $(serial "$E") | $(evl "$E" attack-E) (block $(range attack-E)) | \`docker run --rm --security-opt seccomp=unconfined --userns=host --uts=host --cgroupns=host alpine:3.19 sh\` | NO_SECCOMP HOST_USERNS HOST_UTS HOST_CGROUPNS |
| F | $(serial "$F") | $(evl "$F" attack-F) (block $(range attack-F)) | \`ctr run --privileged -t docker.io/library/alpine:3.19 dbg sh\` | PRIVILEGED |

A is before all damage, B after the truncated lines, C after the garbage and the 1 MiB line, D after
the bad hex, E after the missing SYSCALL, F after the repeated serial. B's \`sudo\` exec
($(serial "$B1")) is the same command seen one process earlier; one alert for B is enough if sudo is
folded into its child. The secret in C (\`wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\`) must never be printed.

## Intact events that must not alert

- serial $(serial "$T"), lines $(evl "$T" trap) (block $(range trap)): \`docker run --rm alpine echo --privileged\` (the flag belongs to the container's command).
- everything else in the blocks $(range ordinary), $(range truncated), $(range badhex), $(range context)
  (\`docker ps\`, \`docker exec\`, a \`go build\` in a container, text tools).
EOF
} >"$readme"
ls -l "$out" "$readme"
