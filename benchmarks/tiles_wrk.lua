-- wrk script for benchmarks/tiles_vs_tipg.py: cycles through the tile paths in $TILE_LIST (one per line),
-- each thread from its own offset, and prints p50/p95/p99 latency and the request count as one JSON line.
local paths = {}
for line in io.lines(os.getenv("TILE_LIST")) do paths[#paths + 1] = line end
local counter = 0

function setup(thread)
  thread:set("offset", math.random(1, #paths))
end

function request()
  counter = counter + 1
  local path = paths[((counter + (offset or 0)) % #paths) + 1]
  return wrk.format("GET", path, { ["Accept-Encoding"] = "gzip" })
end

function done(summary, latency, requests)
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, "errors": %d, "non2xx": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout, summary.errors.status))
end
