-- wrk script of the benchmarks: cycles through the requests in $REQUEST_LIST, one per line, each thread from
-- its own offset. A line is a path (GET), or "METHOD<TAB>path<TAB>JSON body". $API_KEY, when set, goes in
-- X-API-Key. Prints request count, p50/p95/p99 latency and errors as one JSON line.
local requests = {}
for line in io.lines(os.getenv("REQUEST_LIST")) do
  local method, path, body = line:match("^(%u+)\t([^\t]+)\t(.*)$")
  if method then
    requests[#requests + 1] = { method = method, path = path, body = body }
  else
    requests[#requests + 1] = { method = "GET", path = line }
  end
end
local key = os.getenv("API_KEY")
local counter = 0

function setup(thread)
  thread:set("offset", math.random(1, #requests))
end

function request()
  counter = counter + 1
  local r = requests[((counter + (offset or 0)) % #requests) + 1]
  local headers = { ["Accept-Encoding"] = "gzip" }
  if key and key ~= "" then headers["X-API-Key"] = key end
  if r.body then headers["Content-Type"] = "application/json" end
  return wrk.format(r.method, r.path, headers, r.body)
end

function done(summary, latency, requests)
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, "errors": %d, "non2xx": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout, summary.errors.status))
end
