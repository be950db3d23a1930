#!/usr/bin/env bash
# The recommendation endpoints under load (issue 18): starts the host on 127.0.0.1 with a model trained on ml-100k (a
# short job through the API, embedding size 64 as rank-load.sh), then drives each endpoint of bench/lib/recs.lua with
# wrk (1 thread) at CONNECTIONS (16), DURATION s after a WARMUP s warm-up, REPEATS times each.
# Targets, idle at 16 connections: filtered ranking >= 80 % of plain ranking's rps; similar and popular >= 20,000 rps,
# p99 <= 2 ms; session (20 items) p99 <= 10 ms; batch of 100 users >= 5 x the users/s of single rankings.
# Usage: bench/recs-load.sh   env: ML100K (data folder), REPEATS (3), DURATION (15), WARMUP (5), CONNECTIONS (16),
#        ENDPOINTS ("ranking filtered similar popular session batch"), BENCH_PORT (5391), NO_APPEND=1,
#        DATASET (ml-100k; "synthetic" trains the built-in set, e.g. Data__SyntheticSet__Users=943
#        Data__SyntheticSet__Items=1682 for the same shape: the host reads those from its environment)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib/service.sh
data="$(realpath "${ML100K:-../shared/data/ml-100k}")"
repeats="${REPEATS:-3}" duration="${DURATION:-15}" warmup="${WARMUP:-5}" connections="${CONNECTIONS:-16}"
endpoints="${ENDPOINTS:-ranking filtered similar popular session batch}"
export MAX_USER=943 MAX_ITEM=1682 BATCH="${BATCH:-100}"
out="$(mktemp -d)"
cleanup() { svc_stop; rm -rf "$out"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

ensure_wrk
echo "building the host" >&2
svc_build "$out"
svc_dirs "$out" "$data"
dataset="${DATASET:-ml-100k}"
export Data__DefaultDataset="$dataset" # the endpoints' requests name no data set
svc_start "$out" "$out/artifacts" "$out/data"
svc_train_reference "$dataset"

declare -A rps p50 p99 pmax errs
for endpoint in $endpoints; do
  export ENDPOINT="$endpoint"
  wrk -t1 -c"$connections" -d"${warmup}s" -s bench/lib/recs.lua "$BENCH_URL" >/dev/null
  for r in $(seq 1 "$repeats"); do
    line="$(wrk -t1 -c"$connections" -d"${duration}s" --timeout 5s -s bench/lib/recs.lua "$BENCH_URL" | grep '^RESULT')"
    eval "$(sed -E 's/^RESULT //; s/([a-z0-9_]+)=/local_\1=/g' <<<"$line")"
    rps[$endpoint]+="$local_rps "; p50[$endpoint]+="$local_p50_ms "; p99[$endpoint]+="$local_p99_ms "; pmax[$endpoint]+="$local_max_ms "
    errs[$endpoint]=$(( ${errs[$endpoint]:-0} + local_errors ))
    echo "$endpoint run $r: $line" >&2
  done
done

cmd="bench/recs-load.sh"; [[ "${REPEATS:-}${DURATION:-}${CONNECTIONS:-}${ENDPOINTS:-}${DATASET:-}" != "" ]] && cmd="REPEATS=$repeats DURATION=$duration CONNECTIONS=$connections ENDPOINTS=\"$endpoints\" DATASET=$dataset $cmd"
{
  echo
  echo "### Recommendation endpoints under load, $dataset, wrk 1 thread, $connections connections: \`$cmd\`"
  echo
  echo "$(date -u +%F), nproc $(nproc); ${duration} s per run after a ${warmup} s warm-up, $repeats runs each; min / median / max over the runs. batch: $BATCH users per request (users/s = requests/s x $BATCH)."
  echo
  echo "| endpoint | requests/s | p50 ms | p99 ms | max ms | errors |"
  echo "|---|---|---|---|---|---|"
  for endpoint in $endpoints; do
    echo "| $endpoint | $(stats ${rps[$endpoint]}) | $(stats ${p50[$endpoint]}) | $(stats ${p99[$endpoint]}) | $(stats ${pmax[$endpoint]}) | ${errs[$endpoint]} |"
  done
} >"$out/table.md"
cat "$out/table.md"
[[ "${NO_APPEND:-}" == 1 ]] || cat "$out/table.md" >>bench/RESULTS.md
