#!/usr/bin/env bash
# Soak (a benchmark, not a test; issue 15): PostgreSQL job storage, one api node and two worker processes on this
# machine (Release build, 127.0.0.1 only), for DURATION while
#  - wrk (1 thread, 16 connections) asks for rankings of random known ml-100k users, in SAMPLE-second runs, so each
#    minute has its own request count, status classes and p50 / p99 / max latency;
#  - a short job (ml-100k and synthetic in turn, 1-3 epochs, small dims, no early stopping) is posted every JOB_EVERY
#    seconds; every third one (ml-100k, 3 epochs) is cancelled once it trains (after CANCEL_AFTER s if still queued);
#  - a trained model is activated by hand (POST /models/{id}/activate) every ACTIVATE_EVERY seconds;
#  - worker-2 is killed with kill -9 every KILL_EVERY seconds (waiting up to KILL_WAIT s for it to be training, so a
#    job is lost with it) and started again RESTART_AFTER seconds later; its job must resume and succeed.
# Writes go with an API key made for the run (its SHA-256 in Security__ApiKeyHashes__0). After DURATION the last
# jobs get up to DRAIN seconds to finish. The report: requests and answers that are neither 2xx nor 4xx per minute
# (must be 0), jobs submitted / succeeded / cancelled / failed (failed must be 0; the killed worker's jobs must
# succeed), RSS, threads and open file descriptors of each process after the warm-up and at the end (growth under
# 10 % for the processes that ran throughout), and that every succeeded job's metrics history has each epoch once.
# Exits 1 when a check fails (after printing and appending the table).
# Usage: bench/soak.sh   env: DURATION (20m; s or m suffix), SAMPLE (60), JOB_EVERY (30), CANCEL_EVERY (3),
#        CANCEL_AFTER (10), ACTIVATE_EVERY (120), KILL_EVERY (300), KILL_WAIT (120), RESTART_AFTER (5), DRAIN (900),
#        INVISIBILITY (00:00:30, Jobs:InvisibilityTimeout), WARMUP_PAIRS (6), ML100K (data folder),
#        BENCH_PORT (5391; workers +1, +2), SOAK_POSTGRES (connection string; default the .ci/run database on
#        127.0.0.1, started and created when missing and run as root), LABEL (words added to the table's title),
#        KEEP_OUT=1 (keep the logs, artifacts and ledgers), NO_APPEND=1
# Development on a busy machine: DURATION=3m JOB_EVERY=20 ACTIVATE_EVERY=40 KILL_EVERY=60 KILL_WAIT=40 NO_APPEND=1
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib/service.sh
(( ${WARMUP_PAIRS:-6} >= 1 )) || { echo "WARMUP_PAIRS must be 1 or more (the rankings need a trained model)" >&2; exit 1; }
seconds_of() { case "$1" in *m) echo $(( ${1%m} * 60 ));; *s) echo "${1%s}";; *) echo "$1";; esac; }
duration_arg="${DURATION:-20m}"
duration="$(seconds_of "$duration_arg")"
sample="${SAMPLE:-60}" job_every="${JOB_EVERY:-30}" cancel_every="${CANCEL_EVERY:-3}" cancel_after="${CANCEL_AFTER:-10}"
activate_every="${ACTIVATE_EVERY:-120}" kill_every="${KILL_EVERY:-300}" kill_wait="${KILL_WAIT:-120}"
restart_after="${RESTART_AFTER:-5}" drain="${DRAIN:-900}" warmup_pairs="${WARMUP_PAIRS:-6}" invisibility="${INVISIBILITY:-00:00:30}"
data="$(realpath "${ML100K:-../shared/data/ml-100k}")"
pg="${SOAK_POSTGRES:-Host=127.0.0.1;Port=5432;Database=rankservice;Username=rankservice;Password=rankservice}"
# libpq form of the same connection (psql reads the job table and drops the run's schema).
pg_conn="$(tr ';' '\n' <<<"$pg" | sed -nE 's/^Host=/host=/ip; s/^Port=/port=/ip; s/^Database=/dbname=/ip; s/^Username=/user=/ip; s/^Password=/password=/ip' | tr '\n' ' ')"
schema="soak_$(date +%s)_$$"
export MAX_USER=943 RANK_DATASET=ml-100k
BENCH_API_KEY="soak-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
key_hash="$(printf %s "$BENCH_API_KEY" | sha256sum | cut -d' ' -f1)"
out="$(mktemp -d)"
loader=""
cleanup() {
  [[ -n "$loader" ]] && { kill "$loader" 2>/dev/null || true; wait "$loader" 2>/dev/null || true; }
  svc_stop
  psql "$pg_conn" -qc "DROP SCHEMA IF EXISTS \"$schema\" CASCADE" >/dev/null 2>&1 || true
  if [[ -n "${KEEP_OUT:-}" ]]; then echo "logs kept in $out" >&2; else rm -rf "$out"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { echo "[$(date -u +%T)] $*" >&2; }

if ! psql "$pg_conn" -qAtc 'SELECT 1' >/dev/null 2>&1; then
  # The .ci/run database: PostgreSQL from apt, role and database rankservice (needs root).
  [[ -z "${SOAK_POSTGRES:-}" && "$(id -u)" == 0 ]] || { echo "cannot reach PostgreSQL ($pg_conn); set SOAK_POSTGRES" >&2; exit 1; }
  pg_version="$(ls /etc/postgresql | sort -n | tail -n 1)"
  pg_ctlcluster "$pg_version" main start >/dev/null 2>&1 || true
  su postgres -c "psql -v ON_ERROR_STOP=1 -q" <<'SQL'
SELECT 'CREATE ROLE rankservice LOGIN PASSWORD ''rankservice''' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rankservice')\gexec
SELECT 'CREATE DATABASE rankservice OWNER rankservice' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'rankservice')\gexec
SQL
  psql "$pg_conn" -qAtc 'SELECT 1' >/dev/null
