#!/usr/bin/env python3
"""ferrid's token-endpoint benchmark (docs/benchmarks.md).

Builds ferrid in release, starts it on a fresh embedded store with one resource (`api`,
scopes read/write) and one client_secret_basic client per algorithm, and loads
POST /{tenant}/{track}/oauth/token with wrk: a warm-up, then --runs x --duration per
concurrency. Prints req/s, p50/p99, server CPU and peak RSS (medians of the runs).

With --kit DIR (../shared/bench) it also starts, in the same invocation and with the
same wrk script, the peer (oidc-provider, one Node process) and the limit server
(axumbench), one at a time, and prints ferrid/limit and ferrid/peer.

  python3 bench/run.py --algs ES256,RS256 [--kit ../shared/bench] [--conns 16,64] [--runs 3]
  python3 bench/run.py --scale 10,10000,100000      # registered-client scale check
  python3 bench/run.py --scale 10,100000 --scale-tenants 1 --kit ../shared/bench --conns 64 --rounds 10
      # the same, as paired rounds: every size and the limit started afresh in every round

With --introspect, ferrid is loaded on the token endpoint and right after it, in the same
process, on the introspection endpoint (RFC 7662, bench/introspect.lua: one access token
of the same client, asked about by that client with Basic); it prints introspect/token.
With --deny N, two processes of the same binary run side by side, each on its own store:
one with an empty deny-list and one that revoked one real token and, stopped, got N - 1
more unexpired rows in `denied_tokens` of its SQLite file; both are restarted (the second
must then introspect the revoked token inactive and the other active) and loaded in
alternating rounds: rates without and with the N-entry deny-list in one invocation.

  python3 bench/run.py --no-build --algs ES256 --conns 64 --runs 3 --introspect --deny 100000
"""
import argparse
import base64
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LUA = os.path.join(ROOT, "bench", "cc.lua")
INTROSPECT_LUA = os.path.join(ROOT, "bench", "introspect.lua")
PKJWT_LUA = os.path.join(ROOT, "bench", "pkjwt.lua")
HZ = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, headers=None, form=False):
    data = None
    h = dict(headers or {})
    if body is not None:
        if form:
            data = body.encode()
            h["content-type"] = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body).encode()
            h["content-type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


def wait_http(url, pid=None, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        if pid is not None and not os.path.exists(f"/proc/{pid}"):
            raise SystemExit(f"server {pid} exited before answering {url}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except Exception:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer within {timeout}s")


# ---- process figures (Linux /proc) ----

def tree(pid):
    out = [pid]
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                for c in f.read().split():
                    out += tree(int(c))
    except FileNotFoundError:
        pass
    return out


def rss_kib(pid):
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                m = re.search(r"VmRSS:\s+(\d+)", f.read())
                total += int(m.group(1)) if m else 0
        except FileNotFoundError:
            pass
    return total


def cpu_seconds(pid):
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
        except FileNotFoundError:
            pass
    return total / HZ


ASSERTIONS_USED = {"lines": 0}
PKJWT_RATE_BOUND = 15000  # private_key_jwt requests per second no run here reaches


def wrk_once(url, conns, duration, env, pid, threads=2):
    script = env.get("SCRIPT") or (PKJWT_LUA if "ASSERTIONS" in env else LUA)
    if "ASSERTIONS" in env:
        env = {**env, "SKIP": str(ASSERTIONS_USED["lines"])}
    cmd = ["wrk", "-t", str(threads), "-c", str(conns), "-d", duration, "--latency", "-s", script, url]
    peak = [rss_kib(pid)]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_kib(pid))
            time.sleep(0.2)

    th = threading.Thread(target=sample, daemon=True)
    c0, t0 = cpu_seconds(pid), time.time()
    th.start()
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **env}, timeout=300).stdout
    stop.set()
    th.join()
    wall = time.time() - t0
    m = re.search(r"RESULT (.*)", out)
    if not m:
        raise SystemExit(f"wrk output not understood:\n{out}")
    r = {k: float(v) for k, v in (kv.split("=") for kv in m.group(1).split())}
    if "ASSERTIONS" in env:
        # each run reads its own window of the file: threads consume at uneven rates, so
        # the next run starts past anything this one could have sent
        ASSERTIONS_USED["lines"] += int(PKJWT_RATE_BOUND * float(duration.rstrip("s")))
    r["cpu_pct"] = 100.0 * (cpu_seconds(pid) - c0) / wall
    r["rss_peak_mib"] = peak[0] / 1024
    r["cmd"] = " ".join(cmd)
    return r


