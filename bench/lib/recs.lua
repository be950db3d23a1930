-- wrk script for the recommendation endpoints; ENDPOINT (env) picks one:
--   ranking        GET /users/{u}/ranking?k=10 (the reference)
--   filtered       GET /users/{u}/ranking?k=10&category=Drama&category=Comedy&exclude=<20 ids>
--   similar        GET /items/{i}/similar?k=10
--   popular        GET /items/popular?k=10
--   session        POST /sessions/ranking with 20 random items, k 10
--   batch          POST /rankings with BATCH (100) random users, k 10
-- Users are 1..MAX_USER, items 1..MAX_ITEM (ml-100k: 943, 1682). done() prints one machine-readable line.
local endpoint = os.getenv("ENDPOINT") or "ranking"
local max_user = tonumber(os.getenv("MAX_USER") or "943")
local max_item = tonumber(os.getenv("MAX_ITEM") or "1682")
local batch = tonumber(os.getenv("BATCH") or "100")

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
end

local function ids(n, max)
  local t = {}
  for j = 1, n do t[j] = tostring(math.random(1, max)) end
  return t
end

local json = { ["Content-Type"] = "application/json" }

function request()
  if endpoint == "filtered" then
    return wrk.format("GET", "/users/" .. math.random(1, max_user) .. "/ranking?k=10&category=Drama&category=Comedy&exclude=" .. table.concat(ids(20, max_item), ","))
  elseif endpoint == "similar" then
    return wrk.format("GET", "/items/" .. math.random(1, max_item) .. "/similar?k=10")
  elseif endpoint == "popular" then
    return wrk.format("GET", "/items/popular?k=10")
  elseif endpoint == "session" then
    local items = {}
    for j, id in ipairs(ids(20, max_item)) do items[j] = '{"id":"' .. id .. '"}' end
    return wrk.format("POST", "/sessions/ranking", json, '{"k":10,"items":[' .. table.concat(items, ",") .. ']}')
  elseif endpoint == "batch" then
    return wrk.format("POST", "/rankings", json, '{"k":10,"users":["' .. table.concat(ids(batch, max_user), '","') .. '"]}')
  end
  return wrk.format("GET", "/users/" .. math.random(1, max_user) .. "/ranking?k=10")
end

function done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format("RESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f requests=%d errors=%d non2xx=%d timeouts=%d\n",
    summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.requests, e.connect + e.read + e.write + e.timeout + e.status, e.status, e.timeout))
end
