#!/usr/bin/env bash
# The cold-users protocol on MovieLens-100K with the README's best configuration (softmax, lr 3e-3, weight decay 1e-4,
# lists up to 1000, 80 epochs, patience 8): one run under cold-users (10 % of users never trained on, folded in from
# 80 % of their items), one under cold-users-warm (the same split with that 80 % trained on), then the fold-in's
# latency for 20-item sessions. Appends the table cold vs warm vs popularity (NDCG@10, Recall@10 on the held-out
# users' other 20 %) to bench/RESULTS.md.
# Usage: bench/cold-users.sh [extra rankservice train options, given to both runs...]
set -euo pipefail
cd "$(dirname "$0")/.."
data="${ML100K:-../shared/data/ml-100k}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
dotnet build src/RankService.Cli -c Release -o "$out/bin" >/dev/null
dotnet build bench/RankService.Benchmarks -c Release -o "$out/bench" >/dev/null
best=(--loss softmax --lr 3e-3 --weight-decay 1e-4 --max-list-size 1000 --epochs 80 --patience 8)
for protocol in cold-users cold-users-warm; do
  dotnet "$out/bin/rankservice.dll" train --data "$data" --out "$out/$protocol" --protocol "$protocol" "${best[@]}" "$@"
done
cold="$(ls -d "$out"/cold-users/*/ | tail -n 1)"
warm="$(ls -d "$out"/cold-users-warm/*/ | tail -n 1)"
latency="$(dotnet "$out/bench/RankService.Benchmarks.dll" fold-in --checkpoint "$(ls "$cold"checkpoints/best*.manifest.json | head -n 1)" --data "$data" --items 20 | grep '^RESULT')"
python3 - "${cold}result.json" "${warm}result.json" "$latency" "bench/cold-users.sh $*" <<'PY'
import json, sys, datetime, os
cold, warm = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
latency = dict(kv.split("=", 1) for kv in sys.argv[3].split()[1:])
cmd = sys.argv[4].strip()
c, w, p = cold["test"], warm["test"], cold["popularityTest"]
pw = warm["popularityTest"]
lines = [
    f"### ml-100k, cold-users protocol, softmax (README's best configuration): `{cmd}`",
    "",
    f"{datetime.date.today()}, nproc {os.cpu_count()}. Test = the 20 % held out of each held-out user (10 % of the users); "
    f"cold: epochs run {cold['epochsRun']} (best {cold['bestEpoch']}), warm: {warm['epochsRun']} (best {warm['bestEpoch']}).",
    "",
    "| model | NDCG@10 | Recall@10 |",
    "|---|---|---|",
    f"| cold (folded in from 80 %) | {c['NDCG@10']:.4f} | {c['Recall@10']:.4f} |",
    f"| warm (80 % trained in) | {w['NDCG@10']:.4f} | {w['Recall@10']:.4f} |",
    f"| popularity (cold run's train counts) | {p['NDCG@10']:.4f} | {p['Recall@10']:.4f} |",
    f"| popularity (warm run's train counts) | {pw['NDCG@10']:.4f} | {pw['Recall@10']:.4f} |",
    "",
    f"cold / warm NDCG@10 = {c['NDCG@10'] / w['NDCG@10']:.3f} (target >= 0.85); cold / popularity = {c['NDCG@10'] / p['NDCG@10']:.2f} (target >= 1.8).",
    f"Fold-in + scoring + top 10 for a 20-item session, one thread: p50 {latency['p50_ms']} ms, p99 {latency['p99_ms']} ms, "
    f"max {latency['max_ms']} ms ({latency['repeats']} sessions, {latency['mean_iterations']} L-BFGS iterations on average).",
    "",
]
with open("bench/RESULTS.md", "a") as f:
    f.write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