def store_calls(url):
    """ferrid's `ferrid_store_calls_total` (None for servers without it)."""
    base = url.split("/", 3)
    try:
        with urllib.request.urlopen(f"{base[0]}//{base[2]}/metrics", timeout=5) as r:
            m = re.search(r"^ferrid_store_calls_total (\d+)$", r.read().decode(), re.M)
            return int(m.group(1)) if m else None
    except Exception:
        return None


def load(label, url, env, pid, conns_list, runs, duration, warmup):
    rows = []
    calls_before = store_calls(url)
    print(f"== {label}  idle RSS {rss_kib(pid) / 1024:.1f} MiB", flush=True)
    for conns in conns_list:
        wrk_once(url, conns, warmup, env, pid)
        results = []
        for i in range(runs):
            r = wrk_once(url, conns, duration, env, pid)
            bad = int(r["non2xx"] + r["errors"])
            print(f"   c={conns:<3} run {i + 1}: {r['rps']:9.0f} req/s  p50 {r['p50'] / 1000:6.2f} ms  "
                  f"p99 {r['p99'] / 1000:6.2f} ms  cpu {r['cpu_pct']:5.0f}%  rss {r['rss_peak_mib']:6.1f} MiB"
                  + (f"  NON-2XX/ERRORS {bad}" if bad else ""), flush=True)
            results.append(r)
        med = lambda k: statistics.median(x[k] for x in results)
        rows.append({"label": label, "conns": conns, "rps": med("rps"), "p50_ms": med("p50") / 1000,
                     "p99_ms": med("p99") / 1000, "cpu_pct": med("cpu_pct"),
                     "rss_mib": max(x["rss_peak_mib"] for x in results),
                     "bad": sum(int(x["non2xx"] + x["errors"]) for x in results),
                     "requests": sum(int(x["requests"]) for x in results)})
    calls_after = store_calls(url)
    if calls_before is not None and calls_after is not None:
        total = sum(r["requests"] for r in rows)
        print(f"   store calls during the load: {calls_after - calls_before} for {total} measured requests "
              f"(ferrid_store_calls_total)", flush=True)
        for r in rows:
            r["store_calls"] = calls_after - calls_before
    return rows


# ---- servers ----

class Proc:
    def __init__(self, cmd, env=None, cwd=None, log=None):
        self.log = open(log or os.devnull, "w")
        self.p = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, cwd=cwd,
                                  stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self):
        return self.p.pid

    def stop(self):
        if self.p.poll() is None:
            os.killpg(self.p.pid, signal.SIGTERM)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait()
        self.log.close()


def start_ferrid(binary, data_dir, extra_env=None, port=None, admin_secret=None):
    """Starts ferrid; a restart on the same data directory passes the same port (the
    issuer is `http://{bound address}`) and the same admin secret."""
    os.makedirs(data_dir, exist_ok=True)
    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    admin_secret = admin_secret or base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    env = {"FERRID_ADMIN_SECRET": admin_secret, "FERRID_LOG": "warn", **(extra_env or {})}
    proc = Proc([binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data_dir], env=env,
                log=os.path.join(os.path.dirname(data_dir), f"ferrid-{port}.log"))
    wait_http(f"{base}/healthz", proc.pid)
    return proc, base, admin_secret


def admin_token(base, secret):
    return http("POST", f"{base}/master/master/oauth/token",
                f"grant_type=client_credentials&client_id=admin&client_secret={secret}&scope=ferrid-api:admin",
                form=True)["access_token"]


def register_bench_client(base, token, tenant, track, alg):
    auth = {"authorization": f"Bearer {token}"}
    try:
        http("POST", f"{base}/api/v1/tenants", {"name": tenant}, auth)
    except urllib.error.HTTPError as e:
        if e.code != 409:
            raise
    http("POST", f"{base}/api/v1/tenants/{tenant}/tracks", {"name": track, "signing_alg": alg}, auth)
    apps = f"{base}/api/v1/tenants/{tenant}/tracks/{track}/apps"
    http("POST", apps, {"name": "api", "kind": "oauth_resource", "scopes": ["read", "write"]}, auth)
    c = http("POST", apps, {"name": "bench-client", "kind": "oauth_client", "client_auth_method": "client_secret_basic",
                            "resource_scopes": [{"resource": "api", "scopes": ["read", "write"]}]}, auth)
    return base64.b64encode(f"{c['client_id']}:{c['client_secret']}".encode()).decode()


def ensure_wrk():
    if shutil.which("wrk"):
        return
    print("installing wrk (Debian package)", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False, capture_output=True)
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "update", "-q"], check=False, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True)


