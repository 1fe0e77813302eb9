-- Audit ids per tenant (issue 18): a record's id counts that tenant's log only, so one
-- tenant cannot learn how many events another had. Existing records keep their global
-- id as their number, and each tenant's counter continues from its highest.
ALTER TABLE audit_log ADD COLUMN seq {int} NOT NULL DEFAULT 0;
UPDATE audit_log SET seq = id;
CREATE UNIQUE INDEX audit_log_tenant_seq ON audit_log (tenant, seq);

CREATE TABLE audit_counters (
    tenant TEXT PRIMARY KEY,
    last   {int} NOT NULL
);
INSERT INTO audit_counters (tenant, last) SELECT tenant, MAX(seq) FROM audit_log GROUP BY tenant;
