-- wrk's request for the gateway benchmark: the same bytes for every configuration.
--   BENCH_BODY   the JSON body      BENCH_AUTH   the Authorization header (a real Moat key)
--   BENCH_EXTRA  optional "name: value" header (e.g. x-mock-latency-ms: 5)
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = os.getenv("BENCH_AUTH")
local extra = os.getenv("BENCH_EXTRA")
if extra and extra ~= "" then
  local name, value = extra:match("^([^:]+):%s*(.*)$")
  if name then wrk.headers[name] = value end
end
