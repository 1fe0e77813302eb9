//! What a management caller may reach, as values (docs/api.md "Authorization").
//!
//! A [`Caller`] (a client with a bearer token, [`super::auth::authorize`], or a person
//! signed in to the web console, [`Caller::person`]) reaches either every tenant
//! ([`Scope::System`]) or one ([`Scope::Tenant`]). Tenant-scoped operations
//! of the [`super::Manager`] take a [`TenantScope`] or [`TrackScope`], and the only way
//! to make one is [`Caller::tenant`] (or [`SystemScope::tenant`]), which answers 404 for
//! a tenant the caller does not manage: an operation cannot forget the check.

use ferrid_oauth::name::Name;

use super::{ManageError, ManageResult, path_name};

/// Who calls the management rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// Manages every tenant (`ferrid-api:admin` of `master/master`, or a user of
    /// `master/master`).
    Admin { by: Principal },
    /// Manages one tenant (`ferrid-api:tenant` of that tenant's `master` track, or a user
    /// of that track).
    Tenant { tenant: Name, by: Principal },
}

/// Who acts for a [`Caller`], named in the audit log (docs/api.md "The audit log").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A client of the `master` track with an access token (the API, the CLI).
    Client(String),
    /// A person: the id (`sub`) of a user of the `master` track, signed in to the console.
    User(String),
    /// The operator at the machine, offline: `ferrid recover-admin` on the store itself
    /// (docs/cli.md "Recovering the admin secret"). Only with [`Caller::Admin`].
    Recovery,
}

/// The tenants a caller reaches.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'c> {
    /// Every tenant: a master-tenant administrator.
    System(SystemScope<'c>),
    /// The caller's own tenant.
    Tenant(&'c Name),
}

/// Proof that the caller manages every tenant.
#[derive(Debug, Clone, Copy)]
pub struct SystemScope<'c> {
    caller: &'c Caller,
}

/// Proof that the caller manages this tenant (the name is valid; whether the tenant
/// exists is the store's to say).
#[derive(Debug, Clone)]
pub struct TenantScope<'c> {
    caller: &'c Caller,
    tenant: Name,
}

/// A track of a tenant the caller manages.
#[derive(Debug, Clone)]
pub struct TrackScope<'c> {
    tenant: TenantScope<'c>,
    track: Name,
}

impl Caller {
    /// A client of `master/master` holding `ferrid-api:admin`.
    pub fn admin_client(client: impl Into<String>) -> Caller {
        Caller::Admin { by: Principal::Client(client.into()) }
    }

    /// The person `user_id` of `tenant`'s `master` track (docs/api.md "Authorization"):
    /// a user of the master tenant administers every tenant, any other that tenant alone.
    pub fn person(tenant: &Name, user_id: impl Into<String>) -> Caller {
        let by = Principal::User(user_id.into());
        if tenant.as_str() == super::MASTER {
            Caller::Admin { by }
        } else {
            Caller::Tenant { tenant: tenant.clone(), by }
        }
    }

    /// The actor string of this caller in the audit log: `client:{tenant}/master/{client}`
    /// or `user:{tenant}/master/{user id}`.
    pub fn actor(&self) -> String {
        let (tenant, by) = match self {
            Caller::Admin { by } => (super::MASTER, by),
            Caller::Tenant { tenant, by } => (tenant.as_str(), by),
        };
        match by {
            Principal::Client(client) => format!("client:{tenant}/master/{client}"),
            Principal::User(id) => format!("user:{tenant}/master/{id}"),
            Principal::Recovery => "recovery".to_owned(),
        }
    }

    pub fn is_admin(&self) -> bool {
        matches!(self, Caller::Admin { .. })
    }

    /// The tenants this caller reaches.
    pub fn scope(&self) -> Scope<'_> {
        match self {
            Caller::Admin { .. } => Scope::System(SystemScope { caller: self }),
            Caller::Tenant { tenant, .. } => Scope::Tenant(tenant),
        }
    }

    /// The system scope, or 403 for a tenant administrator.
    pub fn system(&self) -> ManageResult<SystemScope<'_>> {
        match self.scope() {
            Scope::System(s) => Ok(s),
            Scope::Tenant(_) => Err(ManageError::Forbidden("this needs the ferrid-api:admin scope".into())),
        }
    }

    /// The scope of `tenant` (a path segment). Another tenant's data does not exist for
    /// a tenant administrator: 404, as for a tenant that does not exist.
    pub fn tenant(&self, tenant: &str) -> ManageResult<TenantScope<'_>> {
        match self.scope() {
            Scope::System(s) => s.tenant(tenant),
            Scope::Tenant(own) if own.as_str() == tenant => Ok(TenantScope { caller: self, tenant: own.clone() }),
            Scope::Tenant(_) => Err(ManageError::NotFound(format!("tenant '{tenant}' not found"))),
        }
    }
}

