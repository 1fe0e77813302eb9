-- private_key_jwt: clients' public keys, and the client-assertion jti replay guard.
CREATE TABLE client_keys (
    tenant  TEXT NOT NULL,
    track   TEXT NOT NULL,
    app     TEXT NOT NULL,
    kid     TEXT NOT NULL,
    key     TEXT NOT NULL,
    created {int} NOT NULL,
    PRIMARY KEY (tenant, track, app, kid),
    FOREIGN KEY (tenant, track, app) REFERENCES apps(tenant, track, name) ON DELETE CASCADE
);

CREATE TABLE used_jtis (
    tenant TEXT NOT NULL,
    track  TEXT NOT NULL,
    client TEXT NOT NULL,
    jti    TEXT NOT NULL,
    exp    {int} NOT NULL,
    PRIMARY KEY (tenant, track, client, jti)
);
CREATE INDEX used_jtis_exp ON used_jtis (exp);
