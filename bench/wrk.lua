-- One wrk script for every scenario of bench/run.py, set through the
-- environment:
--   BENCH_PATHS    file of request paths, one per line, walked in order
--                  (default: the path of the URL given to wrk)
--   BENCH_HEADERS  "name: value" lines added to every request
--   BENCH_METHOD   GET (default) or POST
--   BENCH_BODY     file whose bytes are every request's body
--   BENCH_RESULT   file the summary is written to, as one JSON object

local requests = {}
local next_request = 0

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  return data
end

function init(args)
  local headers = {}
  for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
    local name, value = line:match("^([^:]+):%s*(.*)$")
    headers[name] = value
  end
  local method = os.getenv("BENCH_METHOD") or "GET"
  local body_file = os.getenv("BENCH_BODY")
  local body = body_file and read_file(body_file) or nil
  local paths = os.getenv("BENCH_PATHS")
  if paths then
    for path in io.lines(paths) do
      requests[#requests + 1] = wrk.format(method, path, headers, body)
    end
  else
    requests[1] = wrk.format(method, nil, headers, body)
  end
end

function request()
  next_request = next_request % #requests + 1
  return requests[next_request]
end

function done(summary, latency, _)
  local e = summary.errors
  local out = assert(io.open(os.getenv("BENCH_RESULT"), "w"))
  out:write(string.format(
    '{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"errors_connect":%d,"errors_read":%d,"errors_write":%d,"errors_timeout":%d,"errors_status":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.timeout, e.status))
  out:close()
end
