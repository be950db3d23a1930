#!/usr/bin/env bash
# Plain ranking, this tree against an earlier revision, on the same machine in the same minutes: a figure from another
# day is no reference on a VM whose throughput moves by a quarter from run to run. Builds BASE (a git revision, in a
# temporary worktree) and this working tree, trains one model for each (3 epochs of ml-100k, embedding size 64, as
# bench/rank-load.sh), then alternates between them ROUNDS times: start the host, warm up, GET /users/{random}/ranking
# ?k=10 with wrk (1 thread, 16 connections) for DURATION s, stop. Each run reports requests/s, p50 / p99 and the host's
# CPU time per request (user + system, from /proc; steal time and wrk's own share do not count in it).
# Appends min / median / max per side to bench/RESULTS.md.
# Usage: BASE=<rev> bench/rank-ab.sh     env: ML100K (data folder), ROUNDS (8), DURATION (10), WARMUP (5),
#                                           BENCH_PORT (5391), NO_APPEND=1
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib/service.sh
source bench/lib/tools.sh
data="$(realpath "${ML100K:-../shared/data/ml-100k}")"
base="${BASE:?set BASE to the git revision to compare with}"
rounds="${ROUNDS:-8}" duration="${DURATION:-10}" warmup="${WARMUP:-5}"
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

# Host CPU seconds (user + system) of the running host, from /proc/<pid>/stat fields 14 and 15.
host_cpu() { awk -v t="$(getconf CLK_TCK)" '{printf "%.4f\n", ($14 + $15) / t}' "/proc/$(pgrep -f "$1/api/RankService.Api.dll" | head -1)/stat"; }
declare -A rps p50 p99 cpu
for r in $(seq 1 "$rounds"); do
  for side in base head; do
    svc_start "$out/$side" "$out/$side/artifacts" "$out/$side/data"
    curl -sf "$BENCH_URL/users/1/ranking?k=10" >/dev/null
    wrk -t1 -c16 -d"${warmup}s" -s bench/lib/random-user.lua "$BENCH_URL" >/dev/null
    before="$(host_cpu "$out/$side")"
    line="$(wrk -t1 -c16 -d"${duration}s" --timeout 5s -s bench/lib/random-user.lua "$BENCH_URL" | grep '^RESULT')"
    after="$(host_cpu "$out/$side")"
    svc_stop
    [[ "$(field errors "$line")" == 0 ]] || { echo "errors in $side run $r: $line" >&2; exit 1; }
    us="$(python3 -c "print(round(($after - $before) * 1e6 / $(field requests "$line"), 1))")"
    rps[$side]+="$(field rps "$line") "; p50[$side]+="$(field p50_ms "$line") "; p99[$side]+="$(field p99_ms "$line") "; cpu[$side]+="$us "
    echo "round $r $side: $line cpu_us_per_request=$us" >&2
  done
done

cmd="BASE=$base bench/rank-ab.sh"; [[ -n "${ROUNDS:-}${DURATION:-}" ]] && cmd="BASE=$base ROUNDS=$rounds DURATION=$duration bench/rank-ab.sh"
{
  echo
  echo "### Plain ranking, $head_rev$dirty against $base_rev, alternating: \`$cmd\`"
  echo
  echo "$(date -u +%F), nproc $(nproc), ml-100k, GET /users/{random}/ranking?k=10, wrk 1 thread, 16 connections, $rounds runs per side of ${duration} s (each after a fresh start and a ${warmup} s warm-up), alternating; min / median / max over the runs. CPU: the host's user + system time per request."
  echo
  echo "| build | requests/s | p50 ms | p99 ms | host CPU µs per request |"
  echo "|---|---|---|---|---|"
  echo "| $base_rev (base) | $(stats ${rps[base]}) | $(stats ${p50[base]}) | $(stats ${p99[base]}) | $(stats ${cpu[base]}) |"
  echo "| $head_rev$dirty | $(stats ${rps[head]}) | $(stats ${p50[head]}) | $(stats ${p99[head]}) | $(stats ${cpu[head]}) |"
} >"$out/table.md"
cat "$out/table.md"
[[ "${NO_APPEND:-}" == 1 ]] || cat "$out/table.md" >>bench/RESULTS.md
