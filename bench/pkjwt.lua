-- wrk: client_credentials with private_key_jwt. ASSERTIONS names a file of signed
-- assertions, one a line, each used once (a jti is accepted once): thread i of n takes
-- lines i, i+n, i+2n, … after the first SKIP lines (used by earlier runs). The run must
-- not outlast the file.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local n = tonumber(os.getenv("THREADS") or "2")
  local skip = tonumber(os.getenv("SKIP") or "0")
  assertions = {}
  local i = 0
  for line in io.lines(os.getenv("ASSERTIONS")) do
    if i >= skip and i % n == id then
      table.insert(assertions, line)
    end
    i = i + 1
  end
  next_index = 1
  prefix = "grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion="
end

function request()
  local a = assertions[next_index]
  next_index = next_index + 1
  if a == nil then
    a = "exhausted"
  end
  return wrk.format("POST", nil, { ["Content-Type"] = "application/x-www-form-urlencoded" }, prefix .. a)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT rps=%.1f p50=%d p99=%d max=%d requests=%d non2xx=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99),
    latency.max, summary.requests, e.status, e.connect + e.read + e.write + e.timeout))
end
