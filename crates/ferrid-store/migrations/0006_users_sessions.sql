-- Users of a track (the `login` authentication method) and their login sessions
-- (issue 14). A user's id is its `sub`; username and email (by its lower-case key) are
-- unique per track. A session is stored by the SHA-256 digest of its cookie value. Both
-- go with their track, and sessions with their user.
CREATE TABLE users (
    tenant         TEXT NOT NULL,
    track          TEXT NOT NULL,
    id             TEXT NOT NULL,
    username       TEXT,
    email          TEXT,
    email_key      TEXT,
    email_verified {int} NOT NULL,
    password_hash  TEXT NOT NULL,
    claims         TEXT NOT NULL,
    disabled       {int} NOT NULL,
    version        {int} NOT NULL,
    created        {int} NOT NULL,
    updated        {int} NOT NULL,
    PRIMARY KEY (tenant, track, id),
    FOREIGN KEY (tenant, track) REFERENCES tracks(tenant, name) ON DELETE CASCADE
);
CREATE UNIQUE INDEX users_username ON users (tenant, track, username);
CREATE UNIQUE INDEX users_email_key ON users (tenant, track, email_key);

CREATE TABLE sessions (
    tenant    TEXT NOT NULL,
    track     TEXT NOT NULL,
    id_digest {blob} NOT NULL,
    sid       TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    auth_time {int} NOT NULL,
    created   {int} NOT NULL,
    last_seen {int} NOT NULL,
    expires   {int} NOT NULL,
    PRIMARY KEY (tenant, track, id_digest),
    FOREIGN KEY (tenant, track, user_id) REFERENCES users(tenant, track, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX sessions_sid ON sessions (tenant, track, sid);
CREATE INDEX sessions_user ON sessions (tenant, track, user_id);
CREATE INDEX sessions_expires ON sessions (expires);
