-- wrk script of bench/soak.sh: GET /users/{random known user}/ranking?k=10&dataset=DATASET, counting answers by
-- status class (wrk's own "errors.status" lumps 4xx and 5xx together; the soak must tell them apart).
-- Users are 1..MAX_USER (env). done() prints one machine-readable line for the calling script.
local max_user = tonumber(os.getenv("MAX_USER") or "943")
local path_tail = "/ranking?k=" .. (os.getenv("RANK_K") or "10") .. "&dataset=" .. (os.getenv("RANK_DATASET") or "ml-100k")
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
  s2, s4, s5, other = 0, 0, 0, 0
end

function request()
  return wrk.format("GET", "/users/" .. math.random(1, max_user) .. path_tail)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then s2 = s2 + 1
  elseif status >= 400 and status < 500 then s4 = s4 + 1
  elseif status >= 500 then s5 = s5 + 1
  else other = other + 1 end
end

function done(summary, latency, requests)
  local c2, c4, c5, co = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    c2 = c2 + t:get("s2"); c4 = c4 + t:get("s4"); c5 = c5 + t:get("s5"); co = co + t:get("other")
  end
  local e = summary.errors
  io.write(string.format("RESULT requests=%d s2xx=%d s4xx=%d s5xx=%d other=%d socket_errors=%d timeouts=%d p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
    summary.requests, c2, c4, c5, co, e.connect + e.read + e.write, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