fi

ensure_wrk
log "building the host (Release)"
svc_build "$out"
mkdir -p "$out/data" "$out/artifacts" "$out/logs"
ln -s "$data" "$out/data/ml-100k"
# node NAME PORT ROLE: one process of the cluster; all share the schema, the artifacts and the data folder.
node() {
  svc_node_start "$out" "$1" "$2" "$out/artifacts" "$out/data" Service__Role="$3" Jobs__Storage=PostgreSql \
    ConnectionStrings__Hangfire="$pg" Jobs__SchemaName="$schema" Jobs__InvisibilityTimeout="$invisibility" \
    Jobs__QueuePollInterval=00:00:01 Jobs__TrainingThreads=1 Serving__PollInterval=00:00:02 \
    Security__ApiKeyHashes__0="$key_hash" Serilog__WriteTo__1__Args__path="$out/logs/$1-.log"
}
log "starting api (port $BENCH_PORT), worker-1, worker-2 on schema $schema"
node api "$BENCH_PORT" Api
node worker-1 $((BENCH_PORT + 1)) Worker
node worker-2 $((BENCH_PORT + 2)) Worker

# http METHOD PATH [JSON]: the status code (000: no answer); the body goes to $out/body.json, the call to control.log.
http() {
  local code
  code="$(curl -s -o "$out/body.json" -w '%{http_code}' -X "$1" -H "X-Api-Key: $BENCH_API_KEY" \
    ${3:+-H 'Content-Type: application/json' -d "$3"} "$BENCH_URL$2" || true)"
  echo "$1 $2 $code" >>"$out/control.log"
  echo "$code"
}
json() { python3 -c "import json,sys; d=json.load(open('$out/body.json')); print($1)"; }
# jget KEY: the first "KEY": string or number of the last body, without a Python start (the loop polls with it).
jget() { { grep -oE "\"$1\":(\"[^\"]*\"|[0-9.]+)" "$out/body.json" || true; } | sed -n '1{s/^"[^"]*"://; s/"//g; p}'; }
# job_body N: the Nth kept job (1-based): ml-100k (softmax over lists of up to 1000, dim 32, batch 8: a few seconds
# an epoch, long enough to be killed while training) and synthetic in turn, 1-3 epochs. job_body 0: a job to cancel
# (ml-100k, 3 epochs, so that the cancel finds it training).
job_body() {
  local epochs=$(( ($1 + 2) % 3 + 1 ))
  if (( $1 == 0 )); then
    echo '{"dataset":"ml-100k","epochs":3,"embeddingDim":32,"batchSize":8,"patience":0}'
  elif (( $1 % 2 == 1 )); then
    echo "{\"dataset\":\"ml-100k\",\"epochs\":$epochs,\"embeddingDim\":32,\"batchSize\":8,\"patience\":0}"
  else
    echo "{\"dataset\":\"synthetic\",\"epochs\":$epochs,\"embeddingDim\":16,\"batchSize\":4,\"patience\":0}"
  fi
}
# ledger: one line per job: id dataset epochs cancel(0/1)
: >"$out/jobs.tsv"; : >"$out/killed.tsv"; : >"$out/control.log"
submit() { # submit BODY CANCEL: posts a job and writes it to the ledger
  local code; code="$(http POST /jobs "$1")"
  if [[ "$code" != 202 ]]; then log "POST /jobs answered $code: $(head -c 300 "$out/body.json")"; return 0; fi
  local id; id="$(jget id)"
  echo "$id $(jget dataset) $(sed -nE 's/.*"epochs":([0-9]+).*/\1/p' <<<"$1") $2" >>"$out/jobs.tsv"
  echo "$id"
}
state_of() { [[ "$(http GET "/jobs/$1")" == 200 ]] && jget state | tr '[:upper:]' '[:lower:]' || echo unknown; }
epoch_of() { [[ "$(http GET "/jobs/$1")" == 200 ]] && jget epoch || echo 0; }
# wait_succeeded ID: polls the job through http (so every answer is counted) until it succeeds; fails otherwise.
wait_succeeded() {
  local state=""
  for _ in $(seq 1 2400); do
    state="$(state_of "$1")"
    case "$state" in succeeded) return 0;; failed|cancelled) break;; esac
    sleep 0.5
  done
  echo "warm-up job $1 is $state: $(cat "$out/body.json")" >&2; return 1
}
# running_on PID: the RankService job ids that Hangfire shows as processing on that worker process.
running_on() {
  psql "$pg_conn" -qAtc "SELECT j.arguments FROM \"$schema\".job j JOIN \"$schema\".state s ON s.id = j.stateid
    WHERE j.statename = 'Processing' AND s.data::text LIKE '%:$1:training%'" | python3 -c '
import json, sys
for line in sys.stdin:
    if line.strip(): print(json.loads(json.loads(line)[0]))'
}

