//! The console's URLs (docs/console.md "URLs"), built in one place. Routes are served
//! at `/console/…`; links carry the path of the public URL before it (a deployment
//! behind a proxy at `https://id.example/auth` links `/auth/console/…`).
//!
//! Tenant-level pages sit below `/console/{tenant}/`, the page a tenant's own
//! administrators start from (and the post-logout URI of its `console` client); track
//! pages below `/console/{tenant}/tracks/{track}`.

/// The console's paths under one public prefix.
#[derive(Debug, Clone)]
pub struct Paths {
    /// `{public path}/console`, without a trailing slash.
    root: String,
}

impl Paths {
    /// The console's paths under the public URL `base`.
    pub fn new(base: &str) -> Paths {
        let rest = base.split_once("://").map_or(base, |(_, r)| r);
        let prefix = rest.find('/').map_or("", |i| &rest[i..]).trim_end_matches('/');
        Paths { root: format!("{prefix}/console") }
    }

    /// The cookies' `Path`.
    pub fn cookie_path(&self) -> &str {
        &self.root
    }

    /// `/console/`: the tenant list (the master tenant's sign-in without a session).
    pub fn start(&self) -> String {
        format!("{}/", self.root)
    }

    pub fn stylesheet(&self) -> String {
        format!("{}/console.css", self.root)
    }

    /// `POST`: ends the console session and the OpenID Provider session.
    pub fn logout(&self) -> String {
        format!("{}/logout", self.root)
    }

    /// `POST`: creates a tenant.
    pub fn tenants(&self) -> String {
        format!("{}/tenants", self.root)
    }

    /// `/console/{tenant}/`: the tenant's tracks (its own sign-in without a session).
    pub fn tenant(&self, tenant: &str) -> String {
        format!("{}/{tenant}/", self.root)
    }

    /// `GET` asks, `POST` deletes.
    pub fn tenant_delete(&self, tenant: &str) -> String {
        format!("{}/{tenant}/delete", self.root)
    }

    /// The tenant's audit log (`GET` with the filters as query parameters).
    pub fn audit(&self, tenant: &str) -> String {
        format!("{}/{tenant}/audit", self.root)
    }

    /// `POST`: creates a track.
    pub fn tracks(&self, tenant: &str) -> String {
        format!("{}/{tenant}/tracks", self.root)
    }

    /// The track's settings and keys.
    pub fn track(&self, tenant: &str, track: &str) -> String {
        format!("{}/{tenant}/tracks/{track}", self.root)
    }

    /// `POST`: changes the track's settings.
    pub fn track_settings(&self, tenant: &str, track: &str) -> String {
        format!("{}/settings", self.track(tenant, track))
    }

    /// `POST`: publishes the next signing key now.
    pub fn track_rotate(&self, tenant: &str, track: &str) -> String {
        format!("{}/rotate", self.track(tenant, track))
    }

    /// `GET` asks, `POST` deletes.
    pub fn track_delete(&self, tenant: &str, track: &str) -> String {
        format!("{}/delete", self.track(tenant, track))
    }

    /// The track's applications (list; the application pages below it).
    pub fn apps(&self, tenant: &str, track: &str) -> String {
        format!("{}/apps", self.track(tenant, track))
    }

    /// The track's users (`GET` with `q` searches).
    pub fn users(&self, tenant: &str, track: &str) -> String {
        format!("{}/users", self.track(tenant, track))
    }

    /// `GET` the form, `POST` creates.
    pub fn user_new(&self, tenant: &str, track: &str) -> String {
        format!("{}/users/new", self.track(tenant, track))
    }

    /// The user's page; `POST` saves its profile and claims.
    pub fn user(&self, tenant: &str, track: &str, id: &str) -> String {
        format!("{}/users/{id}", self.track(tenant, track))
    }

    /// `POST` `…/password`, `…/disable`, `…/enable`, `…/end-sessions` on a user.
    pub fn user_action(&self, tenant: &str, track: &str, id: &str, action: &str) -> String {
        format!("{}/{action}", self.user(tenant, track, id))
    }
}

#[cfg(test)]
mod tests {
    use super::Paths;

    #[test]
    fn links_carry_the_public_path_prefix() {
        let p = Paths::new("https://id.example/auth/");
        assert_eq!(p.start(), "/auth/console/");
        assert_eq!(p.cookie_path(), "/auth/console");
        assert_eq!(p.user_action("acme", "prod", "u1", "password"), "/auth/console/acme/tracks/prod/users/u1/password");
        let p = Paths::new("http://127.0.0.1:8080");
        assert_eq!(p.tenant("acme"), "/console/acme/");
        assert_eq!(p.apps("acme", "prod"), "/console/acme/tracks/prod/apps");
    }
}
