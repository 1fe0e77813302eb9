#!/usr/bin/env python3
"""What `ferrid gateway` adds to a call (p50/p99 latency, throughput), measured with wrk.

Builds ferrid in release and starts, on 127.0.0.1:
  - `ferrid serve` with one ES256 track: its JWKS (GET /bench/es256/oauth/keys, a small
    JSON document) is the backend, and its token endpoint issues the gateway's tokens;
  - `ferrid gateway` with three endpoints in front of that backend:
      /plain   proxied as is,
      /cc      with `auth/client-credentials` (a cached ferrid token added to each call),
      /jwt     with `auth/validator` (ES256, JWKS cached) and `auth/client-credentials`.
Then loads the backend directly and each gateway endpoint with the same wrk script, at
each concurrency: a warm-up, then --runs x --duration; prints medians, the latency the
gateway adds over the direct call, the gateway's CPU and RSS, and how many token
requests the gateway made during the whole run (one is the goal).

  python3 bench/gateway.py [--conns 1,16] [--runs 3] [--duration 5s] [--no-build]

All processes share the machine with wrk: read the differences, not the absolutes.
"""
import argparse
import base64
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import (ROOT, Proc, admin_token, cpu_seconds, ensure_wrk, free_port, http, rss_kib,  # noqa: E402
                 start_ferrid, wait_http)