# Warm-up: WARMUP_PAIRS pairs of jobs (ml-100k and synthetic posted together, so each worker trains both data sets)
# before the first figures. A host's RSS climbs over its first ~10 such jobs and then only wanders (+-5 %), so a
# shorter warm-up makes the growth check measure the warm-up, not a leak.
warmup_jobs=$((2 * warmup_pairs))
log "warm-up: $warmup_jobs jobs"
for pair in $(seq 1 2 "$warmup_jobs"); do
  warm_a="$(submit "$(job_body "$pair")" 0)" warm_b="$(submit "$(job_body $((pair + 1)))" 0)"
  [[ -n "$warm_a" && -n "$warm_b" ]] || { echo "the warm-up jobs were refused" >&2; exit 1; }
  wait_succeeded "$warm_a"; wait_succeeded "$warm_b"
done
for _ in $(seq 1 120); do [[ "$(http GET "/users/1/ranking?dataset=ml-100k")" == 200 ]] && break; sleep 1; done
wrk -t1 -c16 -d10s -s bench/lib/soak-ranking.lua "$BENCH_URL" >/dev/null
declare -A start_stats end_stats
for n in api worker-1 worker-2; do start_stats[$n]="$(svc_proc_stats "${NODE_PID[$n]}")"; done
log "start (RSS kB, threads, fds): api ${start_stats[api]}, worker-1 ${start_stats[worker-1]}, worker-2 ${start_stats[worker-2]}"

