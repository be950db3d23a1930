# Shared by the service benchmarks: build the host once, start it on 127.0.0.1, train, stop. Source it, don't run it.
# Every process started here is killed by the caller's EXIT trap (svc_stop), so no stray host survives a failure.

BENCH_PORT="${BENCH_PORT:-5391}"
BENCH_URL="http://127.0.0.1:${BENCH_PORT}"
SVC_PID=""

# svc_build OUT_DIR: Release build of the host into OUT_DIR/api.
svc_build() {
  dotnet build src/RankService.Api -c Release -o "$1/api" -v q -nologo >"$1/build.log" 2>&1 || { tail -n 30 "$1/build.log"; return 1; }
}

# svc_start OUT_DIR ARTIFACTS DATA_ROOT [extra VAR=value ...]: starts the host, waits for /health/ready.
svc_start() {
  local out="$1" artifacts="$2" data="$3"; shift 3
  if curl -s -o /dev/null "$BENCH_URL/health/live"; then
    echo "port $BENCH_PORT is already serving; stop that process first" >&2; return 1
  fi
  env ASPNETCORE_URLS="$BENCH_URL" ASPNETCORE_ENVIRONMENT=Production DOTNET_gcServer=0 \
      Artifacts__Root="$artifacts" Data__Root="$data" Data__Download=false \
      Serilog__MinimumLevel__Default=Warning "$@" \
      dotnet "$out/api/RankService.Api.dll" >>"$out/service.log" 2>&1 &
  SVC_PID=$!
  for _ in $(seq 1 600); do
    if curl -sf -o /dev/null "$BENCH_URL/health/ready"; then return 0; fi
    if ! kill -0 "$SVC_PID" 2>/dev/null; then echo "service exited; log:" >&2; tail -n 40 "$out/service.log" >&2; return 1; fi
    sleep 0.5
  done
  echo "service not ready after 300 s" >&2; return 1
}

svc_stop() {
  if [[ -n "$SVC_PID" ]] && kill -0 "$SVC_PID" 2>/dev/null; then
    kill -TERM "$SVC_PID" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$SVC_PID" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$SVC_PID" 2>/dev/null || true
    wait "$SVC_PID" 2>/dev/null || true
  fi
  SVC_PID=""
}

# svc_post_job JSON: prints the new job's id.
svc_post_job() {
  curl -sf -X POST "$BENCH_URL/jobs" -H 'Content-Type: application/json' -d "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}

svc_job_state() {
  curl -sf "$BENCH_URL/jobs/$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])'
}

# svc_wait_job ID STATE [timeout_s]: waits until the job reaches STATE (fails on another final state).
svc_wait_job() {
  local id="$1" want="$2" limit="${3:-1800}" state=""
  for _ in $(seq 1 $((limit * 2))); do
    state="$(svc_job_state "$id" | tr '[:upper:]' '[:lower:]')"
    [[ "$state" == "$want" ]] && return 0
    case "$state" in succeeded|failed|cancelled) echo "job $id ended $state, wanted $want" >&2; curl -s "$BENCH_URL/jobs/$id" >&2; return 1;; esac
    sleep 0.5
  done
  echo "job $id still $state after ${limit} s" >&2; return 1
}

# Resident set size of the host in kB.
svc_rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$SVC_PID/status"; }

# ensure_wrk: installs the Debian package when missing (the only download these scripts make).
ensure_wrk() {
  command -v wrk >/dev/null && return 0
  echo "installing wrk (apt-get)" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) >/dev/null 2>&1 || { echo "cannot install wrk" >&2; return 1; }
}

# stats v1 v2 ...: "min / median / max" of numbers.
stats() { python3 -c 'import sys,statistics as s; v=[float(x) for x in sys.argv[1:]]; print(f"{min(v):g} / {s.median(v):g} / {max(v):g}")' "$@"; }