impl<'c> SystemScope<'c> {
    pub fn caller(&self) -> &'c Caller {
        self.caller
    }

    /// Any tenant; a name that cannot exist is a 404.
    pub fn tenant(&self, tenant: &str) -> ManageResult<TenantScope<'c>> {
        Ok(TenantScope { caller: self.caller, tenant: path_name("tenant", tenant)? })
    }
}

impl<'c> TenantScope<'c> {
    pub fn caller(&self) -> &'c Caller {
        self.caller
    }

    pub fn name(&self) -> &Name {
        &self.tenant
    }

    /// A track of this tenant (a path segment); a name that cannot exist is a 404.
    pub fn track(&self, track: &str) -> ManageResult<TrackScope<'c>> {
        Ok(TrackScope { tenant: self.clone(), track: path_name("track", track)? })
    }
}

impl<'c> TrackScope<'c> {
    pub fn caller(&self) -> &'c Caller {
        self.tenant.caller
    }

    pub fn tenant(&self) -> &Name {
        &self.tenant.tenant
    }

    pub fn track(&self) -> &Name {
        &self.track
    }

    /// The store's reference to this track.
    pub fn at(&self) -> crate::store::TrackRef {
        crate::store::TrackRef::new(self.tenant().clone(), self.track.clone())
    }

    /// The store's reference to the app `app` of this track; an invalid name cannot
    /// exist, so it is a 404.
    pub fn app(&self, app: &str) -> ManageResult<crate::store::AppRef> {
        Ok(self.at().app(path_name("app", app)?))
    }

    /// `tenants/{tenant}/tracks/{track}`: the audit target of the track.
    pub fn target(&self) -> String {
        format!("tenants/{}/tracks/{}", self.tenant(), self.track)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant_admin(t: &str) -> Caller {
        Caller::Tenant { tenant: Name::parse(t).unwrap(), by: Principal::Client("ops".into()) }
    }

    fn not_found(r: ManageResult<TenantScope<'_>>) -> String {
        match r {
            Err(ManageError::NotFound(m)) => m,
            other => panic!("expected 404, got {other:?}"),
        }
    }

    #[test]
    fn a_tenant_scope_cannot_be_made_for_another_tenant() {
        let acme = tenant_admin("acme");
        assert_eq!(acme.tenant("acme").unwrap().name().as_str(), "acme");
        assert_eq!(not_found(acme.tenant("globex")), "tenant 'globex' not found");
        assert_eq!(not_found(acme.tenant("master")), "tenant 'master' not found");
        assert!(matches!(acme.system(), Err(ManageError::Forbidden(_))));
        assert!(matches!(acme.scope(), Scope::Tenant(t) if t.as_str() == "acme"));
    }

    #[test]
    fn an_administrator_reaches_every_tenant_with_a_valid_name() {
        let admin = Caller::admin_client("admin");
        let scope = admin.tenant("globex").unwrap().track("prod").unwrap();
        assert_eq!((scope.tenant().as_str(), scope.track().as_str()), ("globex", "prod"));
        assert_eq!(scope.target(), "tenants/globex/tracks/prod");
        assert!(scope.caller().is_admin());
        assert_eq!(not_found(admin.tenant("Not A Name")), "tenant 'Not A Name' not found");
        assert!(admin.system().is_ok());
    }

    #[test]
    fn the_offline_recovery_reaches_every_tenant_and_is_audited_as_recovery() {
        let recovery = Caller::Admin { by: Principal::Recovery };
        assert_eq!(recovery.actor(), "recovery");
        assert!(recovery.is_admin());
        assert!(recovery.system().is_ok());
        assert_eq!(
            recovery.tenant("master").unwrap().track("master").unwrap().target(),
            "tenants/master/tracks/master"
        );
    }

    #[test]
    fn a_track_name_that_cannot_exist_is_a_404() {
        let acme = tenant_admin("acme");
        let err = acme.tenant("acme").unwrap().track("no/such").unwrap_err();
        assert!(matches!(err, ManageError::NotFound(m) if m == "track 'no/such' not found"));
    }

    #[test]
    fn a_person_of_the_master_tenant_administers_every_tenant_and_is_named_as_a_user() {
        let admin = Caller::person(&Name::parse("master").unwrap(), "u1");
        assert!(admin.is_admin());
        assert_eq!(admin.actor(), "user:master/master/u1");
        assert_eq!(admin.tenant("globex").unwrap().name().as_str(), "globex");
    }

    #[test]
    fn a_person_of_another_tenant_manages_that_tenant_alone() {
        let acme = Caller::person(&Name::parse("acme").unwrap(), "u2");
        assert!(!acme.is_admin());
        assert_eq!(acme.actor(), "user:acme/master/u2");
        assert_eq!(acme.tenant("acme").unwrap().name().as_str(), "acme");
        assert_eq!(not_found(acme.tenant("globex")), "tenant 'globex' not found");
    }

    #[test]
    fn a_client_is_named_as_before() {
        assert_eq!(Caller::admin_client("admin").actor(), "client:master/master/admin");
        assert_eq!(tenant_admin("acme").actor(), "client:acme/master/ops");
    }
}
