//! The SQL of the store, written once and instantiated for each backend by
//! [`sql_store!`]: SQLite and PostgreSQL run the same statements (`$n` placeholders,
//! portable types), so the two cannot drift. A backend provides `pool`,
//! `begin_exclusive` (a transaction that serialises the count-then-insert limits) and
//! `notify` (tell other instances that a track changed, inside the transaction).

/// Store errors from sqlx errors: unique → Conflict, foreign key → NotFound.
pub fn map_err(e: sqlx::Error) -> ferrid_core::store::StoreError {
    use ferrid_core::store::StoreError;
    match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict,
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => StoreError::NotFound,
        _ => StoreError::Unavailable(e.to_string()),
    }
}

pub fn corrupt(what: &str) -> ferrid_core::store::StoreError {
    ferrid_core::store::StoreError::Unavailable(format!("stored {what} does not parse"))
}

pub fn limit(page: &ferrid_core::store::PageRequest) -> i64 {
    i64::from(page.limit.clamp(1, 1000))
}

/// Takes tokens from one shared failure bucket and answers its level, in one statement
/// (atomic on both backends). `$1` bucket, `$2` level of a new bucket, `$3` now (ms),
/// `$4` refill per ms, `$5` burst, `$6` tokens taken. A clock behind the stored time
/// refills nothing; the level never goes below zero or above the burst.
pub static TAKE_AUTH_FAILURES: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let elapsed = "(CASE WHEN $3 > auth_failures.at THEN $3 - auth_failures.at ELSE 0 END)";
    let refilled = format!("(auth_failures.tokens + {elapsed} * $4)");
    let capped = format!("(CASE WHEN {refilled} > $5 THEN $5 ELSE {refilled} END)");
    format!(
        "INSERT INTO auth_failures (bucket, tokens, at) VALUES ($1, $2, $3) \
         ON CONFLICT (bucket) DO UPDATE SET \
         tokens = (CASE WHEN {capped} - $6 < 0.0 THEN 0.0 ELSE {capped} - $6 END), \
         at = (CASE WHEN $3 > auth_failures.at THEN $3 ELSE auth_failures.at END) \
         RETURNING tokens"
    )
});

/// Fails with NotFound when a statement changed no row.
pub fn changed(rows: u64) -> ferrid_core::store::StoreResult<()> {
    if rows == 0 { Err(ferrid_core::store::StoreError::NotFound) } else { Ok(()) }
}

