#!/usr/bin/env bash
# Approximate top-k (issue 17), end to end through the service: writes a synthetic set of the chosen shape (SyntheticScale)
# unless it is already there, starts the host, trains a 1-epoch job through the API (sampled softmax with log-q
# correction, lazy embedding updates) while sampling the host's RSS every second, waits until GET /models says the
# model's index serves (built when the job finished: build seconds and recall@10 against the exact ranking over 1,000
# sampled users, seen items excluded), then drives GET /users/{random known user}/ranking?k=10 with wrk (1 thread,
# 16 connections, DURATION s after a 5 s warm-up) through the index and again with exact=true.
#   SHAPE=ml-25m  (162,541 users, 59,047 items, 25M ratings)   targets: p99 <= 3 ms at 16 connections, recall@10 >= 0.98
#   SHAPE=shop-1m (200,000 users, 1,000,000 items, 20M)          targets: build <= 180 s, >= 2,000 rps, p99 <= 10 ms,
#                                                                 recall@10 >= 0.95; host RSS, job time and peak RSS given
# Usage: SHAPE=shop-1m bench/ann.sh   env: USERS/ITEMS/RATINGS (a smaller set of that shape), DURATION (15),
#        EVAL_USERS (validation/test on a user sample: 0 = all for ml-25m, 5,000 for shop-1m), SAMPLES (softmax
#        candidates per batch, 8192), ANN (extra host settings, e.g. "Serving__Ann__ExpansionSearch=128"), NO_APPEND=1
#   KEEP=DIR   keeps the trained run in DIR (DIR/artifacts: the host's artifacts folder, checkpoint and index; DIR/run.env:
#              the shape, the set and the job's figures); DIR must not exist or be empty.
#   REUSE=DIR  the serving half only, on a run kept with KEEP: starts the host on DIR/artifacts (no training), waits until
#              GET /models says the index serves (loaded from its file, or rebuilt when missing), then wrk index vs exact
#              and RSS. SHAPE and the set come from DIR/run.env (the set is written again when /tmp lost it).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib/service.sh
source bench/lib/tools.sh
keep="${KEEP:-}" reuse="${REUSE:-}"
[[ -n "$keep" && -n "$reuse" ]] && { echo "KEEP and REUSE exclude each other" >&2; exit 2; }
if [[ -n "$reuse" ]]; then
  reuse="$(realpath "$reuse")"
  [[ -f "$reuse/run.env" && -d "$reuse/artifacts" ]] || { echo "REUSE=$reuse holds no kept run (run.env, artifacts/)" >&2; exit 2; }
  # shellcheck disable=SC1091
  source "$reuse/run.env"   # kept_shape kept_users kept_items kept_ratings kept_eval_users kept_samples kept_job kept_job_s kept_job_peak_mb kept_cmd
  SHAPE="$kept_shape" USERS="$kept_users" ITEMS="$kept_items" RATINGS="$kept_ratings"
fi
if [[ -n "$keep" ]]; then
  mkdir -p "$keep"; keep="$(realpath "$keep")"
  [[ -z "$(ls -A "$keep")" ]] || { echo "KEEP=$keep is not empty" >&2; exit 2; }
fi
shape="${SHAPE:-ml-25m}"
case "$shape" in
  ml-25m) users=162541 items=59047 ratings=25000095 eval_users="${EVAL_USERS:-0}" ;;
  shop-1m) users=200000 items=1000000 ratings=20000000 eval_users="${EVAL_USERS:-5000}" ;;
  *) echo "SHAPE must be ml-25m or shop-1m" >&2; exit 2 ;;
