-- What the OpenID Provider keeps between requests (issue 14): authorization codes, user
-- grants with their refresh tokens and the access tokens issued under them, and
-- remembered consent. Codes and refresh tokens are stored by the SHA-256 digest of their
-- value only. Everything goes with its track; codes, grants and consents go with their
-- user (deleting a user revokes its grants); refresh and access tokens go with their
-- grant. A grant revoked before it was stored (a code redeemed twice while the first
-- redemption's response is still being made) is a `user_grants` row with `revoked = 1`,
-- copied from its code, so that storing the grant afterwards meets the key and fails.
CREATE TABLE auth_codes (
    tenant                TEXT NOT NULL,
    track                 TEXT NOT NULL,
    digest                {blob} NOT NULL,
    client                TEXT NOT NULL,
    user_id               TEXT NOT NULL,
    sid                   TEXT NOT NULL,
    redirect_uri          TEXT NOT NULL,
    code_challenge        TEXT,
    code_challenge_method TEXT,
    nonce                 TEXT,
    scope                 TEXT NOT NULL,
    auth_time             {int} NOT NULL,
    created               {int} NOT NULL,
    expires               {int} NOT NULL,
    used                  {int} NOT NULL,
    grant_id              TEXT,
    PRIMARY KEY (tenant, track, digest),
    FOREIGN KEY (tenant, track) REFERENCES tracks(tenant, name) ON DELETE CASCADE,
    FOREIGN KEY (tenant, track, user_id) REFERENCES users(tenant, track, id) ON DELETE CASCADE
);
CREATE INDEX auth_codes_user ON auth_codes (tenant, track, user_id);
CREATE INDEX auth_codes_grant ON auth_codes (tenant, track, grant_id);
CREATE INDEX auth_codes_expires ON auth_codes (expires);

CREATE TABLE user_grants (
    tenant    TEXT NOT NULL,
    track     TEXT NOT NULL,
    id        TEXT NOT NULL,
    client    TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    sid       TEXT NOT NULL,
    scope     TEXT NOT NULL,
    auth_time {int} NOT NULL,
    created   {int} NOT NULL,
    expires   {int} NOT NULL,
    revoked   {int} NOT NULL,
    PRIMARY KEY (tenant, track, id),
    FOREIGN KEY (tenant, track) REFERENCES tracks(tenant, name) ON DELETE CASCADE,
    FOREIGN KEY (tenant, track, user_id) REFERENCES users(tenant, track, id) ON DELETE CASCADE
);
CREATE INDEX user_grants_user ON user_grants (tenant, track, user_id);
CREATE INDEX user_grants_expires ON user_grants (expires);

CREATE TABLE refresh_tokens (
    tenant   TEXT NOT NULL,
    track    TEXT NOT NULL,
    digest   {blob} NOT NULL,
    grant_id TEXT NOT NULL,
    created  {int} NOT NULL,
    expires  {int} NOT NULL,
    used     {int} NOT NULL,
    PRIMARY KEY (tenant, track, digest),
    FOREIGN KEY (tenant, track) REFERENCES tracks(tenant, name) ON DELETE CASCADE,
    FOREIGN KEY (tenant, track, grant_id) REFERENCES user_grants(tenant, track, id) ON DELETE CASCADE
);
CREATE INDEX refresh_tokens_grant ON refresh_tokens (tenant, track, grant_id);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires);

CREATE TABLE issued_tokens (
    tenant   TEXT NOT NULL,
    track    TEXT NOT NULL,
    jti      TEXT NOT NULL,
    grant_id TEXT NOT NULL,
    expires  {int} NOT NULL,
    PRIMARY KEY (tenant, track, jti),
    FOREIGN KEY (tenant, track) REFERENCES tracks(tenant, name) ON DELETE CASCADE,
    FOREIGN KEY (tenant, track, grant_id) REFERENCES user_grants(tenant, track, id) ON DELETE CASCADE
);
CREATE INDEX issued_tokens_grant ON issued_tokens (tenant, track, grant_id);
CREATE INDEX issued_tokens_expires ON issued_tokens (expires);

CREATE TABLE consents (
    tenant  TEXT NOT NULL,
    track   TEXT NOT NULL,
    user_id TEXT NOT NULL,
    client  TEXT NOT NULL,
    scopes  TEXT NOT NULL,
    updated {int} NOT NULL,
    PRIMARY KEY (tenant, track, user_id, client),
    FOREIGN KEY (tenant, track) REFERENCES tracks(tenant, name) ON DELETE CASCADE,
    FOREIGN KEY (tenant, track, user_id) REFERENCES users(tenant, track, id) ON DELETE CASCADE
);
