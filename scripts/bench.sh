#!/usr/bin/env bash
# scripts/bench.sh: measure t1610d on the busy-host corpus (119 MB, 106k
# events, 56k execs) against go-libaudit and ausearch, and check the targets:
#   - at least 30x go-libaudit's throughput on one core (go test -bench -cpu 1)
#   - at least 8x faster than `ausearch -m EXECVE -r` on the same file
#   - peak RSS at most 40 MiB while replaying it
# Run it from the repository root: scripts/bench.sh
# Environment: T1610D_CORPUS (default ../shared/corpus/busy-host.audit.log.xz),
# RUNS (timed runs of each command, best kept; default 3).
set -euo pipefail

die() { echo "bench.sh: $*" >&2; exit 1; }

[[ -f go.mod && -d cmd/t1610d && -d auditd ]] || die "run me from the repository root (scripts/bench.sh)"

corpus=${T1610D_CORPUS:-../shared/corpus/busy-host.audit.log.xz}
runs=${RUNS:-3}

# Tools: xz is required; /usr/bin/time (package time) and ausearch (package
# auditd) are installed when missing and apt-get can.
command -v xz >/dev/null || die "xz is missing: install xz-utils (apt-get install -y xz-utils)"
[[ -f $corpus ]] || die "the corpus $corpus is missing (set T1610D_CORPUS to its path)"
apt_install() {
	echo "bench.sh: $2 is missing; apt-get install -y $1" >&2
	if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
		echo "bench.sh: cannot install $1 (not root or no apt-get)" >&2
		return 1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y "$1" >/dev/null ||
		{ apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y "$1" >/dev/null; }
}
[[ -x /usr/bin/time ]] || apt_install time /usr/bin/time || die "/usr/bin/time is needed (package time)"
have_ausearch=1
command -v ausearch >/dev/null || apt_install auditd ausearch || have_ausearch=0
have_taskset=0
command -v taskset >/dev/null && have_taskset=1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log=$tmp/busy-host.audit.log

show() { printf '\n$ %s\n' "$*"; }

show "xz -dc $corpus > $log"
xz -dc "$corpus" >"$log"
ls -l "$log" | awk '{printf "%s bytes, ", $5}'
wc -l <"$log" | awk '{print $1 " lines"}'

# If go.mod is not tidy (someone is mid-edit), measure with a tidied copy in
# $tmp rather than touching the tree, and say so.
modflag=()
if ! go list -test -deps ./auditd/ ./cmd/t1610d >/dev/null 2>"$tmp/golist.err"; then
	if grep -q 'go mod tidy\|go get\|updates to go.mod needed\|no required module' "$tmp/golist.err"; then
		cp go.mod "$tmp/go.mod"
		[[ -f go.sum ]] && cp go.sum "$tmp/go.sum"
		go mod tidy -modfile="$tmp/go.mod"
		echo "bench.sh: WARNING: go.mod is not tidy; measuring with a tidied copy (-modfile). Needed change:" >&2
		diff go.mod "$tmp/go.mod" >&2 || true
		modflag=(-modfile="$tmp/go.mod")
	else
		cat "$tmp/golist.err" >&2
		die "the packages do not load"
	fi
fi

show "go build ${modflag[*]} -o $tmp/t1610d ./cmd/t1610d"
go build "${modflag[@]}" -o "$tmp/t1610d" ./cmd/t1610d