def start_peer(kit, alg):
    d = os.path.join(kit, "node-oidc")
    if not os.path.isdir(os.path.join(d, "node_modules")):
        subprocess.run(["npm", "ci", "--silent"], cwd=d, check=True)
    port = free_port()
    proc = Proc(["node", "server.mjs"], env={"ALG": alg, "PORT": str(port), "QUIET": "1"}, cwd=d)
    wait_http(f"http://127.0.0.1:{port}/.well-known/openid-configuration", proc.pid)
    basic = base64.b64encode(b"bench-client:bench-secret").decode()
    return proc, f"http://127.0.0.1:{port}/token", basic


def start_limit(kit, alg):
    d = os.path.join(kit, "limit")
    if not os.path.isdir(os.path.join(d, "keys")):
        subprocess.run(["bash", "gen-keys.sh"], cwd=d, check=True, capture_output=True)
    target = os.path.join(tempfile.gettempdir(), "ferrid-bench-limit-target")
    subprocess.run(["cargo", "build", "--release", "-q", "--manifest-path", os.path.join(d, "Cargo.toml"),
                    "--target-dir", target], check=True)
    # the limit binds 127.0.0.1:8080
    proc = Proc([os.path.join(target, "release", "axumbench")], env={"ALG": alg, "WORKERS": "2"})
    wait_http("http://127.0.0.1:8080/", proc.pid)
    basic = base64.b64encode(b"bench-client:bench-secret").decode()
    return proc, "http://127.0.0.1:8080/token", basic


TEN_TRANSFORMS = [
    {"order": 1, "type": "constant", "action": "add", "claim_out": "tier", "transformation": "gold"},
    {"order": 2, "type": "match", "action": "add", "claims_in": ["tier"], "claim_out": "premium",
     "transformation": "gold", "transformation_extension": "yes"},
    {"order": 3, "type": "match_claim", "action": "add", "claims_in": ["client_id"], "claim_out": "app",
     "transformation": "bench"},
    {"order": 4, "type": "map", "action": "add", "claims_in": ["client_id"], "claim_out": "svc"},
    {"order": 5, "type": "regex_match", "action": "add", "claims_in": ["client_id"], "claim_out": "kind",
     "transformation": "^bench-", "transformation_extension": "benchmark"},
    {"order": 6, "type": "regex_map", "action": "add", "claims_in": ["scope"], "claim_out": "api",
     "transformation": "^(?<map>[a-z]+):"},
    {"order": 7, "type": "concatenate", "action": "add", "claims_in": ["client_id", "tier"], "claim_out": "label",
     "transformation": "{0}/{1}"},
    {"order": 8, "type": "constant", "action": "add_if_not_out", "claim_out": "region", "transformation": "eu"},
    {"order": 9, "type": "match", "action": "replace_if_not", "claims_in": ["tier"], "claim_out": "basic",
     "transformation": "silver", "transformation_extension": "no"},
    {"order": 10, "type": "constant", "action": "remove", "claim_out": "premium", "transformation": "-"},
]


def load_transforms(base, token, url, pid, conns, a):
    """The claim-transform row: a client with 10 transforms, on the same track."""
    auth = {"authorization": f"Bearer {token}"}
    c = http("POST", f"{base}/api/v1/tenants/bench/tracks/es256/apps",
             {"name": "bench-tx", "kind": "oauth_client", "client_auth_method": "client_secret_basic",
              "resource_scopes": [{"resource": "api", "scopes": ["read", "write"]}],
              "claims": [{"claim": "role", "values": ["reader"]}], "claim_transforms": TEN_TRANSFORMS}, auth)
    basic = base64.b64encode(f"{c['client_id']}:{c['client_secret']}".encode()).decode()
    env = {"BASIC": basic, "BODY": "grant_type=client_credentials&scope=api.read"}
    return [{**r, "label": "ferrid, 10 claim transforms", "alg": "ES256"}
            for r in load("ferrid 10 transforms ES256", url, env, pid, conns, a.runs, a.duration, a.warmup)]


