//! Rows to domain values; a stored value that does not parse is an unavailable store.

#[macro_export]
macro_rules! sql_rows {
    ($store:ident, $row:ty) => {
        impl $store {
            fn name(row: &$row, col: &str) -> StoreResult<Name> {
                let s: String = row.try_get(col).map_err(map_err)?;
                Name::parse(&s).map_err(|_| corrupt(col))
            }

            /// The JSON text in `col`, parsed (`what` names it in the error).
            fn json_text(row: &$row, col: &str) -> StoreResult<String> {
                row.try_get(col).map_err(map_err)
            }

            /// One page of a listing (one call through `port`): `sql` with `keys` bound
            /// first, then the page's `after` and its limit.
            async fn page<T: Send>(
                &self,
                port: StorePort,
                sql: &'static str,
                keys: &[&str],
                page: &PageRequest,
                row: fn(&$row) -> StoreResult<T>,
            ) -> StoreResult<Vec<T>> {
                let mut q = sqlx::query(sql);
                for k in keys {
                    q = q.bind(*k);
                }
                let after = page.after.as_deref().unwrap_or("");
                q.bind(after)
                    .bind(limit(page))
                    .fetch_all(&*self.enter(port))
                    .await
                    .map_err(map_err)?
                    .iter()
                    .map(row)
                    .collect()
            }

            fn tenant_row(row: &$row) -> StoreResult<Tenant> {
                Ok(Tenant { name: Self::name(row, "name")?, created: row.try_get("created").map_err(map_err)? })
            }

            fn track_row(row: &$row) -> StoreResult<Track> {
                Ok(Track {
                    tenant: Self::name(row, "tenant")?,
                    name: Self::name(row, "name")?,
                    settings: serde_json::from_str(&Self::json_text(row, "settings")?)
                        .map_err(|_| corrupt("settings"))?,
                    version: row.try_get("version").map_err(map_err)?,
                    created: row.try_get("created").map_err(map_err)?,
                })
            }

            fn app_row(row: &$row) -> StoreResult<App> {
                let col = |c: &str| -> StoreResult<String> { row.try_get(c).map_err(map_err) };
                let stored = ferrid_core::model::AppRow {
                    tenant: col("tenant")?,
                    track: col("track")?,
                    name: col("name")?,
                    kind: col("kind")?,
                    spec: Self::json_text(row, "spec")?,
                    version: row.try_get("version").map_err(map_err)?,
                    created: row.try_get("created").map_err(map_err)?,
                    updated: row.try_get("updated").map_err(map_err)?,
                };
                stored.into_app().map_err(|e| corrupt(e.0))
            }

            fn secret_row(row: &$row) -> StoreResult<SecretRecord> {
                let col = |c: &str| -> StoreResult<String> { row.try_get(c).map_err(map_err) };
                let hash = SecretHash::from_columns(&col("hash_alg")?, &col("hash")?, &col("salt")?)
                    .ok_or_else(|| corrupt("secret"))?;
                Ok(SecretRecord {
                    id: col("id")?,
                    info: row.try_get("info").map_err(map_err)?,
                    created: row.try_get::<UnixTime, _>("created").map_err(map_err)?,
                    hash,
                })
            }

            fn client_key_row(row: &$row) -> StoreResult<StoredClientKey> {
                Ok(StoredClientKey {
                    key: serde_json::from_str(&Self::json_text(row, "key")?).map_err(|_| corrupt("client key"))?,
                    created: row.try_get("created").map_err(map_err)?,
                })
            }

            fn audit_row(row: &$row) -> StoreResult<AuditEntry> {
                Ok(AuditEntry {
                    id: row.try_get("seq").map_err(map_err)?,
                    record: AuditRecord {
                        tenant: row.try_get("tenant").map_err(map_err)?,
                        at: row.try_get("at").map_err(map_err)?,
                        actor: row.try_get("actor").map_err(map_err)?,
                        action: row.try_get("action").map_err(map_err)?,
                        target: row.try_get("target").map_err(map_err)?,
                        source: row.try_get("source").map_err(map_err)?,
                        details: serde_json::from_str(&Self::json_text(row, "details")?)
                            .map_err(|_| corrupt("audit details"))?,
                    },
                })
            }

            fn key_row(row: &$row) -> StoreResult<TrackKey> {
                let alg: String = row.try_get("alg").map_err(map_err)?;
                let state: String = row.try_get("state").map_err(map_err)?;
                Ok(TrackKey {
                    kid: row.try_get("kid").map_err(map_err)?,
                    alg: alg.parse().map_err(|_| corrupt("alg"))?,
                    state: KeyState::parse(&state).ok_or_else(|| corrupt("state"))?,
                    encrypted_pkcs8: row.try_get("encrypted_key").map_err(map_err)?,
                    created: row.try_get("created").map_err(map_err)?,
                    changed: row.try_get("changed").map_err(map_err)?,
                })
            }
        }
    };
}
