-- wrk script of bench_server.py: POST a different query body each request,
-- cycling through the bodies in BODIES (a file of LENGTH-byte records, or
-- one JSON body a line when LENGTH is 0); prints one RESULT line at the end.
wrk.method = "POST"
local bodies = {}
local at = 0

function init(args)
  local path, length = os.getenv("BODIES"), tonumber(os.getenv("LENGTH") or "0")
  local f = assert(io.open(path, "rb"))
  if length > 0 then
    local all = f:read("*a")
    for i = 1, #all, length do bodies[#bodies + 1] = all:sub(i, i + length - 1) end
  else
    for line in f:lines() do bodies[#bodies + 1] = line end
  end
  f:close()
  at = math.random(#bodies)
end

function request()
  at = at % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[at])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d errors=%d duration_us=%d p50_us=%d p95_us=%d p99_us=%d\n",
    summary.requests, e.connect + e.read + e.write + e.status + e.timeout, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