LUA = """
-- GET, with AUTH as the Authorization header when set; one machine-readable line.
wrk.method = "GET"
local auth = os.getenv("AUTH")
if auth and auth ~= "" then wrk.headers["Authorization"] = auth end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT rps=%.1f p50=%d p99=%d max=%d requests=%d non2xx=%d errors=%d\\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99),
    latency.max, summary.requests, e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def tokens_issued(base):
    """`ferrid_tokens_issued_total` summed over its `grant` label."""
    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as r:
        found = re.findall(r"^ferrid_tokens_issued_total(?:\{[^}]*\})? (\d+)", r.read().decode(), re.M)
    return sum(int(v) for v in found)


def setup_ferrid(base, secret):
    """Track bench/es256 with resource `api` and two Basic clients: the gateway's and a caller's."""
    token = admin_token(base, secret)
    auth = {"authorization": f"Bearer {token}"}
    http("POST", f"{base}/api/v1/tenants", {"name": "bench"}, auth)
    http("POST", f"{base}/api/v1/tenants/bench/tracks", {"name": "es256", "signing_alg": "ES256"}, auth)
    apps = f"{base}/api/v1/tenants/bench/tracks/es256/apps"
    http("POST", apps, {"name": "api", "kind": "oauth_resource", "scopes": ["read"]}, auth)
    grants = [{"resource": "api", "scopes": ["read"]}]
    clients = {}
    for name in ("gateway", "caller"):
        c = http("POST", apps, {"name": name, "kind": "oauth_client", "client_auth_method": "client_secret_basic",
                                "resource_scopes": grants}, auth)
        clients[name] = (c["client_id"], c["client_secret"])
    return clients


def ferrid_and_gateway_config(binary, work, procs):
    """Starts ferrid (appended to `procs`, so it is stopped whatever happens next) with
    the bench clients, and writes a gateway configuration for a free port; returns
    (the ferrid process, base URL, clients, gateway port, configuration file)."""
    ferrid, base, secret = start_ferrid(binary, os.path.join(work, "data"))
    procs.append(ferrid)
    clients = setup_ferrid(base, secret)
    port = free_port()
    cfg = os.path.join(work, "gateway.json")
    with open(cfg, "w") as f:
        json.dump(gateway_config(base, port, clients["gateway"]), f)
    return ferrid, base, clients, port, cfg


def gateway_config(base, port, gw_client):
    issuer = f"{base}/bench/es256"
    cc = {"client_id": gw_client[0], "client_secret": gw_client[1], "token_url": f"{issuer}/oauth/token",
          "scopes": "api:read"}
    validator = {"alg": "ES256", "jwk_url": f"{issuer}/oauth/keys", "issuer": issuer, "audience": ["api"],
                 "scopes": ["api:read"], "cache": True, "typ": "at+jwt"}
    backend = "/bench/es256/oauth/keys"
    return {
        "version": 3, "port": port, "listen_ip": "127.0.0.1", "host": [base], "timeout": "5s",
        "endpoints": [
            {"endpoint": "/plain", "backend": [{"url_pattern": backend}]},
            {"endpoint": "/cc", "backend": [{"url_pattern": backend,
                                             "extra_config": {"auth/client-credentials": cc}}]},
            {"endpoint": "/jwt", "extra_config": {"auth/validator": validator},
             "backend": [{"url_pattern": backend, "extra_config": {"auth/client-credentials": cc}}]},
        ],
    }


def wrk_once(lua, url, conns, duration, auth, pids):
    threads = min(2, conns)
    cmd = ["wrk", "-t", str(threads), "-c", str(conns), "-d", duration, "--latency", "-s", lua, url]
    c0, t0 = [cpu_seconds(p) for p in pids], time.time()
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "AUTH": auth or ""},
                         timeout=600).stdout
    wall = time.time() - t0
    m = re.search(r"RESULT (.*)", out)
    if not m:
        raise SystemExit(f"wrk output not understood:\n{out}")
    r = {k: float(v) for k, v in (kv.split("=") for kv in m.group(1).split())}
    r["cpu"] = [100.0 * (cpu_seconds(p) - c) / wall for p, c in zip(pids, c0)]
    r["cmd"] = " ".join(cmd)
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--conns", default="1,16")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--duration", default="5s")
    ap.add_argument("--warmup", default="2s")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--json", help="append result rows as JSON lines to this file")
    a = ap.parse_args()

    ensure_wrk()
    binary = os.path.join(ROOT, "target", "release", "ferrid")
    if not a.no_build:
        subprocess.run(["nice", "-n", "19", "cargo", "build", "--release", "-q", "--bin", "ferrid"], cwd=ROOT,
                       check=True)
    work = tempfile.mkdtemp(prefix="ferrid-bench-gw-")
    procs = []
    rows = []
    try:
        lua = os.path.join(work, "get.lua")
        with open(lua, "w") as f:
            f.write(LUA)
        ferrid, base, clients, port, cfg = ferrid_and_gateway_config(binary, work, procs)
        gw = Proc([binary, "gateway", "--config", cfg], env={"FERRID_LOG": "warn"},
                  log=os.path.join(work, "gateway.log"))
        procs.append(gw)
        gw_base = f"http://127.0.0.1:{port}"
        wait_http(f"{gw_base}/plain", gw.pid)
        caller = http("POST", f"{base}/bench/es256/oauth/token", "grant_type=client_credentials&scope=api:read",
                      {"authorization": "Basic " + base64.b64encode(
                          f"{clients['caller'][0]}:{clients['caller'][1]}".encode()).decode()}, form=True)
        bearer = f"Bearer {caller['access_token']}"
        issued0 = tokens_issued(base)
        modes = [("direct", f"{base}/bench/es256/oauth/keys", None),
                 ("gateway /plain", f"{gw_base}/plain", None),
                 ("gateway /cc", f"{gw_base}/cc", None),
                 ("gateway /jwt", f"{gw_base}/jwt", bearer)]
        for conns in [int(c) for c in a.conns.split(",")]:
            for label, url, auth in modes:
                wrk_once(lua, url, conns, a.warmup, auth, [ferrid.pid, gw.pid])
                runs = [wrk_once(lua, url, conns, a.duration, auth, [ferrid.pid, gw.pid]) for _ in range(a.runs)]
                med = lambda k: statistics.median(r[k] for r in runs)
                row = {"mode": label, "conns": conns, "rps": med("rps"), "p50_ms": med("p50") / 1000,
                       "p99_ms": med("p99") / 1000, "bad": sum(int(r["non2xx"] + r["errors"]) for r in runs),
                       "ferrid_cpu": statistics.median(r["cpu"][0] for r in runs),
                       "gw_cpu": statistics.median(r["cpu"][1] for r in runs), "gw_rss_mib": rss_kib(gw.pid) / 1024,
                       "cmd": runs[0]["cmd"]}
                rows.append(row)
                print(f"   c={conns:<3} {label:<15} {row['rps']:9.0f} req/s  p50 {row['p50_ms']:6.3f} ms  "
                      f"p99 {row['p99_ms']:6.3f} ms" + (f"  NON-2XX/ERRORS {row['bad']}" if row["bad"] else ""),
                      flush=True)
        token_requests = tokens_issued(base) - issued0
        table(rows)
        print(f"\ntoken requests made by the gateway during the whole run: {token_requests}")
        print(f"example wrk command: {rows[-1]['cmd']}")
        if a.json:
            with open(a.json, "a") as f:
                for r in rows:
                    f.write(json.dumps(r) + "\n")
    finally:
        for p in reversed(procs):
            p.stop()
        shutil.rmtree(work, ignore_errors=True)


def table(rows):
    direct = {r["conns"]: r for r in rows if r["mode"] == "direct"}
    print("\n| call | c | req/s | p50 ms | p99 ms | added p50 ms | added p99 ms | gateway CPU | ferrid CPU | gateway RSS MiB |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for r in rows:
        d = direct[r["conns"]]
        added = (f"{r['p50_ms'] - d['p50_ms']:+.3f} | {r['p99_ms'] - d['p99_ms']:+.3f}" if r is not d else "– | –")
        gw = f"{r['gw_cpu']:.0f}%" if r is not d else "–"
        print(f"| {r['mode']} | {r['conns']} | {r['rps']:,.0f} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} | {added} "
              f"| {gw} | {r['ferrid_cpu']:.0f}% | {r['gw_rss_mib']:.1f} |")


if __name__ == "__main__":
    sys.exit(main())
