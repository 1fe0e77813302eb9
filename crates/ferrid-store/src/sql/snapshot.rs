//! What the in-memory snapshot is built from (`SnapshotSource`): each load is one read
//! transaction (`Begin::Read`), so a snapshot is never built from two states of the store.

#[macro_export]
macro_rules! sql_snapshot {
    ($store:ident, $db:ty) => {
        impl $store {
            /// The rows of one of the track's tables, in `sql`'s order (`$1` tenant, `$2` track).
            async fn track_rows(
                conn: &mut <$db as sqlx::Database>::Connection,
                sql: &'static str,
                at: &TrackRef,
            ) -> StoreResult<Vec<<$db as sqlx::Database>::Row>> {
                sqlx::query(sql)
                    .bind(at.tenant.as_str())
                    .bind(at.track.as_str())
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(map_err)
            }

            /// Every track, in (tenant, name) order, on `conn`, which holds a read transaction.
            async fn all_tracks_in(conn: &mut <$db as sqlx::Database>::Connection) -> StoreResult<Vec<Track>> {
                sqlx::query("SELECT * FROM tracks ORDER BY tenant, name")
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(map_err)?
                    .iter()
                    .map(Self::track_row)
                    .collect()
            }

            /// Reads one track's parts on `conn`, which holds a read transaction.
            async fn load_track_in(
                conn: &mut <$db as sqlx::Database>::Connection,
                track: Track,
            ) -> StoreResult<TrackData> {
                let at = track.track_ref();
                const KEYS: &str = "SELECT * FROM track_keys WHERE tenant = $1 AND track = $2 ORDER BY created, kid";
                const APPS: &str = "SELECT * FROM apps WHERE tenant = $1 AND track = $2 ORDER BY name";
                const SECRETS: &str =
                    "SELECT * FROM client_secrets WHERE tenant = $1 AND track = $2 ORDER BY app, created, id";
                const CLIENT_KEYS: &str =
                    "SELECT * FROM client_keys WHERE tenant = $1 AND track = $2 ORDER BY app, created, kid";
                let keys =
                    Self::track_rows(conn, KEYS, &at).await?.iter().map(Self::key_row).collect::<StoreResult<_>>()?;
                let apps =
                    Self::track_rows(conn, APPS, &at).await?.iter().map(Self::app_row).collect::<StoreResult<_>>()?;
                let secrets = Self::track_rows(conn, SECRETS, &at)
                    .await?
                    .iter()
                    .map(|r| Ok((Self::name(r, "app")?, Self::secret_row(r)?)))
                    .collect::<StoreResult<_>>()?;
                let client_keys = Self::track_rows(conn, CLIENT_KEYS, &at)
                    .await?
                    .iter()
                    .map(|r| Ok((Self::name(r, "app")?, Self::client_key_row(r)?)))
                    .collect::<StoreResult<_>>()?;
                Ok(TrackData { track, keys, apps, secrets, client_keys })
            }

            /// The `(app, row)` pairs of `sql` for the apps named in (`after`, `last`].
            async fn range_rows<T>(
                conn: &mut <$db as sqlx::Database>::Connection,
                sql: &'static str,
                at: &TrackRef,
                (after, last): (&str, &str),
                parse: fn(&<$db as sqlx::Database>::Row) -> StoreResult<T>,
            ) -> StoreResult<std::collections::HashMap<Name, Vec<T>>> {
                let rows = sqlx::query(sql)
                    .bind(at.tenant.as_str())
                    .bind(at.track.as_str())
                    .bind(after)
                    .bind(last)
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(map_err)?;
                let mut out: std::collections::HashMap<Name, Vec<T>> = std::collections::HashMap::new();
                for r in &rows {
                    out.entry(Self::name(r, "app")?).or_default().push(parse(r)?);
                }
                Ok(out)
            }

            /// Streams one track into `sink` on `conn` (which holds a read transaction):
            /// its keys and resources, then its apps `page_size` at a time by name.
            async fn stream_track_in(
                conn: &mut <$db as sqlx::Database>::Connection,
                track: Track,
                page_size: i64,
                sink: &mut dyn SnapshotSink,
            ) -> StoreResult<()> {
                const KEYS: &str = "SELECT * FROM track_keys WHERE tenant = $1 AND track = $2 ORDER BY created, kid";
                const RESOURCES: &str =
                    "SELECT * FROM apps WHERE tenant = $1 AND track = $2 AND kind <> 'oauth_client' ORDER BY name";
                const APPS: &str =
                    "SELECT * FROM apps WHERE tenant = $1 AND track = $2 AND name > $3 ORDER BY name LIMIT $4";
                const SECRETS: &str = "SELECT * FROM client_secrets WHERE tenant = $1 AND track = $2 \
                     AND app > $3 AND app <= $4 ORDER BY app, created, id";
                const CLIENT_KEYS: &str = "SELECT * FROM client_keys WHERE tenant = $1 AND track = $2 \
                     AND app > $3 AND app <= $4 ORDER BY app, created, kid";
                let at = track.track_ref();
                let keys =
                    Self::track_rows(conn, KEYS, &at).await?.iter().map(Self::key_row).collect::<StoreResult<_>>()?;
                let resources = Self::track_rows(conn, RESOURCES, &at)
                    .await?
                    .iter()
                    .map(Self::app_row)
                    .filter(|a| a.as_ref().map_or(true, |a| a.spec.as_resource().is_some()))
                    .collect::<StoreResult<_>>()?;
                sink.start_track(track, keys, resources);
                let mut after = String::new();
                loop {
                    let apps = sqlx::query(APPS)
                        .bind(at.tenant.as_str())
                        .bind(at.track.as_str())
                        .bind(&after)
                        .bind(page_size)
                        .fetch_all(&mut *conn)
                        .await
                        .map_err(map_err)?
                        .iter()
                        .map(Self::app_row)
                        .collect::<StoreResult<Vec<_>>>()?;
                    let Some(last) = apps.last().map(|a| a.name.to_string()) else { break };
                    let range = (after.as_str(), last.as_str());
                    let mut secrets = Self::range_rows(conn, SECRETS, &at, range, Self::secret_row).await?;
                    let mut keys = Self::range_rows(conn, CLIENT_KEYS, &at, range, Self::client_key_row).await?;
                    let page = apps
                        .into_iter()
                        .map(|app| AppData {
                            secrets: secrets.remove(&app.name).unwrap_or_default(),
                            client_keys: keys.remove(&app.name).unwrap_or_default(),
                            app,
                        })
                        .collect();
                    sink.apps(page);
                    after = last;
                }
                sink.end_track();
                Ok(())
            }
        }

        #[async_trait]
        impl SnapshotSource for $store {
            async fn load_track(&self, at: &TrackRef) -> StoreResult<TrackData> {
                let (mut tx, _call) = self.begin(StorePort::Snapshot, Begin::Read).await?;
                let r = sqlx::query("SELECT * FROM tracks WHERE tenant = $1 AND name = $2")
                    .bind(at.tenant.as_str())
                    .bind(at.track.as_str())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(map_err)?;
                let data = Self::load_track_in(&mut tx, Self::track_row(&r)?).await?;
                tx.commit().await.map_err(map_err)?;
                Ok(data)
            }

            async fn load_app(&self, at: &AppRef) -> StoreResult<AppData> {
                const APP: &str = "SELECT * FROM apps WHERE tenant = $1 AND track = $2 AND name = $3";
                const SECRETS: &str =
                    "SELECT * FROM client_secrets WHERE tenant = $1 AND track = $2 AND app = $3 ORDER BY created, id";
                const KEYS: &str =
                    "SELECT * FROM client_keys WHERE tenant = $1 AND track = $2 AND app = $3 ORDER BY created, kid";
                let (mut tx, _call) = self.begin(StorePort::Snapshot, Begin::Read).await?;
                let rows = |sql: &'static str| {
                    sqlx::query(sql).bind(at.tenant().as_str()).bind(at.track.track.as_str()).bind(at.app.as_str())
                };
                let app = Self::app_row(&rows(APP).fetch_one(&mut *tx).await.map_err(map_err)?)?;
                let secrets = rows(SECRETS)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(map_err)?
                    .iter()
                    .map(Self::secret_row)
                    .collect::<StoreResult<_>>()?;
                let client_keys = rows(KEYS)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(map_err)?
                    .iter()
                    .map(Self::client_key_row)
                    .collect::<StoreResult<_>>()?;
                tx.commit().await.map_err(map_err)?;
                Ok(AppData { app, secrets, client_keys })
            }

            async fn load_all(&self) -> StoreResult<Vec<TrackData>> {
                let (mut tx, _call) = self.begin(StorePort::Snapshot, Begin::Read).await?;
                let tracks = Self::all_tracks_in(&mut tx).await?;
                let mut out = Vec::with_capacity(tracks.len());
                for t in tracks {
                    out.push(Self::load_track_in(&mut tx, t).await?);
                }
                tx.commit().await.map_err(map_err)?;
                Ok(out)
            }

            async fn stream_all(&self, page: u32, sink: &mut dyn SnapshotSink) -> StoreResult<()> {
                let (mut tx, _call) = self.begin(StorePort::Snapshot, Begin::Read).await?;
                let tracks = Self::all_tracks_in(&mut tx).await?;
                for t in tracks {
                    Self::stream_track_in(&mut tx, t, i64::from(page.max(1)), sink).await?;
                }
                tx.commit().await.map_err(map_err)
            }
        }
    };
}
