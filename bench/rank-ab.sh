#!/usr/bin/env bash
# Plain ranking, this tree against an earlier revision, on the same machine in the same minutes: a figure from another
# day is no reference on a VM whose throughput moves by a quarter from run to run. Builds BASE (a git revision, in a
# temporary worktree) and this working tree, trains one model for each (3 epochs of ml-100k, embedding size 64, as
# bench/rank-load.sh), then starts both hosts side by side (ports BENCH_PORT and BENCH_PORT + 1), warms each up, and
# runs ROUNDS rounds: in each, GET /users/{random}/ranking?k=10 with wrk (1 thread, 16 connections) for DURATION s
# against each host in a random order, one host loaded at a time. Short paired runs in shuffled order see the same
# machine state, so the per-round ratio head / base is far steadier than either figure (restarting a host per run, as
# this script first did, added start-up noise). Each run reports requests/s, p50 / p99 and the host's CPU time per
# request (user + system, from /proc; steal time and wrk's own share do not count in it). Appends min / median / max
# per side, and the median per-round ratio with the rounds head won, to bench/RESULTS.md.
# Usage: BASE=<rev> bench/rank-ab.sh     env: ML100K (data folder), ROUNDS (16), DURATION (4), WARMUP (5),
#                                           BENCH_PORT (5391), NO_APPEND=1
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib/service.sh
source bench/lib/tools.sh
data="$(realpath "${ML100K:-../shared/data/ml-100k}")"
base="${BASE:?set BASE to the git revision to compare with}"
rounds="${ROUNDS:-16}" duration="${DURATION:-4}" warmup="${WARMUP:-5}"
base_rev="$(git rev-parse --short "$base")" head_rev="$(git rev-parse --short HEAD)"
dirty=""; [[ -z "$(git status --porcelain --untracked-files=no -- . ':!bench/RESULTS.md')" ]] || dirty=" + uncommitted changes"
export MAX_USER=943
out="$(mktemp -d)"
cleanup() { svc_stop; git worktree remove --force "$out/base-tree" 2>/dev/null || true; rm -rf "$out"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

ensure_wrk
git worktree add -q --detach "$out/base-tree" "$base"
# The base tree's own libstdc++ shim and build props come with its checkout; ../shared is only read for data here.
echo "building $base_rev and this tree" >&2
mkdir -p "$out/base" "$out/head"
(cd "$out/base-tree" && svc_build "$out/base")
svc_build "$out/head"
for side in base head; do
  svc_dirs "$out/$side" "$data"
  svc_start "$out/$side" "$out/$side/artifacts" "$out/$side/data"
  svc_train_reference ml-100k
  svc_stop
done

# Host CPU seconds (user + system) of a running process, from /proc/<pid>/stat fields 14 and 15.
host_cpu() { awk -v t="$(getconf CLK_TCK)" '{printf "%.4f\n", ($14 + $15) / t}' "/proc/$1/stat"; }
port=$BENCH_PORT
for side in base head; do
  svc_node_start "$out/$side" "$side" "$port" "$out/$side/artifacts" "$out/$side/data"
  curl -sf "${NODE_URL[$side]}/users/1/ranking?k=10" >/dev/null
  wrk -t1 -c16 -d"${warmup}s" -s bench/lib/random-user.lua "${NODE_URL[$side]}" >/dev/null
  port=$((port + 1))
done
declare -A rps p50 p99 cpu
ratios=() wins=0
for r in $(seq 1 "$rounds"); do
  declare -A round=()
  for side in $(printf 'base\nhead\n' | shuf); do
    before="$(host_cpu "${NODE_PID[$side]}")"
    line="$(wrk -t1 -c16 -d"${duration}s" --timeout 5s -s bench/lib/random-user.lua "${NODE_URL[$side]}" | grep '^RESULT')"
    after="$(host_cpu "${NODE_PID[$side]}")"
    [[ "$(field errors "$line")" == 0 ]] || { echo "errors in $side round $r: $line" >&2; exit 1; }
    us="$(python3 -c "print(round(($after - $before) * 1e6 / $(field requests "$line"), 1))")"
    rps[$side]+="$(field rps "$line") "; p50[$side]+="$(field p50_ms "$line") "; p99[$side]+="$(field p99_ms "$line") "; cpu[$side]+="$us "
    round[$side]="$(field rps "$line")"
    echo "round $r $side: $line cpu_us_per_request=$us" >&2
  done
  ratio="$(python3 -c "print(round(${round[head]} / ${round[base]}, 4))")"
  ratios+=("$ratio")
  python3 -c "import sys; sys.exit(0 if $ratio > 1 else 1)" && wins=$((wins + 1))
done
svc_stop

cmd="BASE=$base bench/rank-ab.sh"; [[ -n "${ROUNDS:-}${DURATION:-}" ]] && cmd="BASE=$base ROUNDS=$rounds DURATION=$duration bench/rank-ab.sh"
{
  echo
  echo "### Plain ranking, $head_rev$dirty against $base_rev, side by side: \`$cmd\`"
  echo
  echo "$(date -u +%F), nproc $(nproc), ml-100k, GET /users/{random}/ranking?k=10, wrk 1 thread, 16 connections; both hosts up side by side (each warmed up ${warmup} s), $rounds rounds of one ${duration} s run per host in shuffled order; min / median / max over the runs. CPU: the host's user + system time per request. Head / base: the median of the per-round requests/s ratios, and the rounds in which head answered more."
  echo
  echo "| build | requests/s | p50 ms | p99 ms | host CPU µs per request |"
  echo "|---|---|---|---|---|"
  echo "| $base_rev (base) | $(stats ${rps[base]}) | $(stats ${p50[base]}) | $(stats ${p99[base]}) | $(stats ${cpu[base]}) |"
  echo "| $head_rev$dirty | $(stats ${rps[head]}) | $(stats ${p50[head]}) | $(stats ${p99[head]}) | $(stats ${cpu[head]}) |"
  echo
  echo "Head / base requests/s, median of the rounds: $(python3 -c 'import sys,statistics as s; print(round(s.median(float(x) for x in sys.argv[1:]), 3))' "${ratios[@]}"); head answered more in $wins of $rounds rounds."
} >"$out/table.md"
cat "$out/table.md"
[[ "${NO_APPEND:-}" == 1 ]] || cat "$out/table.md" >>bench/RESULTS.md
