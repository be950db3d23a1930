#!/usr/bin/env bash
# Feedback ingestion into live data sets, for SQLite (default store) and PostgreSQL (Jobs:Storage PostgreSql):
#  1. POST /datasets/posted/feedback: BATCHES JSON batches of 1,000 records, 4 concurrent clients (curl), rows/s;
#  2. POST /datasets/imported/import?kind=feedback: the ratings.csv of an ml-25m-shaped synthetic release
#     (SyntheticScale: 162,541 users, 59,047 items, 25,000,095 ratings) streamed by curl -T, rows/s;
#  3. peak RSS of the host (VmHWM: the whole run, start-up and both phases included);
#  4. a job on the imported data set: the time to read its snapshot (one read transaction, aggregated to pairs),
#     from the job's log line; the job is cancelled right after.
# Targets (issue 16): import >= 200,000 rows/s, host RSS < 1 GB during import, snapshot read of 25M rows <= 60 s.
# Usage: bench/ingest.sh   env: SCALE_DIR (/tmp/rankservice-ml25m), USERS/ITEMS/RATINGS (a smaller shape),
#        BATCHES (200), STORES ("sqlite postgres"), PG (connection string; default $RANKSERVICE_TEST_POSTGRES), NO_APPEND=1
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib/service.sh
source bench/lib/tools.sh
users="${USERS:-162541}" items="${ITEMS:-59047}" ratings="${RATINGS:-25000095}"
scale="${SCALE_DIR:-/tmp/rankservice-ml25m}"
batches="${BATCHES:-200}" stores="${STORES:-sqlite postgres}" pg="${PG:-${RANKSERVICE_TEST_POSTGRES:-}}"
out="$(mktemp -d)"
suffix="$(date +%s)"
cleanup() {
  svc_stop
  if [[ -n "$pg" && " $stores " == *" postgres "* ]]; then
    psql "$(pg_uri)" -qc "DROP SCHEMA IF EXISTS hf_ingest_$suffix CASCADE; DROP SCHEMA IF EXISTS live_ingest_$suffix CASCADE" >/dev/null 2>&1 || true
  fi
  rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The Npgsql connection string as a libpq URI for psql.
pg_uri() { python3 -c 'import sys
kv=dict(p.split("=",1) for p in sys.argv[1].split(";") if "=" in p); g=lambda *k: next((kv[x] for x in kv if x.lower() in k), "")
print("postgresql://%s:%s@%s:%s/%s" % (g("username","user id","userid"), g("password"), g("host","server"), g("port") or 5432, g("database")))' "$pg"; }

tools_build "$out"
if [[ ! -f "$scale/ratings.csv" || ! -f "$scale/.complete-$users-$items-$ratings" ]]; then
  rm -rf "$scale"
  echo "writing the synthetic set to $scale" >&2
  bench_tool synth --out "$scale" --users "$users" --items "$items" --ratings "$ratings" >&2
  touch "$scale/.complete-$users-$items-$ratings"
fi
rows=$(( $(wc -l <"$scale/ratings.csv") - 1 ))
echo "ratings.csv: $rows rows, $(du -h "$scale/ratings.csv" | cut -f1)" >&2

mkdir -p "$out/batches"
python3 - "$out/batches" "$batches" <<'PY'
import json, random, sys
folder, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(16)
for b in range(n):
    records = [{"userId": f"u-{rng.randrange(100000)}", "itemId": f"sku-{rng.randrange(20000)}", "type": "rating",
                "value": rng.randrange(1, 11) / 2, "timestamp": 1700000000 + b * 1000 + i} for i in range(1000)]
    with open(f"{folder}/b{b:05d}.json", "w") as f:
        json.dump(records, f)
PY
svc_build "$out"

now() { date +%s.%N; }
rows_per_s() { python3 -c "import sys; print(round(int(sys.argv[1]) / (float(sys.argv[3]) - float(sys.argv[2]))))" "$@"; }
table=""
for store in $stores; do
  extra=()
  if [[ "$store" == postgres ]]; then
    [[ -n "$pg" ]] || { echo "PG (or RANKSERVICE_TEST_POSTGRES) is needed for the postgres store" >&2; exit 1; }
    extra=(Jobs__Storage=PostgreSql "ConnectionStrings__Hangfire=$pg" "Jobs__SchemaName=hf_ingest_$suffix" "Data__LiveSchema=live_ingest_$suffix")
  fi
  rm -rf "$out/artifacts" "$out/data" && mkdir -p "$out/artifacts" "$out/data"
  : >"$out/service.log"
  svc_start "$out" "$out/artifacts" "$out/data" Serilog__MinimumLevel__Default=Information "${extra[@]}"
  for name in posted imported; do
    curl -sf -o /dev/null -X PUT "$BENCH_URL/datasets/$name"
  done

  t0=$(now)
  find "$out/batches" -name '*.json' -print0 | xargs -0 -P 4 -I{} curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' \
    --data-binary @{} "$BENCH_URL/datasets/posted/feedback"
  t1=$(now)
  post_rate=$(rows_per_s $((batches * 1000)) "$t0" "$t1")
  echo "$store: POST feedback $((batches * 1000)) rows, $post_rate rows/s" >&2

  t0=$(now)
  curl -sf -X POST -T "$scale/ratings.csv" -H 'Content-Type: text/csv' "$BENCH_URL/datasets/imported/import?kind=feedback" >"$out/import.json" \
    || { echo "import failed" >&2; tail -n 20 "$out/service.log" >&2; exit 1; }
  t1=$(now)
  import_s=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t0" "$t1")
  import_rate=$(rows_per_s "$rows" "$t0" "$t1")
  peak_mb=$(( $(awk '/^VmHWM:/ {print $2}' "/proc/$SVC_PID/status") / 1024 ))
  echo "$store: import $rows rows in $import_s s, $import_rate rows/s; $(cat "$out/import.json"); peak RSS $peak_mb MB" >&2

  job="$(svc_post_job '{"dataset":"imported","epochs":1,"protocol":"recbole"}')"
  snapshot=""
  for _ in $(seq 1 1200); do
    snapshot="$(grep -oE 'read snapshot [^ ]+ at version [0-9]+: [0-9]+ pairs.* in [0-9.]+ s' "$out/service.log" | tail -n 1 || true)"
    [[ -n "$snapshot" ]] && break
    sleep 0.5
  done
  curl -s -o /dev/null -X DELETE "$BENCH_URL/jobs/$job" || true
  [[ -n "$snapshot" ]] || { echo "no snapshot line in the log" >&2; tail -n 20 "$out/service.log" >&2; exit 1; }
  snapshot_s="$(sed -E 's/.* in ([0-9.]+) s/\1/' <<<"$snapshot")"
  echo "$store: $snapshot" >&2
  table+="| $store | $post_rate | $import_rate ($import_s s) | $peak_mb | $snapshot_s |"$'\n'
  svc_stop
done

result="### Live data set ingestion: \`bench/ingest.sh\`

$(date -u +%F), nproc $(nproc), machine shared with other engineers' builds and tests; $rows rows
(users $users, items $items), POST batches: $batches × 1,000 records, 4 concurrent curl clients.

| store | POST feedback rows/s | import rows/s | host peak RSS MB | snapshot read s |
|---|---|---|---|---|
$table"
echo "$result"
[[ "${NO_APPEND:-}" == 1 ]] || printf '\n%s' "$result" >>bench/RESULTS.md
