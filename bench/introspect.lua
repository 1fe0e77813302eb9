-- wrk: POST an introspection request (RFC 7662) for one access token, the caller
-- authenticated with client_secret_basic. BASIC = base64("client_id:client_secret");
-- TOKEN = the access token asked about (a JWT: base64url and dots, nothing to escape).
wrk.method = "POST"
wrk.body = "token=" .. (os.getenv("TOKEN") or "") .. "&token_type_hint=access_token"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "application/json"
wrk.headers["Authorization"] = "Basic " .. (os.getenv("BASIC") or "")

-- One machine-readable line; latencies in microseconds (the same line as cc.lua).
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT rps=%.1f p50=%d p99=%d max=%d requests=%d non2xx=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99),
    latency.max, summary.requests, e.status, e.connect + e.read + e.write + e.timeout))
end
