//! A client's secrets and uploaded keys (`CredentialStore`).

#[macro_export]
macro_rules! sql_credentials {
    ($store:ident, $db:ty) => {
        impl $store {
            async fn insert_secret(tx: &mut Transaction<'_, $db>, at: &AppRef, s: &SecretRecord) -> StoreResult<()> {
                let (alg, hash, salt) = s.hash.to_columns();
                sqlx::query(
                    "INSERT INTO client_secrets (tenant, track, app, id, info, hash_alg, hash, salt, created) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(at.tenant().as_str())
                .bind(at.track.track.as_str())
                .bind(at.app.as_str())
                .bind(&s.id)
                .bind(&s.info)
                .bind(alg)
                .bind(hash)
                .bind(salt)
                .bind(s.created)
                .execute(&mut **tx)
                .await
                .map(|_| ())
                .map_err(map_err)
            }

            /// Begins a change of the app's credentials: the app locked, and
            /// [`StoreError::LimitReached`] when `count_sql` finds `max` already; the
            /// call's timer goes with the transaction.
            async fn begin_credential(
                &self,
                at: &AppRef,
                count_sql: &'static str,
                max: usize,
            ) -> StoreResult<(Transaction<'_, $db>, $crate::sql::tx::Call<'_>)> {
                let (mut tx, call) = self.begin(StorePort::Credential, Begin::Exclusive).await?;
                Self::lock_app(&mut tx, at).await?;
                let n: i64 = sqlx::query_scalar(count_sql)
                    .bind(at.tenant().as_str())
                    .bind(at.track.track.as_str())
                    .bind(at.app.as_str())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(map_err)?;
                if n as usize >= max {
                    return Err(StoreError::LimitReached);
                }
                Ok((tx, call))
            }

            /// Deletes one credential (`$4` is its id) and ends the change.
            async fn delete_credential(
                &self,
                at: &AppRef,
                sql: &'static str,
                id: &str,
                audit: &AuditRecord,
            ) -> StoreResult<()> {
                let (mut tx, _call) = self.begin(StorePort::Credential, Begin::Write).await?;
                let r = sqlx::query(sql)
                    .bind(at.tenant().as_str())
                    .bind(at.track.track.as_str())
                    .bind(at.app.as_str())
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                changed(r.rows_affected())?;
                Self::commit_change(tx, audit, Touched::App(at)).await
            }

            /// The app's rows of a credential table, in `sql`'s order.
            async fn list_credentials(
                &self,
                at: &AppRef,
                sql: &'static str,
            ) -> StoreResult<Vec<<$db as sqlx::Database>::Row>> {
                sqlx::query(sql)
                    .bind(at.tenant().as_str())
                    .bind(at.track.track.as_str())
                    .bind(at.app.as_str())
                    .fetch_all(&*self.enter(StorePort::Credential))
                    .await
                    .map_err(map_err)
            }
        }

        #[async_trait]
        impl CredentialStore for $store {
            async fn list_secrets(&self, at: &AppRef) -> StoreResult<Vec<SecretRecord>> {
                const SQL: &str =
                    "SELECT * FROM client_secrets WHERE tenant = $1 AND track = $2 AND app = $3 ORDER BY created, id";
                self.list_credentials(at, SQL).await?.iter().map(Self::secret_row).collect()
            }

            async fn add_secret(
                &self,
                at: &AppRef,
                secret: &SecretRecord,
                max: usize,
                audit: &AuditRecord,
            ) -> StoreResult<()> {
                const COUNT: &str = "SELECT COUNT(*) FROM client_secrets WHERE tenant = $1 AND track = $2 AND app = $3";
                let (mut tx, _call) = self.begin_credential(at, COUNT, max).await?;
                Self::insert_secret(&mut tx, at, secret).await?;
                Self::commit_change(tx, audit, Touched::App(at)).await
            }

            async fn delete_secret(&self, at: &AppRef, id: &str, audit: &AuditRecord) -> StoreResult<()> {
                const SQL: &str =
                    "DELETE FROM client_secrets WHERE tenant = $1 AND track = $2 AND app = $3 AND id = $4";
                self.delete_credential(at, SQL, id, audit).await
            }

            async fn list_client_keys(&self, at: &AppRef) -> StoreResult<Vec<StoredClientKey>> {
                const SQL: &str =
                    "SELECT * FROM client_keys WHERE tenant = $1 AND track = $2 AND app = $3 ORDER BY created, kid";
                self.list_credentials(at, SQL).await?.iter().map(Self::client_key_row).collect()
            }

            async fn add_client_key(
                &self,
                at: &AppRef,
                key: &StoredClientKey,
                max: usize,
                audit: &AuditRecord,
            ) -> StoreResult<()> {
                const COUNT: &str = "SELECT COUNT(*) FROM client_keys WHERE tenant = $1 AND track = $2 AND app = $3";
                let json = serde_json::to_string(&key.key).map_err(|_| corrupt("client key"))?;
                let (mut tx, _call) = self.begin_credential(at, COUNT, max).await?;
                sqlx::query(
                    "INSERT INTO client_keys (tenant, track, app, kid, key, created) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(at.tenant().as_str())
                .bind(at.track.track.as_str())
                .bind(at.app.as_str())
                .bind(&key.key.kid)
                .bind(json)
                .bind(key.created)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                Self::commit_change(tx, audit, Touched::App(at)).await
            }

            async fn delete_client_key(&self, at: &AppRef, kid: &str, audit: &AuditRecord) -> StoreResult<()> {
                const SQL: &str = "DELETE FROM client_keys WHERE tenant = $1 AND track = $2 AND app = $3 AND kid = $4";
                self.delete_credential(at, SQL, kid, audit).await
            }
        }
    };
}