: >"$out/rank.txt"
t0=$SECONDS end=$((SECONDS + duration))
(
  trap - EXIT
  wrk_pid=""
  trap '[[ -n "$wrk_pid" ]] && kill "$wrk_pid" 2>/dev/null; exit 0' TERM
  minute=1
  while (( SECONDS < end )); do
    d=$(( end - SECONDS < sample ? end - SECONDS : sample ))
    wrk -t1 -c16 -d"${d}s" --timeout 5s -s bench/lib/soak-ranking.lua "$BENCH_URL" >"$out/wrk.txt" 2>&1 &
    wrk_pid=$!; wait "$wrk_pid" || true; wrk_pid=""
    echo "$minute $(grep '^RESULT' "$out/wrk.txt" || echo "RESULT failed")" >>"$out/rank.txt"
    minute=$((minute + 1))
  done
) &
loader=$!

jobs_posted=$warmup_jobs kept=$warmup_jobs activations=0 activations_ok=0 kills=0
next_job=$((t0 + job_every)) next_activate=$((t0 + activate_every)) next_kill=$((t0 + kill_every))
kill_since="" restart_at=""
log "soak: ${duration} s"
while (( SECONDS < end )); do
  now=$SECONDS
  if (( now >= next_job )); then
    jobs_posted=$((jobs_posted + 1)); next_job=$((next_job + job_every))
    if (( (jobs_posted - warmup_jobs) % cancel_every == 0 )); then cancel=1 body="$(job_body 0)"
    else cancel=0 kept=$((kept + 1)) body="$(job_body "$kept")"; fi
    id="$(submit "$body" "$cancel")"
    log "job $jobs_posted: $id$([[ $cancel == 1 ]] && echo ' (to cancel)')"
    if [[ -n "$id" && $cancel == 1 ]]; then
      # Cancelled as soon as it trains (a few seconds an epoch), or after CANCEL_AFTER s if it is still queued.
      for _ in $(seq 1 $((cancel_after * 4))); do [[ "$(state_of "$id")" == queued ]] || break; sleep 0.25; done
      log "cancel $id ($(state_of "$id")): $(http DELETE "/jobs/$id")"
    fi
  fi
  if (( now >= next_activate )); then
    next_activate=$((next_activate + activate_every)); activations=$((activations + 1))
    if [[ "$(http GET /models)" == 200 ]]; then
      model="$(json "__import__('random').choice([m['jobId'] for m in d] or [''])")"
      code="$(http POST "/models/$model/activate")"; [[ "$code" == 200 ]] && activations_ok=$((activations_ok + 1))
      log "activate $model: $code"
    fi
  fi
  if (( now >= next_kill )) && [[ -z "$restart_at" ]]; then
    [[ -n "$kill_since" ]] || kill_since=$now
    # The kill should lose a job: worker-2 training one, past its first epoch in the first half of KILL_WAIT.
    victims="$(running_on "${NODE_PID[worker-2]}" || true)" at=""
    for v in $victims; do at+="$v at epoch $(epoch_of "$v"); "; done
    if [[ -n "$victims" && ( "$at" != *"at epoch 0;"* || $((now - kill_since)) -ge $((kill_wait / 2)) ) ]] ||
       (( now - kill_since >= kill_wait )); then
      for v in $victims; do echo "$v" >>"$out/killed.tsv"; done
      log "kill -9 worker-2 (pid ${NODE_PID[worker-2]}), training: ${at:-nothing}"
      svc_node_kill worker-2
      kills=$((kills + 1)); kill_since="" restart_at=$((now + restart_after)); next_kill=$((next_kill + kill_every))
    fi
  fi
  if [[ -n "$restart_at" ]] && (( now >= restart_at )); then
    svc_node_restart worker-2; restart_at=""; log "worker-2 started again (pid ${NODE_PID[worker-2]})"
    # Not waited for here: the loop goes on while it starts; a kill before it trains loses nothing, which is logged.
  fi
  if [[ -n "$kill_since" ]]; then sleep 0.3; else sleep 1; fi
