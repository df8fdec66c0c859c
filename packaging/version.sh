#!/bin/sh
# Prints the package version from git describe, in a form deb and rpm both
# order correctly:
#   on tag v1.2.3                   1.2.3
#   4 commits after v1.2.3          1.2.3+git4.gabc1234
#   no release tag yet              0.0.0+git<commits>.g<hash>
#   a pre-release tag v1.3.0-rc1   1.3.0~rc1
#   uncommitted changes             ... with .dirty appended
# (no '-': rpm forbids it in a version; '~' sorts before a release, '+' after).
set -eu
cd "$(dirname "$0")/.."
d=$(git describe --tags --match 'v[0-9]*' --long --dirty 2>/dev/null) || d=""
dirty=""
case $d in *-dirty) dirty=.dirty; d=${d%-dirty} ;; esac
if [ -n "$d" ]; then
  hash=${d##*-}; d=${d%-*}
  n=${d##*-}; tag=${d%-*}
  v=$(printf %s "${tag#v}" | tr - '~')   # v1.3.0-rc1: 1.3.0~rc1, before 1.3.0
  [ "$n" = 0 ] || v="$v+git$n.$hash"
else
  n=$(git rev-list --count HEAD 2>/dev/null || echo 0)
  hash=g$(git rev-parse --short=7 HEAD 2>/dev/null || echo 0000000)
  v="0.0.0+git$n.$hash"
  git diff --quiet HEAD 2>/dev/null || dirty=.dirty
fi
echo "$v$dirty"
