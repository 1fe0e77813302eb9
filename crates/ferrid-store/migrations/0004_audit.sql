-- The audit log (every management change, every failed client authentication) and the
-- failed-authentication buckets shared by all instances.
CREATE TABLE audit_log (
    id      {serial_pk},
    tenant  TEXT NOT NULL,
    at      {int} NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    source  TEXT,
    details TEXT NOT NULL
);
CREATE INDEX audit_log_tenant_id ON audit_log (tenant, id);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TABLE auth_failures (
    bucket TEXT PRIMARY KEY,
    tokens {real} NOT NULL,
    at     {int} NOT NULL
);
CREATE INDEX auth_failures_at ON auth_failures (at);
