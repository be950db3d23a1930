#!/usr/bin/env bash
# Issue 16's hand check: ml-100k as a live data set trains like ml-100k the file data set. u.data becomes a MovieLens
# ratings.csv (userId,movieId,rating,timestamp, in u.data's order) and u.item a movies.csv (movieId,title,genres,
# timestamp: the release date as Unix seconds, UTC midnight), both in a temp dir (never in the repo); they are imported
# through POST /datasets/ml100k-live/import, then one job trains on each data set with the same seed and options. The
# table compares data fingerprints, counts and metrics; the script fails when they differ.
# Usage: bench/ml100k-live-check.sh   env: ML100K (../shared/data/ml-100k), EPOCHS (3), SEED (7), NO_APPEND=1
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib/service.sh
data="$(realpath "${ML100K:-../shared/data/ml-100k}")"
epochs="${EPOCHS:-3}" seed="${SEED:-7}"
out="$(mktemp -d)"
cleanup() { svc_stop; rm -rf "$out"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$out/artifacts" "$out/data" "$out/csv"
ln -s "$data" "$out/data/ml-100k"
python3 - "$data" "$out/csv" <<'PY'
import calendar, csv, sys, time
src, dst = sys.argv[1], sys.argv[2]
with open(f"{src}/u.data") as f, open(f"{dst}/ratings.csv", "w", newline="") as o:
    w = csv.writer(o, lineterminator="\n")
    w.writerow(["userId", "movieId", "rating", "timestamp"])
    for line in f:
        if line.strip():
            w.writerow(line.split())
genres = [l.split("|")[0] for l in open(f"{src}/u.genre", encoding="latin-1") if l.strip()]
with open(f"{src}/u.item", encoding="latin-1") as f, open(f"{dst}/movies.csv", "w", newline="", encoding="utf-8") as o:
    w = csv.writer(o, lineterminator="\n")
    w.writerow(["movieId", "title", "genres", "timestamp"])
    for line in f:
        if not line.strip():
            continue
        p = line.rstrip("\n").split("|")
        try:
            released = str(calendar.timegm(time.strptime(p[2], "%d-%b-%Y")))
        except ValueError:
            released = ""  # the file loader gives such an item no time either
        w.writerow([p[0], p[1], "|".join(g for g, flag in zip(genres, p[5:]) if flag == "1"), released])
PY
echo "ratings.csv: $(($(wc -l <"$out/csv/ratings.csv") - 1)) rows; movies.csv: $(($(wc -l <"$out/csv/movies.csv") - 1)) rows" >&2

svc_build "$out"
svc_start "$out" "$out/artifacts" "$out/data"
curl -sf -o /dev/null -X PUT "$BENCH_URL/datasets/ml100k-live"
curl -sf -X POST -T "$out/csv/ratings.csv" -H 'Content-Type: text/csv' "$BENCH_URL/datasets/ml100k-live/import?kind=feedback" >&2; echo >&2
curl -sf -X POST -T "$out/csv/movies.csv" -H 'Content-Type: text/csv' "$BENCH_URL/datasets/ml100k-live/import?kind=items" >&2; echo >&2

options="\"epochs\":$epochs,\"seed\":$seed"
file_job="$(svc_post_job "{\"dataset\":\"ml-100k\",$options}")"
svc_wait_job "$file_job" succeeded 1800
live_job="$(svc_post_job "{\"dataset\":\"ml100k-live\",$options}")"
svc_wait_job "$live_job" succeeded 1800
for job in "$file_job" "$live_job"; do
  curl -sf "$BENCH_URL/jobs/$job" >"$out/job-$job.json"
  curl -sf "$BENCH_URL/models/$job" >"$out/model-$job.json"
done

result="$(python3 - "$out" "$file_job" "$live_job" "bench/ml100k-live-check.sh (EPOCHS=$epochs SEED=$seed)" <<'PY'
import datetime, json, os, sys
out, jobs, cmd = sys.argv[1], sys.argv[2:4], sys.argv[4]
rows, same = [], True
views = []
for name, job in zip(["ml-100k (file)", "ml100k-live (imported)"], jobs):
    j = json.load(open(f"{out}/job-{job}.json"))
    d = json.load(open(f"{out}/model-{job}.json"))["manifest"]["dataset"]
    views.append((name, j, d))
def metric(m, k):
    return f"{m[k]:.4f}" if m and k in m else "–"
for name, j, d in views:
    t, v = j.get("test") or {}, j.get("bestValidation") or {}
    rows.append(f"| {name} | `{d['fingerprint']}` | {d['users']} | {d['items']} | {d['ratings']} | {metric(v, 'NDCG@10')} | {metric(t, 'HR@10')} | {metric(t, 'NDCG@10')} | {metric(t, 'MRR')} |")
(_, a, da), (_, b, db) = views
same = da["fingerprint"] == db["fingerprint"] and (da["users"], da["items"], da["ratings"]) == (db["users"], db["items"], db["ratings"]) \
    and a.get("test") == b.get("test") and a.get("bestValidation") == b.get("bestValidation")
print(f"### ml-100k imported as a live data set against the file data set: `{cmd}`\n")
print(f"{datetime.date.today()}, nproc {os.cpu_count()}, machine shared with other engineers. u.data as ratings.csv and u.item as movies.csv "
      "imported through POST /datasets/ml100k-live/import; one job per data set, same seed and options.\n")
print("| data set | fingerprint | users | items | ratings | best validation NDCG@10 | test HR@10 | test NDCG@10 | test MRR |")
print("|---|---|---|---|---|---|---|---|---|")
print("\n".join(rows))
print(f"\nSame fingerprint, counts and metrics: **{'yes' if same else 'NO'}**.")
sys.exit(0 if same else 3)
PY
)" && status=0 || status=$?
echo "$result"
[[ "${NO_APPEND:-}" == 1 ]] || printf '\n%s\n' "$result" >>bench/RESULTS.md
exit "$status"
