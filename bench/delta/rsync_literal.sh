#!/usr/bin/env bash
# Compares ferry's literal bytes with rsync's "Literal data" on the delta
# benchmark workloads (bench/results/delta.md).
#   bench/delta/rsync_literal.sh BUILD_DIR [WORK_DIR [SIZE_MIB [rsync]]]
# With "rsync" ferry uses rsync's block-size rule (compares the matchers
# alone); without, its own rule (ChooseBlockSize).
# BUILD_DIR holds bench/delta/delta_workloads. For each workload the old file
# is placed in the destination and rsync, forced to use its delta algorithm
# locally (--no-whole-file) and to ignore the size/mtime quick check (-I),
# transfers the new file onto it.
set -euo pipefail
build="${1:?usage: rsync_literal.sh BUILD_DIR [WORK_DIR [SIZE_MIB]]}"
work="${2:-$(mktemp -d)}"
size_mib="${3:-64}"
rule="${4:-}"
mkdir -p "$work"
"$build/bench/delta/delta_workloads" "$work" "$size_mib" $rule >"$work/ferry.txt"
printf '%-10s %6s %14s %14s %14s %8s\n' workload block new_bytes ferry_literal rsync_literal diff
for w in identical pages text nomatch; do
  rm -rf "$work/$w/src" "$work/$w/dst"
  mkdir -p "$work/$w/src" "$work/$w/dst"
  cp "$work/$w/new" "$work/$w/src/f"
  cp "$work/$w/old" "$work/$w/dst/f"
  rsync_lit=$(rsync -I --no-whole-file --stats "$work/$w/src/f" "$work/$w/dst/f" |
    sed -n 's/^Literal data: \([0-9,]*\) bytes.*/\1/p' | tr -d ,)
  cmp -s "$work/$w/src/f" "$work/$w/dst/f" || { echo "rsync result differs for $w" >&2; exit 1; }
  line=$(grep "^$w threads=1 " "$work/ferry.txt")
  new_bytes=$(sed 's/.*new_bytes=\([0-9]*\).*/\1/' <<<"$line")
  block=$(sed 's/.* block=\([0-9]*\).*/\1/' <<<"$line")
  ferry_lit=$(sed 's/.*literal_bytes=\([0-9]*\).*/\1/' <<<"$line")
  if [ "$rsync_lit" -gt 0 ]; then
    diff=$(awk -v f="$ferry_lit" -v r="$rsync_lit" 'BEGIN { printf "%+.2f%%", (f - r) * 100 / r }')
  else
    diff=$([ "$ferry_lit" -eq 0 ] && echo "equal" || echo "n/a")
  fi
  printf '%-10s %6s %14s %14s %14s %8s\n' "$w" "$block" "$new_bytes" "$ferry_lit" "$rsync_lit" "$diff"
done
