//! App registrations (`AppStore`).

#[macro_export]
macro_rules! sql_apps {
    ($store:ident, $db:ty) => {
        impl $store {
            /// Inserts an app with its first secrets.
            async fn insert_app(tx: &mut Transaction<'_, $db>, app: &App, secrets: &[SecretRecord]) -> StoreResult<()> {
                // the stored row is its own type (docs/ARCHITECTURE.md "Three types for an app")
                let row = ferrid_core::model::AppRow::of(app);
                sqlx::query(
                    "INSERT INTO apps (tenant, track, name, kind, spec, version, created, updated) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
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
                let at = app.app_ref();
                for s in secrets {
                    Self::insert_secret(tx, &at, s).await?;
                }
                Ok(())
            }

            /// Runs `sql` with the app's three key columns as `$1`..`$3`.
            async fn on_app(
                tx: &mut Transaction<'_, $db>,
                sql: &'static str,
                at: &AppRef,
            ) -> StoreResult<<$db as sqlx::Database>::QueryResult> {
                sqlx::query(sql)
                    .bind(at.tenant().as_str())
                    .bind(at.track.track.as_str())
                    .bind(at.app.as_str())
                    .execute(&mut **tx)
                    .await
                    .map_err(map_err)
            }
        }

        #[async_trait]
        impl AppStore for $store {
            async fn list_apps(&self, at: &TrackRef, page: &PageRequest) -> StoreResult<Vec<App>> {
                const SQL: &str =
                    "SELECT * FROM apps WHERE tenant = $1 AND track = $2 AND name > $3 ORDER BY name LIMIT $4";
                self.page(StorePort::App, SQL, &[&at.tenant, &at.track], page, Self::app_row).await
            }

            async fn get_app(&self, at: &AppRef) -> StoreResult<App> {
                let r = sqlx::query("SELECT * FROM apps WHERE tenant = $1 AND track = $2 AND name = $3")
                    .bind(at.tenant().as_str())
                    .bind(at.track.track.as_str())
                    .bind(at.app.as_str())
                    .fetch_one(&*self.enter(StorePort::App))
                    .await
                    .map_err(map_err)?;
                Self::app_row(&r)
            }

            async fn create_app(&self, app: &App, secrets: &[SecretRecord], audit: &AuditRecord) -> StoreResult<()> {
                let (mut tx, _call) = self.begin(StorePort::App, Begin::Write).await?;
                Self::insert_app(&mut tx, app, secrets).await?;
                Self::commit_change(tx, audit, Touched::App(&app.app_ref())).await
            }

            async fn replace_app(
                &self,
                app: &App,
                expected_version: Option<i64>,
                audit: &AuditRecord,
            ) -> StoreResult<App> {
                let row = ferrid_core::model::AppRow::of(app);
                let at = app.app_ref();
                let (mut tx, _call) = self.begin(StorePort::App, Begin::Exclusive).await?;
                Self::lock_app(&mut tx, &at).await?;
                let kind: String =
                    sqlx::query_scalar("SELECT kind FROM apps WHERE tenant = $1 AND track = $2 AND name = $3")
                        .bind(app.tenant.as_str())
                        .bind(app.track.as_str())
                        .bind(app.name.as_str())
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
                // the app exists (it is locked): no row means the version moved on
                let Some(version) = q.fetch_optional(&mut *tx).await.map_err(map_err)? else {
                    return Err(StoreError::VersionMismatch);
                };
                if kind != row.kind {
                    // A new kind starts without credentials (a client turned into a
                    // resource and back must not regain its old secrets).
                    for sql in [
                        "DELETE FROM client_secrets WHERE tenant = $1 AND track = $2 AND app = $3",
                        "DELETE FROM client_keys WHERE tenant = $1 AND track = $2 AND app = $3",
                    ] {
                        Self::on_app(&mut tx, sql, &at).await?;
                    }
                }
                Self::commit_change(tx, audit, Touched::App(&at)).await?;
                Ok(App { version, ..app.clone() })
            }

            async fn delete_app(&self, at: &AppRef, audit: &AuditRecord) -> StoreResult<()> {
                let (mut tx, _call) = self.begin(StorePort::App, Begin::Write).await?;
                let r = Self::on_app(&mut tx, "DELETE FROM apps WHERE tenant = $1 AND track = $2 AND name = $3", at)
                    .await?;
                changed(r.rows_affected())?;
                Self::commit_change(tx, audit, Touched::App(at)).await
            }
        }
    };
}
