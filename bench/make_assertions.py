"""Writes N ES256 client assertions (RFC 7523) for a client, one a line, and the
certificate to upload. Run with tests/clients/.venv/bin/python (PyJWT, cryptography).

  make_assertions.py OUT_DIR CLIENT_ID AUD N
"""
import datetime
import os
import sys
import time
import uuid

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

out, client_id, aud, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
key = ec.generate_private_key(ec.SECP256R1())
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, client_id)])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2)).sign(key, hashes.SHA256()))
with open(os.path.join(out, "cert.pem"), "wb") as f:
    f.write(cert.public_bytes(serialization.Encoding.PEM))
pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
t = int(time.time())
with open(os.path.join(out, "assertions.txt"), "w") as f:
    for i in range(n):
        claims = {"iss": client_id, "sub": client_id, "aud": aud, "iat": t, "exp": t + 3000, "jti": uuid.uuid4().hex}
        f.write(jwt.encode(claims, pem, algorithm="ES256") + "\n")
