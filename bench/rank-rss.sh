#!/usr/bin/env bash
# Memory under ranking load: starts the host with a model trained on ml-100k (a short job), sends at least 10,000
# ranking requests for random known users and reads the host's RSS, then up to at least 100,000 and reads it again.
# Target (issue 6): RSS after 100,000 requests within 5% of RSS after the first 10,000 (no leak).
# Usage: bench/rank-rss.sh        env: ML100K (data folder), REPEATS (3 host starts), MAX_USER (943), NO_APPEND=1,
#        FIRST (10000) and TOTAL (100000) requests, smaller only to check the script
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib/service.sh
data="$(realpath "${ML100K:-../shared/data/ml-100k}")"
repeats="${REPEATS:-3}" first_n="${FIRST:-10000}" total_n="${TOTAL:-100000}"
export MAX_USER="${MAX_USER:-943}"
out="$(mktemp -d)"
cleanup() { svc_stop; rm -rf "$out"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

ensure_wrk
svc_build "$out"
svc_dirs "$out" "$data"
# send_until N: 2-second wrk runs (16 connections) until N requests have been answered since the host started;
# fails on any error. wrk cannot stop at an exact count, so the counts reached are reported.
sent=0
send_until() {
  local line
  while (( sent < $1 )); do
    line="$(wrk -t1 -c16 -d2s --timeout 5s -s bench/lib/random-user.lua "$BENCH_URL" | grep '^RESULT')"
    [[ "$(sed -nE 's/.* errors=([0-9]+).*/\1/p' <<<"$line")" == 0 ]] || { echo "errors during the run: $line" >&2; return 1; }
    sent=$(( sent + $(sed -nE 's/.* requests=([0-9]+).*/\1/p' <<<"$line") ))
  done
  echo "$sent requests answered" >&2
}
rows=()
for r in $(seq 1 "$repeats"); do
  svc_start "$out" "$out/artifacts" "$out/data"
  [[ $r == 1 ]] && svc_train_reference ml-100k
  sent=0
  send_until "$first_n"; sleep 1; first="$(svc_rss_kb)"; first_sent=$sent
  send_until "$total_n"; sleep 1; last="$(svc_rss_kb)"
  growth="$(python3 -c "print(f'{100 * ($last - $first) / $first:+.1f}')")"
  echo "run $r: RSS after $first_sent requests = $((first / 1024)) MB, after $sent = $((last / 1024)) MB ($growth %)" >&2
  rows+=("| $r | $first_sent | $((first / 1024)) | $sent | $((last / 1024)) | $growth % |")
  svc_stop
done
cmd="bench/rank-rss.sh"; [[ -n "${REPEATS:-}${FIRST:-}${TOTAL:-}" ]] && cmd="REPEATS=$repeats FIRST=$first_n TOTAL=$total_n $cmd"
{
  echo
  echo "### Host RSS under $total_n rankings, ml-100k: \`$cmd\`"
  echo
  echo "$(date -u +%F), nproc $(nproc); wrk 1 thread, 16 connections, random known users, k=10; one fresh host per run. Target: growth from 10,000 to 100,000 requests within 5 %."
  echo
  echo "| run | requests | RSS (MB) | requests | RSS (MB) | growth |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} >"$out/table.md"
cat "$out/table.md"
[[ "${NO_APPEND:-}" == 1 ]] || cat "$out/table.md" >>bench/RESULTS.md
