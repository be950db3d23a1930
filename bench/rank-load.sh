#!/usr/bin/env bash
# Ranking latency under load: starts the host on 127.0.0.1 with a model trained on ml-100k (a short job through the
# API first, embedding size 64 as in the issue's reference endpoint; the service default is 128), then drives GET /users/{random known user}/ranking?k=10 with wrk (1 thread) at 4, 16 and 64
# connections, 15 s after a 5 s warm-up, REPEATS times each, idle and again while a training job runs.
# Appends rps and p50 / p99 / max latency (min / median / max over the repeats) to bench/RESULTS.md.
# Targets (issue 6), idle at 16 connections: >= 20,000 rps, p99 <= 2 ms, zero errors; while training: zero errors,
# p99 <= 50 ms. Run it on an otherwise idle machine.
# Usage: bench/rank-load.sh            env: ML100K (data folder), REPEATS (3), DURATION (15), WARMUP (5),
#        CONNECTIONS ("4 16 64"), TRAINING ("idle training"), MAX_USER (943), BENCH_PORT (5391), NO_APPEND=1
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib/service.sh
data="$(realpath "${ML100K:-../shared/data/ml-100k}")"
repeats="${REPEATS:-3}" duration="${DURATION:-15}" warmup="${WARMUP:-5}"
connections="${CONNECTIONS:-4 16 64}" modes="${TRAINING:-idle training}"
export MAX_USER="${MAX_USER:-943}"
out="$(mktemp -d)"
cleanup() { svc_stop; rm -rf "$out"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

ensure_wrk
echo "building the host" >&2
svc_build "$out"
svc_dirs "$out" "$data"
svc_start "$out" "$out/artifacts" "$out/data"
svc_train_reference ml-100k
curl -sf "$BENCH_URL/users/1/ranking?k=10" >/dev/null

declare -A rps p50 p99 pmax errs
background=""
for mode in $modes; do
  if [[ "$mode" == training ]]; then
    # A long job (no early stop) that keeps the trainer busy for every wrk run of this mode.
    background="$(svc_post_job '{"dataset":"ml-100k","epochs":500,"patience":0}')"
    svc_wait_job "$background" running 120
  fi
  for c in $connections; do
    wrk -t1 -c"$c" -d"${warmup}s" -s bench/lib/random-user.lua "$BENCH_URL" >/dev/null
    for r in $(seq 1 "$repeats"); do
      line="$(wrk -t1 -c"$c" -d"${duration}s" --timeout 5s -s bench/lib/random-user.lua "$BENCH_URL" | grep '^RESULT')"
      if [[ "$mode" == training && "$(svc_job_state "$background" | tr '[:upper:]' '[:lower:]')" != running ]]; then
        echo "the training job stopped during the run: $(curl -s "$BENCH_URL/jobs/$background")" >&2; exit 1
      fi
      eval "$(sed -E 's/^RESULT //; s/([a-z0-9_]+)=/local_\1=/g' <<<"$line")"
      key="$mode/$c"
      rps[$key]+="$local_rps "; p50[$key]+="$local_p50_ms "; p99[$key]+="$local_p99_ms "; pmax[$key]+="$local_max_ms "
      errs[$key]=$(( ${errs[$key]:-0} + local_errors ))
      echo "$mode c=$c run $r: $line" >&2
    done
  done
  if [[ -n "$background" ]]; then curl -s -o /dev/null -X DELETE "$BENCH_URL/jobs/$background"; background=""; fi
done

cmd="bench/rank-load.sh"; [[ "${REPEATS:-}${DURATION:-}${CONNECTIONS:-}${TRAINING:-}" != "" ]] && cmd="REPEATS=$repeats DURATION=$duration CONNECTIONS=\"$connections\" TRAINING=\"$modes\" $cmd"
{
  echo
  echo "### Ranking under load, ml-100k (1,682 movies), wrk 1 thread: \`$cmd\`"
  echo
  echo "$(date -u +%F), nproc $(nproc); ${duration} s per run after a ${warmup} s warm-up, $repeats runs each; min / median / max over the runs."
  echo "Targets: idle at 16 connections >= 20,000 rps, p99 <= 2 ms, 0 errors; while training 0 errors, p99 <= 50 ms."
  echo
  echo "| load | connections | requests/s | p50 ms | p99 ms | max ms | errors |"
  echo "|---|---|---|---|---|---|---|"
  for mode in $modes; do for c in $connections; do
    key="$mode/$c"
    echo "| $mode | $c | $(stats ${rps[$key]}) | $(stats ${p50[$key]}) | $(stats ${p99[$key]}) | $(stats ${pmax[$key]}) | ${errs[$key]} |"
  done; done
} >"$out/table.md"
cat "$out/table.md"
[[ "${NO_APPEND:-}" == 1 ]] || cat "$out/table.md" >>bench/RESULTS.md
