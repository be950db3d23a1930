-- wrk script: GET /users/{random known user}/ranking?k=10. Users are 1..MAX_USER (env), which holds for ml-100k and
-- for the synthetic generator's ids. done() prints one machine-readable line for the calling script.
local max_user = tonumber(os.getenv("MAX_USER") or "943")
local k = os.getenv("RANK_K") or "10"
local extra = os.getenv("RANK_QUERY") or "" -- e.g. "&exact=true"

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
end

function request()
  return wrk.format("GET", "/users/" .. math.random(1, max_user) .. "/ranking?k=" .. k .. extra)
end

function done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format("RESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f requests=%d errors=%d non2xx=%d timeouts=%d\n",
    summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.requests, e.connect + e.read + e.write + e.timeout + e.status, e.status, e.timeout))
end
