#!/usr/bin/env bash
# argv.sh ID — build one hard command line as a bash array, record it byte for byte in
# expected/ID.argv (every argument, argv[0] first, each followed by a NUL byte), then exec it.
# The content is deterministic, so every capture of a scenario execs the same bytes.
# Run by capture.sh (see scenarios.tsv); expected/ is next to this script unless T1610_EXPECTED says.
set -euo pipefail
id=$1
expected=${T1610_EXPECTED:-$(cd "$(dirname "$0")" && pwd)/expected}

# varied SIZE: SIZE bytes drawn from ALPHABET by a fixed linear congruential generator.
varied() {
  local size=$1 alphabet=$2 state=${3:-12345} out="" i
  for ((i = 0; i < size; i++)); do
    state=$(((state * 1103515245 + 12345) % 2147483648))
    out+=${alphabet:$(((state >> 16) % ${#alphabet})):1}
  done
  printf '%s' "$out"
}

case $id in
  l01)  # ~1500 -e pairs, well over 40 KB: the flags land deep in a many-record EXECVE event
    argv=(docker run)
    for ((n = 1; n <= 1500; n++)); do
      argv+=(-e "V$n=xxxxxxxxxxxxxxxxxxxxxxxx")
      if ((n == 880)); then argv+=(--privileged); fi
      if ((n == 1190)); then argv+=(-v /:/host); fi
    done
    argv+=(alpine:3.19 sh -c 'id; ls /host')
    ;;
  l02)  # one argument longer than an EXECVE record: written as a3_len= and a3[0]..a3[k] chunks
    big=$(varied 20000 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,:;=/+-_' 7)
    argv=(docker run --rm -e "BIG=$big" --cap-add=SYS_ADMIN alpine:3.19 true)
    ;;
  l03)  # bytes that must be hex-encoded, an empty argument, a 9000-byte argument
    long=$(varied 9000 'abcdefghijklmnopqrstuvwxyz0123456789' 99)
    argv=(podman run --privileged --rm
      --name 'two words'
      -e $'MOTD=line one\nline two'
      --label 'title=say "hi"'
      --label $'cols=a\tb'
      -e $'RAW=\xff\xfe'
      -e 'GREETING=ünïcødé'
      -e "PAYLOAD=$long"
      alpine:3.19 sh -c 'printf "[%s]" "$@"' sh '' 'ünïcødé' $'\xff\xfe' "$long")
    ;;
  l04)  # the plain case, as a control
    argv=(docker run --privileged -v /:/host alpine sh)
    ;;
  *) echo "argv.sh: unknown scenario $id" >&2; exit 2 ;;
esac

printf '%s\0' "${argv[@]}" >"$expected/$id.argv"
exec "${argv[@]}"