#[macro_export]
macro_rules! sql_store {
    ($store:ident, $db:ty, $row:ty) => {
        fn name(row: &$row, col: &str) -> StoreResult<ferrid_oauth::name::Name> {
            let s: String = row.try_get(col).map_err(map_err)?;
            ferrid_oauth::name::Name::parse(&s).map_err(|_| corrupt(col))
        }

        impl $store {
            /// Locks the track row for the rest of the transaction (key rotation steps
            /// by several instances serialise here); NotFound when the track is gone.
            async fn lock_track(tx: &mut Transaction<'_, $db>, tenant: &str, track: &str) -> StoreResult<()> {
                sqlx::query(Self::LOCK_TRACK)
                    .bind(tenant)
                    .bind(track)
                    .fetch_one(&mut **tx)
                    .await
                    .map(|_| ())
                    .map_err(map_err)
            }

            /// Locks the app row for the rest of the transaction (limits are counted then
            /// inserted); NotFound when the app does not exist.
            async fn lock_app(tx: &mut Transaction<'_, $db>, tenant: &str, track: &str, app: &str) -> StoreResult<()> {
                sqlx::query(Self::LOCK_APP)
                    .bind(tenant)
                    .bind(track)
                    .bind(app)
                    .fetch_one(&mut **tx)
                    .await
                    .map(|_| ())
                    .map_err(map_err)
            }

    /// Appends a record with the next number of its tenant's log (ids are per tenant,
    /// issue 18). On PostgreSQL the counter row is locked until commit, so numbers are
    /// given in commit order within a tenant.
    async fn insert_audit(tx: &mut Transaction<'_, $db>, r: &AuditRecord) -> StoreResult<()> {
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO audit_counters (tenant, last) VALUES ($1, 1) \
             ON CONFLICT (tenant) DO UPDATE SET last = audit_counters.last + 1 RETURNING last",
        )
        .bind(&r.tenant)
        .fetch_one(&mut **tx)
        .await
        .map_err(map_err)?;
        sqlx::query("INSERT INTO audit_log (seq, tenant, at, actor, action, target, source, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(seq)
            .bind(&r.tenant)
            .bind(r.at)
            .bind(&r.actor)
            .bind(&r.action)
            .bind(&r.target)
            .bind(r.source.as_deref())
            .bind(r.details.to_string())
            .execute(&mut **tx)
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    async fn insert_track(tx: &mut Transaction<'_, $db>, new: &NewTrack) -> StoreResult<()> {
        let t = &new.track;
        let settings = serde_json::to_string(&t.settings).map_err(|_| corrupt("settings"))?;
        sqlx::query("INSERT INTO tracks (tenant, name, settings, version, created) VALUES ($1, $2, $3, $4, $5)")
            .bind(t.tenant.as_str())
            .bind(t.name.as_str())
            .bind(settings)
            .bind(t.version)
            .bind(t.created)
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        for k in &new.keys {
            sqlx::query("INSERT INTO track_keys (tenant, track, kid, alg, state, encrypted_key, created, changed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(t.tenant.as_str())
                .bind(t.name.as_str())
                .bind(&k.kid)
                .bind(k.alg.as_str())
                .bind(k.state.as_str())
                .bind(&k.encrypted_pkcs8)
                .bind(k.created)
                .bind(k.changed)
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
        }
        for (app, secrets) in &new.apps {
            Self::insert_app(tx, app, secrets).await?;
        }
        Ok(())
    }

    async fn insert_app(tx: &mut Transaction<'_, $db>, app: &App, secrets: &[SecretRecord]) -> StoreResult<()> {
        let row = AppRow::of(app);
        sqlx::query("INSERT INTO apps (tenant, track, name, kind, spec, version, created, updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(&row.tenant)
            .bind(&row.track)
            .bind(&row.name)
            .bind(&row.kind)
            .bind(&row.spec)
            .bind(row.version)
            .bind(row.created)
            .bind(row.updated)
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        for s in secrets {
            Self::insert_secret(tx, app.tenant.as_str(), app.track.as_str(), app.name.as_str(), s).await?;
        }
        Ok(())
    }

    async fn insert_secret(
        tx: &mut Transaction<'_, $db>,
        tenant: &str,
        track: &str,
        app: &str,
        s: &SecretRecord,
    ) -> StoreResult<()> {
        let (alg, hash, salt) = s.hash.to_columns();
        sqlx::query("INSERT INTO client_secrets (tenant, track, app, id, info, hash_alg, hash, salt, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(tenant)
            .bind(track)
            .bind(app)
            .bind(&s.id)
            .bind(&s.info)
            .bind(alg)
            .bind(hash)
            .bind(salt)
            .bind(s.created)
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    fn track_row(row: &$row) -> StoreResult<Track> {
        let settings: String = row.try_get("settings").map_err(map_err)?;
        let settings: TrackSettings = serde_json::from_str(&settings).map_err(|_| corrupt("settings"))?;
        Ok(Track {
            tenant: name(row, "tenant")?,
            name: name(row, "name")?,
            settings,
            version: row.try_get("version").map_err(map_err)?,
            created: row.try_get("created").map_err(map_err)?,
        })
    }

    fn app_row(row: &$row) -> StoreResult<App> {
        let col = |c: &str| -> StoreResult<String> { row.try_get(c).map_err(map_err) };
        let stored = AppRow {
            tenant: col("tenant")?,
            track: col("track")?,
            name: col("name")?,
            kind: col("kind")?,
            spec: col("spec")?,
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
        let json: String = row.try_get("key").map_err(map_err)?;
        Ok(StoredClientKey {
            key: serde_json::from_str(&json).map_err(|_| corrupt("client key"))?,
            created: row.try_get("created").map_err(map_err)?,
        })
    }

    fn audit_row(row: &$row) -> StoreResult<AuditEntry> {
        let details: String = row.try_get("details").map_err(map_err)?;
        Ok(AuditEntry {
            id: row.try_get("seq").map_err(map_err)?,
            record: AuditRecord {
                tenant: row.try_get("tenant").map_err(map_err)?,
                at: row.try_get("at").map_err(map_err)?,
                actor: row.try_get("actor").map_err(map_err)?,
                action: row.try_get("action").map_err(map_err)?,
                target: row.try_get("target").map_err(map_err)?,
                source: row.try_get("source").map_err(map_err)?,
                details: serde_json::from_str(&details).map_err(|_| corrupt("audit details"))?,
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

    /// Reads one track's parts on `conn`, which holds a read transaction (issue 18:
    /// a snapshot is never built from two states of the store).
    async fn load_track_in(conn: &mut <$db as sqlx::Database>::Connection, track: Track) -> StoreResult<TrackData> {
        let (tn, tr) = (track.tenant.as_str(), track.name.as_str());
        let keys = sqlx::query("SELECT * FROM track_keys WHERE tenant = $1 AND track = $2 ORDER BY created, kid")
            .bind(tn)
            .bind(tr)
            .fetch_all(&mut *conn)
            .await
            .map_err(map_err)?
            .iter()
            .map(Self::key_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let apps = sqlx::query("SELECT * FROM apps WHERE tenant = $1 AND track = $2 ORDER BY name")
            .bind(tn)
            .bind(tr)
            .fetch_all(&mut *conn)
            .await
            .map_err(map_err)?
            .iter()
            .map(Self::app_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let mut secrets = Vec::new();
        for row in
            sqlx::query("SELECT * FROM client_secrets WHERE tenant = $1 AND track = $2 ORDER BY app, created, id")
                .bind(tn)
                .bind(tr)
                .fetch_all(&mut *conn)
                .await
                .map_err(map_err)?
        {
            secrets.push((name(&row, "app")?, Self::secret_row(&row)?));
        }
        let mut client_keys = Vec::new();
        for row in sqlx::query("SELECT * FROM client_keys WHERE tenant = $1 AND track = $2 ORDER BY app, created, kid")
            .bind(tn)
            .bind(tr)
            .fetch_all(&mut *conn)
            .await
            .map_err(map_err)?
        {
            client_keys.push((name(&row, "app")?, Self::client_key_row(&row)?));
        }
        Ok(TrackData { track, keys, apps, secrets, client_keys })
    }
}


#[async_trait]
impl Store for $store {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ()).map_err(map_err)
    }

    async fn has_tenants(&self) -> StoreResult<bool> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenants").fetch_one(&self.pool).await.map_err(map_err)?;
        Ok(n > 0)
    }

    async fn list_tenants(&self, page: &PageRequest) -> StoreResult<Vec<Tenant>> {
        let rows = sqlx::query("SELECT name, created FROM tenants WHERE name > $1 ORDER BY name LIMIT $2")
            .bind(page.after.as_deref().unwrap_or(""))
            .bind(limit(page))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter()
            .map(|r| Ok(Tenant { name: name(r, "name")?, created: r.try_get("created").map_err(map_err)? }))
            .collect()
    }

    async fn get_tenant(&self, tenant: &str) -> StoreResult<Tenant> {
        let r = sqlx::query("SELECT name, created FROM tenants WHERE name = $1")
            .bind(tenant)
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(Tenant { name: name(&r, "name")?, created: r.try_get("created").map_err(map_err)? })
    }

    async fn create_tenant(&self, tenant: &Tenant, master: &NewTrack, audit: &AuditRecord) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        sqlx::query("INSERT INTO tenants (name, created) VALUES ($1, $2)")
            .bind(tenant.name.as_str())
            .bind(tenant.created)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        Self::insert_track(&mut tx, master).await?;
        Self::notify(&mut tx, &tenant.name, &master.track.name).await?;
        Self::insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn delete_tenant(&self, tenant: &str, audit: &AuditRecord) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let r = sqlx::query("DELETE FROM tenants WHERE name = $1").bind(tenant).execute(&mut *tx).await.map_err(map_err)?;
        changed(r.rows_affected())?;
        // the tenant's own log goes with it; its deletion is recorded in `audit.tenant`'s log
        sqlx::query("DELETE FROM audit_log WHERE tenant = $1").bind(tenant).execute(&mut *tx).await.map_err(map_err)?;
        sqlx::query("DELETE FROM audit_counters WHERE tenant = $1").bind(tenant).execute(&mut *tx).await.map_err(map_err)?;
        Self::notify(&mut tx, tenant, "*").await?;
        Self::insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn list_tracks(&self, tenant: &str, page: &PageRequest) -> StoreResult<Vec<Track>> {
        sqlx::query("SELECT * FROM tracks WHERE tenant = $1 AND name > $2 ORDER BY name LIMIT $3")
            .bind(tenant)
            .bind(page.after.as_deref().unwrap_or(""))
            .bind(limit(page))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?
            .iter()
            .map(Self::track_row)
            .collect()
    }

    async fn get_track(&self, tenant: &str, track: &str) -> StoreResult<Track> {
        let r = sqlx::query("SELECT * FROM tracks WHERE tenant = $1 AND name = $2")
            .bind(tenant)
            .bind(track)
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        Self::track_row(&r)
    }

    async fn create_track(&self, new: &NewTrack, audit: &AuditRecord) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        Self::insert_track(&mut tx, new).await?;
        Self::notify(&mut tx, &new.track.tenant, &new.track.name).await?;
        Self::insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn update_track(&self, track: &Track, expected_version: Option<i64>, audit: &AuditRecord) -> StoreResult<Track> {
        let settings = serde_json::to_string(&track.settings).map_err(|_| corrupt("settings"))?;
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        // One statement compares and bumps the version: concurrent edits cannot both win.
        let sql = match expected_version {
            Some(_) => "UPDATE tracks SET settings = $1, version = version + 1 WHERE tenant = $2 AND name = $3 AND version = $4 RETURNING version",
            None => "UPDATE tracks SET settings = $1, version = version + 1 WHERE tenant = $2 AND name = $3 RETURNING version",
        };
        let mut q = sqlx::query_scalar::<_, i64>(sql).bind(settings).bind(track.tenant.as_str()).bind(track.name.as_str());
        if let Some(v) = expected_version {
            q = q.bind(v);
        }
        let version = match q.fetch_optional(&mut *tx).await.map_err(map_err)? {
            Some(v) => v,
            None => {
                drop(tx);
                self.get_track(&track.tenant, &track.name).await?;
                return Err(StoreError::VersionMismatch);
            }
        };
        Self::notify(&mut tx, &track.tenant, &track.name).await?;
        Self::insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(Track { version, ..track.clone() })
    }

    async fn delete_track(&self, tenant: &str, track: &str, audit: &AuditRecord) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let r = sqlx::query("DELETE FROM tracks WHERE tenant = $1 AND name = $2")
            .bind(tenant)
            .bind(track)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        changed(r.rows_affected())?;
        Self::notify(&mut tx, tenant, track).await?;
        Self::insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn list_apps(&self, tenant: &str, track: &str, page: &PageRequest) -> StoreResult<Vec<App>> {
        sqlx::query("SELECT * FROM apps WHERE tenant = $1 AND track = $2 AND name > $3 ORDER BY name LIMIT $4")
            .bind(tenant)
            .bind(track)
            .bind(page.after.as_deref().unwrap_or(""))
            .bind(limit(page))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?
            .iter()
            .map(Self::app_row)
            .collect()
    }

    async fn get_app(&self, tenant: &str, track: &str, app: &str) -> StoreResult<App> {
        let r = sqlx::query("SELECT * FROM apps WHERE tenant = $1 AND track = $2 AND name = $3")
            .bind(tenant)
            .bind(track)
            .bind(app)
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        Self::app_row(&r)
    }

    async fn create_app(&self, app: &App, secrets: &[SecretRecord], audit: &AuditRecord) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        Self::insert_app(&mut tx, app, secrets).await?;
        Self::notify(&mut tx, &app.tenant, &app.track).await?;
        Self::insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn replace_app(&self, app: &App, expected_version: Option<i64>, audit: &AuditRecord) -> StoreResult<App> {
        let row = AppRow::of(app);
        let (tenant, track, name) = (app.tenant.as_str(), app.track.as_str(), app.name.as_str());
        let mut tx = self.begin_exclusive().await.map_err(map_err)?;
        Self::lock_app(&mut tx, tenant, track, name).await?;
        let kind: String = sqlx::query_scalar("SELECT kind FROM apps WHERE tenant = $1 AND track = $2 AND name = $3")
            .bind(tenant)
            .bind(track)
            .bind(name)
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
        let sql = match expected_version {
            Some(_) => "UPDATE apps SET kind = $1, spec = $2, version = version + 1, updated = $3 WHERE tenant = $4 AND track = $5 AND name = $6 AND version = $7 RETURNING version",
            None => "UPDATE apps SET kind = $1, spec = $2, version = version + 1, updated = $3 WHERE tenant = $4 AND track = $5 AND name = $6 RETURNING version",
        };
        let mut q = sqlx::query_scalar::<_, i64>(sql)
            .bind(&row.kind)
            .bind(&row.spec)
            .bind(app.updated)
            .bind(app.tenant.as_str())
            .bind(app.track.as_str())
            .bind(app.name.as_str());
        if let Some(v) = expected_version {
            q = q.bind(v);
        }
        let version = match q.fetch_optional(&mut *tx).await.map_err(map_err)? {
            Some(v) => v,
            None => {
                drop(tx);
                self.get_app(&app.tenant, &app.track, &app.name).await?;
                return Err(StoreError::VersionMismatch);
            }
        };
        if kind != row.kind {
            // A new kind starts without credentials (issue 18: a client turned into a
            // resource and back regained its old secrets).
            for sql in [
                "DELETE FROM client_secrets WHERE tenant = $1 AND track = $2 AND app = $3",
                "DELETE FROM client_keys WHERE tenant = $1 AND track = $2 AND app = $3",
            ] {
                sqlx::query(sql)
                    .bind(tenant)
                    .bind(track)
                    .bind(name)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
            }
        }
        Self::notify(&mut tx, &app.tenant, &app.track).await?;
        Self::insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(App { version, ..app.clone() })
    }

    async fn delete_app(&self, tenant: &str, track: &str, app: &str, audit: &AuditRecord) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let r = sqlx::query("DELETE FROM apps WHERE tenant = $1 AND track = $2 AND name = $3")
            .bind(tenant)
            .bind(track)
            .bind(app)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        changed(r.rows_affected())?;
        Self::notify(&mut tx, tenant, track).await?;
        Self::insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn list_secrets(&self, tenant: &str, track: &str, app: &str) -> StoreResult<Vec<SecretRecord>> {
        sqlx::query("SELECT * FROM client_secrets WHERE tenant = $1 AND track = $2 AND app = $3 ORDER BY created, id")
            .bind(tenant)
            .bind(track)
            .bind(app)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?
            .iter()
            .map(Self::secret_row)
            .collect()
    }

    async fn add_secret(&self, tenant: &str, track: &str, app: &str, secret: &SecretRecord, max: usize, audit: &AuditRecord) -> StoreResult<()> {
        let mut tx = self.begin_exclusive().await.map_err(map_err)?;
        Self::lock_app(&mut tx, tenant, track, app).await?;
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM client_secrets WHERE tenant = $1 AND track = $2 AND app = $3")
            .bind(tenant)
            .bind(track)
            .bind(app)
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
        if n as usize >= max {
            return Err(StoreError::LimitReached);
        }
        Self::insert_secret(&mut tx, tenant, track, app, secret).await?;
        Self::notify(&mut tx, tenant, track).await?;
        Self::insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn delete_secret(&self, tenant: &str, track: &str, app: &str, id: &str, audit: &AuditRecord) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let r = sqlx::query("DELETE FROM client_secrets WHERE tenant = $1 AND track = $2 AND app = $3 AND id = $4")
            .bind(tenant)
            .bind(track)
            .bind(app)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        changed(r.rows_affected())?;
        Self::notify(&mut tx, tenant, track).await?;
        Self::insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn list_client_keys(&self, tenant: &str, track: &str, app: &str) -> StoreResult<Vec<StoredClientKey>> {
        sqlx::query("SELECT * FROM client_keys WHERE tenant = $1 AND track = $2 AND app = $3 ORDER BY created, kid")
            .bind(tenant)
            .bind(track)
            .bind(app)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?
            .iter()
            .map(Self::client_key_row)
            .collect()
    }

    async fn add_client_key(&self, tenant: &str, track: &str, app: &str, key: &StoredClientKey, max: usize, audit: &AuditRecord) -> StoreResult<()> {
        let json = serde_json::to_string(&key.key).map_err(|_| corrupt("client key"))?;
        let mut tx = self.begin_exclusive().await.map_err(map_err)?;
        Self::lock_app(&mut tx, tenant, track, app).await?;
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM client_keys WHERE tenant = $1 AND track = $2 AND app = $3")
            .bind(tenant)
            .bind(track)
            .bind(app)
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
        if n as usize >= max {
            return Err(StoreError::LimitReached);
        }
        sqlx::query("INSERT INTO client_keys (tenant, track, app, kid, key, created) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(tenant)
            .bind(track)
            .bind(app)
            .bind(&key.key.kid)
            .bind(json)
            .bind(key.created)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        Self::notify(&mut tx, tenant, track).await?;
        Self::insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn delete_client_key(&self, tenant: &str, track: &str, app: &str, kid: &str, audit: &AuditRecord) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let r = sqlx::query("DELETE FROM client_keys WHERE tenant = $1 AND track = $2 AND app = $3 AND kid = $4")
            .bind(tenant)
            .bind(track)
            .bind(app)
            .bind(kid)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        changed(r.rows_affected())?;
        Self::notify(&mut tx, tenant, track).await?;
        Self::insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn use_jti(&self, tenant: &str, track: &str, client: &str, jti: &str, exp: UnixTime, now: UnixTime) -> StoreResult<bool> {
        self.record_jti(tenant, track, client, jti, exp, now).await
    }

    async fn add_next_key(&self, tenant: &str, track: &str, key: &TrackKey, audit: &AuditRecord) -> StoreResult<bool> {
        let mut tx = self.begin_exclusive().await.map_err(map_err)?;
        Self::lock_track(&mut tx, tenant, track).await?;
        let r = sqlx::query(
            "INSERT INTO track_keys (tenant, track, kid, alg, state, encrypted_key, created, changed) \
             SELECT $1, $2, $3, $4, 'next', $5, $6, $6 \
             WHERE NOT EXISTS (SELECT 1 FROM track_keys WHERE tenant = $1 AND track = $2 AND state = 'next')",
        )
        .bind(tenant)
        .bind(track)
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
        Self::notify(&mut tx, tenant, track).await?;
        Self::insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn promote_next_key(&self, tenant: &str, track: &str, kid: &str, now: UnixTime, audit: &AuditRecord) -> StoreResult<bool> {
        let mut tx = self.begin_exclusive().await.map_err(map_err)?;
        Self::lock_track(&mut tx, tenant, track).await?;
        let r = sqlx::query("UPDATE track_keys SET state = 'active', changed = $4 WHERE tenant = $1 AND track = $2 AND kid = $3 AND state = 'next'")
            .bind(tenant)
            .bind(track)
            .bind(kid)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        if r.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query("UPDATE track_keys SET state = 'retired', changed = $4 WHERE tenant = $1 AND track = $2 AND state = 'active' AND kid <> $3")
            .bind(tenant)
            .bind(track)
            .bind(kid)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        Self::notify(&mut tx, tenant, track).await?;
        Self::insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn delete_retired_keys(&self, tenant: &str, track: &str, before: UnixTime, audit: &AuditRecord) -> StoreResult<u64> {
        let mut tx = self.begin_exclusive().await.map_err(map_err)?;
        let r = sqlx::query("DELETE FROM track_keys WHERE tenant = $1 AND track = $2 AND state = 'retired' AND changed < $3")
            .bind(tenant)
            .bind(track)
            .bind(before)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        if r.rows_affected() > 0 {
            Self::insert_audit(&mut tx, audit).await?;
            Self::notify(&mut tx, tenant, track).await?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(r.rows_affected())
    }

    fn subscribe(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<ferrid_core::store::Change>> {
        self.changes()
    }

    async fn purge_jtis(&self, now: UnixTime) -> StoreResult<u64> {
        let r = sqlx::query("DELETE FROM used_jtis WHERE exp < $1").bind(now).execute(&self.pool).await.map_err(map_err)?;
        Ok(self.forget_jtis_before(now).unwrap_or(r.rows_affected()))
    }

    async fn take_auth_failures(
        &self,
        buckets: &[(String, u32)],
        burst: f64,
        refill_per_ms: f64,
        now_ms: i64,
    ) -> StoreResult<Vec<f64>> {
        let mut levels = Vec::with_capacity(buckets.len());
        for (bucket, count) in buckets {
            let count = f64::from(*count);
            let level: f64 = sqlx::query_scalar($crate::sql_store::TAKE_AUTH_FAILURES.as_str())
                .bind(bucket)
                .bind((burst - count).max(0.0))
                .bind(now_ms)
                .bind(refill_per_ms)
                .bind(burst)
                .bind(count)
                .fetch_one(&self.pool)
                .await
                .map_err(map_err)?;
            levels.push(level);
        }
        Ok(levels)
    }

    async fn purge_auth_failures(&self, before_ms: i64) -> StoreResult<u64> {
        let r = sqlx::query("DELETE FROM auth_failures WHERE at < $1").bind(before_ms).execute(&self.pool).await.map_err(map_err)?;
        Ok(r.rows_affected())
    }

    async fn append_audit(&self, records: &[AuditRecord]) -> StoreResult<()> {
        // Counter rows are locked in tenant order, so two batches never wait on each
        // other in a cycle; the sort is stable, keeping each tenant's records in order.
        let mut sorted: Vec<&AuditRecord> = records.iter().collect();
        sorted.sort_by(|a, b| a.tenant.cmp(&b.tenant));
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        for r in sorted {
            Self::insert_audit(&mut tx, r).await?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn list_audit(&self, tenant: &str, q: &AuditQuery) -> StoreResult<Vec<AuditEntry>> {
        let mut sql = sqlx::QueryBuilder::<$db>::new("SELECT * FROM audit_log WHERE tenant = ");
        sql.push_bind(tenant);
        if let Some(a) = &q.action {
            sql.push(" AND action = ").push_bind(a);
        }
        if let Some(a) = &q.actor {
            sql.push(" AND actor = ").push_bind(a);
        }
        if let Some(t) = &q.target {
            // a prefix match that needs no LIKE escaping
            sql.push(" AND substr(target, 1, ").push_bind(i32::try_from(t.chars().count()).unwrap_or(i32::MAX)).push(") = ").push_bind(t);
        }
        if let Some(t) = q.since {
            sql.push(" AND at >= ").push_bind(t);
        }
        if let Some(t) = q.until {
            sql.push(" AND at < ").push_bind(t);
        }
        let (cmp, order) = match q.order {
            ferrid_core::audit::Order::Desc => (" < ", " ORDER BY seq DESC"),
            ferrid_core::audit::Order::Asc => (" > ", " ORDER BY seq ASC"),
        };
        if let Some(id) = q.after {
            sql.push(" AND seq").push(cmp).push_bind(id);
        }
        sql.push(order).push(" LIMIT ").push_bind(i64::from(q.limit.clamp(1, 1000)));
        sql.build().fetch_all(&self.pool).await.map_err(map_err)?.iter().map(Self::audit_row).collect()
    }

    async fn purge_audit(&self, before: UnixTime) -> StoreResult<u64> {
        let r = sqlx::query("DELETE FROM audit_log WHERE at < $1").bind(before).execute(&self.pool).await.map_err(map_err)?;
        Ok(r.rows_affected())
    }

    async fn load_track(&self, tenant: &str, track: &str) -> StoreResult<TrackData> {
        let mut tx = self.begin_read().await.map_err(map_err)?;
        let r = sqlx::query("SELECT * FROM tracks WHERE tenant = $1 AND name = $2")
            .bind(tenant)
            .bind(track)
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
        let data = Self::load_track_in(&mut tx, Self::track_row(&r)?).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(data)
    }

    async fn load_all(&self) -> StoreResult<Vec<TrackData>> {
        let mut tx = self.begin_read().await.map_err(map_err)?;
        let tracks = sqlx::query("SELECT * FROM tracks ORDER BY tenant, name")
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?
            .iter()
            .map(Self::track_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let mut out = Vec::with_capacity(tracks.len());
        for t in tracks {
            out.push(Self::load_track_in(&mut tx, t).await?);
        }
        tx.commit().await.map_err(map_err)?;
        Ok(out)
    }
}

    };
}
