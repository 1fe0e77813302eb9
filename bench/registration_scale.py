#!/usr/bin/env python3
"""Registration scale through the management API (docs/benchmarks.md, issue 20).

Starts ferrid (release) and registers `oauth_client` apps (client_secret_basic, one grant)
into one track through `POST /api/v1/.../apps`, never through the store. At each size N
of --sizes it first fills the track to N - W through the API with --fill-callers callers,
then times the last W registrations with --callers callers (W = --window, at most N):
registrations per second at N clients. Then, after a short pause, it reads the server's
idle RSS, and with --database-url (PostgreSQL) the time a second instance on the same
database takes to see a client registered through the first (polling its token endpoint).
At the end it restarts the first instance and reports the start-up time (until /healthz
answers) and the RSS after start-up with every client loaded.

  python3 bench/registration_scale.py --sizes 100,1000,10000,100000 \\
      --database-url postgres://postgres@127.0.0.1:5432/postgres
"""
import argparse
import base64
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import ROOT, Proc, admin_token, free_port, rss_kib, wait_http  # noqa: E402

MASTER_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
PUBLIC_URL = "https://id.scale.test"
TENANT, TRACK = "scale", "prod"


class Conn:
    """One keep-alive HTTP/1.1 connection per caller."""

    def __init__(self, base):
        u = urllib.parse.urlparse(base)
        self.host, self.port = u.hostname, u.port
        self.c = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def call(self, method, path, body=None, headers=None, form=None):
        h = dict(headers or {})
        data = None
        if body is not None:
            data, h["content-type"] = json.dumps(body).encode(), "application/json"
        if form is not None:
            data, h["content-type"] = form.encode(), "application/x-www-form-urlencoded"
        for attempt in range(2):
            try:
                self.c.request(method, path, body=data, headers=h)
                r = self.c.getresponse()
                return r.status, json.loads(r.read() or b"null")
            except (http.client.HTTPException, ConnectionError):
                self.c.close()
                self.c = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt:
                    raise


def start(binary, work, name, db_url, port=None, secret=None):
    data = os.path.join(work, name)
    os.makedirs(data, exist_ok=True)
    port = port or free_port()
    env = {"FERRID_ADMIN_SECRET": secret, "FERRID_LOG": "warn", "FERRID_MASTER_KEY": MASTER_KEY}
    if db_url:
        env.update({"FERRID_DATABASE_URL": db_url, "FERRID_PUBLIC_URL": PUBLIC_URL})
    t0 = time.monotonic()
    proc = Proc([binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data], env=env,
                log=os.path.join(work, f"{name}.log"))
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/healthz", proc.pid, timeout=900)
    return proc, base, time.monotonic() - t0


