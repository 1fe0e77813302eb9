-- The login lockout (issue 15): failure counters shared by every instance, each named by
-- the provider (`p:` a user at a source, `u:` a user from anywhere, `d:` a device
-- cookie; an unknown login name is counted under a keyed hash of it, never as typed).
-- `failures` since the last lockout, `locked_until` the end of the last lockout,
-- `next_lock` how long the next one lasts (doubling), `last` the last failure; a
-- counter is purged once it has had no failure for a day and locks nothing.
CREATE TABLE login_guard (
    tenant       TEXT NOT NULL,
    track        TEXT NOT NULL,
    counter      TEXT NOT NULL,
    failures     {int} NOT NULL,
    locked_until {int} NOT NULL,
    next_lock    {int} NOT NULL,
    last         {int} NOT NULL,
    PRIMARY KEY (tenant, track, counter),
    FOREIGN KEY (tenant, track) REFERENCES tracks(tenant, name) ON DELETE CASCADE
);
CREATE INDEX login_guard_last ON login_guard (last);
