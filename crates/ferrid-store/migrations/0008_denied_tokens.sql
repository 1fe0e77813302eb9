-- The deny-list (issue 16): access tokens revoked before their `exp`, by `jti`, kept
-- until that `exp`. Every instance holds the list of each track in memory; a change is
-- announced as `deny:{tenant}/{track}` and the others read that track's list again.
CREATE TABLE denied_tokens (
    tenant  TEXT NOT NULL,
    track   TEXT NOT NULL,
    jti     TEXT NOT NULL,
    expires {int} NOT NULL,
    PRIMARY KEY (tenant, track, jti),
    FOREIGN KEY (tenant, track) REFERENCES tracks(tenant, name) ON DELETE CASCADE
);
CREATE INDEX denied_tokens_expires ON denied_tokens (expires);

-- The clients of a login session that registered a front-channel logout URI and were
-- answered in it (issue 15): the end-session page loads each one's URI in an iframe.
CREATE TABLE session_clients (
    tenant TEXT NOT NULL,
    track  TEXT NOT NULL,
    sid    TEXT NOT NULL,
    client TEXT NOT NULL,
    expires {int} NOT NULL,
    PRIMARY KEY (tenant, track, sid, client),
    FOREIGN KEY (tenant, track) REFERENCES tracks(tenant, name) ON DELETE CASCADE
);
CREATE INDEX session_clients_expires ON session_clients (expires);
