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
        }

        #[async_trait]
        impl SnapshotSource for $store {
            async fn load_track(&self, at: &TrackRef) -> StoreResult<TrackData> {
                let mut tx = self.begin(Begin::Read).await?;
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

            async fn load_all(&self) -> StoreResult<Vec<TrackData>> {
                let mut tx = self.begin(Begin::Read).await?;
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
