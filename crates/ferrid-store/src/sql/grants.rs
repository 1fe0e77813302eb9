//! Authorization codes, user grants, their refresh tokens and access tokens, and
//! remembered consent (`GrantStore`; docs/model.md "Codes, grants and refresh tokens").
//!
//! Single use is decided by the database, so it holds across instances: a code is
//! redeemed and a refresh token rotated by one conditional `UPDATE … AND used = 0`, and
//! only the request whose statement changed the row goes on.

#[macro_export]
macro_rules! sql_grants {
    ($store:ident, $db:ty, $row:ty) => {
        impl $store {
            /// How long a grant revoked before it was stored is kept past the end of its
            /// code: far longer than the first redemption takes to store its grant.
            const TOMBSTONE_SECS: i64 = 24 * 3600;

            /// `jti` and `expires` of each row.
            fn denied_rows(rows: &[$row]) -> StoreResult<Vec<Denied>> {
                rows.iter()
                    .map(|row| {
                        Ok(Denied {
                            jti: row.try_get("jti").map_err(map_err)?,
                            expires: row.try_get("expires").map_err(map_err)?,
                        })
                    })
                    .collect()
            }

            /// Adds `tokens` to the track's deny-list and, when there are any, tells the
            /// other instances to read it again.
            async fn insert_denied(tx: &mut Transaction<'_, $db>, at: &TrackRef, tokens: &[Denied]) -> StoreResult<()> {
                if tokens.is_empty() {
                    return Ok(());
                }
                for d in tokens {
                    sqlx::query(
                        "INSERT INTO denied_tokens (tenant, track, jti, expires) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (tenant, track, jti) DO NOTHING",
                    )
                    .bind(at.tenant.as_str())
                    .bind(at.track.as_str())
                    .bind(&d.jti)
                    .bind(d.expires)
                    .execute(&mut **tx)
                    .await
                    .map_err(map_err)?;
                }
                Self::notify_denied(tx, at.tenant.as_str(), at.track.as_str()).await
            }

            fn code_row(row: &$row) -> StoreResult<AuthCode> {
                let int = |c: &str| -> StoreResult<i64> { row.try_get(c).map_err(map_err) };
                let text = |c: &str| -> StoreResult<String> { row.try_get(c).map_err(map_err) };
                let opt = |c: &str| -> StoreResult<Option<String>> { row.try_get(c).map_err(map_err) };
                let digest: Vec<u8> = row.try_get("digest").map_err(map_err)?;
                Ok(AuthCode {
                    tenant: Self::name(row, "tenant")?,
                    track: Self::name(row, "track")?,
                    digest: digest.try_into().map_err(|_| corrupt("code digest"))?,
                    client: Self::name(row, "client")?,
                    user_id: text("user_id")?,
                    sid: text("sid")?,
                    redirect_uri: text("redirect_uri")?,
                    code_challenge: opt("code_challenge")?,
                    code_challenge_method: opt("code_challenge_method")?,
                    nonce: opt("nonce")?,
                    scope: text("scope")?,
                    auth_time: int("auth_time")?,
                    created: int("created")?,
                    expires: int("expires")?,
                    grant_id: opt("grant_id")?,
                })
            }

            fn grant_row(row: &$row) -> StoreResult<UserGrant> {
                let int = |c: &str| -> StoreResult<i64> { row.try_get(c).map_err(map_err) };
                let text = |c: &str| -> StoreResult<String> { row.try_get(c).map_err(map_err) };
                Ok(UserGrant {
                    tenant: Self::name(row, "tenant")?,
                    track: Self::name(row, "track")?,
                    id: text("id")?,
                    client: Self::name(row, "client")?,
                    user_id: text("user_id")?,
                    sid: text("sid")?,
                    scope: text("scope")?,
                    auth_time: int("auth_time")?,
                    created: int("created")?,
                    expires: int("expires")?,
                    revoked: int("revoked")? != 0,
                })
            }

            /// A refresh token from the `r_`-prefixed columns of a row joined with its grant.
            fn refresh_row(row: &$row) -> StoreResult<RefreshRecord> {
                let int = |c: &str| -> StoreResult<i64> { row.try_get(c).map_err(map_err) };
                let digest: Vec<u8> = row.try_get("r_digest").map_err(map_err)?;
                Ok(RefreshRecord {
                    digest: digest.try_into().map_err(|_| corrupt("refresh token digest"))?,
                    grant_id: row.try_get("id").map_err(map_err)?,
                    created: int("r_created")?,
                    expires: int("r_expires")?,
                    used: int("r_used")? != 0,
                })
            }

            async fn insert_refresh(
                tx: &mut Transaction<'_, $db>,
                at: (&str, &str),
                r: &RefreshRecord,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO refresh_tokens (tenant, track, digest, grant_id, created, expires, used) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(at.0)
                .bind(at.1)
                .bind(&r.digest[..])
                .bind(&r.grant_id)
                .bind(r.created)
                .bind(r.expires)
                .bind(i64::from(r.used))
                .execute(&mut **tx)
                .await
                .map(|_| ())
                .map_err(map_err)
            }

            async fn insert_issued(
                tx: &mut Transaction<'_, $db>,
                at: (&str, &str),
                t: &IssuedToken,
            ) -> StoreResult<()> {
                let sql =
                    "INSERT INTO issued_tokens (tenant, track, jti, grant_id, expires) VALUES ($1, $2, $3, $4, $5)";
                sqlx::query(sql)
                    .bind(at.0)
                    .bind(at.1)
                    .bind(&t.jti)
                    .bind(&t.grant_id)
                    .bind(t.expires)
                    .execute(&mut **tx)
                    .await
                    .map(|_| ())
                    .map_err(map_err)
            }
        }

        #[async_trait]
        impl GrantStore for $store {
            async fn create_code(&self, c: &AuthCode) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO auth_codes (tenant, track, digest, client, user_id, sid, redirect_uri, \
                     code_challenge, code_challenge_method, nonce, scope, auth_time, created, expires, used, \
                     grant_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                )
                .bind(c.tenant.as_str())
                .bind(c.track.as_str())
                .bind(&c.digest[..])
                .bind(c.client.as_str())
                .bind(&c.user_id)
                .bind(&c.sid)
                .bind(&c.redirect_uri)
                .bind(c.code_challenge.as_deref())
                .bind(c.code_challenge_method.as_deref())
                .bind(c.nonce.as_deref())
                .bind(&c.scope)
                .bind(c.auth_time)
                .bind(c.created)
                .bind(c.expires)
                .bind(i64::from(c.grant_id.is_some()))
                .bind(c.grant_id.as_deref())
                .execute(&*self.enter(StorePort::Grant))
                .await
                .map(|_| ())
                .map_err(map_err)
            }

            async fn redeem_code(&self, at: &TrackRef, digest: &[u8; 32], grant_id: &str) -> StoreResult<Redeemed> {
                let pool = &*self.enter(StorePort::Grant);
                // the one statement that decides: only an unused code changes
                let sql = "UPDATE auth_codes SET used = 1, grant_id = $4 \
                     WHERE tenant = $1 AND track = $2 AND digest = $3 AND used = 0 RETURNING *";
                let first =
                    Self::by_digest(sql, at, digest).bind(grant_id).fetch_optional(pool).await.map_err(map_err)?;
                if let Some(row) = first {
                    return Ok(Redeemed::First(Self::code_row(&row)?));
                }
                // used before (a used code never becomes unused), or never stored
                let sql = "SELECT * FROM auth_codes WHERE tenant = $1 AND track = $2 AND digest = $3";
                let row = Self::by_digest(sql, at, digest).fetch_one(pool).await.map_err(map_err)?;
                Ok(Redeemed::Again(Self::code_row(&row)?))
            }

            async fn create_grant(
                &self,
                g: &UserGrant,
                refresh: Option<&RefreshRecord>,
                token: &IssuedToken,
            ) -> StoreResult<()> {
                let (mut tx, _call) = self.begin(StorePort::Grant, Begin::Write).await?;
                // a grant revoked in advance is a row of that id already: Conflict
                sqlx::query(
                    "INSERT INTO user_grants (tenant, track, id, client, user_id, sid, scope, auth_time, created, \
                     expires, revoked) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(g.tenant.as_str())
                .bind(g.track.as_str())
                .bind(&g.id)
                .bind(g.client.as_str())
                .bind(&g.user_id)
                .bind(&g.sid)
                .bind(&g.scope)
                .bind(g.auth_time)
                .bind(g.created)
                .bind(g.expires)
                .bind(i64::from(g.revoked))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                let at = (g.tenant.as_str(), g.track.as_str());
                if let Some(r) = refresh {
                    Self::insert_refresh(&mut tx, at, r).await?;
                }
                Self::insert_issued(&mut tx, at, token).await?;
                tx.commit().await.map_err(map_err)
            }

            async fn get_refresh(&self, at: &TrackRef, digest: &[u8; 32]) -> StoreResult<(RefreshRecord, UserGrant)> {
                let sql = "SELECT g.*, r.digest AS r_digest, r.created AS r_created, r.expires AS r_expires, \
                     r.used AS r_used FROM refresh_tokens r JOIN user_grants g \
                     ON g.tenant = r.tenant AND g.track = r.track AND g.id = r.grant_id \
                     WHERE r.tenant = $1 AND r.track = $2 AND r.digest = $3";
                let pool = &*self.enter(StorePort::Grant);
                let row = Self::by_digest(sql, at, digest).fetch_one(pool).await.map_err(map_err)?;
                Ok((Self::refresh_row(&row)?, Self::grant_row(&row)?))
            }

            async fn rotate_refresh(
                &self,
                at: &TrackRef,
                old: &[u8; 32],
                new: &RefreshRecord,
                token: &IssuedToken,
            ) -> StoreResult<bool> {
                // SQLite: the write lock at once, as the first statement is a write anyway
                let (mut tx, _call) = self.begin(StorePort::Grant, Begin::Exclusive).await?;
                let sql = "UPDATE refresh_tokens SET used = 1 \
                     WHERE tenant = $1 AND track = $2 AND digest = $3 AND used = 0 AND EXISTS (\
                     SELECT 1 FROM user_grants g WHERE g.tenant = refresh_tokens.tenant \
                     AND g.track = refresh_tokens.track AND g.id = refresh_tokens.grant_id AND g.revoked = 0)";
                let r = Self::by_digest(sql, at, old).execute(&mut *tx).await.map_err(map_err)?;
                if r.rows_affected() == 0 {
                    // rotated by another request, revoked, or gone: dropping rolls back
                    return Ok(false);
                }
                let keys = (at.tenant.as_str(), at.track.as_str());
                Self::insert_refresh(&mut tx, keys, new).await?;
                Self::insert_issued(&mut tx, keys, token).await?;
                tx.commit().await.map_err(map_err)?;
                Ok(true)
            }

            async fn revoke_grant(&self, at: &TrackRef, grant_id: &str, now: UnixTime) -> StoreResult<Vec<Denied>> {
                let (mut tx, _call) = self.begin(StorePort::Grant, Begin::Exclusive).await?;
                let sql = "UPDATE user_grants SET revoked = 1 WHERE tenant = $1 AND track = $2 AND id = $3";
                let r = sqlx::query(sql)
                    .bind(at.tenant.as_str())
                    .bind(at.track.as_str())
                    .bind(grant_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                if r.rows_affected() == 0 {
                    // Not stored yet: store it revoked, from the code redeemed for it (its
                    // client and user), so that the grant's own insert meets this row. A
                    // grant stored meanwhile by another instance is revoked instead.
                    let sql = "INSERT INTO user_grants (tenant, track, id, client, user_id, sid, scope, auth_time, \
                         created, expires, revoked) SELECT tenant, track, grant_id, client, user_id, sid, scope, \
                         auth_time, $4, expires + $5, 1 FROM auth_codes \
                         WHERE tenant = $1 AND track = $2 AND grant_id = $3 LIMIT 1 \
                         ON CONFLICT (tenant, track, id) DO UPDATE SET revoked = 1";
                    sqlx::query(sql)
                        .bind(at.tenant.as_str())
                        .bind(at.track.as_str())
                        .bind(grant_id)
                        .bind(now)
                        .bind(Self::TOMBSTONE_SECS)
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                }
                let sql = "SELECT jti, expires FROM issued_tokens \
                     WHERE tenant = $1 AND track = $2 AND grant_id = $3 AND expires > $4";
                let rows = sqlx::query(sql)
                    .bind(at.tenant.as_str())
                    .bind(at.track.as_str())
                    .bind(grant_id)
                    .bind(now)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(map_err)?;
                let denied = Self::denied_rows(&rows)?;
                Self::insert_denied(&mut tx, at, &denied).await?;
                tx.commit().await.map_err(map_err)?;
                Ok(denied)
            }

            async fn revoke_user_grants(&self, u: &UserRef, now: UnixTime) -> StoreResult<Vec<Denied>> {
                let (mut tx, _call) = self.begin(StorePort::Grant, Begin::Exclusive).await?;
                let sql = "UPDATE user_grants SET revoked = 1 WHERE tenant = $1 AND track = $2 AND user_id = $3";
                Self::by_user(sql, u).execute(&mut *tx).await.map_err(map_err)?;
                let sql = "SELECT t.jti, t.expires FROM issued_tokens t JOIN user_grants g \
                     ON g.tenant = t.tenant AND g.track = t.track AND g.id = t.grant_id \
                     WHERE g.tenant = $1 AND g.track = $2 AND g.user_id = $3 AND t.expires > $4";
                let rows = Self::by_user(sql, u).bind(now).fetch_all(&mut *tx).await.map_err(map_err)?;
                let denied = Self::denied_rows(&rows)?;
                Self::insert_denied(&mut tx, &u.track, &denied).await?;
                tx.commit().await.map_err(map_err)?;
                Ok(denied)
            }

            async fn deny_tokens(&self, at: &TrackRef, tokens: &[Denied]) -> StoreResult<()> {
                let (mut tx, _call) = self.begin(StorePort::Grant, Begin::Write).await?;
                Self::insert_denied(&mut tx, at, tokens).await?;
                tx.commit().await.map_err(map_err)
            }

            async fn denied_tokens(&self, at: &TrackRef, now: UnixTime) -> StoreResult<Vec<Denied>> {
                let sql = "SELECT jti, expires FROM denied_tokens WHERE tenant = $1 AND track = $2 AND expires > $3";
                let rows = sqlx::query(sql)
                    .bind(at.tenant.as_str())
                    .bind(at.track.as_str())
                    .bind(now)
                    .fetch_all(&*self.enter(StorePort::Grant))
                    .await
                    .map_err(map_err)?;
                Self::denied_rows(&rows)
            }

            async fn all_denied_tokens(&self, now: UnixTime) -> StoreResult<Vec<(TrackRef, Denied)>> {
                let sql = "SELECT tenant, track, jti, expires FROM denied_tokens WHERE expires > $1";
                let rows = sqlx::query(sql).bind(now).fetch_all(&*self.enter(StorePort::Grant)).await.map_err(map_err)?;
                let list = Self::denied_rows(&rows)?;
                rows.iter()
                    .zip(list)
                    .map(|(row, d)| Ok((TrackRef::new(Self::name(row, "tenant")?, Self::name(row, "track")?), d)))
                    .collect()
            }

            async fn token_revoked(&self, at: &TrackRef, jti: &str) -> StoreResult<bool> {
                let revoked: Option<i64> = sqlx::query_scalar(
                    "SELECT g.revoked FROM issued_tokens t JOIN user_grants g \
                     ON g.tenant = t.tenant AND g.track = t.track AND g.id = t.grant_id \
                     WHERE t.tenant = $1 AND t.track = $2 AND t.jti = $3",
                )
                .bind(at.tenant.as_str())
                .bind(at.track.as_str())
                .bind(jti)
                .fetch_optional(&*self.enter(StorePort::Grant))
                .await
                .map_err(map_err)?;
                Ok(revoked.is_some_and(|r| r != 0))
            }

            async fn add_session_client(
                &self,
                at: &TrackRef,
                sid: &str,
                client: &str,
                expires: UnixTime,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO session_clients (tenant, track, sid, client, expires) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (tenant, track, sid, client) DO NOTHING",
                )
                .bind(at.tenant.as_str())
                .bind(at.track.as_str())
                .bind(sid)
                .bind(client)
                .bind(expires)
                .execute(&*self.enter(StorePort::Grant))
                .await
                .map(|_| ())
                .map_err(map_err)
            }

            async fn session_clients(&self, at: &TrackRef, sid: &str) -> StoreResult<Vec<String>> {
                sqlx::query_scalar(
                    "SELECT client FROM session_clients WHERE tenant = $1 AND track = $2 AND sid = $3 ORDER BY client",
                )
                .bind(at.tenant.as_str())
                .bind(at.track.as_str())
                .bind(sid)
                .fetch_all(&*self.enter(StorePort::Grant))
                .await
                .map_err(map_err)
            }

            async fn get_consent(&self, u: &UserRef, client: &str) -> StoreResult<Option<Vec<String>>> {
                let sql =
                    "SELECT scopes FROM consents WHERE tenant = $1 AND track = $2 AND user_id = $3 AND client = $4";
                let pool = &*self.enter(StorePort::Grant);
                let row = Self::by_user(sql, u).bind(client).fetch_optional(pool).await.map_err(map_err)?;
                let Some(row) = row else { return Ok(None) };
                let scopes: String = row.try_get("scopes").map_err(map_err)?;
                serde_json::from_str(&scopes).map(Some).map_err(|_| corrupt("consent scopes"))
            }

            async fn put_consent(
                &self,
                u: &UserRef,
                client: &str,
                scopes: &[String],
                now: UnixTime,
            ) -> StoreResult<()> {
                let sql = "INSERT INTO consents (tenant, track, user_id, client, scopes, updated) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant, track, user_id, client) \
                     DO UPDATE SET scopes = excluded.scopes, updated = excluded.updated";
                let scopes = serde_json::Value::from(scopes.to_vec()).to_string();
                Self::by_user(sql, u)
                    .bind(client)
                    .bind(scopes)
                    .bind(now)
                    .execute(&*self.enter(StorePort::Grant))
                    .await
                    .map(|_| ())
                    .map_err(map_err)
            }

            async fn purge_grants(&self, now: UnixTime) -> StoreResult<u64> {
                let pool = &*self.enter(StorePort::Grant);
                // Tokens first; then grants no unexpired access token still names (its
                // revocation must outlive it); then codes past their end, except a redeemed
                // code whose grant is kept: its reuse still revokes the grant.
                let steps = [
                    "DELETE FROM denied_tokens WHERE expires < $1",
                    "DELETE FROM session_clients WHERE expires < $1",
                    "DELETE FROM issued_tokens WHERE expires < $1",
                    "DELETE FROM refresh_tokens WHERE expires < $1",
                    "DELETE FROM user_grants WHERE expires < $1 AND NOT EXISTS (SELECT 1 FROM issued_tokens t \
                     WHERE t.tenant = user_grants.tenant AND t.track = user_grants.track \
                     AND t.grant_id = user_grants.id)",
                    "DELETE FROM auth_codes WHERE expires < $1 AND NOT EXISTS (SELECT 1 FROM user_grants g \
                     WHERE g.tenant = auth_codes.tenant AND g.track = auth_codes.track AND g.id = auth_codes.grant_id)",
                ];
                let mut purged = 0;
                for sql in steps {
                    purged += sqlx::query(sql).bind(now).execute(pool).await.map_err(map_err)?.rows_affected();
                }
                Ok(purged)
            }
        }
    };
}
