--sqlite:-- ferrid schema v1: tenants, tracks and their keys, app registrations, client secrets.
--postgres:-- ferrid schema v1 (PostgreSQL): the same tables as SQLite, with PostgreSQL types.
CREATE TABLE tenants (
    name    TEXT PRIMARY KEY,
    created {int} NOT NULL
);

CREATE TABLE tracks (
    tenant   TEXT NOT NULL REFERENCES tenants(name) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    settings TEXT NOT NULL,
    version  {int} NOT NULL,
    created  {int} NOT NULL,
    PRIMARY KEY (tenant, name)
);

CREATE TABLE track_keys (
    tenant        TEXT NOT NULL,
    track         TEXT NOT NULL,
    kid           TEXT NOT NULL,
    alg           TEXT NOT NULL,
    state         TEXT NOT NULL,
    encrypted_key {blob} NOT NULL,
    created       {int} NOT NULL,
    PRIMARY KEY (tenant, track, kid),
    FOREIGN KEY (tenant, track) REFERENCES tracks(tenant, name) ON DELETE CASCADE
);

CREATE TABLE apps (
    tenant  TEXT NOT NULL,
    track   TEXT NOT NULL,
    name    TEXT NOT NULL,
    kind    TEXT NOT NULL,
    spec    TEXT NOT NULL,
    version {int} NOT NULL,
    created {int} NOT NULL,
    updated {int} NOT NULL,
    PRIMARY KEY (tenant, track, name),
    FOREIGN KEY (tenant, track) REFERENCES tracks(tenant, name) ON DELETE CASCADE
);

CREATE TABLE client_secrets (
    tenant   TEXT NOT NULL,
    track    TEXT NOT NULL,
    app      TEXT NOT NULL,
    id       TEXT NOT NULL,
    info     TEXT,
    hash_alg TEXT NOT NULL,
    hash     TEXT NOT NULL,
    salt     TEXT NOT NULL,
    created  {int} NOT NULL,
    PRIMARY KEY (tenant, track, app, id),
    FOREIGN KEY (tenant, track, app) REFERENCES apps(tenant, track, name) ON DELETE CASCADE
);