esac
users="${USERS:-$users}" items="${ITEMS:-$items}" ratings="${RATINGS:-$ratings}"
duration="${DURATION:-15}" samples="${SAMPLES:-8192}"
set_dir="${SCALE_DIR:-/tmp/rankservice-$shape-$users-$items-$ratings}"
out="$(mktemp -d)"
sampler=""
cleanup() { [[ -n "$sampler" ]] && kill "$sampler" 2>/dev/null; svc_stop; rm -rf "$out"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

ensure_wrk
tools_build "$out"
if [[ ! -f "$set_dir/.complete" ]]; then
  rm -rf "$set_dir"
  echo "writing the $shape set to $set_dir" >&2
  bench_tool synth --shape "$shape" --out "$set_dir" --users "$users" --items "$items" --ratings "$ratings" >&2
  touch "$set_dir/.complete"
fi
svc_build "$out"
artifacts="$out/artifacts"
[[ -n "$keep" ]] && artifacts="$keep/artifacts"
[[ -n "$reuse" ]] && artifacts="$reuse/artifacts"
mkdir -p "$out/data" "$artifacts"
ln -s "$set_dir" "$out/data/$shape"
# shellcheck disable=SC2086
svc_start "$out" "$artifacts" "$out/data" Data__Datasets__4="$shape" Data__DefaultDataset="$shape" ${ANN:-}

if [[ -n "$reuse" ]]; then
  job="$kept_job" job_s="$kept_job_s" job_peak_mb="$kept_job_peak_mb"
  echo "reusing job $job of $reuse (trained in $job_s s, peak RSS $job_peak_mb MB)" >&2
else

# Peak RSS of the host while the job runs (VmHWM of the process).
( while kill -0 "$SVC_PID" 2>/dev/null; do awk '/^VmHWM:/ {print $2}' "/proc/$SVC_PID/status" >"$out/hwm" 2>/dev/null; sleep 1; done ) &
sampler=$!
body="{\"dataset\":\"$shape\",\"epochs\":1,\"loss\":\"softmax\",\"softmaxSamples\":$samples,\"embeddingDim\":64,\"batchSize\":256,\"maxListSize\":200,\"embeddingUpdates\":\"lazy\",\"evaluationUsers\":$eval_users,\"patience\":0}"
echo "training: $body" >&2
clock=$SECONDS
job="$(svc_post_job "$body")"
svc_wait_job "$job" succeeded 7200
job_s=$((SECONDS - clock))
job_peak_mb=$(( $(cat "$out/hwm") / 1024 ))
echo "the job took $job_s s (load, split, epoch, validation, test, baseline, checkpoints, index build + recall); peak RSS $job_peak_mb MB" >&2
kill "$sampler" 2>/dev/null; sampler=""
if [[ -n "$keep" ]]; then
  # Written as soon as the job succeeded, so a failure in the serving half still leaves a run REUSE can serve.
  kept_cmd="KEEP=$keep SHAPE=$shape USERS=$users ITEMS=$items RATINGS=$ratings EVAL_USERS=$eval_users SAMPLES=$samples bench/ann.sh"
  printf '%s\n' "kept_shape=$shape" "kept_users=$users" "kept_items=$items" "kept_ratings=$ratings" "kept_eval_users=$eval_users" \
    "kept_samples=$samples" "kept_job=$job" "kept_job_s=$job_s" "kept_job_peak_mb=$job_peak_mb" "kept_cmd=$(printf '%q' "$kept_cmd")" >"$keep/run.env"
fi
fi

index=""
for _ in $(seq 1 1200); do
  index="$(curl -sf "$BENCH_URL/models" | python3 -c "import json,sys; m=[x for x in json.load(sys.stdin) if x['jobId']=='$job'][0]['index']; print(' '.join(f'{k}={v}' for k,v in (m or {}).items()))" || true)"
  [[ "$index" == *"state=serving"* ]] && break
  [[ "$index" == *"state=failed"* || "$index" == *"state=exact"* ]] && { echo "no index: $index" >&2; exit 1; }
  sleep 1
done
echo "index: $index" >&2
[[ "$index" == *"state=serving"* ]] || { echo "job $job's model is not serving through its index after 1,200 s" >&2; exit 1; }
rss_idle_mb=$(( $(awk '/^VmRSS:/ {print $2}' "/proc/$SVC_PID/status") / 1024 ))

export MAX_USER="$users"
declare -A line
for mode in index exact; do
  if [[ "$mode" == exact ]]; then export RANK_QUERY="&exact=true"; else export RANK_QUERY=""; fi
  curl -sf "$BENCH_URL/users/1/ranking?k=10$RANK_QUERY" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("approximate:", r["approximate"])' >&2
  wrk -t1 -c16 -d5s -s bench/lib/random-user.lua "$BENCH_URL" >/dev/null
  line[$mode]="$(wrk -t1 -c16 -d"${duration}s" --timeout 5s -s bench/lib/random-user.lua "$BENCH_URL" | grep '^RESULT')"
  echo "$mode: ${line[$mode]}" >&2
done
rss_mb=$(( $(awk '/^VmRSS:/ {print $2}' "/proc/$SVC_PID/status") / 1024 ))
ifield() { sed -nE "s/.*(^| )$1=([^ ]*).*/\2/p" <<<"$index"; }

cmd="SHAPE=$shape bench/ann.sh"; [[ -n "${USERS:-}${ITEMS:-}${RATINGS:-}${EVAL_USERS:-}${ANN:-}" ]] && cmd="SHAPE=$shape USERS=$users ITEMS=$items RATINGS=$ratings EVAL_USERS=$eval_users ${ANN:+ANN=\"$ANN\" }bench/ann.sh"
[[ -n "$keep" ]] && cmd="KEEP=$keep $cmd"
[[ -n "$reuse" ]] && cmd="REUSE=$reuse ${ANN:+ANN=\"$ANN\" }bench/ann.sh (serving half of: $kept_cmd)"
{
  echo
  echo "### Approximate top-k, $shape shape ($users users, $items items, $ratings ratings): \`$cmd\`"
  echo
  echo "$(date -u +%F), nproc $(nproc), load average at the end $(cut -d' ' -f1-3 /proc/loadavg). wrk 1 thread, 16 connections, ${duration} s after a 5 s warm-up."
  echo
  echo "| measure | reached |"
  echo "|---|---|"
  echo "| 1-epoch job through the API (POST to succeeded, index build and recall included)${reuse:+, from the kept run} | $job_s s, host peak RSS $job_peak_mb MB |"
  echo "| index: build (connectivity $(ifield connectivity), expansion add $(ifield expansionAdd), search $(ifield expansionSearch)) | $(ifield buildSeconds) s |"
  echo "| recall@10 against the exact ranking, seen items excluded | $(ifield recallAt10) over $(ifield recallUsers) users ($(ifield recallFallbacks) handed to the exact pass) |"
  echo "| ranking through the index | $(field rps "${line[index]}") rps, p50 $(field p50_ms "${line[index]}") ms, p99 $(field p99_ms "${line[index]}") ms, $(field errors "${line[index]}") errors |"
  echo "| ranking with exact=true | $(field rps "${line[exact]}") rps, p50 $(field p50_ms "${line[exact]}") ms, p99 $(field p99_ms "${line[exact]}") ms, $(field errors "${line[exact]}") errors |"
  echo "| host RSS serving (after the load runs) | $rss_mb MB (before them $rss_idle_mb MB) |"
} >"$out/table.md"
cat "$out/table.md"
[[ "${NO_APPEND:-}" == 1 ]] || cat "$out/table.md" >>bench/RESULTS.md
