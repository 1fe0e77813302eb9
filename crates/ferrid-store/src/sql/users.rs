//! Users of a track (`UserStore`) and their login sessions (`SessionStore`).

#[macro_export]
macro_rules! sql_users {
    ($store:ident, $db:ty, $row:ty) => {
        impl $store {
            /// Inserts a user (also the bootstrap `admin`, with its track).
            async fn insert_user(tx: &mut Transaction<'_, $db>, u: &User) -> StoreResult<()> {
                let sql = "INSERT INTO users (tenant, track, id, username, email, email_key, email_verified, \
                     password_hash, claims, disabled, version, created, updated) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
                Self::with_user(sql, u)
                    .bind(u.version)
                    .bind(u.created)
                    .bind(u.updated)
                    .execute(&mut **tx)
                    .await
                    .map(|_| ())
                    .map_err(map_err)
            }

            /// `sql` with the user's key as `$1`..`$3` (tenant, track, id) and what a change
            /// may set as `$4`..`$10` (username, email, its key, email_verified, password
            /// hash, claims, disabled).
            fn with_user<'q>(
                sql: &'static str,
                u: &'q User,
            ) -> sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments> {
                sqlx::query(sql)
                    .bind(u.tenant.as_str())
                    .bind(u.track.as_str())
                    .bind(&u.id)
                    .bind(u.username.as_deref())
                    .bind(u.email.as_deref())
                    .bind(u.email_key())
                    .bind(i64::from(u.email_verified))
                    .bind(&u.password.0)
                    .bind(serde_json::Value::Object(u.claims.clone()).to_string())
                    .bind(i64::from(u.disabled))
            }

            /// `sql` with the user's tenant, track and id as `$1`..`$3`.
            fn by_user<'q>(
                sql: &'static str,
                u: &'q UserRef,
            ) -> sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments> {
                sqlx::query(sql).bind(u.track.tenant.as_str()).bind(u.track.track.as_str()).bind(&u.id)
            }

            /// `sql` with the session's tenant, track and digest as `$1`..`$3`.
            fn by_digest<'q>(
                sql: &'static str,
                at: &'q TrackRef,
                d: &'q [u8; 32],
            ) -> sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments> {
                sqlx::query(sql).bind(at.tenant.as_str()).bind(at.track.as_str()).bind(&d[..])
            }

            fn user_row(row: &$row) -> StoreResult<User> {
                let int = |c: &str| -> StoreResult<i64> { row.try_get(c).map_err(map_err) };
                let claims: String = row.try_get("claims").map_err(map_err)?;
                let claims = match serde_json::from_str(&claims) {
                    Ok(serde_json::Value::Object(m)) => m,
                    _ => return Err(corrupt("user claims")),
                };
                Ok(User {
                    tenant: Self::name(row, "tenant")?,
                    track: Self::name(row, "track")?,
                    id: row.try_get("id").map_err(map_err)?,
                    username: row.try_get("username").map_err(map_err)?,
                    email: row.try_get("email").map_err(map_err)?,
                    email_verified: int("email_verified")? != 0,
                    password: ferrid_core::model::PasswordHash(row.try_get("password_hash").map_err(map_err)?),
                    claims,
                    disabled: int("disabled")? != 0,
                    version: int("version")?,
                    created: int("created")?,
                    updated: int("updated")?,
                })
            }

            fn session_row(row: &$row) -> StoreResult<Session> {
                let int = |c: &str| -> StoreResult<i64> { row.try_get(c).map_err(map_err) };
                let digest: Vec<u8> = row.try_get("id_digest").map_err(map_err)?;
                Ok(Session {
                    tenant: Self::name(row, "tenant")?,
                    track: Self::name(row, "track")?,
                    id_digest: digest.try_into().map_err(|_| corrupt("session digest"))?,
                    sid: row.try_get("sid").map_err(map_err)?,
                    user_id: row.try_get("user_id").map_err(map_err)?,
                    auth_time: int("auth_time")?,
                    created: int("created")?,
                    last_seen: int("last_seen")?,
                    expires: int("expires")?,
                })
            }
        }

        #[async_trait]
        impl UserStore for $store {
            async fn list_users(
                &self,
                at: &TrackRef,
                filter: &UserFilter,
                page: &PageRequest,
            ) -> StoreResult<Vec<User>> {
                sqlx::query(
                    "SELECT * FROM users WHERE tenant = $1 AND track = $2 AND id > $3 \
                     AND ($4 = '' OR substr(username, 1, length($4)) = $4) \
                     AND ($5 = '' OR substr(email_key, 1, length($5)) = $5) ORDER BY id LIMIT $6",
                )
                .bind(at.tenant.as_str())
                .bind(at.track.as_str())
                .bind(page.after.as_deref().unwrap_or(""))
                .bind(filter.username.as_deref().unwrap_or(""))
                .bind(filter.email.as_deref().map(str::to_lowercase).unwrap_or_default())
                .bind(limit(page))
                .fetch_all(&*self.enter(StorePort::User))
                .await
                .map_err(map_err)?
                .iter()
                .map(Self::user_row)
                .collect()
            }

            async fn get_user(&self, u: &UserRef) -> StoreResult<User> {
                let sql = "SELECT * FROM users WHERE tenant = $1 AND track = $2 AND id = $3";
                let r = Self::by_user(sql, u).fetch_one(&*self.enter(StorePort::User)).await.map_err(map_err)?;
                Self::user_row(&r)
            }

            async fn find_user(&self, at: &TrackRef, login: &str) -> StoreResult<User> {
                let (sql, key) = if login.contains('@') {
                    ("SELECT * FROM users WHERE tenant = $1 AND track = $2 AND email_key = $3", login.to_lowercase())
                } else {
                    ("SELECT * FROM users WHERE tenant = $1 AND track = $2 AND username = $3", login.to_owned())
                };
                let r = sqlx::query(sql)
                    .bind(at.tenant.as_str())
                    .bind(at.track.as_str())
                    .bind(key)
                    .fetch_one(&*self.enter(StorePort::User))
                    .await
                    .map_err(map_err)?;
                Self::user_row(&r)
            }

            async fn create_user(&self, u: &User, audit: &AuditRecord) -> StoreResult<()> {
                let (mut tx, _call) = self.begin(StorePort::User, Begin::Write).await?;
                Self::insert_user(&mut tx, u).await?;
                Self::commit_change(tx, audit, Touched::User(&u.tenant, &u.track)).await
            }

            async fn update_user(
                &self,
                u: &User,
                expected_version: Option<i64>,
                audit: &AuditRecord,
            ) -> StoreResult<User> {
                let (mut tx, _call) = self.begin(StorePort::User, Begin::Write).await?;
                let sql = "UPDATE users SET username = $4, email = $5, email_key = $6, email_verified = $7, \
                     password_hash = $8, claims = $9, disabled = $10, updated = $11, version = version + 1 \
                     WHERE tenant = $1 AND track = $2 AND id = $3 AND ($12 < 0 OR version = $12) \
                     RETURNING version";
                let row = Self::with_user(sql, u)
                    .bind(u.updated)
                    .bind(expected_version.unwrap_or(-1))
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_err)?;
                let version: Option<i64> = row.map(|r| r.try_get("version")).transpose().map_err(map_err)?;
                let Some(version) = version else {
                    // no row: either the user is gone or its version moved on
                    let exists: Option<i64> =
                        sqlx::query_scalar("SELECT version FROM users WHERE tenant = $1 AND track = $2 AND id = $3")
                            .bind(u.tenant.as_str())
                            .bind(u.track.as_str())
                            .bind(&u.id)
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(map_err)?;
                    return Err(if exists.is_some() { StoreError::VersionMismatch } else { StoreError::NotFound });
                };
                Self::commit_change(tx, audit, Touched::User(&u.tenant, &u.track)).await?;
                Ok(User { version, ..u.clone() })
            }

            async fn delete_user(&self, u: &UserRef, audit: &AuditRecord) -> StoreResult<()> {
                let (mut tx, _call) = self.begin(StorePort::User, Begin::Write).await?;
                // its sessions go with it (foreign key, ON DELETE CASCADE)
                let sql = "DELETE FROM users WHERE tenant = $1 AND track = $2 AND id = $3";
                let r = Self::by_user(sql, u).execute(&mut *tx).await.map_err(map_err)?;
                changed(r.rows_affected())?;
                Self::commit_change(tx, audit, Touched::User(&u.track.tenant, &u.track.track)).await
            }
        }

        #[async_trait]
        impl SessionStore for $store {
            async fn create_session(&self, s: &Session) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO sessions (tenant, track, id_digest, sid, user_id, auth_time, created, last_seen, \
                     expires) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(s.tenant.as_str())
                .bind(s.track.as_str())
                .bind(&s.id_digest[..])
                .bind(&s.sid)
                .bind(&s.user_id)
                .bind(s.auth_time)
                .bind(s.created)
                .bind(s.last_seen)
                .bind(s.expires)
                .execute(&*self.enter(StorePort::Session))
                .await
                .map(|_| ())
                .map_err(map_err)
            }

            async fn get_session(&self, at: &TrackRef, id_digest: &[u8; 32]) -> StoreResult<Session> {
                let sql = "SELECT * FROM sessions WHERE tenant = $1 AND track = $2 AND id_digest = $3";
                let r = Self::by_digest(sql, at, id_digest)
                    .fetch_one(&*self.enter(StorePort::Session))
                    .await
                    .map_err(map_err)?;
                Self::session_row(&r)
            }

            async fn touch_session(&self, at: &TrackRef, id_digest: &[u8; 32], now: UnixTime) -> StoreResult<()> {
                let sql = "UPDATE sessions SET last_seen = $4 WHERE tenant = $1 AND track = $2 AND id_digest = $3";
                let r = Self::by_digest(sql, at, id_digest)
                    .bind(now)
                    .execute(&*self.enter(StorePort::Session))
                    .await
                    .map_err(map_err)?;
                changed(r.rows_affected())
            }

            async fn list_sessions(&self, u: &UserRef) -> StoreResult<Vec<Session>> {
                let sql =
                    "SELECT * FROM sessions WHERE tenant = $1 AND track = $2 AND user_id = $3 ORDER BY created, sid";
                Self::by_user(sql, u)
                    .fetch_all(&*self.enter(StorePort::Session))
                    .await
                    .map_err(map_err)?
                    .iter()
                    .map(Self::session_row)
                    .collect()
            }

            async fn delete_user_sessions(&self, u: &UserRef, audit: &AuditRecord) -> StoreResult<u64> {
                let (mut tx, _call) = self.begin(StorePort::Session, Begin::Write).await?;
                let sql = "DELETE FROM sessions WHERE tenant = $1 AND track = $2 AND user_id = $3";
                let r = Self::by_user(sql, u).execute(&mut *tx).await.map_err(map_err)?;
                Self::commit_change(tx, audit, Touched::User(&u.track.tenant, &u.track.track)).await?;
                Ok(r.rows_affected())
            }

            async fn delete_session(&self, at: &TrackRef, id_digest: &[u8; 32]) -> StoreResult<()> {
                let sql = "DELETE FROM sessions WHERE tenant = $1 AND track = $2 AND id_digest = $3";
                let r = Self::by_digest(sql, at, id_digest)
                    .execute(&*self.enter(StorePort::Session))
                    .await
                    .map_err(map_err)?;
                changed(r.rows_affected())
            }

            async fn purge_sessions(&self, now: UnixTime) -> StoreResult<u64> {
                self.purge(StorePort::Session, "DELETE FROM sessions WHERE expires < $1", now).await
            }
        }
    };
}
