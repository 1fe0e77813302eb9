//! Tracks and their settings (`TrackStore`).

#[macro_export]
macro_rules! sql_tracks {
    ($store:ident, $db:ty) => {
        impl $store {
            /// Inserts a track with its keys and its first apps.
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
                    Self::insert_key(tx, &t.track_ref(), k).await?;
                }
                for (app, secrets) in &new.apps {
                    Self::insert_app(tx, app, secrets).await?;
                }
                for user in &new.users {
                    Self::insert_user(tx, user).await?;
                }
                Ok(())
            }
        }

        #[async_trait]
        impl TrackStore for $store {
            async fn list_tracks(&self, tenant: &Name, page: &PageRequest) -> StoreResult<Vec<Track>> {
                const SQL: &str = "SELECT * FROM tracks WHERE tenant = $1 AND name > $2 ORDER BY name LIMIT $3";
                self.page(StorePort::Track, SQL, &[tenant], page, Self::track_row).await
            }

            async fn get_track(&self, at: &TrackRef) -> StoreResult<Track> {
                let r = sqlx::query("SELECT * FROM tracks WHERE tenant = $1 AND name = $2")
                    .bind(at.tenant.as_str())
                    .bind(at.track.as_str())
                    .fetch_one(&*self.enter(StorePort::Track))
                    .await
                    .map_err(map_err)?;
                Self::track_row(&r)
            }

            async fn create_track(&self, new: &NewTrack, audit: &AuditRecord) -> StoreResult<()> {
                let (mut tx, _call) = self.begin(StorePort::Track, Begin::Write).await?;
                Self::insert_track(&mut tx, new).await?;
                Self::commit_change(tx, audit, Touched::Track(&new.track.tenant, &new.track.name)).await
            }

            async fn update_track(
                &self,
                track: &Track,
                expected_version: Option<i64>,
                audit: &AuditRecord,
            ) -> StoreResult<Track> {
                let settings = serde_json::to_string(&track.settings).map_err(|_| corrupt("settings"))?;
                let (mut tx, _call) = self.begin(StorePort::Track, Begin::Write).await?;
                // One statement compares and bumps the version: concurrent edits cannot both win.
                let sql = match expected_version {
                    Some(_) => "UPDATE tracks SET settings = $1, version = version + 1 WHERE tenant = $2 AND name = $3 AND version = $4 RETURNING version",
                    None => "UPDATE tracks SET settings = $1, version = version + 1 WHERE tenant = $2 AND name = $3 RETURNING version",
                };
                let mut q =
                    sqlx::query_scalar::<_, i64>(sql).bind(settings).bind(track.tenant.as_str()).bind(track.name.as_str());
                if let Some(v) = expected_version {
                    q = q.bind(v);
                }
                let Some(version) = q.fetch_optional(&mut *tx).await.map_err(map_err)? else {
                    // NotFound when the track is gone, else the version moved on
                    Self::lock_track(&mut tx, &track.track_ref()).await?;
                    return Err(StoreError::VersionMismatch);
                };
                Self::commit_change(tx, audit, Touched::Track(&track.tenant, &track.name)).await?;
                Ok(Track { version, ..track.clone() })
            }

            async fn delete_track(&self, at: &TrackRef, audit: &AuditRecord) -> StoreResult<()> {
                let (mut tx, _call) = self.begin(StorePort::Track, Begin::Write).await?;
                let r = sqlx::query("DELETE FROM tracks WHERE tenant = $1 AND name = $2")
                    .bind(at.tenant.as_str())
                    .bind(at.track.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                changed(r.rows_affected())?;
                Self::commit_change(tx, audit, Touched::Track(&at.tenant, &at.track)).await
            }
        }
    };
}
