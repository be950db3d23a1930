# Shared by the service benchmarks: build the host once, start it on 127.0.0.1, train, stop. Source it, don't run it.
# Every process started here is killed by the caller's EXIT trap (svc_stop), so no stray host survives a failure.

BENCH_PORT="${BENCH_PORT:-5391}"
BENCH_URL="http://127.0.0.1:${BENCH_PORT}"
SVC_PID=""

# svc_build OUT_DIR: Release build of the host into OUT_DIR/api.
svc_build() {
  dotnet build src/RankService.Api -c Release -o "$1/api" -v q -nologo >"$1/build.log" 2>&1 || { tail -n 30 "$1/build.log"; return 1; }
}

# svc_exec OUT_DIR LOG URL ARTIFACTS DATA_ROOT [VAR=value ...]: runs the built host in the foreground (callers add &).
svc_exec() {
  local out="$1" log="$2" url="$3" artifacts="$4" data="$5"; shift 5
  exec env ASPNETCORE_URLS="$url" ASPNETCORE_ENVIRONMENT=Production DOTNET_gcServer=0 \
      Artifacts__Root="$artifacts" Data__Root="$data" Data__Download=false \
      Serilog__MinimumLevel__Default=Warning "$@" \
      dotnet "$out/api/RankService.Api.dll" >>"$log" 2>&1
}

# svc_start OUT_DIR ARTIFACTS DATA_ROOT [extra VAR=value ...]: starts the host, waits for /health/ready.
svc_start() {
  local out="$1" artifacts="$2" data="$3"; shift 3
  if curl -s -o /dev/null "$BENCH_URL/health/live"; then
    echo "port $BENCH_PORT is already serving; stop that process first" >&2; return 1
  fi
  svc_exec "$out" "$out/service.log" "$BENCH_URL" "$artifacts" "$data" "$@" &
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
  local name
  for name in "${!NODE_PID[@]}"; do svc_node_stop "$name"; done
}

# Several processes on one machine (bench/soak.sh): named nodes besides the host above, each on its own port,
# each stopped by svc_stop too. NODE_PID[name] is the process id, NODE_URL[name] its base address.
declare -A NODE_PID=() NODE_URL=() NODE_ARGS=() NODE_LOG=()

# svc_node_launch OUT_DIR NAME PORT ARTIFACTS DATA_ROOT [VAR=value ...]: starts node NAME on 127.0.0.1:PORT (log
# OUT_DIR/NAME.log) without waiting for it. The arguments are kept for svc_node_restart.
svc_node_launch() {
  local out="$1" name="$2" port="$3"
  local url="http://127.0.0.1:$port"
  if curl -s -o /dev/null "$url/health/live"; then
    echo "port $port is already serving; stop that process first" >&2; return 1
  fi
  NODE_ARGS[$name]="$(printf '%q ' "$@")" NODE_LOG[$name]="$out/$name.log"
  svc_exec "$out" "$out/$name.log" "$url" "${@:4}" &
  NODE_PID[$name]=$! NODE_URL[$name]="$url"
}

# svc_node_wait NAME: waits until node NAME answers /health/live; fails with its log if it exits first.
svc_node_wait() {
  local name="$1"
  for _ in $(seq 1 600); do
    if curl -sf -o /dev/null "${NODE_URL[$name]}/health/live"; then return 0; fi
    if ! kill -0 "${NODE_PID[$name]:-0}" 2>/dev/null; then echo "$name exited; log:" >&2; tail -n 40 "${NODE_LOG[$name]}" >&2; return 1; fi
    sleep 0.5
  done
  echo "$name not live after 300 s" >&2; return 1
}

# svc_node_start OUT_DIR NAME PORT ARTIFACTS DATA_ROOT [VAR=value ...]: svc_node_launch, then svc_node_wait.
svc_node_start() { svc_node_launch "$@" && svc_node_wait "$2"; }

# svc_node_restart NAME: launches NAME again with the arguments of its last start (svc_node_wait waits for it).
svc_node_restart() { eval "svc_node_launch ${NODE_ARGS[$1]}"; }

# svc_node_kill NAME: SIGKILL, as when a machine dies (no shutdown code runs).
svc_node_kill() {
  local pid="${NODE_PID[$1]:-}"
  [[ -n "$pid" ]] || return 0
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "NODE_PID[$1]"
}

# svc_node_stop NAME: SIGTERM (a worker hands its job back within one batch), SIGKILL if still running after 60 s.
svc_node_stop() {
  local pid="${NODE_PID[$1]:-}"
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 240); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  svc_node_kill "$1"
}

# svc_proc_stats PID: "RSS_kB threads open_fds" of a running process.
svc_proc_stats() {
  echo "$(awk '/^VmRSS:/ {print $2}' "/proc/$1/status") $(awk '/^Threads:/ {print $2}' "/proc/$1/status") $(ls "/proc/$1/fd" | wc -l)"
}

# svc_post_job JSON: prints the new job's id. Sends BENCH_API_KEY, when set, as X-Api-Key.
svc_post_job() {
  curl -sf -X POST "$BENCH_URL/jobs" -H 'Content-Type: application/json' ${BENCH_API_KEY:+-H "X-Api-Key: $BENCH_API_KEY"} -d "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
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

# svc_dirs OUT DATA: OUT/artifacts, and OUT/data/ml-100k linked to DATA (the MovieLens folder), as the serving benchmarks lay them out.
svc_dirs() {
  mkdir -p "$1/data" "$1/artifacts"
  ln -sfn "$2" "$1/data/ml-100k"
}

# svc_train_reference [DATASET]: trains the model the serving benchmarks rank with on the running host (3 epochs,
# embedding size 64: the shape of the issues' reference endpoint; the service default is 128) and waits for it.
svc_train_reference() {
  local job
  echo "training the serving model (3 epochs on ${1:-ml-100k})" >&2
  job="$(svc_post_job "{\"dataset\":\"${1:-ml-100k}\",\"epochs\":3,\"embeddingDim\":64}")"
  svc_wait_job "$job" succeeded 600
}
