#!/usr/bin/env bash
# Scale to MovieLens-25M's shape on one machine: writes a synthetic CSV release with ml-25m's counts (162,541 users,
# 59,047 movies, 25,000,095 ratings; SyntheticScale) unless SCALE_DIR already holds one, then measures
#  1. load + index (parse, id maps, temporal split, batcher index) under /usr/bin/time -v: seconds and peak RSS;
#  2. ListMLE training epochs at the library defaults (dim 64, batch 64, 200 negatives, lists up to 200; batches
#     built one at a time, never every padded list at once) run by the real Trainer (lazy embedding updates: auto),
#     with the time per phase: data prep, forward, backward, clipping, Adam step, full-catalogue validation,
#     checkpoint and resume-state saving; progress lines every 60 s; peak RSS;
#  3. ranking latency over 59,047 movies: the host trains a 1-epoch ListMLE job on the set (pinned body, not the
#     service defaults: softmax over lists of 1000 for 80 epochs would take hours here), then wrk (1 thread,
#     16 connections, 15 s after 5 s warm-up) over random known users.
# Targets (issue 6): load + index <= 60 s with peak memory <= 4 GB; an epoch <= 180 s; ranking p99 <= 20 ms idle.
# Usage: bench/scale.sh        env: SCALE_DIR (/tmp/rankservice-ml25m), EPOCHS (2), DURATION (15), SKIP_SERVICE=1,
#        USERS/ITEMS/RATINGS (a smaller set for a quick check), NO_APPEND=1
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib/service.sh
source bench/lib/tools.sh
scale="${SCALE_DIR:-/tmp/rankservice-ml25m}"
epochs="${EPOCHS:-2}" duration="${DURATION:-15}"
users="${USERS:-162541}" items="${ITEMS:-59047}" ratings="${RATINGS:-25000095}"
out="$(mktemp -d)"
cleanup() { svc_stop; rm -rf "$out"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

tools_build "$out"
if [[ ! -f "$scale/ratings.csv" || ! -f "$scale/.complete-$users-$items-$ratings" ]]; then
  rm -rf "$scale"
  echo "writing the synthetic set to $scale" >&2
  bench_tool synth --out "$scale" --users "$users" --items "$items" --ratings "$ratings" | tee "$out/synth.log" >&2
  touch "$scale/.complete-$users-$items-$ratings"
fi
echo "ratings.csv: $(du -h "$scale/ratings.csv" | cut -f1)" >&2

/usr/bin/time -v dotnet "$TOOLS_DLL" load --data "$scale" >"$out/load.log" 2>"$out/load.time" || { cat "$out/load.log" "$out/load.time" >&2; exit 1; }
cat "$out/load.log" >&2
load="$(grep '^RESULT' "$out/load.log")"
load_peak_mb=$(( $(sed -nE 's/.*Maximum resident set size \(kbytes\): ([0-9]+).*/\1/p' "$out/load.time") / 1024 ))

/usr/bin/time -v dotnet "$TOOLS_DLL" epoch --data "$scale" --epochs "$epochs" --every 60 2>"$out/epoch.time" | tee "$out/epoch.log" >&2 || { cat "$out/epoch.time" >&2; exit 1; }
epoch_peak_mb=$(( $(sed -nE 's/.*Maximum resident set size \(kbytes\): ([0-9]+).*/\1/p' "$out/epoch.time") / 1024 ))
mapfile -t lines < <(grep '^RESULT epoch=' "$out/epoch.log")
final="$(grep '^RESULT final' "$out/epoch.log")"
col() { local v=(); for l in "${lines[@]}"; do v+=("$(field "$1" "$l")"); done; stats "${v[@]}"; }
med() { col "$1" | awk -F' / ' '{print $2}'; }

rank_row="| ranking over $items movies, 16 connections | (skipped: SKIP_SERVICE=1) | p99 <= 20 ms |"
if [[ "${SKIP_SERVICE:-}" != 1 ]]; then
  ensure_wrk
  svc_build "$out"
  mkdir -p "$out/data" "$out/artifacts"
  ln -s "$scale" "$out/data/synthetic-25m"
  svc_start "$out" "$out/artifacts" "$out/data" Data__Datasets__4=synthetic-25m Data__DefaultDataset=synthetic-25m
  echo "training a 1-epoch model on the set inside the host" >&2
  job_clock=$SECONDS
  job="$(svc_post_job '{"dataset":"synthetic-25m","epochs":1,"loss":"listmle","maxListSize":200,"negativesPerList":200,"batchSize":64,"embeddingDim":64,"learningRate":0.01,"weightDecay":0.001}')"
  svc_wait_job "$job" succeeded 7200
  job_s=$((SECONDS - job_clock))
  echo "the 1-epoch job took ${job_s} s (load, split, epoch, validation, test, popularity baseline, checkpoints)" >&2
  export MAX_USER="$users"
  wrk -t1 -c16 -d"5s" -s bench/lib/random-user.lua "$BENCH_URL" >/dev/null
  line="$(wrk -t1 -c16 -d"${duration}s" --timeout 5s -s bench/lib/random-user.lua "$BENCH_URL" | grep '^RESULT')"
  echo "$line" >&2
  rank_row="| 1-epoch ListMLE job through the service (POST to succeeded) | ${job_s} s | - |
| ranking over $items movies, 16 connections | $(field rps "$line") rps, p50 $(field p50_ms "$line") ms, p99 $(field p99_ms "$line") ms, max $(field max_ms "$line") ms, $(field errors "$line") errors | p99 <= 20 ms |"
fi

cmd="bench/scale.sh"; [[ -n "${EPOCHS:-}${USERS:-}${ITEMS:-}${RATINGS:-}${SKIP_SERVICE:-}" ]] && cmd="EPOCHS=$epochs USERS=$users ITEMS=$items RATINGS=$ratings SKIP_SERVICE=${SKIP_SERVICE:-0} $cmd"
{
  echo
  echo "### Scale: synthetic ml-25m shape ($users users, $items movies, $ratings ratings, CSV): \`$cmd\`"
  echo
  echo "$(date -u +%F), nproc $(nproc); epochs: ListMLE defaults (dim 64, batch 64, 200 negatives, lists up to 200), $epochs epochs, min / median / max."
  echo
  echo "| measure | reached | target |"
  echo "|---|---|---|"
  echo "| load + index (parse, ids, split, batcher) | $(field total_s "$load") s (load $(field load_s "$load"), split $(field split_s "$load"), index $(field index_s "$load")), peak RSS $load_peak_mb MB | <= 60 s, <= 4,096 MB |"
  echo "| training epoch (without validation) | $(col train_s) s; data prep share $(col prep_share); $(col items_per_s) items/s | <= 180 s |"
  echo "| epoch split, median s: prep / tensors / forward / backward / clip / Adam step | $(med prep_s) / $(med tensors_s) / $(med forward_s) / $(med backward_s) / $(med clip_s) / $(med step_s) | - |"
  echo "| full-catalogue validation of every user | $(col eval_s) s | - |"
  echo "| checkpoint + resume state saved per epoch (median) | $(med checkpoint_s) s + $(med resume_s) s | - |"
  echo "| after training: test evaluation, popularity baseline | $(field test_s "$final") s, $(field baseline_s "$final") s | - |"
  echo "| peak RSS while training | $epoch_peak_mb MB | - |"
  echo "$rank_row"
} >"$out/table.md"
cat "$out/table.md"
[[ "${NO_APPEND:-}" == 1 ]] || cat "$out/table.md" >>bench/RESULTS.md
