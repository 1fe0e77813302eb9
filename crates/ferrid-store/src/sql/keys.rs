//! A track's signing keys and the steps of their rotation (`TrackKeyStore`).

#[macro_export]
macro_rules! sql_keys {
    ($store:ident, $db:ty) => {
        impl $store {
            async fn insert_key(tx: &mut Transaction<'_, $db>, at: &TrackRef, k: &TrackKey) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO track_keys (tenant, track, kid, alg, state, encrypted_key, created, changed) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(at.tenant.as_str())
                .bind(at.track.as_str())
                .bind(&k.kid)
                .bind(k.alg.as_str())
                .bind(k.state.as_str())
                .bind(&k.encrypted_pkcs8)
                .bind(k.created)
                .bind(k.changed)
                .execute(&mut **tx)
                .await
                .map(|_| ())
                .map_err(map_err)
            }
        }

        #[async_trait]
        impl TrackKeyStore for $store {
            async fn add_next_key(&self, at: &TrackRef, key: &TrackKey, audit: &AuditRecord) -> StoreResult<bool> {
                let (mut tx, _call) = self.begin(StorePort::TrackKey, Begin::Exclusive).await?;
                Self::lock_track(&mut tx, at).await?;
                let r = sqlx::query(
                    "INSERT INTO track_keys (tenant, track, kid, alg, state, encrypted_key, created, changed) \
                     SELECT $1, $2, $3, $4, 'next', $5, $6, $6 \
                     WHERE NOT EXISTS (SELECT 1 FROM track_keys WHERE tenant = $1 AND track = $2 AND state = 'next')",
                )
                .bind(at.tenant.as_str())
                .bind(at.track.as_str())
                .bind(&key.kid)
                .bind(key.alg.as_str())
                .bind(&key.encrypted_pkcs8)
                .bind(key.created)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                if r.rows_affected() == 0 {
                    return Ok(false);
                }
                Self::commit_change(tx, audit, Touched::Track(&at.tenant, &at.track)).await?;
                Ok(true)
            }

            async fn promote_next_key(
                &self,
                at: &TrackRef,
                kid: &str,
                now: UnixTime,
                audit: &AuditRecord,
            ) -> StoreResult<bool> {
                let (mut tx, _call) = self.begin(StorePort::TrackKey, Begin::Exclusive).await?;
                Self::lock_track(&mut tx, at).await?;
                let mut promoted = 0;
                for sql in [
                    "UPDATE track_keys SET state = 'active', changed = $4 WHERE tenant = $1 AND track = $2 AND kid = $3 AND state = 'next'",
                    "UPDATE track_keys SET state = 'retired', changed = $4 WHERE tenant = $1 AND track = $2 AND state = 'active' AND kid <> $3",
                ] {
                    let r = sqlx::query(sql)
                        .bind(at.tenant.as_str())
                        .bind(at.track.as_str())
                        .bind(kid)
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                    if promoted == 0 && r.rows_affected() == 0 {
                        return Ok(false);
                    }
                    promoted += 1;
                }
                Self::commit_change(tx, audit, Touched::Track(&at.tenant, &at.track)).await?;
                Ok(true)
            }

            async fn delete_retired_keys(
                &self,
                at: &TrackRef,
                before: UnixTime,
                audit: &AuditRecord,
            ) -> StoreResult<u64> {
                let (mut tx, _call) = self.begin(StorePort::TrackKey, Begin::Exclusive).await?;
                let r = sqlx::query(
                    "DELETE FROM track_keys WHERE tenant = $1 AND track = $2 AND state = 'retired' AND changed < $3",
                )
                .bind(at.tenant.as_str())
                .bind(at.track.as_str())
                .bind(before)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                if r.rows_affected() == 0 {
                    tx.commit().await.map_err(map_err)?;
                    return Ok(0);
                }
                Self::commit_change(tx, audit, Touched::Track(&at.tenant, &at.track)).await?;
                Ok(r.rows_affected())
            }
        }
    };
}
