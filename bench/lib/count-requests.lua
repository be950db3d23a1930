-- wrk script: like random-user.lua, but the thread stops after REQUESTS responses (run wrk with -t1), so a run sends
-- an exact number of requests. done() prints one RESULT line.
local max_user = tonumber(os.getenv("MAX_USER") or "943")
local limit = tonumber(os.getenv("REQUESTS") or "10000")
local seen = 0

function request()
  return wrk.format("GET", "/users/" .. math.random(1, max_user) .. "/ranking?k=10")
end

function response(status, headers, body)
  seen = seen + 1
  if seen >= limit then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d errors=%d rps=%.1f\n", summary.requests,
    e.connect + e.read + e.write + e.timeout + e.status, summary.requests / (summary.duration / 1e6)))
end
