-- Key rotation: when a track key last changed state (next → active → retired).
ALTER TABLE track_keys ADD COLUMN changed {int} NOT NULL DEFAULT 0;
UPDATE track_keys SET changed = created;
