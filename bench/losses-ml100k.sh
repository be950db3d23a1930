#!/usr/bin/env bash
# Trains every loss of the family on MovieLens-100K with the same model (dot head, 64-dim, item bias), the same
# budget (50 epochs, patience 8 on validation NDCG@10) and the same seed, and appends one table to
# bench/RESULTS.md: loss, validation and test HR@10 / NDCG@10 / MRR, seconds per epoch, epochs to the best
# validation. Each loss runs with its own weight decay (Adam's coupled L2 scales against the loss's gradient size;
# see the README's loss table); everything else is the CLI default.
# Usage: bench/losses-ml100k.sh [extra rankservice train options for every run, e.g. a smaller budget:
#        --epochs 10 --patience 0 --max-list-size 100 --negatives 100]
set -euo pipefail
cd "$(dirname "$0")/.."
data="${ML100K:-../shared/data/ml-100k}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
dotnet build src/RankService.Cli -c Release -o "$out/bin" >/dev/null

# loss name | options for that loss
runs=(
  "listmle|--loss listmle --weight-decay 1e-3"
  "pairwise-logistic|--loss pairwise-logistic --weight-decay 1e-4"
  "hybrid (listmle + pairwise-logistic)|--loss hybrid --weight-decay 1e-3"
  "listnet|--loss listnet --weight-decay 1e-4"
  "softmax (full catalogue)|--loss softmax --weight-decay 1e-4"
  "softmax (200 sampled, log-q)|--loss softmax --softmax-samples 200 --weight-decay 1e-4"
  "approx-ndcg|--loss approx-ndcg --weight-decay 1e-5"
  "lambda-loss (ndcg-loss2++)|--loss lambda-loss --weight-decay 1e-4"
  "pairwise-hinge|--loss pairwise-hinge --weight-decay 1e-4"
  "triplet (dot, semi-hard)|--loss triplet --weight-decay 1e-4"
)
results=()
for run in "${runs[@]}"; do
  name="${run%%|*}"
  read -r -a options <<< "${run#*|}"
  folder="$out/runs/$(printf '%02d' "${#results[@]}")"
  echo "== $name: rankservice train ${options[*]} $*"
  dotnet "$out/bin/rankservice.dll" train --data "$data" --out "$folder" "${options[@]}" "$@" | tail -n 8
  results+=("$name|${options[*]}|$(ls -d "$folder"/*/ | tail -n 1)result.json")
done

python3 - "bench/losses-ml100k.sh $*" "${results[@]}" <<'PY'
import json, sys, datetime, os
cmd = sys.argv[1].strip()
rows = []
for entry in sys.argv[2:]:
    name, options, path = entry.split("|")
    r = json.load(open(path))
    rows.append((name, options, r))
best = max(rows, key=lambda x: x[2]["test"]["NDCG@10"])
pop = rows[0][2]
lines = [
    f"### ml-100k, every loss: `{cmd}`",
    "",
    f"{datetime.date.today()}, nproc {os.cpu_count()}; the same model, budget and seed for each loss (CLI defaults: "
    "dot head, 64-dim, 50 epochs, patience 8, seed 42, unless the command above overrides them); per-loss options in "
    "the second column. Seconds per epoch include validation.",
    "",
    "| loss | options | val HR@10 | val NDCG@10 | val MRR | test HR@10 | test NDCG@10 | test MRR | s/epoch | best epoch (of run) |",
    "|---|---|---|---|---|---|---|---|---|---|",
]
for name, options, r in rows:
    v, t = r["validation"], r["test"]
    lines.append(f"| {name} | `{options}` | {v['HR@10']:.4f} | {v['NDCG@10']:.4f} | {v['MRR']:.4f} | "
                 f"{t['HR@10']:.4f} | {t['NDCG@10']:.4f} | {t['MRR']:.4f} | {r['secondsPerEpoch']:.2f} | {r['bestEpoch']} ({r['epochsRun']}) |")
pv, pt = pop["popularityValidation"], pop["popularityTest"]
lines.append(f"| popularity | | {pv['HR@10']:.4f} | {pv['NDCG@10']:.4f} | {pv['MRR']:.4f} | "
             f"{pt['HR@10']:.4f} | {pt['NDCG@10']:.4f} | {pt['MRR']:.4f} | | |")
ranked = sorted(rows, key=lambda x: -x[2]["test"]["NDCG@10"])
second = ranked[1]
lines += ["", f"Best test NDCG@10: {best[0]} ({best[2]['test']['NDCG@10']:.4f}), "
          f"{best[2]['test']['NDCG@10'] - second[2]['test']['NDCG@10']:+.4f} over the next, {second[0]} "
          f"({second[2]['test']['NDCG@10']:.4f}).", ""]
with open("bench/RESULTS.md", "a") as f:
    f.write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
