#!/usr/bin/env python3
"""Instructions per `ferrid gateway` call, counted by callgrind (deterministic, unlike
latency on a shared VM). Starts `BINARY serve` as bench/gateway.py does (one ES256 track,
its JWKS as the backend), and `BINARY gateway` under callgrind with the same three
endpoints; then, for /cc and /jwt in turn, on one keep-alive connection: 20 warm-up
calls, counters zeroed, N1 calls, dump; zeroed, N2 calls, dump. Prints the instructions
per call, (count(N2) - count(N1)) / (N2 - N1), so fixed costs cancel; /jwt minus /cc is
what validating the caller's token costs (docs/benchmarks.md "Gateway").

  python3 bench/callgrind_gateway.py BINARY [N1 N2]      # default 200 600

With FERRID_CG_TOP=K in the environment, also prints the K functions with the most
instructions in the last /jwt dump (callgrind_annotate, inclusive).
"""
import base64
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
from http.client import HTTPConnection

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gateway import ferrid_and_gateway_config  # noqa: E402
from run import Proc, http, wait_http  # noqa: E402


def instructions(out):
    """The total of the newest callgrind dump."""
    dumps = sorted(glob.glob(out + ".*"), key=os.path.getmtime)
    m = re.search(r"^(?:summary|totals): (\d+)", open(dumps[-1]).read(), re.M)
    return int(m.group(1))


def main():
    binary = sys.argv[1]
    n1, n2 = (int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) > 3 else (200, 600)
    work = tempfile.mkdtemp(prefix="ferrid-cg-gw-")
    procs = []
    try:
        _, base, clients, port, cfg = ferrid_and_gateway_config(binary, work, procs)
        out = os.path.join(work, "callgrind.out")
        gw = Proc(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", binary, "gateway", "--config",
                   cfg], env={"FERRID_LOG": "warn"}, log=os.path.join(work, "gateway.log"))
        procs.append(gw)
        wait_http(f"http://127.0.0.1:{port}/plain", gw.pid)
        basic = base64.b64encode(f"{clients['caller'][0]}:{clients['caller'][1]}".encode()).decode()
        caller = http("POST", f"{base}/bench/es256/oauth/token", "grant_type=client_credentials&scope=api:read",
                      {"authorization": "Basic " + basic}, form=True)
        headers = {"authorization": f"Bearer {caller['access_token']}"}
        conn = HTTPConnection("127.0.0.1", port, timeout=300)

        def calls(path, n):
            for _ in range(n):
                conn.request("GET", path, headers=headers)
                r = conn.getresponse()
                r.read()
                assert r.status == 200, (path, r.status)

        per_call = {}
        for path in ("/cc", "/jwt"):
            calls(path, 20)
            counts = []
            for n in (n1, n2):
                subprocess.run(["callgrind_control", "-z", str(gw.pid)], check=True, capture_output=True)
                calls(path, n)
                subprocess.run(["callgrind_control", "-d", str(gw.pid)], check=True, capture_output=True)
                counts.append(instructions(out))
            per_call[path] = (counts[1] - counts[0]) / (n2 - n1)
            print(f"{path}: N={n1} {counts[0]:,}  N={n2} {counts[1]:,}  per call {per_call[path]:,.0f}", flush=True)
        print(f"validation (/jwt - /cc): {per_call['/jwt'] - per_call['/cc']:,.0f} instructions per call")
        top = int(os.environ.get("FERRID_CG_TOP", "0"))
        if top:
            last = sorted(glob.glob(out + ".*"), key=os.path.getmtime)[-1]
            ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", last], capture_output=True, text=True)
            lines = [line for line in ann.stdout.splitlines() if re.match(r"\s*[\d,]+ \(", line)]
            print("\n".join(lines[:top]))
    finally:
        for p in reversed(procs):
            p.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
