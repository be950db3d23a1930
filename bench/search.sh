#!/usr/bin/env bash
# Issue 19's benchmark: on ml-100k and on a MovieLens CSV release written by the synthetic generator (ml-100k's shape
# by default), under both protocols, the test NDCG@10 of: a search job of TRIALS trials (the best trial on validation),
# the default configuration, the served blend with EASE ("blend": "ease") and EASE alone (the blend's own EASE part,
# lambda tuned on validation). All through the service's HTTP API, every job with "promote": "never" so nothing
# competes for serving. The served model should never be below EASE where a blend can be served.
# Usage: bench/search.sh     env: ML100K (data folder), TRIALS (12), SEED (1), PROTOCOLS ("temporal recbole"),
#                                 DATASETS ("ml-100k synthetic-csv"), EPOCHS (unset = the configured defaults), NO_APPEND=1
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib/service.sh
source bench/lib/tools.sh
ml100k="$(realpath "${ML100K:-../shared/data/ml-100k}")"
trials="${TRIALS:-12}" seed="${SEED:-1}" protocols="${PROTOCOLS:-temporal recbole}" datasets="${DATASETS:-ml-100k synthetic-csv}"
epochs_field=""; [[ -n "${EPOCHS:-}" ]] && epochs_field="\"epochs\": $EPOCHS, "
out="$(mktemp -d)"
cleanup() { svc_stop; rm -rf "$out"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

svc_build "$out"
tools_build "$out"
mkdir -p "$out/data"
ln -s "$ml100k" "$out/data/ml-100k"
bench_tool synth --out "$out/data/synthetic-csv" --users 943 --items 1682 --ratings 100000 --seed 19 >&2
svc_start "$out" "$out/artifacts" "$out/data" Data__Datasets__4=synthetic-csv Jobs__WorkerCount=1

# The search space: the options the quality sweeps found to matter most, 3 x 4 x 3 = 36 configurations.
space='{"learningRate": [0.001, 0.003, 0.01], "weightDecay": [0, 0.0001, 0.001, 0.01], "embeddingDim": [32, 64, 128]}'
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
test_ndcg() { curl -sf "$BENCH_URL/jobs/$1" | json '"%.4f" % d["test"]["NDCG@10"]'; }

rows=()
for data in $datasets; do
  for protocol in $protocols; do
    base="{\"dataset\": \"$data\", \"protocol\": \"$protocol\", ${epochs_field}\"promote\": \"never\""
    search="$(svc_post_job "$base, \"search\": {\"trials\": $trials, \"space\": $space, \"seed\": $seed}}")"
    default="$(svc_post_job "$base}")"
    blend="$(svc_post_job "$base, \"blend\": \"ease\"}")"
    svc_wait_job "$search" succeeded 86400
    svc_wait_job "$default" succeeded 86400
    svc_wait_job "$blend" succeeded 86400
    best="$(curl -sf "$BENCH_URL/jobs/$search" | json 'd["bestTrial"]')"
    values="$(curl -sf "$BENCH_URL/jobs/$best" | json '", ".join("%s %s" % (k, v) for k, v in d["trialValues"].items())')"
    parts="$(curl -sf "$BENCH_URL/models/$blend" | json '(lambda b: "%.4f | %.4f | %g | %g" % (b["blended"]["test"]["NDCG@10"], b["ease"]["test"]["NDCG@10"], b["weight"], b["easeLambda"]))(d["manifest"]["blend"])')"
    rows+=("| $data | $protocol | $(test_ndcg "$search") ($values) | $(test_ndcg "$default") | $parts |")
    echo "${rows[-1]}" >&2
  done
done

cmd="bench/search.sh"; [[ -n "${TRIALS:-}${EPOCHS:-}${PROTOCOLS:-}${DATASETS:-}" ]] && cmd="TRIALS=$trials EPOCHS=${EPOCHS:-} PROTOCOLS=\"$protocols\" DATASETS=\"$datasets\" $cmd"
{
  echo
  echo "### Search, defaults, served blend and EASE: \`$cmd\`"
  echo
  echo "$(date -u +%F), nproc $(nproc), one training worker; test NDCG@10 (full catalogue). Search: $trials trials drawn (seed $seed) from $space, the best on validation NDCG@10. Blend: the two-tower at the configured defaults blended with EASE, weight w (two-tower; the smallest within one paired standard error of the best on validation NDCG@10) and EASE's lambda chosen on validation. synthetic-csv: \`synth --users 943 --items 1682 --ratings 100000 --seed 19\` (a CSV release)."
  echo
  echo "| data set | protocol | search (best trial) | defaults | served blend | EASE | w | lambda |"
  echo "|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} >"$out/table.md"
cat "$out/table.md"
[[ "${NO_APPEND:-}" == 1 ]] || cat "$out/table.md" >>bench/RESULTS.md