def load_pkjwt(base, token, url, pid, conns, a, work, label="ferrid"):
    """The private_key_jwt row: the same track and resource, a client that signs. Each
    server gets its own key and assertion file, read from its first line."""
    auth = {"authorization": f"Bearer {token}"}
    apps = f"{base}/api/v1/tenants/bench/tracks/es256/apps"
    http("POST", apps, {"name": "bench-pk", "kind": "oauth_client", "client_auth_method": "private_key_jwt",
                        "resource_scopes": [{"resource": "api", "scopes": ["read"]}]}, auth)
    # one run at the highest concurrency: every request needs its own signed assertion
    conns, runs = [max(conns)], 1
    secs = sum(float(x.rstrip("s")) for x in [a.warmup] + [a.duration] * runs)
    n = int(PKJWT_RATE_BOUND * secs) + 1000
    d = os.path.join(work, f"pkjwt-{label}")
    os.makedirs(d, exist_ok=True)
    ASSERTIONS_USED["lines"] = 0
    venv = os.path.join(ROOT, "tests", "clients", ".venv", "bin", "python")
    if not os.path.exists(venv):
        subprocess.run(["bash", os.path.join(ROOT, "tests", "clients", "setup.sh")], check=True)
    print(f"   signing {n} ES256 assertions …", flush=True)
    subprocess.run([venv, os.path.join(ROOT, "bench", "make_assertions.py"), d, "bench-pk", url, str(n)], check=True)
    with open(os.path.join(d, "cert.pem")) as f:
        http("POST", f"{apps}/bench-pk/keys", {"pem": f.read()}, auth)
    env = {"ASSERTIONS": os.path.join(d, "assertions.txt"), "THREADS": "2"}
    return [{**r, "label": f"{label} private_key_jwt", "alg": "ES256"}
            for r in load(f"{label} private_key_jwt ES256", url, env, pid, conns, runs, a.duration, a.warmup)]


def table(rows):
    print("\n| server | alg | c | req/s | p50 ms | p99 ms | server CPU | peak RSS MiB |")
    print("|---|---|--:|--:|--:|--:|--:|--:|")
    for r in rows:
        print(f"| {r['label']} | {r['alg']} | {r['conns']} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} "
              f"| {r['cpu_pct']:.0f}% | {r['rss_mib']:.1f} |")


