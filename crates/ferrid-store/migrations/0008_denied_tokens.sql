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
