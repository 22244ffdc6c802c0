-- wrk script of bench/pages.py: the request method and body, and one summary line at the end.
-- BENCH_METHOD (default GET) and BENCH_BODY_FILE (a file holding the request body) come from
-- the environment; headers (cookies, Authorization, Content-Type) from wrk's -H options.

wrk.method = os.getenv("BENCH_METHOD") or "GET"
local body_file = os.getenv("BENCH_BODY_FILE")
if body_file and body_file ~= "" then
  local file = assert(io.open(body_file, "rb"))
  wrk.body = file:read("*a")
  file:close()
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "BENCH requests=%.0f duration_us=%.0f bytes=%.0f connect=%.0f read=%.0f write=%.0f "
      .. "status=%.0f timeout=%.0f p50_us=%.0f p95_us=%.0f p99_us=%.0f\n",
    summary.requests, summary.duration, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