class Registrar:
    """Registers clients named c000000… in order, several callers at once."""

    def __init__(self, base, token):
        self.base, self.auth = base, {"authorization": f"Bearer {token}"}
        self.next = 0
        self.lock = threading.Lock()
        self.path = f"/api/v1/tenants/{TENANT}/tracks/{TRACK}/apps"

    def body(self, name):
        return {"name": name, "kind": "oauth_client", "client_auth_method": "client_secret_basic",
                "resource_scopes": [{"resource": "api", "scopes": ["read"]}]}

    def register(self, name, conn=None):
        s, b = (conn or Conn(self.base)).call("POST", self.path, self.body(name), self.auth)
        if s != 201:
            raise SystemExit(f"registering {name}: HTTP {s} {b}")
        return b

    def run(self, upto, callers):
        """Registers until `upto` clients exist; returns the wall time taken."""
        def worker():
            conn = Conn(self.base)
            while True:
                with self.lock:
                    if self.next >= upto:
                        return
                    i = self.next
                    self.next += 1
                self.register(f"c{i:06d}", conn)

        t0 = time.monotonic()
        threads = [threading.Thread(target=worker) for _ in range(callers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return time.monotonic() - t0


def seen_by(base, client_id, secret, timeout=60):
    """Seconds until `base` issues a token to the client (polling every 5 ms)."""
    conn = Conn(base)
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        s, _ = conn.call("POST", f"/{TENANT}/{TRACK}/oauth/token", headers={"authorization": f"Basic {basic}"},
                         form="grant_type=client_credentials")
        if s == 200:
            return time.monotonic() - t0
        time.sleep(0.005)
    return None


def fresh_database(url):
    """A new database next to the one `url` names (dropped by the caller)."""
    name = f"ferrid_regscale_{os.getpid()}"
    base = url.rsplit("/", 1)[0]
    subprocess.run(["psql", url, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=True)
    subprocess.run(["psql", url, "-qc", f"CREATE DATABASE {name}"], check=True)
    return f"{base}/{name}", name


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100,1000,10000,100000")
    ap.add_argument("--window", type=int, default=1000, help="registrations timed at each size")
    ap.add_argument("--callers", type=int, default=4)
    ap.add_argument("--fill-callers", type=int, default=8)
    ap.add_argument("--database-url", help="PostgreSQL (two instances); default: embedded SQLite, one instance")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "ferrid"))
    a = ap.parse_args()
    if not a.no_build:
        subprocess.run(["cargo", "build", "--release", "--bin", "ferrid"], cwd=ROOT, check=True)
    sizes = [int(s) for s in a.sizes.split(",")]
    work = tempfile.mkdtemp(prefix="ferrid-regscale-")
    db_url, db_name = fresh_database(a.database_url) if a.database_url else (None, None)
    secret = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    procs = []
    try:
        pa, base_a, _ = start(a.binary, work, "a", db_url, secret=secret)
        procs.append(pa)
        pb, base_b = None, None
        if db_url:
            pb, base_b, _ = start(a.binary, work, "b", db_url, secret=secret)
            procs.append(pb)
        token = admin_token(base_a, secret)
        auth = {"authorization": f"Bearer {token}"}
        c = Conn(base_a)
        assert c.call("POST", "/api/v1/tenants", {"name": TENANT}, auth)[0] == 201
        assert c.call("POST", f"/api/v1/tenants/{TENANT}/tracks", {"name": TRACK, "signing_alg": "ES256"}, auth)[0] == 201
        api = {"name": "api", "kind": "oauth_resource", "scopes": ["read", "write"]}
        assert c.call("POST", f"/api/v1/tenants/{TENANT}/tracks/{TRACK}/apps", api, auth)[0] == 201
        reg = Registrar(base_a, token)
        print(f"work dir {work}; store: {'PostgreSQL, 2 instances' if db_url else 'SQLite, 1 instance'}")
        print("| clients | registrations/s | idle RSS A MiB | idle RSS B MiB | seen by B ms |")
        print("|--:|--:|--:|--:|--:|")
        for n in sizes:
            w = min(a.window, n)
            reg.run(n - w, a.fill_callers)
            took = reg.run(n, a.callers)
            time.sleep(2)
            rss_a = rss_kib(pa.pid) / 1024
            rss_b = f"{rss_kib(pb.pid) / 1024:.1f}" if pb else "–"
            seen = "–"
            if base_b:
                probe = reg.register(f"probe{n:06d}")
                s = seen_by(base_b, probe["client_id"], probe["client_secret"])
                seen = f"{s * 1000:.0f}" if s is not None else "not within 60 s"
            print(f"| {n:,} | {w / took:.0f} | {rss_a:.1f} | {rss_b} | {seen} |", flush=True)
        pa.stop()
        procs.remove(pa)
        port = int(base_a.rsplit(":", 1)[1])
        pa, base_a, start_s = start(a.binary, work, "a", db_url, port=port, secret=secret)
        procs.append(pa)
        time.sleep(2)
        print(f"restart of A with {reg.next:,} clients (+ probes): /healthz after {start_s:.2f} s, "
              f"RSS {rss_kib(pa.pid) / 1024:.1f} MiB", flush=True)
    finally:
        for p in procs:
            p.stop()
        if db_name:
            subprocess.run(["psql", a.database_url, "-qc", f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"])


if __name__ == "__main__":
    sys.exit(main())
