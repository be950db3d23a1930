#!/usr/bin/env bash
# Native-crash check: the code that touches tensors outside a training batch (Adam state save/load, module save,
# scorer construction, head export) plus a short training run, with another thread collecting garbage without pause,
# in a Release build (optimised code is what lets the finalizer free a tensor chain's intermediate mid-call; the
# Debug build the tests use keeps them alive). RUNS runs; each either survives or dies with a signal.
# Usage: bench/gc-stress.sh        env: RUNS (5), ITERATIONS (300), NO_APPEND=1
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib/tools.sh
runs="${RUNS:-5}" iterations="${ITERATIONS:-300}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
tools_build "$out"
survived=0 crashed=0 codes=()
for r in $(seq 1 "$runs"); do
  set +e
  bench_tool gc-stress --iterations "$iterations" >"$out/run-$r.log" 2>&1
  code=$?
  set -e
  codes+=("$code")
  if [[ $code -eq 0 ]] && grep -q '^RESULT survived=true' "$out/run-$r.log"; then survived=$((survived + 1)); else crashed=$((crashed + 1)); fi
  echo "run $r: exit $code $(grep '^RESULT' "$out/run-$r.log" || true)" >&2
done
cmd="bench/gc-stress.sh"; [[ -n "${RUNS:-}${ITERATIONS:-}" ]] && cmd="RUNS=$runs ITERATIONS=$iterations $cmd"
table="$(printf '\n### Tensor lifetimes under constant garbage collection (Release): `%s`\n\n%s, nproc %s; %s iterations per run, then a 3-epoch training run.\n\n| runs | survived | crashed | exit codes |\n|---|---|---|---|\n| %s | %s | %s | %s |\n' \
  "$cmd" "$(date -u +%F)" "$(nproc)" "$iterations" "$runs" "$survived" "$crashed" "${codes[*]}")"
echo "$table"
[[ -n "${NO_APPEND:-}" ]] || echo "$table" >> bench/RESULTS.md
[[ $crashed -eq 0 ]]