# 1. Throughput, side by side, one core.
# Five rounds of both, interleaved in one run; the median of each is
# compared (this machine's neighbours make single rounds vary by a third).
show "T1610D_BENCH_LOG=$log go test ${modflag[*]} ./auditd/ -run '^\$' -bench . -benchtime 2x -count 5 -cpu 1"
T1610D_BENCH_LOG=$log go test "${modflag[@]}" ./auditd/ -run '^$' -bench . -benchtime 2x -count 5 -cpu 1 | tee "$tmp/bench.txt"
mbs() {
	awk -v n="$1" '$1 == n { for (i = 2; i <= NF; i++) if ($(i) == "MB/s") print $(i-1) }' "$tmp/bench.txt" |
		sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
metric() { awk -v n="$1" -v m="$2" '$1 == n { for (i = 2; i <= NF; i++) if ($(i) == m) print $(i-1) }' "$tmp/bench.txt" | head -1; }
ours=$(mbs BenchmarkT1610d)
theirs=$(mbs BenchmarkGoLibaudit)
[[ -n $ours && -n $theirs ]] || die "no MB/s in the benchmark output"
tput_ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.1f", a / b }')
echo "throughput, one core: t1610d $ours MB/s, go-libaudit $theirs MB/s: ${tput_ratio}x (target >= 30x)"
echo "exec events per pass: t1610d $(metric BenchmarkT1610d execs/op), go-libaudit $(metric BenchmarkGoLibaudit execs/op)"

# timed NAME CMD...: run CMD (stdout discarded) under /usr/bin/time -v RUNS
# times; print each run; keep the best wall time and its peak RSS in
# ${NAME}_s and ${NAME}_mib.
timed() {
	local name=$1 best="" rss="" i s k rc
	shift
	show "/usr/bin/time -v $* >/dev/null"
	for ((i = 1; i <= runs; i++)); do
		rc=0
		/usr/bin/time -v -o "$tmp/time.txt" "$@" >/dev/null 2>"$tmp/stderr.txt" || rc=$?
		# Elapsed (wall clock) time (h:mm:ss or m:ss): 0:00.28
		s=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); t = 0; for (j = 1; j <= n; j++) t = t * 60 + p[j]; print t }' "$tmp/time.txt")
		k=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tmp/time.txt")
		printf '  run %d: wall %.2f s, max RSS %.1f MiB%s\n' "$i" "$s" "$(awk -v k="$k" 'BEGIN { print k / 1024 }')" \
			"$([[ $rc -ne 0 ]] && echo ", exit $rc")"
		if [[ -z $best ]] || awk -v a="$s" -v b="$best" 'BEGIN { exit !(a < b) }'; then
			best=$s rss=$k
		fi
	done
	grep -h '^t1610d replay:' "$tmp/stderr.txt" | sed 's/^/  /' || true
	printf -v "${name}_s" '%s' "$best"
	printf -v "${name}_mib" '%s' "$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')"
	printf '  best: wall %.2f s, max RSS %s MiB\n' "$best" "$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')"
}

# 2. The program itself: wall time and peak RSS.
timed replay "$tmp/t1610d" replay "$log"
timed replay_all "$tmp/t1610d" replay --events all "$log"
if ((have_taskset)); then
	timed replay_1cpu taskset -c 0 "$tmp/t1610d" replay "$log"
	timed replay_all_1cpu taskset -c 0 "$tmp/t1610d" replay --events all "$log"
else
	echo "bench.sh: taskset missing (package util-linux): no one-core replay run" >&2
fi

# 3. ausearch on the same file.
if ((have_ausearch)); then
	timed ausearch ausearch -m EXECVE -r -if "$log"
fi

echo
echo "== summary ($(nproc) CPUs, $(go env GOVERSION)) =="
verdict() { awk -v a="$1" -v t="$2" -v dir="$3" 'BEGIN { ok = (dir == "ge") ? (a >= t) : (a <= t); print ok ? "ok" : "MISSED" }'; }
echo "go-libaudit throughput ratio, one core: ${tput_ratio}x (>= 30x): $(verdict "$tput_ratio" 30 ge)"
if ((have_ausearch)); then
	r=$(awk -v a="$ausearch_s" -v b="$replay_s" 'BEGIN { printf "%.1f", a / b }')
	echo "ausearch ${ausearch_s}s / t1610d replay ${replay_s}s: ${r}x (>= 8x): $(verdict "$r" 8 ge)"
	if ((have_taskset)); then
		r=$(awk -v a="$ausearch_s" -v b="$replay_1cpu_s" 'BEGIN { printf "%.1f", a / b }')
		echo "ausearch ${ausearch_s}s / t1610d replay on one core ${replay_1cpu_s}s: ${r}x (>= 8x): $(verdict "$r" 8 ge)"
	fi
else
	echo "ausearch missing: no ausearch ratio"
fi
peak=$replay_all_mib
for v in "$replay_mib" "${replay_1cpu_mib:-0}" "${replay_all_1cpu_mib:-0}"; do
	peak=$(awk -v a="$peak" -v b="$v" 'BEGIN { print (b > a) ? b : a }')
done
echo "peak RSS replaying (any mode): ${peak} MiB (<= 40 MiB): $(verdict "$peak" 40 le)"