done
wait "$loader"; loader=""
if [[ -n "$restart_at" ]]; then svc_node_restart worker-2; fi
svc_node_wait worker-2

log "draining: waiting up to ${drain} s for the last jobs"
drain_end=$((SECONDS + drain))
while (( SECONDS < drain_end )); do
  open=0
  while read -r id _; do
    case "$(state_of "$id")" in Succeeded|Failed|Cancelled|succeeded|failed|cancelled) ;; *) open=$((open + 1));; esac
  done <"$out/jobs.tsv"
  (( open == 0 )) && break
  sleep 5
done
for n in api worker-1 worker-2; do end_stats[$n]="$(svc_proc_stats "${NODE_PID[$n]}")"; done
log "end (RSS kB, threads, fds): api ${end_stats[api]}, worker-1 ${end_stats[worker-1]}, worker-2 ${end_stats[worker-2]}"

# Final state and metrics history of every job, one JSON line each, for the summary below.
while read -r id dataset epochs cancel; do
  http GET "/jobs/$id" >/dev/null; cp "$out/body.json" "$out/job.json"
  http GET "/jobs/$id/metrics" >/dev/null
  python3 -c "import json,sys; j=json.load(open('$out/job.json')); m=json.load(open('$out/body.json'))
print(json.dumps({'id': '$id', 'dataset': '$dataset', 'epochs': $epochs, 'cancel': $cancel, 'state': j.get('state'),
  'error': j.get('error'), 'history': [e['epoch'] for e in m.get('epochs', [])]}))" >>"$out/final.jsonl"
done <"$out/jobs.tsv"

# The command as run: every setting given in the environment (LABEL is in the title).
cmd="bench/soak.sh"
for v in WARMUP_PAIRS DRAIN RESTART_AFTER INVISIBILITY KILL_WAIT KILL_EVERY ACTIVATE_EVERY CANCEL_AFTER CANCEL_EVERY JOB_EVERY SAMPLE DURATION; do
  [[ -n "${!v:-}" ]] && cmd="$v=${!v} $cmd"
done
python3 - "$out" "$cmd" "${LABEL:-}" "$duration" "$activations" "$activations_ok" "$kills" "$(nproc)" "$warmup_jobs" \
  "${start_stats[api]}" "${end_stats[api]}" "${start_stats[worker-1]}" "${end_stats[worker-1]}" \
  "${start_stats[worker-2]}" "${end_stats[worker-2]}" >"$out/table.md" <<'PY' || status=$?
import datetime, json, sys
out, cmd, label, duration, activations, activations_ok, kills, nproc, warmup = sys.argv[1:10]
stats = sys.argv[10:]
failures = []
rows, total = [], dict(requests=0, s2xx=0, s4xx=0, bad=0)
for line in open(f"{out}/rank.txt"):
    minute, rest = line.split(" ", 1)
    f = dict(kv.split("=") for kv in rest.split()[1:] if "=" in kv)
    if not f:
        failures.append(f"minute {minute}: wrk gave no result"); continue
    bad = int(f["s5xx"]) + int(f["other"]) + int(f["socket_errors"]) + int(f["timeouts"])
    for k in ("requests", "s2xx", "s4xx"): total[k] += int(f[k])
    total["bad"] += bad
    rows.append(f"| {minute} | {int(f['requests']):,} | {int(f['s4xx']):,} | {bad} | {float(f['p50_ms']):.2f} | {float(f['p99_ms']):.2f} | {float(f['max_ms']):.1f} |")
if total["bad"]:
    failures.append(f"{total['bad']} ranking answers neither 2xx nor 4xx")
control = [l.split() for l in open(f"{out}/control.log")]
control_bad = [l for l in control if not (l[2].startswith("2") or l[2].startswith("4"))]
cancels = [l for l in control if l[0] == "DELETE"]
late = sum(1 for l in cancels if l[2] == "409")
if control_bad:
    failures.append(f"{len(control_bad)} control calls neither 2xx nor 4xx: " + "; ".join(" ".join(l) for l in control_bad[:5]))
