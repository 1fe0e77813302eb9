//! An app as the store keeps it: the columns of the `apps` table (docs/ARCHITECTURE.md
//! "Three types for an app"). The spec is JSON text in the `spec` column, beside its
//! `kind`; rows written by every earlier version read back (fields added since take
//! their defaults).

use ferrid_oauth::name::Name;

use super::{App, AppSpec, UnixTime};

/// The stored row of an app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRow {
    pub tenant: String,
    pub track: String,
    pub name: String,
    /// `oauth_resource`, `oauth_client` or `oidc_client`: the spec's kind, as a column of its own.
    pub kind: String,
    /// The spec as JSON.
    pub spec: String,
    pub version: i64,
    pub created: UnixTime,
    pub updated: UnixTime,
}

/// The column of a row that does not read as the domain value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("stored {0} does not parse")]
pub struct CorruptColumn(pub &'static str);

impl AppRow {
    /// The row that stores `app`.
    pub fn of(app: &App) -> AppRow {
        AppRow {
            tenant: app.tenant.to_string(),
            track: app.track.to_string(),
            name: app.name.to_string(),
            kind: app.spec.kind().to_owned(),
            spec: serde_json::to_string(&app.spec).expect("a spec serializes"),
            version: app.version,
            created: app.created,
            updated: app.updated,
        }
    }

    /// The app this row stores. The `kind` column is not read back: the spec's own
    /// `kind` decides, as it always has.
    pub fn into_app(self) -> Result<App, CorruptColumn> {
        let name = |s: &str, col| Name::parse(s).map_err(|_| CorruptColumn(col));
        let spec: AppSpec = serde_json::from_str(&self.spec).map_err(|_| CorruptColumn("spec"))?;
        Ok(App {
            tenant: name(&self.tenant, "tenant")?,
            track: name(&self.track, "track")?,
            name: name(&self.name, "name")?,
            spec,
            version: self.version,
            created: self.created,
            updated: self.updated,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ClientAuthMethod, ResourceSpec};

    fn row(spec: &str) -> AppRow {
        AppRow {
            tenant: "acme".into(),
            track: "prod".into(),
            name: "orders".into(),
            kind: "oauth_client".into(),
            spec: spec.into(),
            version: 2,
            created: 10,
            updated: 20,
        }
    }

    #[test]
    fn an_app_round_trips_through_its_row() {
        let spec = AppSpec::OauthResource(ResourceSpec {
            scopes: vec![ferrid_oauth::scope::ScopeName::parse("read").unwrap()],
        });
        let app =
            App::new(Name::parse("acme").unwrap(), Name::parse("prod").unwrap(), Name::parse("api").unwrap(), spec, 5);
        let r = AppRow::of(&app);
        assert_eq!(
            (r.kind.as_str(), r.spec.as_str()),
            ("oauth_resource", r#"{"kind":"oauth_resource","scopes":["read"]}"#)
        );
        assert_eq!(r.into_app().unwrap(), app);
    }

    #[test]
    fn a_row_written_before_claims_existed_still_reads() {
        // the spec column as the first versions wrote it
        let app = row(r#"{"kind":"oauth_client","client_auth_method":"client_secret_basic","resource_scopes":[]}"#)
            .into_app()
            .unwrap();
        let client = app.spec.as_client().unwrap();
        assert_eq!(client.client_auth_method, ClientAuthMethod::ClientSecretBasic);
        assert!(client.claims.is_empty() && client.claim_transforms.is_empty());
        assert_eq!(client.issued_claims, crate::claims::issue::default_issued());
        assert_eq!((app.version, app.created, app.updated), (2, 10, 20));
    }

    #[test]
    fn a_corrupt_column_is_named() {
        assert_eq!(row("{").into_app().unwrap_err(), CorruptColumn("spec"));
        let bad_name = AppRow { name: "Not A Name".into(), ..row(r#"{"kind":"oauth_resource","scopes":[]}"#) };
        assert_eq!(bad_name.into_app().unwrap_err(), CorruptColumn("name"));
    }
}
