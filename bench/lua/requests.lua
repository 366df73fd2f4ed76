-- wrk script for bench/bench_http.py, driven by the environment:
--   BENCH_METHOD   GET (default) or POST
--   BENCH_PATHS    a file of paths, one a line, used in turn
--   BENCH_TOKENS   optional: a file of bearer tokens, one a line, each optionally followed by a space and
--                  the path to send it to (else the paths are used in turn). Each is sent exactly once (distinct
--                  candidates); a thread prints ANSWERED once every one of its tokens has its answer
--                  (bench_http.py then stops wrk with SIGINT). Meanwhile its idle connections ask for
--                  BENCH_IDLE (a 404, counted apart, not as an answer).
--   BENCH_THREADS  wrk's -t, so each thread takes its own share of the tokens
-- done() prints one JSON line: requests, duration, statuses, latency percentiles (microseconds).
local threads = {}

function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

local function lines(path)
  local out = {}
  if path and path ~= "" then
    for line in io.lines(path) do
      if line ~= "" then table.insert(out, line) end
    end
  end
  return out
end

function init(args)
  method = os.getenv("BENCH_METHOD") or "GET"
  idle_path = os.getenv("BENCH_IDLE") or "/bench-idle"
  nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
  paths = lines(os.getenv("BENCH_PATHS"))
  local all = lines(os.getenv("BENCH_TOKENS"))
  limited = #all > 0
  tokens = {}
  for i = index + 1, #all, nthreads do table.insert(tokens, all[i]) end
  sent, answered, idle, cursor = 0, 0, 0, 0
  -- wrk 4.1 calls thread 1's request() three times before the run (one to verify it, two to see
  -- whether it changes): those must not use up tokens, and must differ, or wrk thinks it static.
  probes = (limited and index == 0) and 3 or 0
  statuses = {}
  if limited and #tokens == 0 then announce() end
end

function announce()
  io.write("ANSWERED\n")
  io.flush()
end

function request()
  if probes > 0 then
    probes = probes - 1
    return wrk.format("GET", idle_path, {["X-Probe"] = tostring(probes)})
  end
  if not limited then
    cursor = cursor % #paths + 1
    return wrk.format(method, paths[cursor])
  end
  if sent >= #tokens then
    return wrk.format("GET", idle_path)
  end
  sent = sent + 1
  local token, path = string.match(tokens[sent], "^(%S+)%s+(%S+)$")
  if not token then
    -- Spread the threads' requests over the paths as one sequence would.
    token, path = tokens[sent], paths[((sent - 1) * nthreads + index) % #paths + 1]
  end
  return wrk.format(method, path, {["Authorization"] = "Bearer " .. token})
end

-- A thread whose tokens are all sent keeps its connections open with an idle request every 50 ms, not
-- as fast as they answer: flat out, they took CPU from the other thread's last bookings (with
-- keep-alive, gthread workers, thousands of 404s in a run).
function delay()
  if limited and sent >= #tokens then return 50 end
  return 0
end

function response(status, headers, body)
  if limited and status == 404 then
    idle = idle + 1
  else
    answered = answered + 1
    local key = tostring(status)
    statuses[key] = (statuses[key] or 0) + 1
  end
  if limited and answered == #tokens and status ~= 404 then
    announce()
  end
end

function done(summary, latency, requests)
  local counts, answers, idles = {}, 0, 0
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for k, v in pairs(s) do counts[k] = (counts[k] or 0) + v end
    answers = answers + thread:get("answered")
    idles = idles + thread:get("idle")
  end
  -- Idle 404s are the fastest answers: the answers' percentile p is the whole run's at this rank.
  local total = answers + idles
  local function pct(p)
    if total == 0 then return 0 end
    return latency:percentile(100 * (idles + p / 100 * answers) / total)
  end
  local parts = {}
  for k, v in pairs(counts) do table.insert(parts, string.format('"%s": %d', k, v)) end
  io.write(string.format(
    '{"answers": %d, "idle": %d, "duration_us": %d, "errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d},'
    .. ' "statuses": {%s}, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    answers, idles, summary.duration, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, table.concat(parts, ", "), pct(50), pct(90), pct(99), latency.max))
end
