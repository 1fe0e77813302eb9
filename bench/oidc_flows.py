#!/usr/bin/env python3
"""The OpenID Provider flow benchmark (docs/benchmarks.md, "OpenID Provider flows").

Starts ferrid (release, fresh embedded store; one oidc_client and one user registered
through the management API) twice — `ferrid` with its data directory on the disk,
`ferrid-shm` with it on /dev/shm — and, with --kit, the peer (oidc-provider configured by
bench/oidc_flows/peer.mjs for the same client, user and flows), one at a time, and loads
each with bench/oidc_load (Rust; every virtual user signs in once, unmeasured, then
repeats its flow):

  code      GET authorize with the session → code → POST token (PKCE S256, Basic)
  refresh   POST token grant_type=refresh_token, the latest refresh token of each user
  userinfo  GET userinfo with a bearer access token
  login     a fresh browser: authorize → login form → POST username/password → code
            (at --login-conns, 2: ferrid's bound on password checks per source and user)

Per flow and concurrency: a warm-up, then --runs × --duration; prints flows/s, p50/p99
of a whole flow, the server's CPU and peak RSS, its CPU per flow, the generator's own
CPU, and a side-by-side table with the ratio ferrid/peer.

  python3 bench/oidc_flows.py --kit ../shared/bench [--flows code,refresh,userinfo,login]
      [--algs ES256,RS256] [--conns 16,64] [--runs 2] [--duration 10] [--warmup 3]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as wrkbench  # noqa: E402  (bench/run.py: process figures, ferrid start, admin token)

ROOT = wrkbench.ROOT
LOAD_DIR = os.path.join(ROOT, "bench", "oidc_load")
LOAD_BIN = os.path.join(LOAD_DIR, "target", "release", "oidc-load")
PEER_DIR = os.path.join(ROOT, "bench", "oidc_flows")
REDIRECT_URI = "http://127.0.0.1:9/cb"
USERNAME = "alice"
PASSWORD = "a long passphrase 42"
PEER_RESOURCE = "urn:bench:api"


def discovery(issuer):
    with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration", timeout=10) as r:
        return json.loads(r.read())


def start_ferrid(binary, work, alg, data_root=None):
    data = os.path.join(data_root or work, f"data-ferrid-{alg}")
    proc, base, secret = wrkbench.start_ferrid(binary, data)
    try:
        token = wrkbench.admin_token(base, secret)
        auth = {"authorization": f"Bearer {token}"}
        try:
            wrkbench.http("POST", f"{base}/api/v1/tenants", {"name": "bench"}, auth)
        except urllib.error.HTTPError as e:
            if e.code != 409:
                raise
        track = alg.lower()
        wrkbench.http("POST", f"{base}/api/v1/tenants/bench/tracks", {"name": track, "signing_alg": alg}, auth)
        t = f"{base}/api/v1/tenants/bench/tracks/{track}"
        c = wrkbench.http("POST", f"{t}/apps", {
            "name": "web", "kind": "oidc_client", "redirect_uris": [REDIRECT_URI],
            "client_auth_method": "client_secret_basic", "grant_types": ["authorization_code", "refresh_token"]}, auth)
        wrkbench.http("POST", f"{t}/users", {
            "username": USERNAME, "email": "alice@example.com", "email_verified": True, "password": PASSWORD,
            "claims": {"name": "Alice Liddell", "given_name": "Alice", "family_name": "Liddell"}}, auth)
        issuer = c.get("issuer") or f"{base}/bench/{track}"
        return proc, issuer, c["client_id"], c["client_secret"], None, base
    except Exception:
        proc.stop()
        raise


def start_peer(kit_or_provider, work, alg):
    provider = kit_or_provider
    if os.path.isdir(os.path.join(kit_or_provider, "node-oidc")):
        d = os.path.join(kit_or_provider, "node-oidc")
        if not os.path.isdir(os.path.join(d, "node_modules")):
            subprocess.run(["npm", "ci", "--silent"], cwd=d, check=True)
        provider = os.path.join(d, "node_modules", "oidc-provider")
    if not os.path.isdir(os.path.join(PEER_DIR, "node_modules", "@node-rs", "argon2")):
        subprocess.run(["npm", "ci", "--silent"], cwd=PEER_DIR, check=True)
    port = wrkbench.free_port()
    secret = "bench-web-secret-" + os.urandom(12).hex()
    env = {"ALG": alg, "PORT": str(port), "QUIET": "1", "CLIENT_ID": "bench-web", "CLIENT_SECRET": secret,
           "BENCH_USER": USERNAME, "BENCH_PASSWORD": PASSWORD}
    proc = wrkbench.Proc(["node", os.path.join(PEER_DIR, "peer.mjs"), "--provider", provider], env=env,
                         log=os.path.join(work, f"peer-{alg}.log"))
    issuer = f"http://127.0.0.1:{port}"
    wrkbench.wait_http(f"{issuer}/.well-known/openid-configuration", proc.pid)
    return proc, issuer, "bench-web", secret, PEER_RESOURCE, None


def load_args(issuer, client_id, secret, resource):
    d = discovery(issuer)
    args = ["--authorize", d["authorization_endpoint"], "--token", d["token_endpoint"],
            "--userinfo", d["userinfo_endpoint"], "--client-id", client_id, "--client-secret", secret,
            "--redirect-uri", REDIRECT_URI, "--username", USERNAME, "--password", PASSWORD]
    if resource:
        args += ["--resource", resource]
    return args


def run_flow(label, alg, flow, conns, base_args, pid, a, metrics_base):
    cmd = [LOAD_BIN, *base_args, "--scenario", flow, "--conns", str(conns), "--warmup", str(a.warmup),
           "--duration", str(a.duration), "--runs", str(a.runs), "--threads", str(a.threads)]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
    peak = [wrkbench.rss_kib(pid)]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], wrkbench.rss_kib(pid))
            time.sleep(0.2)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    errs = []
    te = threading.Thread(target=lambda: errs.extend(p.stderr), daemon=True)
    te.start()
    results, c0, calls0 = [], None, None
    for line in p.stdout:
        line = line.strip()
        if line.startswith("PHASE run"):
            peak[0] = wrkbench.rss_kib(pid)
            c0 = wrkbench.cpu_seconds(pid)
            calls0 = wrkbench.store_calls(metrics_base) if metrics_base else None
        elif line.startswith("RESULT "):
            r = json.loads(line[7:])
            cpu = wrkbench.cpu_seconds(pid) - c0
            r["cpu_pct"] = 100.0 * cpu / r["secs"]
            r["cpu_ms_per_op"] = 1000.0 * cpu / r["ops"] if r["ops"] else float("nan")
            r["rss_mib"] = peak[0] / 1024
            if calls0 is not None:
                calls1 = wrkbench.store_calls(metrics_base)
                r["store_calls_per_op"] = (calls1 - calls0) / r["ops"] if r["ops"] else float("nan")
            print(f"   {flow:<8} c={conns:<3} run {r['run']}: {r['ops_per_s']:8.0f}/s  p50 {r['p50_ms']:7.2f} ms  "
                  f"p99 {r['p99_ms']:7.2f} ms  server cpu {r['cpu_pct']:4.0f}% ({r['cpu_ms_per_op']:.2f} ms/op)  "
                  f"rss {r['rss_mib']:6.1f} MiB  gen cpu {r['gen_cpu_pct']:3.0f}%"
                  + (f"  store calls/op {r['store_calls_per_op']:.1f}" if "store_calls_per_op" in r else "")
                  + (f"  POST login p50 {r['step_p50_ms']:.1f} ms" if flow == "login" else "")
                  + (f"  ERRORS {r['errors']}" if r["errors"] else ""), flush=True)
            results.append(r)
        elif line.startswith("SETUP"):
            print(f"   {flow:<8} c={conns:<3} {line[6:]}", flush=True)
    rc = p.wait()
    stop.set()
    th.join()
    te.join(timeout=2)
    if errs:
        sys.stderr.write("".join(errs[:10]))
    if rc != 0 or not results:
        raise SystemExit(f"oidc-load failed ({rc}) for {label} {flow} c={conns}")
    med = lambda k: statistics.median(x[k] for x in results)  # noqa: E731
    row = {"label": label, "alg": alg, "flow": flow, "conns": conns, "ops_per_s": med("ops_per_s"),
           "p50_ms": med("p50_ms"), "p99_ms": med("p99_ms"), "cpu_pct": med("cpu_pct"),
           "cpu_ms_per_op": med("cpu_ms_per_op"), "gen_cpu_pct": med("gen_cpu_pct"),
           "rss_mib": max(x["rss_mib"] for x in results), "errors": sum(x["errors"] for x in results),
           "step_p50_ms": med("step_p50_ms")}
    if all("store_calls_per_op" in x for x in results):
        row["store_calls_per_op"] = med("store_calls_per_op")
    return row


def table(rows, flows, algs, conns):
    by = {(r["label"], r["alg"], r["flow"], r["conns"]): r for r in rows}
    labels = [x for x in ("ferrid", "ferrid-shm", "peer") if any(r["label"] == x for r in rows)]
    print("\n| flow | alg | c | server | flows/s | p50 ms | p99 ms | server CPU | CPU ms/flow | peak RSS MiB | ÷ peer |")
    print("|---|---|--:|---|--:|--:|--:|--:|--:|--:|--:|")
    for alg in algs:
        for flow in flows:
            for c in conns:
                peer = by.get(("peer", alg, flow, c))
                for label in labels:
                    r = by.get((label, alg, flow, c))
                    if not r:
                        continue
                    ratio = f"{r['ops_per_s'] / peer['ops_per_s']:.2f}" if peer and peer["ops_per_s"] else "—"
                    print(f"| {flow} | {alg} | {c} | {label} | {r['ops_per_s']:,.0f} | {r['p50_ms']:.2f} "
                          f"| {r['p99_ms']:.2f} | {r['cpu_pct']:.0f}% | {r['cpu_ms_per_op']:.2f} | {r['rss_mib']:.0f} "
                          f"| {ratio if label != 'peer' else ''} |")
    gen = [f"{r['label']} {r['alg']} {r['flow']} c={r['conns']}: {r['gen_cpu_pct']:.0f}%" for r in rows]
    print("\nload generator CPU (of one core): " + "; ".join(gen))
    logins = [f"{r['label']} {r['alg']} c={r['conns']}: {r['step_p50_ms']:.1f} ms" for r in rows if r["flow"] == "login"]
    if logins:
        print("login POST alone, p50: " + "; ".join(logins))
    calls = [f"{r['label']} {r['flow']} {r['alg']} c={r['conns']}: {r['store_calls_per_op']:.1f}" for r in rows
             if "store_calls_per_op" in r]
    if calls:
        print("ferrid store calls per flow (ferrid_store_calls_total): " + "; ".join(calls))
    errors = [f"{r['label']} {r['alg']} {r['flow']} c={r['conns']}: {r['errors']}" for r in rows if r["errors"]]
    if errors:
        print("ERRORS: " + "; ".join(errors))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--flows", default="code,refresh,userinfo,login")
    ap.add_argument("--algs", default="ES256")
    ap.add_argument("--conns", default="16,64")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--warmup", type=float, default=3)
    ap.add_argument("--login-conns", default="2",
                    help="concurrency of the login flow: ferrid admits two password checks at once per source"
                         " address and per user and answers 429 past that")
    ap.add_argument("--threads", type=int, default=2, help="the load generator's tokio worker threads")
    ap.add_argument("--servers", default="ferrid,ferrid-shm,peer",
                    help="ferrid (data directory on the disk), ferrid-shm (on /dev/shm, where fsync costs nothing,"
                         " as the peer's in-memory adapter), peer")
    ap.add_argument("--kit", help="../shared/bench (its node-oidc/node_modules/oidc-provider), or the directory"
                    " of an oidc-provider package; needed for the peer")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--binary", help="load this ferrid binary instead of target/release/ferrid (implies --no-build)")
    ap.add_argument("--json", help="append result rows as JSON lines to this file")
    a = ap.parse_args()

    flows = a.flows.split(",")
    algs = a.algs.split(",")
    conns = [int(c) for c in a.conns.split(",")]
    login_conns = [int(c) for c in a.login_conns.split(",")]
    servers = a.servers.split(",")
    if "peer" in servers and not a.kit:
        servers.remove("peer")
        print("no --kit: ferrid only", flush=True)
    binary = a.binary or os.path.join(ROOT, "target", "release", "ferrid")
    if any(x.startswith("ferrid") for x in servers) and not a.no_build and not a.binary:
        subprocess.run(["cargo", "build", "--release", "-q", "--bin", "ferrid"], cwd=ROOT, check=True)
    if not a.no_build or not os.path.exists(LOAD_BIN):
        subprocess.run(["cargo", "build", "--release", "-q", "--manifest-path", os.path.join(LOAD_DIR, "Cargo.toml")],
                       check=True)
    rows = []
    shm_dirs = []
    work = tempfile.mkdtemp(prefix="ferrid-oidc-bench-")
    try:
        for alg in algs:
            for label in servers:
                if label == "ferrid":
                    proc, issuer, cid, secret, resource, metrics = start_ferrid(binary, work, alg)
                elif label == "ferrid-shm":
                    shm = tempfile.mkdtemp(prefix="ferrid-oidc-bench-", dir="/dev/shm")
                    shm_dirs.append(shm)
                    proc, issuer, cid, secret, resource, metrics = start_ferrid(binary, work, alg, shm)
                else:
                    proc, issuer, cid, secret, resource, metrics = start_peer(os.path.abspath(a.kit), work, alg)
                try:
                    print(f"== {label} {alg} {issuer}  idle RSS {wrkbench.rss_kib(proc.pid) / 1024:.1f} MiB", flush=True)
                    base_args = load_args(issuer, cid, secret, resource)
                    metrics_url = f"{metrics}/x/y" if metrics else None
                    for flow in flows:
                        for c in (login_conns if flow == "login" else conns):
                            rows.append(run_flow(label, alg, flow, c, base_args, proc.pid, a, metrics_url))
                finally:
                    proc.stop()
        table(rows, flows, algs, sorted(set(conns + login_conns)))
        if a.json:
            with open(a.json, "a") as f:
                for r in rows:
                    f.write(json.dumps(r) + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        for d in shm_dirs:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
