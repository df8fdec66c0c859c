#!/usr/bin/env bash
# noise.sh [ROUNDS] — ordinary activity of a host that also runs containers: text tools, shells,
# and every few rounds the harmless side of docker and kubectl. Nothing here should alert.
rounds=${1:-10}
scratch=$(mktemp -d)
cd "$scratch" || exit 1
printf 'web-1 running\nweb-2 exited\ndb-1 running\n' >ps.txt
for ((r = 1; r <= rounds; r++)); do
  ls -l /etc/hostname /etc/os-release >/dev/null
  grep -c running ps.txt >/dev/null
  sed -n "s/exited/restarted $r/p" ps.txt >/dev/null
  awk '$2 == "running" {n++} END {print n}' ps.txt >/dev/null
  sh -c 'for s in a b; do echo "round $s"; done' >/dev/null
  find /etc/default -maxdepth 1 -type f -name '*' >/dev/null
  env TZ=UTC date '+%F %T' >/dev/null
  head -n 1 ps.txt | cut -d' ' -f1 >/dev/null
  if ((r % 4 == 1)); then
    docker ps --format '{{.Names}}' >/dev/null 2>&1
    docker images >/dev/null 2>&1
    kubectl get pods -n default -o wide >/dev/null 2>&1
  fi
  if ((r % 6 == 3)); then
    docker run --rm -v "$PWD:/src" -w /src golang:1.22 go build ./... >/dev/null 2>&1
    docker logs --tail 20 web >/dev/null 2>&1
  fi
done
cd / && rm -rf "$scratch"
