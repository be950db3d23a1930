#!/usr/bin/env bash
# Training throughput of ListMLE on ml-100k at the defaults (200 negatives) and at 2x the negatives (400):
# seconds per epoch, scored items per second, and the split between data preparation (the batcher building padded
# lists) and tensor work (forward, loss, backward, Adam), plus full-catalogue validation time. EPOCHS epochs per
# setting; the first is a warm-up (JIT, allocator) and is left out of min / median / max.
# Target (issue 6): an epoch in at most 0.5 s at the defaults. Run it on an otherwise idle machine.
# Usage: bench/train-throughput.sh        env: ML100K (data folder), EPOCHS (6), NEGATIVES ("200 400"), NO_APPEND=1
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib/service.sh
source bench/lib/tools.sh
data="$(realpath "${ML100K:-../shared/data/ml-100k}")"
epochs="${EPOCHS:-6}" negatives="${NEGATIVES:-200 400}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
tools_build "$out"
rows=()
for n in $negatives; do
  bench_tool epoch --data "$data" --epochs "$epochs" --negatives "$n" | tee "$out/epoch-$n.log" >&2
  mapfile -t lines < <(grep '^RESULT epoch=' "$out/epoch-$n.log" | tail -n +2)
  [[ ${#lines[@]} -gt 0 ]] || mapfile -t lines < <(grep '^RESULT epoch=' "$out/epoch-$n.log")
  col() { local v=(); for l in "${lines[@]}"; do v+=("$(field "$1" "$l")"); done; stats "${v[@]}"; }
  rows+=("| $n | $(col train_s) | $(col items_per_s) | $(col prep_s) | $(col tensor_s) | $(col prep_share) | $(col eval_s) |")
done
cmd="bench/train-throughput.sh"; [[ -n "${EPOCHS:-}${NEGATIVES:-}" ]] && cmd="EPOCHS=$epochs NEGATIVES=\"$negatives\" $cmd"
{
  echo
  echo "### Training throughput, ml-100k, listmle (defaults, dim 64, batch 64): \`$cmd\`"
  echo
  echo "$(date -u +%F), nproc $(nproc), torch threads = nproc; $epochs epochs per row, first left out; min / median / max over epochs."
  echo "train = batcher (data preparation) + tensor work (copy into tensors, forward, loss, backward, clip, Adam); validation = full-catalogue evaluation of every user. Target: epoch <= 0.5 s at 200 negatives."
  echo
  echo "| negatives | train s/epoch | scored items/s | data prep s | tensor s | prep share | validation s |"
  echo "|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} >"$out/table.md"
cat "$out/table.md"
[[ "${NO_APPEND:-}" == 1 ]] || cat "$out/table.md" >>bench/RESULTS.md
