-- wrk script of bench/cds_hooks.py: bench/pages.lua (method, body, summary line) plus a
-- signed CDS Hooks token of its own for every request, read from BENCH_TOKENS_FILE (one JWT
-- a line): the service refuses a token whose jti it has seen, as the specification asks.

dofile(os.getenv("BENCH_PAGES_LUA"))

local threads = 0
function setup(thread)
  thread:set("thread_number", threads)
  threads = threads + 1
end

local tokens, position = {}, 0
function init(args)
  for line in io.lines(os.getenv("BENCH_TOKENS_FILE")) do
    tokens[#tokens + 1] = line
  end
  position = thread_number + 1
end

function request()
  -- the two threads take alternate tokens, so none is sent twice
  local headers = {}
  for name, value in pairs(wrk.headers) do
    headers[name] = value
  end
  headers["Authorization"] = "Bearer " .. tokens[position]
  position = position + 2
  return wrk.format(nil, nil, headers, nil)
end
