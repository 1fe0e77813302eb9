#!/usr/bin/env python3
"""Instructions per client-credentials token request, counted by callgrind (deterministic,
unlike req/s on a shared VM). Starts BINARY under callgrind on a fresh store, registers an
ES256 track with one Basic client, sends 20 warm-up requests, zeroes the counters, sends N
requests on one keep-alive connection and prints "TAG N instructions". Run it for two N and
divide the difference by the difference of N (docs/benchmarks.md):

  python3 bench/callgrind_ab.py target/release/ferrid 500 new-500
  python3 bench/callgrind_ab.py target/release/ferrid 1500 new-1500

A fourth argument `introspect` counts introspection requests (RFC 7662) instead: the same
client, with Basic, asking about one access token it was issued before the warm-up.

With FERRID_CG_SEED=K the store is first seeded (`ferrid seed --tenants 1 --clients K`)
and the request is made by one of those K clients of one track: instructions per request
with K registered clients (docs/benchmarks.md "Token rate and the number of clients").
"""
import base64
import glob
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

binary, n, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
introspect = sys.argv[4:] == ["introspect"]
port = 18000 + (abs(hash(tag)) % 1000)
d = tempfile.mkdtemp()
out = os.path.join(tempfile.gettempdir(), f"ferrid-cg.{tag}.out")
env = dict(os.environ, FERRID_ADMIN_SECRET="admin-secret-for-the-bench-0123456789")
seeded = int(os.environ.get("FERRID_CG_SEED", "0"))
if seeded:
    subprocess.run([binary, "seed", "--data-dir", d, "--tenants", "1", "--clients", str(seeded)],
                   check=True, env=dict(env, FERRID_LOG="warn"), capture_output=True)
extra = os.environ.get("FERRID_CG_ARGS", "").split()  # e.g. --cache-sim=yes
p = subprocess.Popen(["valgrind", "--tool=callgrind", *extra, f"--callgrind-out-file={out}", binary, "serve",
                      "--listen", f"127.0.0.1:{port}", "--data-dir", d], env=env,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
def conn():
    return http.client.HTTPConnection("127.0.0.1", port, timeout=120)
for _ in range(6000 if seeded else 600):
    try:
        c = conn(); c.request("GET", "/healthz"); c.getresponse().read(); break
    except Exception:
        time.sleep(0.2)
c = conn()
def req(method, path, body=None, headers=None):
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse(); data = r.read()
    return r.status, data
if not seeded:
    s, b = req("POST", "/master/master/oauth/token", "grant_type=client_credentials&client_id=admin&client_secret=admin-secret-for-the-bench-0123456789&scope=ferrid-api:admin", {"content-type": "application/x-www-form-urlencoded"})
    tok = json.loads(b)["access_token"]
    H = {"authorization": "Bearer " + tok, "content-type": "application/json"}
    req("POST", "/api/v1/tenants", json.dumps({"name": "b"}), H)
    req("POST", "/api/v1/tenants/b/tracks", json.dumps({"name": "p", "signing_alg": "ES256"}), H)
    req("POST", "/api/v1/tenants/b/tracks/p/apps", json.dumps({"name": "api", "kind": "oauth_resource", "scopes": ["read"]}), H)
    s, b = req("POST", "/api/v1/tenants/b/tracks/p/apps", json.dumps({"name": "svc", "kind": "oauth_client", "client_auth_method": "client_secret_basic", "resource_scopes": [{"resource": "api", "scopes": ["read"]}]}), H)
    secret = json.loads(b)["client_secret"]
    basic = "Basic " + base64.b64encode(f"svc:{secret}".encode()).decode()
path, body = "/b/p/oauth/token", "grant_type=client_credentials"
if seeded:
    seed = json.load(open(os.path.join(d, "seed.json")))
    basic = "Basic " + base64.b64encode(f"{seed['client_id']}:{seed['client_secret']}".encode()).decode()
    path = f"/{seed['tenant']}/{seed['track']}/oauth/token"
th = {"authorization": basic, "content-type": "application/x-www-form-urlencoded"}
c2 = conn()
if introspect:
    s, b = req("POST", path, body, th)
    path, body = "/b/p/oauth/introspect", "token=" + json.loads(b)["access_token"]
for i in range(20):
    c2.request("POST", path, body=body, headers=th)
    r = c2.getresponse(); r.read()
subprocess.run(["callgrind_control", "-z", str(p.pid)], check=True, capture_output=True)
for i in range(n):
    c2.request("POST", path, body=body, headers=th)
    r = c2.getresponse(); data = r.read()
    assert r.status == 200, r.status
    assert not introspect or json.loads(data)["active"] is True, data
subprocess.run(["callgrind_control", "-d", str(p.pid)], check=True, capture_output=True)
p.send_signal(signal.SIGTERM)
p.wait(timeout=300)
dumps = sorted(glob.glob(out + ".*"))
txt = open(dumps[0]).read()
m = re.search(r"^(?:summary|totals): (.+)$", txt, re.M)
events = re.search(r"^events: (.+)$", txt, re.M)
print(tag, n, m.group(1).split()[0], *(["events:", events.group(1), "totals:", m.group(1)] if extra else []))