jobs = [json.loads(l) for l in open(f"{out}/final.jsonl")]
killed = {l.strip() for l in open(f"{out}/killed.tsv") if l.strip()}
by = lambda s: [j for j in jobs if (j["state"] or "").lower() == s]
succeeded, cancelled, failed = by("succeeded"), by("cancelled"), by("failed")
unfinished = [j for j in jobs if j not in succeeded + cancelled + failed]
for j in failed:
    failures.append(f"job {j['id']} failed{' (its worker was killed)' if j['id'] in killed else ''}: {j['error']}")
for j in unfinished:
    failures.append(f"job {j['id']} still {j['state']} after the drain")
killed_ok = [j for j in jobs if j["id"] in killed and (j in succeeded or (j in cancelled and j["cancel"]))]
bad_history = [j for j in succeeded if j["history"] != list(range(1, j["epochs"] + 1))]
# A cancelled job stops early, but the epochs it did finish appear once each too.
bad_history += [j for j in cancelled if j["history"] != list(range(1, len(j["history"]) + 1))]
for j in bad_history:
    failures.append(f"job {j['id']} ({j['epochs']} epochs) has the metrics history epochs {j['history']}")
growth_rows = []
for name, (a, b), whole in zip(("api", "worker-1", "worker-2"), ((stats[0], stats[1]), (stats[2], stats[3]), (stats[4], stats[5])),
                               (True, True, int(kills) == 0)):
    a, b = [int(x) for x in a.split()], [int(x) for x in b.split()]
    g = [100 * (y - x) / x for x, y in zip(a, b)]
    note = "" if whole else f" (restarted {kills} times: the end is a later process)"
    if whole and max(g) >= 10:
        failures.append(f"{name} grew {max(g):.1f} % (RSS {g[0]:+.1f} %, threads {g[1]:+.1f} %, fds {g[2]:+.1f} %)")
    growth_rows.append(f"| {name}{note} | {a[0] // 1024} → {b[0] // 1024} ({g[0]:+.1f} %) | {a[1]} → {b[1]} ({g[1]:+.1f} %) | {a[2]} → {b[2]} ({g[2]:+.1f} %) |")
print()
print(f"### Soak{' (' + label + ')' if label else ''}: api + 2 workers on PostgreSQL, {int(duration) // 60} min {int(duration) % 60} s: `{cmd}`")
print()
print(f"{datetime.date.today()}, nproc {nproc}; wrk 1 thread, 16 connections, random known ml-100k users, k=10; "
      f"{len(jobs)} short jobs ({warmup} warm-up), every third cancelled ({late} of {len(cancels)} cancels came after the job had finished: 409); "
      f"{activations_ok} of {activations} activations answered 200; worker-2 killed with kill -9 {kills} times, {len(killed)} of them while "
      f"it trained a job. Result: **{'PASS' if not failures else 'FAIL'}**.")
print()
print("| minute | requests | 4xx | neither 2xx nor 4xx | p50 ms | p99 ms | max ms |")
print("|---|---|---|---|---|---|---|")
print("\n".join(rows))
print(f"| all | {total['requests']:,} | {total['s4xx']:,} | {total['bad']} | | | |")
print()
print("| jobs submitted | succeeded | cancelled | failed | unfinished | killed worker's jobs resumed and finished | metrics history: each epoch once |")
print("|---|---|---|---|---|---|---|")
print(f"| {len(jobs)} | {len(succeeded)} | {len(cancelled)} | {len(failed)} | {len(unfinished)} | {len(killed_ok)} of {len(killed)} | {len(succeeded) + len(cancelled) - len(bad_history)} of {len(succeeded) + len(cancelled)} succeeded or cancelled |")
print()
print("| process (after warm-up → end) | RSS MB | threads | open fds |")
print("|---|---|---|---|")
print("\n".join(growth_rows))
if failures:
    print()
    print("Failures: " + "; ".join(failures))
sys.exit(1 if failures else 0)
PY
cat "$out/table.md"
[[ "${NO_APPEND:-}" == 1 ]] || cat "$out/table.md" >>bench/RESULTS.md
exit "${status:-0}"
