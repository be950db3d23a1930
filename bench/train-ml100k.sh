#!/usr/bin/env bash
# Trains ListMLE on MovieLens-100K with the default configuration and appends the command, epochs,
# seconds per epoch and validation/test HR@10, NDCG@10, MRR (model and popularity) to bench/RESULTS.md.
# Usage: bench/train-ml100k.sh [extra rankservice train options...]
set -euo pipefail
cd "$(dirname "$0")/.."
data="${ML100K:-../shared/data/ml-100k}"
out="$(mktemp -d)"
dotnet build src/RankService.Cli -c Release -o "$out/bin" >/dev/null
cmd=(dotnet "$out/bin/rankservice.dll" train --data "$data" --out "$out/runs" "$@")
"${cmd[@]}"
result="$(ls -d "$out"/runs/*/ | tail -n 1)result.json"
python3 - "$result" "bench/train-ml100k.sh $*" <<'PY'
import json, sys, datetime, os
r = json.load(open(sys.argv[1]))
cmd = sys.argv[2].strip()
def row(name, m):
    return f"| {name} | {m['HR@10']:.4f} | {m['NDCG@10']:.4f} | {m['MRR']:.4f} |"
lines = [
    f"### ml-100k, {r['options']['loss']}: `{cmd}`",
    "",
    f"{datetime.date.today()}, nproc {os.cpu_count()}; epochs run {r['epochsRun']} (best {r['bestEpoch']}), "
    f"{r['secondsPerEpoch']:.2f} s per epoch (training + validation).",
    "",
    "| model, split | HR@10 | NDCG@10 | MRR |",
    "|---|---|---|---|",
    row(f"{r['options']['loss']}, validation", r['validation']),
    row("popularity, validation", r['popularityValidation']),
    row(f"{r['options']['loss']}, test", r['test']),
    row("popularity, test", r['popularityTest']),
    "",
]
with open("bench/RESULTS.md", "a") as f:
    f.write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
rm -rf "$out"
