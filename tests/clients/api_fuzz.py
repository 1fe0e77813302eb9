"""schemathesis against a running ferrid: the management API's responses must match its
own OpenAPI document, and no request may cause a 5xx.

Reads FERRID_URL and FERRID_ADMIN_SECRET (as run.sh sets them); FERRID_FUZZ_EXAMPLES
(default 25) bounds the examples per operation, FERRID_FUZZ_SEED (default 1) fixes the
data. Creates a fixture (tenant/track `st`, resource `st-api`, clients `st-client` and
`st-jwt` with key `st-key`, and `st-doomed` to delete), runs schemathesis with a JUnit report, prints its output
and ends with "N passed, N failed" counted over the API's operations.
"""

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

import requests

BASE = os.environ["FERRID_URL"].rstrip("/")
SECRET = os.environ["FERRID_ADMIN_SECRET"]
HERE = os.path.dirname(os.path.abspath(__file__))

# An Ed25519 public JWK (RFC 8037 §A.2's test key).
JWK = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "st-key"}


def admin_token():
    r = requests.post(
        f"{BASE}/master/master/oauth/token",
        data={"grant_type": "client_credentials", "scope": "ferrid-api:admin"},
        auth=("admin", SECRET),
        timeout=10,
    )
    r.raise_for_status()
    return r.json()["access_token"]


def seed(token):
    h = {"Authorization": f"Bearer {token}"}
    api = f"{BASE}/api/v1/tenants"
    calls = [
        (api, {"name": "st"}),
        (f"{api}/st/tracks", {"name": "st", "signing_alg": "ES256"}),
        (f"{api}/st/tracks/st/apps", {"name": "st-api", "kind": "oauth_resource", "scopes": ["read", "write"]}),
        (
            f"{api}/st/tracks/st/apps",
            {
                "name": "st-client",
                "kind": "oauth_client",
                "client_auth_method": "client_secret_basic",
                "resource_scopes": [{"resource": "st-api", "scopes": ["read"]}],
            },
        ),
        (f"{api}/st/tracks/st/apps", {"name": "st-jwt", "kind": "oauth_client", "client_auth_method": "private_key_jwt"}),
        (f"{api}/st/tracks/st/apps/st-jwt/keys", {"jwk": JWK}),
        (f"{api}/st/tracks/st/apps", {"name": "st-doomed", "kind": "oauth_resource", "scopes": ["x"]}),
    ]
    for url, body in calls:
        r = requests.post(url, json=body, headers=h, timeout=30)
        if r.status_code not in (201, 409):
            raise SystemExit(f"seeding {url}: {r.status_code} {r.text}")


def main():
    token = admin_token()
    seed(token)
    examples = os.environ.get("FERRID_FUZZ_EXAMPLES", "25")
    seed_value = os.environ.get("FERRID_FUZZ_SEED", "1")
    exe = os.path.join(os.path.dirname(sys.executable), "schemathesis")
    with tempfile.TemporaryDirectory() as tmp:
        junit = os.path.join(tmp, "junit.xml")
        cmd = [
            exe,
            "--config-file",
            os.path.join(HERE, "schemathesis.toml"),
            "run",
            f"{BASE}/api/v1/openapi.json",
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            "not_a_server_error,response_schema_conformance,status_code_conformance",
            "--max-examples",
            examples,
            "--seed",
            seed_value,
            "--workers",
            "2",
            "--generation-database",
            "none",
            "--no-color",
            "--output-sanitize",
            "true",
            "--report",
            "junit",
            "--report-junit-path",
            junit,
        ]
        print("schemathesis " + " ".join(a if not a.startswith("Authorization") else "Authorization: Bearer …" for a in cmd[1:]))
        sys.stdout.flush()
        rc = subprocess.run(cmd, stdin=subprocess.DEVNULL, cwd=tmp).returncode
        passed = failed = 0
        try:
            for case in ET.parse(junit).getroot().iter("testcase"):
                bad = case.find("failure") is not None or case.find("error") is not None
                failed += bad
                passed += not bad
                if bad:
                    print(f"FAIL - {case.get('name')}")
        except (OSError, ET.ParseError) as e:
            print(f"FAIL - no JUnit report ({e})")
            failed += 1
        if rc != 0 and failed == 0:
            print(f"FAIL - schemathesis exited with {rc}")
            failed = 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