def ratios(rows):
    # rounds (--rounds) print their own paired ratios
    by = {(r["label"], r["alg"], r["conns"]): r for r in rows if "round" not in r}
    out = []
    for (label, alg, conns), r in by.items():
        if not label.startswith("ferrid"):
            continue
        for other in ("limit", "peer"):
            o = by.get((other, alg, conns))
            if o:
                out.append(f"{label}/{other} {alg} c={conns}: {r['rps'] / o['rps']:.2f}")
    if out:
        print("\n" + "\n".join(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--algs", default="ES256,RS256")
    ap.add_argument("--conns", default="16,64")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--duration", default="10s")
    ap.add_argument("--warmup", default="3s")
    ap.add_argument("--kit", help="path of ../shared/bench: also run the peer and the limit")
    ap.add_argument("--scale", help="comma-separated registered-client counts for the scale check")
    ap.add_argument("--scale-tenants", type=int, default=100,
                    help="tenants the --scale clients are spread over (1: every client in one track)")
    ap.add_argument("--rounds", type=int, default=0,
                    help="with --scale and --kit: instead of --runs per size, R interleaved rounds, each starting"
                         " every size's ferrid afresh and the limit between them (order reversed every other"
                         " round), one --duration run each; prints the paired ratios and their spread")
    ap.add_argument("--servers", default="ferrid,limit,peer", help="which of ferrid,limit,peer to load (limit and peer need --kit)")
    ap.add_argument("--pkjwt", action="store_true",
                    help="also load ferrid with private_key_jwt (ES256 assertions, one jti each) on each ES256 run")
    ap.add_argument("--transforms", action="store_true",
                    help="also load a client with 10 claim transforms on each ES256 run")
    ap.add_argument("--introspect", action="store_true",
                    help="load the token endpoint, then the introspection endpoint, in the same ferrid process")
    ap.add_argument("--deny", type=int, default=0, metavar="N",
                    help="then restart ferrid with N entries on its deny-list and load the same endpoints again")
    ap.add_argument("--database-url", help="run ferrid on this PostgreSQL URL instead of the embedded store")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--binary", help="load this ferrid binary instead of target/release/ferrid (implies --no-build);"
                    " for before/after rows in one invocation pair it with --also-binary")
    ap.add_argument("--also-binary", help="a second ferrid binary, loaded right after the first at each step"
                    " (its rows are tagged ferrid-b)")
    ap.add_argument("--json", help="append result rows as JSON lines to this file")
    a = ap.parse_args()

    ensure_wrk()
    binary = a.binary or os.path.join(ROOT, "target", "release", "ferrid")
    if not a.no_build and not a.binary:
        subprocess.run(["cargo", "build", "--release", "-q", "--bin", "ferrid"], cwd=ROOT, check=True)
    conns = [int(c) for c in a.conns.split(",")]
    rows = []
    work = tempfile.mkdtemp(prefix="ferrid-bench-")
    try:
        if a.scale and a.rounds:
            rows = scale_rounds(binary, work, [int(n) for n in a.scale.split(",")], conns[0], a)
        elif a.scale:
            rows = scale_check(binary, work, [int(n) for n in a.scale.split(",")], conns, a)
        elif a.introspect or a.deny:
            for alg in a.algs.split(","):
                rows += introspect_and_deny(binary, work, alg, conns, a)
            table(rows)
            introspect_summary(rows)
            if a.json:
                with open(a.json, "a") as f:
                    for r in rows:
                        f.write(json.dumps(r) + "\n")
            return
        else:
            for alg in a.algs.split(","):
                wanted = a.servers.split(",")
                servers = [("ferrid", None)] if "ferrid" in wanted else []
                bins = {"ferrid": binary}
                if a.also_binary and "ferrid" in wanted:
                    servers.append(("ferrid-b", None))
                    bins["ferrid-b"] = a.also_binary
                if a.kit:
                    servers += [(n, f) for n, f in (("limit", start_limit), ("peer", start_peer)) if n in wanted]
                for label, starter in servers:
                    if starter is None:
                        data = os.path.join(work, f"data-{label}-{alg}")
                        extra = {"FERRID_DATABASE_URL": a.database_url} if a.database_url else None
                        proc, base, secret = start_ferrid(bins[label], data, extra)
                        token = admin_token(base, secret)
                        basic = register_bench_client(base, token, "bench", alg.lower(), alg)
                        url = f"{base}/bench/{alg.lower()}/oauth/token"
                        if a.transforms and alg == "ES256":
                            try:
                                rows += load_transforms(base, token, url, proc.pid, conns, a)
                            except Exception:
                                proc.stop()
                                raise
                        if a.pkjwt and alg == "ES256":
                            try:
                                rows += load_pkjwt(base, token, url, proc.pid, conns, a, work, label)
                            except Exception:
                                proc.stop()
                                raise
                    else:
                        proc, url, basic = starter(os.path.abspath(a.kit), alg)
                    try:
                        env = {"BASIC": basic, "BODY": "grant_type=client_credentials&scope=api.read"}
                        for r in load(f"{label} {alg}", url, env, proc.pid, conns, a.runs, a.duration, a.warmup):
                            rows.append({**r, "label": label, "alg": alg})
                    finally:
                        proc.stop()
        table(rows)
        ratios(rows)
        if a.json:
            with open(a.json, "a") as f:
                for r in rows:
                    f.write(json.dumps(r) + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---- introspection and the deny-list (issue 16) ----

def jwt_claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def issue_token(url, basic):
    return http("POST", url, "grant_type=client_credentials&scope=api.read",
                {"authorization": f"Basic {basic}"}, form=True)


def introspect_once(url, basic, token):
    return http("POST", url, f"token={token}", {"authorization": f"Basic {basic}"}, form=True)


def expect_active(url, basic, token, active, what):
    answer = introspect_once(url, basic, token)
    if answer.get("active") is not active:
        raise SystemExit(f"{what}: introspection answered {answer}, expected active={active}")
    return answer


def fill_deny_list(data_dir, tenant, track, n, expires):
    """Inserts n unexpired rows into `denied_tokens` of the stopped server's SQLite file
    (crates/ferrid-store/src/sqlite.rs: `{data_dir}/ferrid.db`); jtis shaped like ferrid's
    (base64url of 16 random bytes). Answers the table's row count for the track."""
    import sqlite3
    db = sqlite3.connect(os.path.join(data_dir, "ferrid.db"))
    try:
        rows = ((tenant, track, base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("="), expires)
                for _ in range(n))
        with db:
            db.executemany("INSERT INTO denied_tokens (tenant, track, jti, expires) VALUES (?, ?, ?, ?)", rows)
        return db.execute("SELECT count(*) FROM denied_tokens WHERE tenant = ? AND track = ?",
                          (tenant, track)).fetchone()[0]
    finally:
        db.close()


class BenchServer:
    """One ferrid process for --introspect/--deny: its own data directory and port, the
    bench client, a probe access token (the one the introspection load asks about) and,
    with a deny-list, one token it really revoked."""

    def __init__(self, binary, work, alg, deny, secs):
        self.binary, self.alg, self.deny = binary, alg, deny
        self.tenant, self.track = "bench", alg.lower()
        self.data = os.path.join(work, f"data-{alg}-deny-{deny}")
        self.port = free_port()
        self.secret = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
        self.revoked = None
        self.start()
        try:
            self.basic = register_bench_client(self.base, admin_token(self.base, self.secret),
                                               self.tenant, self.track, alg)
            issued = issue_token(self.tok_url, self.basic)
            if issued["expires_in"] < secs + 60:
                raise SystemExit(f"the access token lives {issued['expires_in']} s, the loads take {secs:.0f} s")
            self.probe = issued["access_token"]
            self.check()
            if deny:
                # one real revocation (RFC 7009), so the list provably comes back from the file
                self.revoked = issue_token(self.tok_url, self.basic)["access_token"]
                http("POST", f"{self.issuer}/oauth/revoke", f"token={self.revoked}",
                     {"authorization": f"Basic {self.basic}"}, form=True)
                self.check()
        finally:
            self.proc.stop()
        if deny:
            count = fill_deny_list(self.data, self.tenant, self.track, deny - 1, jwt_claims(self.probe)["exp"] + 86400)
            if count != deny:
                raise SystemExit(f"denied_tokens holds {count} rows for {self.tenant}/{self.track}, expected {deny}")
        # both servers are restarted, so both are measured as a process that loaded its
        # snapshot (and deny-list) from the file
        self.start()
        try:
            self.check()
        except BaseException:
            self.proc.stop()
            raise
        print(f"== ferrid {alg}, {deny:,} deny-list rows: restarted in {self.start_s:.2f} s, idle RSS "
              f"{self.idle_mib:.1f} MiB; the probe token introspects active"
              + (", the revoked one inactive" if deny else ""), flush=True)

    def start(self):
        t0 = time.time()
        self.proc, self.base, _ = start_ferrid(self.binary, self.data, port=self.port, admin_secret=self.secret)
        self.start_s = time.time() - t0
        self.issuer = f"{self.base}/{self.tenant}/{self.track}"
        self.tok_url, self.intro_url = f"{self.issuer}/oauth/token", f"{self.issuer}/oauth/introspect"
        time.sleep(1)
        self.idle_mib = rss_kib(self.proc.pid) / 1024

    def check(self):
        expect_active(self.intro_url, self.basic, self.probe, True, f"{self.deny} denied: the probe token")
        if self.revoked:
            expect_active(self.intro_url, self.basic, self.revoked, False, f"{self.deny} denied: the revoked token")

    def url_env(self, endpoint):
        if endpoint == "token":
            return self.tok_url, {"BASIC": self.basic, "BODY": "grant_type=client_credentials&scope=api.read"}
        return self.intro_url, {"BASIC": self.basic, "SCRIPT": INTROSPECT_LUA, "TOKEN": self.probe}


def introspect_and_deny(binary, work, alg, conns, a):
    """--introspect / --deny N. With --deny, two processes of the same binary run side by
    side (idle while the other is loaded): one with an empty deny-list, one with N entries.
    Per concurrency: a warm-up of each (server, endpoint), then --runs rounds, each round
    loading every server in turn (the order alternates between rounds) and, in each server,
    the token endpoint and right after it the introspection endpoint."""
    endpoints = ["token", "introspect"] if a.introspect else ["token"]
    denies = [0, a.deny] if a.deny else [0]
    secs = sum(float(x.rstrip("s")) for x in [a.warmup] + [a.duration] * a.runs) * len(conns) * 4 + 120
    servers = []
    try:
        for d in denies:
            servers.append(BenchServer(binary, work, alg, d, secs))
        calls0 = {s.deny: store_calls(s.tok_url) for s in servers}
        results = {}
        for conns_ in conns:
            for s in servers:
                for e in endpoints:
                    url, env = s.url_env(e)
                    wrk_once(url, conns_, a.warmup, env, s.proc.pid)
            for rnd in range(a.runs):
                for s in (servers if rnd % 2 == 0 else servers[::-1]):
                    for e in endpoints:
                        url, env = s.url_env(e)
                        r = wrk_once(url, conns_, a.duration, env, s.proc.pid)
                        bad = int(r["non2xx"] + r["errors"])
                        print(f"   {s.deny:>7,} denied  {e:<10} c={conns_:<3} round {rnd + 1}: {r['rps']:9.0f} req/s  "
                              f"p50 {r['p50'] / 1000:6.2f} ms  p99 {r['p99'] / 1000:6.2f} ms  cpu {r['cpu_pct']:5.0f}%  "
                              f"rss {r['rss_peak_mib']:6.1f} MiB" + (f"  NON-2XX/ERRORS {bad}" if bad else ""), flush=True)
                        results.setdefault((s.deny, e, conns_), []).append(r)
        for s in servers:
            s.check()
            calls = store_calls(s.tok_url)
            n = sum(int(r["requests"]) for (d, _, _), rs in results.items() if d == s.deny for r in rs)
            print(f"   {s.deny:,} denied: store calls during the loads: {calls - calls0[s.deny]} for {n} measured "
                  "requests (ferrid_store_calls_total); the probe still active"
                  + (", the revoked token still inactive" if s.revoked else ""), flush=True)
    finally:
        for s in servers:
            s.proc.stop()
    rows = []
    by_deny = {s.deny: s for s in servers}
    for (d, e, c), rs in results.items():
        med = lambda k: statistics.median(x[k] for x in rs)
        rows.append({"label": f"ferrid {alg}, {d:,} denied, {e}", "alg": alg, "deny": d, "endpoint": e, "conns": c,
                     "rps": med("rps"), "p50_ms": med("p50") / 1000, "p99_ms": med("p99") / 1000,
                     "cpu_pct": med("cpu_pct"), "rss_mib": max(x["rss_peak_mib"] for x in rs),
                     "bad": sum(int(x["non2xx"] + x["errors"]) for x in rs),
                     "requests": sum(int(x["requests"]) for x in rs), "all_rps": [round(x["rps"]) for x in rs],
                     "idle_rss_mib": by_deny[d].idle_mib, "start_s": by_deny[d].start_s})
    return rows


def introspect_summary(rows):
    by = {(r["alg"], r["deny"], r["conns"], r["endpoint"]): r for r in rows}
    print("\n| alg | deny-list entries | c | token req/s | introspect req/s | introspect/token "
          "| token p99 ms | introspect p99 ms | start s | idle RSS MiB | peak RSS MiB |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for (alg, deny, conns, endpoint), t in by.items():
        if endpoint != "token":
            continue
        i = by.get((alg, deny, conns, "introspect"))
        peak = max(t["rss_mib"], i["rss_mib"] if i else 0)
        print(f"| {alg} | {deny:,} | {conns} | {t['rps']:,.0f} | " + (f"{i['rps']:,.0f}" if i else "—")
              + " | " + (f"{i['rps'] / t['rps']:.2f}" if i else "—") + f" | {t['p99_ms']:.2f} | "
              + (f"{i['p99_ms']:.2f}" if i else "—") + f" | {t['start_s']:.2f} | {t['idle_rss_mib']:.1f} | {peak:.1f} |")
    for (alg, deny, conns, endpoint), r in by.items():
        z = by.get((alg, 0, conns, endpoint))
        if deny and z:
            print(f"{endpoint} {alg} c={conns}: with {deny:,} denied / without = {r['rps'] / z['rps']:.2f} "
                  f"(rounds: {r['all_rps']} against {z['all_rps']})")


def scale_check(binary, work, counts, conns, a):
    """ferrid with N seeded clients (over --scale-tenants tenants; 1 = one track), each size
    followed by the limit server when --kit is given, so every size has its own ferrid/limit."""
    rows = []
    for n in counts:
        data = os.path.join(work, f"scale-{n}")
        os.makedirs(data)
        subprocess.run([binary, "seed", "--data-dir", data, "--tenants", str(a.scale_tenants), "--clients", str(n)],
                       check=True, env={**os.environ, "FERRID_LOG": "warn"})
        proc, base, _ = start_ferrid(binary, data)
        try:
            time.sleep(1)
            idle = rss_kib(proc.pid) / 1024
            with open(os.path.join(data, "seed.json")) as f:
                seed = json.load(f)
            url = f"{base}/{seed['tenant']}/{seed['track']}/oauth/token"
            basic = base64.b64encode(f"{seed['client_id']}:{seed['client_secret']}".encode()).decode()
            env = {"BASIC": basic, "BODY": "grant_type=client_credentials&scope=api.read"}
            for r in load(f"ferrid {n} clients", url, env, proc.pid, conns, a.runs, a.duration, a.warmup):
                rows.append({**r, "label": f"ferrid, {n} clients (idle RSS {idle:.1f} MiB)", "alg": "ES256",
                             "clients": n})
        finally:
            proc.stop()
        if a.kit:
            proc, url, basic = start_limit(a.kit, "ES256")
            try:
                env = {"BASIC": basic, "BODY": "grant_type=client_credentials&scope=api.read"}
                for r in load(f"limit after {n}", url, env, proc.pid, conns, a.runs, a.duration, a.warmup):
                    rows.append({**r, "label": f"limit (after the {n}-client run)", "alg": "ES256", "clients": n,
                                 "limit": True})
            finally:
                proc.stop()
    if a.kit:
        for r in rows:
            if "limit" in r:
                continue
            lim = [x for x in rows if x.get("limit") and x["clients"] == r["clients"] and x["conns"] == r["conns"]]
            if lim:
                print(f"ES256 c={r['conns']} {r['clients']:,} clients: ferrid/limit = {r['rps'] / lim[0]['rps']:.2f}")
    return rows



def seed_scale(binary, work, n, tenants):
    """A data directory with n clients seeded through the store, and the token call of its
    one known client."""
    data = os.path.join(work, f"scale-{n}")
    os.makedirs(data)
    subprocess.run([binary, "seed", "--data-dir", data, "--tenants", str(tenants), "--clients", str(n)],
                   check=True, env={**os.environ, "FERRID_LOG": "warn"})
    with open(os.path.join(data, "seed.json")) as f:
        seed = json.load(f)
    basic = base64.b64encode(f"{seed['client_id']}:{seed['client_secret']}".encode()).decode()
    return data, seed, {"BASIC": basic, "BODY": "grant_type=client_credentials&scope=api.read"}


def mean_ci(xs):
    """Mean and the half-width of its 95 % confidence interval (Student's t)."""
    t95 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26, 10: 2.23,
           11: 2.20, 12: 2.18, 13: 2.16, 14: 2.14, 15: 2.13, 16: 2.12, 17: 2.11, 18: 2.10, 19: 2.09}
    m = statistics.mean(xs)
    if len(xs) < 2:
        return m, float("nan")
    return m, t95.get(len(xs) - 1, 2.0) * statistics.stdev(xs) / len(xs) ** 0.5


def scale_rounds(binary, work, counts, conns, a):
    """--rounds: ferrid/limit with each client count, measured in paired rounds. Every round
    starts each size's ferrid and the limit as new processes (so one process's address-space
    layout or one noisy minute counts once), loads each for --warmup then one --duration run,
    and puts the limit between the sizes; every other round runs the sizes in reverse order."""
    if not a.kit:
        raise SystemExit("--rounds needs --kit (the limit server is the yardstick)")
    seeded = {n: seed_scale(binary, work, n, a.scale_tenants) for n in counts}
    rows, ratios_by_n = [], {n: [] for n in counts}
    for rnd in range(a.rounds):
        order = counts if rnd % 2 == 0 else list(reversed(counts))
        steps = [("ferrid", order[0])] + [("limit", None)] + [("ferrid", n) for n in order[1:]]
        got = {}
        for kind, n in steps:
            if kind == "limit":
                proc, url, basic = start_limit(a.kit, "ES256")
                env = {"BASIC": basic, "BODY": "grant_type=client_credentials&scope=api.read"}
            else:
                data, seed, env = seeded[n]
                proc, base, _ = start_ferrid(binary, data)
                url = f"{base}/{seed['tenant']}/{seed['track']}/oauth/token"
            try:
                time.sleep(1)
                idle = rss_kib(proc.pid) / 1024
                wrk_once(url, conns, a.warmup, env, proc.pid)
                r = wrk_once(url, conns, a.duration, env, proc.pid)
            finally:
                proc.stop()
            bad = int(r["non2xx"] + r["errors"])
            if bad:
                raise SystemExit(f"round {rnd + 1}: {bad} failed requests ({kind} {n})")
            got[n] = r["rps"]
            rows.append({"label": kind if n is None else f"ferrid, {n} clients", "clients": n, "round": rnd + 1,
                         "conns": conns, "rps": r["rps"], "p50_ms": r["p50"] / 1000, "p99_ms": r["p99"] / 1000,
                         "cpu_pct": r["cpu_pct"], "rss_mib": idle, "alg": "ES256"})
        line = "  ".join(f"{n:,}: {got[n] / got[None]:.3f}" for n in counts)
        print(f"round {rnd + 1:>2} (limit {got[None]:,.0f} req/s)  ferrid/limit  {line}", flush=True)
        for n in counts:
            ratios_by_n[n].append(got[n] / got[None])
    print(f"ES256 c={conns}, {a.rounds} rounds of {a.duration}: ferrid/limit, mean ± 95 % CI")
    for n in counts:
        m, h = mean_ci(ratios_by_n[n])
        print(f"  {n:>9,} clients: {m:.3f} ± {h:.3f}  (median {statistics.median(ratios_by_n[n]):.3f})")
    base_n = counts[0]
    for n in counts[1:]:
        diffs = [x - y for x, y in zip(ratios_by_n[n], ratios_by_n[base_n])]
        m, h = mean_ci(diffs)
        lower = sum(d < 0 for d in diffs)
        print(f"  {n:,} minus {base_n:,} clients, paired by round: {m:+.3f} ± {h:.3f}"
              f"  ({lower} of {len(diffs)} rounds lower)")
    return rows


if __name__ == "__main__":
    sys.exit(main())
